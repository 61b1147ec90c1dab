using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// A restart of the daemon (SIGTERM, start again with the same state directory) keeps an established TCP stream and
/// a UDP flow working under a policy that drops NEW from outside: the server outside keeps sending and the client
/// inside, which sends nothing more, keeps receiving. Without the saved state the same flows stop.
/// </summary>
[Collection("DataPaths")]
public sealed class RestartTests
{
    private const int Port = 7400;

    private static int Last(string output, string proto) =>
        Regex.Matches(output, $@"^{proto} (\d+)$", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();

    private static (int Tcp, int Udp) RunRestart(bool keepState)
    {
        using var t = BridgeTopology.Create();
        string stateDir = Path.Combine(Path.GetTempPath(), t.Lab.Prefix + "-state");
        var config = DaemonConfig.Create(
            new JsonObject { ["Mode"] = "Bridge", ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 } },
            "DROP", DaemonConfig.SeedRules(t.PortIn));
        config["Firewall"]!["State"] = new JsonObject { ["Directory"] = stateDir, ["SaveIntervalSeconds"] = 0 };
        string script = Path.Combine(AppContext.BaseDirectory, "DataPaths", "restart_flows.py");
        try
        {
            using var first = DaemonProcess.Start(t.Lab, t.Bridge, (JsonObject)config.DeepClone());
            using var server = t.Lab.StartBackground(t.Outside, NetLab.SystemPython, script, "server", BridgeTopology.OutsideV4, Port.ToString());
            Thread.Sleep(500);
            using var client = t.Lab.StartBackground(t.Inside, NetLab.SystemPython, script, "client", BridgeTopology.OutsideV4, Port.ToString());
            Assert.True(NetLab.WaitUntil(() => Last(client.Stdout, "tcp") >= 3 && Last(client.Stdout, "udp") >= 3, TimeSpan.FromSeconds(10)),
                "the flows did not start through the first daemon:\n" + client.Stdout + client.Stderr);

            Assert.Equal(0, first.Stop());
            Assert.Contains("StateSaved", first.Output);
            if (!keepState) File.Delete(Path.Combine(stateDir, "conntrack.state"));
            int tcpBefore = Last(client.Stdout, "tcp"), udpBefore = Last(client.Stdout, "udp");

            using var second = DaemonProcess.Start(t.Lab, t.Bridge, (JsonObject)config.DeepClone());
            // TCP retransmits with backoff while the bridge was down: give it time to come through
            NetLab.WaitUntil(() => Last(client.Stdout, "tcp") > tcpBefore + 3 && Last(client.Stdout, "udp") > udpBefore + 3, TimeSpan.FromSeconds(15));
            int tcpGain = Last(client.Stdout, "tcp") - tcpBefore, udpGain = Last(client.Stdout, "udp") - udpBefore;
            second.Stop();
            return (tcpGain, udpGain);
        }
        finally
        {
            try { Directory.Delete(stateDir, true); } catch (IOException) { }
        }
    }

    [Fact]
    public void EstablishedTcpAndUdp_SurviveARestart_UnderDropNewFromOutside()
    {
        var (tcp, udp) = RunRestart(keepState: true);
        Assert.True(tcp > 3, $"TCP ticks after the restart: {tcp}");
        Assert.True(udp > 3, $"UDP ticks after the restart: {udp}");
    }

    [Fact]
    public void WithoutTheSavedState_TheSameFlowsStop()
    {
        var (tcp, udp) = RunRestart(keepState: false);
        Assert.True(tcp <= 1, $"TCP ticks after the restart without state: {tcp}");
        Assert.True(udp <= 1, $"UDP ticks after the restart without state: {udp}");
    }
}
