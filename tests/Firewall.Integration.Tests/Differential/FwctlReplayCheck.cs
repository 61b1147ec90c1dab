using System.Text;
using System.Text.Json;
using Firewall.Cli.Replay;
using Firewall.Core.Conntrack;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// Runs a scenario's NFLOG capture through <c>fwctl replay</c> itself (its ReplayRunner, JSON lines, the scenario's
/// tunables passed as an appsettings file, the router's raw table as iptables-save files) and lists every packet whose
/// replayed state differs from the kernel's.
/// </summary>
public static class FwctlReplayCheck
{
    public static List<string> Compare(string scenario, string pcapPath, ConntrackOptions options, IReadOnlyList<string> rawRuleFiles,
                                       IReadOnlyList<PacketVerdict> kernel) =>
        Compare(pcapPath, options, rawRuleFiles, kernel.Select(v => v.Kernel).ToList(), "kernel");

    /// <summary>Compares fwctl replay's state for each packet with <paramref name="expected"/> (named <paramref name="expectedName"/> in messages).</summary>
    public static List<string> Compare(string pcapPath, ConntrackOptions options, IReadOnlyList<string> rawRuleFiles,
                                       IReadOnlyList<string> expected, string expectedName)
    {
        string dir = Directory.CreateTempSubdirectory("fwdiff").FullName;
        try
        {
            string config = Path.Combine(dir, "appsettings.json");
            File.WriteAllText(config, JsonSerializer.Serialize(new { Firewall = new { Conntrack = options } }));
            var stdout = new MemoryStream();
            var stderr = new StringWriter();
            int rc = ReplayRunner.Run(new ReplayOptions { Capture = pcapPath, ConfigFile = config, RuleFiles = [.. rawRuleFiles], Format = "jsonl" }, stdout, stderr);
            var problems = new List<string>();
            if (rc != 0) { problems.Add($"fwctl replay exited {rc}: {stderr}"); return problems; }
            var lines = Encoding.UTF8.GetString(stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length != expected.Count) problems.Add($"fwctl replay printed {lines.Length} lines for {expected.Count} packets");
            for (int i = 0; i < Math.Min(lines.Length, expected.Count); i++)
            {
                using var doc = JsonDocument.Parse(lines[i]);
                string state = doc.RootElement.GetProperty("state").GetString()!;
                int index = doc.RootElement.GetProperty("index").GetInt32();
                if (index != i + 1) problems.Add($"line {i + 1} has index {index}");
                if (state != expected[i]) problems.Add($"packet {i + 1}: {expectedName} {expected[i]}, fwctl replay {state} ({lines[i]})");
            }
            return problems;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
