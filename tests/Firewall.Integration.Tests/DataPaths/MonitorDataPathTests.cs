using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>Monitor mode on a host: its INPUT policy is DROP, yet nothing is dropped; the would-be drops are counted and logged.</summary>
[Collection("DataPaths")]
public sealed class MonitorDataPathTests
{
    private const string HostV4 = "198.18.80.1", PeerV4 = "198.18.80.2";
    private const string HostV6 = "2001:db8:80::1", PeerV6 = "2001:db8:80::2";

    [Fact]
    public void Monitor_EnforcesNothing_AndCountsWouldBeDrops()
    {
        NetLab.RequireTools("curl", "ping", "dotnet");
        using var lab = NetLab.Create();
        string host = lab.AddNamespace("host"), peer = lab.AddNamespace("peer");
        var (hl, pl) = lab.AddVethPair(host, "h0", peer, "p0");
        lab.DisableOffloads(host, hl, "gro");
        lab.AddAddress(host, hl, HostV4 + "/24");
        lab.AddAddress(host, hl, HostV6 + "/64");
        lab.AddAddress(peer, pl, PeerV4 + "/24");
        lab.AddAddress(peer, pl, PeerV6 + "/64");
        Traffic.StartServers(lab, host, 80, 22, "banner-host");

        // The host firewall to try out: answers accepted, INVALID dropped, NEW only to 22 (and ICMPv6); policy DROP.
        var input = new JsonObject
        {
            ["Policy"] = "DROP",
            ["Rules"] = new JsonArray(
                DaemonConfig.Rule("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
                DaemonConfig.Rule("-m conntrack --ctstate INVALID -j DROP"),
                DaemonConfig.Rule("-p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT"),
                new JsonObject { ["Protocol"] = "icmpv6", ["IcmpType"] = "neighbour-solicitation", ["Action"] = "ACCEPT" },
                new JsonObject { ["Protocol"] = "icmpv6", ["IcmpType"] = "neighbour-advertisement", ["Action"] = "ACCEPT" }),
        };
        var config = DaemonConfig.Create(new JsonObject
        {
            ["Mode"] = "Monitor",
            ["Monitor"] = new JsonObject { ["Interface"] = hl, ["Hook"] = "INPUT", ["SummaryIntervalSeconds"] = 1, ["BufferSizeMb"] = 2 },
        }, "DROP", [], new JsonObject { ["Input"] = input });
        using var daemon = DaemonProcess.Start(lab, host, config);

        // Not enforced: everything the policy forbids still gets through.
        Assert.Equal(5, Traffic.Ping(lab, peer, HostV4, 5));
        Assert.Equal(5, Traffic.Ping(lab, peer, HostV6, 5));
        Assert.Equal("200", Traffic.Http(lab, peer, HostV4, 80).Status);
        Assert.Equal("banner-host", Traffic.TcpBanner(lab, peer, HostV4, 22));

        var summary = daemon.WaitForEvent("MonitorWouldDrop", timeout: TimeSpan.FromSeconds(5));
        Assert.Equal(0, daemon.Stop());

        var inbound = daemon.FinalCounters(hl + "/in");
        var outbound = daemon.FinalCounters(hl + "/out");
        // 10 echo requests (NEW, no rule) and the HTTP SYN (NEW to 80) would have been dropped; with them every
        // further packet of those flows (no entry was confirmed), so at least 11.
        Assert.True(inbound["would_drop"] >= 11, $"would_drop in: {inbound["would_drop"]}");
        Assert.True(inbound["accepted"] > 0);     // the banner connection to 22 was allowed
        Assert.Equal(0, outbound["would_drop"]);  // OUTPUT policy ACCEPT
        Assert.True(long.Parse(summary.Property("WouldDrop")!) > 0);
        string listing = daemon.EventsNamed("MonitorRuleCounters").First().Property("Listing")!;
        Assert.Matches(@"Chain INPUT \(policy DROP [1-9]\d* packets", listing);
    }
}
