using System.Diagnostics;
using System.Globalization;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// The iptables rules that send packets to our NFQUEUE queue(s), installed at start and removed at stop
/// (<c>Firewall:DataPath:Nfqueue:ManageKernelRules</c>). Each rule carries a comment naming the daemon, so removal
/// deletes exactly the rules this instance inserted. iptables-legacy (ip6tables-legacy) when present, else iptables
/// (ip6tables, the nft flavour: its xt NFQUEUE target works through nft_compat).
/// </summary>
public sealed class KernelRules
{
    private static readonly string[] SearchDirs = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"];
    private readonly List<(string Tool, string Chain, string[] Spec)> _installed = [];

    /// <summary>The rules installed so far, as "iptables -I CHAIN 1 …" lines (for logs).</summary>
    public IEnumerable<string> Describe() => _installed.Select(r => $"{Path.GetFileName(r.Tool)} -I {r.Chain} 1 {string.Join(' ', r.Spec)}");

    /// <summary>The NFQUEUE target arguments for the queues: one queue → --queue-num N, several (consecutive) → --queue-balance A:B.</summary>
    public static string[] TargetArguments(IReadOnlyList<int> queues, bool bypass)
    {
        var args = new List<string> { "-j", "NFQUEUE" };
        int first = queues.Min(), last = queues.Max();
        if (first == last) args.AddRange(["--queue-num", first.ToString(CultureInfo.InvariantCulture)]);
        else args.AddRange(["--queue-balance", $"{first}:{last}"]);
        if (bypass) args.Add("--queue-bypass");
        return [.. args];
    }

    public static string? FindTool(bool v6)
    {
        foreach (var name in v6 ? new[] { "ip6tables-legacy", "ip6tables" } : ["iptables-legacy", "iptables"])
            foreach (var dir in SearchDirs)
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path)) return path;
            }
        return null;
    }

    /// <summary>Inserts one rule per chain and family at the top of the chain. On failure removes what it inserted and throws.</summary>
    public void Install(IEnumerable<string> chains, IReadOnlyList<int> queues, bool bypass, IEnumerable<string> families)
    {
        string comment = $"firewall-daemon queues {queues.Min()}-{queues.Max()}";
        string[] spec = ["-m", "comment", "--comment", comment, .. TargetArguments(queues, bypass)];
        try
        {
            foreach (var family in families)
            {
                bool v6 = family == "IPv6";
                string tool = FindTool(v6) ?? throw new InvalidOperationException(
                    $"{(v6 ? "ip6tables" : "iptables")} not found (install the Debian package iptables) and ManageKernelRules is true");
                foreach (var chain in chains)
                {
                    Run(tool, ["-w", "-I", chain, "1", .. spec]);
                    _installed.Add((tool, chain, spec));
                }
            }
        }
        catch
        {
            Remove();
            throw;
        }
    }

    /// <summary>Deletes exactly the rules <see cref="Install"/> inserted (best effort: returns the problems).</summary>
    public List<string> Remove()
    {
        var problems = new List<string>();
        foreach (var (tool, chain, spec) in Enumerable.Reverse(_installed))
        {
            try { Run(tool, ["-w", "-D", chain, .. spec]); }
            catch (InvalidOperationException e) { problems.Add(e.Message); }
        }
        _installed.Clear();
        return problems;
    }

    private static void Run(string tool, string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {tool}");
        string stderr = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(15_000))
        {
            p.Kill();
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: no answer within 15 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed (exit {p.ExitCode}): {stderr.Trim()}");
    }
}
