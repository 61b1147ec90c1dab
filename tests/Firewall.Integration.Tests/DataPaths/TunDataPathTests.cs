using System.Diagnostics;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// Topology A of the data-path notes: client — router — server, the router policy-routes everything arriving from
/// either host into the daemon's TUN (table 100), the daemon writes accepted packets back, the kernel forwards them.
/// </summary>
public sealed class TunFixture() : RoutedDaemonFixture(t => Config(t, TunNameIn(t)))
{
    public const int RejectTcpPort = 2323;

    public string TunName => TunNameIn(T);

    public static string TunNameIn(R t) => t.Lab.Prefix + "t";

    /// <summary>The seed policy written with addresses (a TUN hides the interfaces) plus tcp-reset REJECTs from the server side;
    /// <paramref name="multiQueue"/>: one TUN queue (and reader) per processor.</summary>
    public static JsonObject Config(R t, string tun, bool multiQueue = false)
    {
        var rules = DaemonConfig.SeedRules(null, "198.18.1.0/24", "2001:db8:1::/64");
        rules.Insert(3, DaemonConfig.Rule($"-s 198.18.2.0/24 -p tcp --dport {RejectTcpPort} -j REJECT --reject-with tcp-reset"));
        rules.Insert(4, DaemonConfig.Rule($"-s 2001:db8:2::/64 -p tcp --dport {RejectTcpPort} -j REJECT --reject-with tcp-reset"));
        return DaemonConfig.Create(new JsonObject
        {
            ["Mode"] = "Tun",
            ["Tun"] = new JsonObject
            {
                ["Name"] = tun,
                ["MultiQueue"] = multiQueue,
                ["ManageRoutes"] = true,
                ["RouteTable"] = 100,
                ["FromInterfaces"] = new JsonArray(t.RouterClientLink, t.RouterServerLink),
            },
        }, "DROP", rules);
    }
}

[Collection("DataPaths")]
public sealed class TunDataPathTests(TunFixture f) : RoutedPolicyTests(f.T), IClassFixture<TunFixture>
{
    private NetLab Lab => f.T.Lab;
    private static string Server(bool v6) => v6 ? R.ServerV6 : R.ServerV4;
    private static string Client(bool v6) => v6 ? R.ClientV6 : R.ClientV4;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectedTcp_IsAnsweredWithReset(bool v6)
    {
        var before = f.Daemon.FreshCounters(f.TunName);
        var clock = Stopwatch.StartNew();
        var (status, exit) = Traffic.Http(Lab, f.T.Server, Client(v6), TunFixture.RejectTcpPort, timeoutSeconds: 3);
        clock.Stop();
        var after = f.Daemon.FreshCounters(f.TunName);
        Assert.Equal("000", status);
        Assert.Equal(7, exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.True(after["rejects_sent"] - before["rejects_sent"] >= 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Iperf3FromClient_TransfersThroughTheTun(bool v6)
    {
        var before = f.Daemon.FreshCounters(f.TunName);
        double bps = Traffic.Iperf3(Lab, f.T.Client, f.T.Server, Server(v6), 5201 + (v6 ? 1 : 0));
        var after = f.Daemon.FreshCounters(f.TunName);
        Assert.True(bps > 10e6, $"iperf3 through the TUN: {bps / 1e6:F1} Mbit/s");
        Assert.True(after["accepted"] - before["accepted"] > 1000);
        Assert.Equal(before["write_errors"], after["write_errors"]);
    }
}

[Collection("DataPaths")]
public sealed class TunStopTests
{
    [Fact]
    public void StoppedDaemon_RemovesItsRoutingRules_AndTheTun()
    {
        using var t = R.Create();
        string tun = t.Lab.Prefix + "t";
        using var daemon = DaemonProcess.Start(t.Lab, t.Router, TunFixture.Config(t, tun));
        Assert.Contains("lookup 100", t.Lab.Run(t.Router, "ip", "-4", "rule", "show").Stdout);
        Assert.Contains($"default dev {tun}", t.Lab.Run(t.Router, "ip", "-6", "route", "show", "table", "100").Stdout);
        Assert.Equal(0, daemon.Stop());
        Assert.DoesNotContain("lookup 100", t.Lab.Run(t.Router, "ip", "-4", "rule", "show").Stdout);
        Assert.DoesNotContain("lookup 100", t.Lab.Run(t.Router, "ip", "-6", "rule", "show").Stdout);
        Assert.False(t.Lab.Run(t.Router, "ip", "link", "show", tun).Succeeded);
        Assert.Equal(3, Traffic.Ping(t.Lab, t.Client, R.ServerV4)); // plain forwarding again
    }
}
