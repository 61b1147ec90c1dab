using System.Text;
using System.Text.Json;
using Firewall.Cli.Replay;
using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using FB = Firewall.Core.Tests.Packets.FrameBuilder;

namespace Firewall.Integration.Tests.Replay;

/// <summary>fwctl replay on captures built here (exact packets known), checking every JSON line and the error paths.</summary>
public sealed class ReplayRunnerTests : IDisposable
{
    private const long S = 1_000_000_000L;
    private readonly string _dir = Directory.CreateTempSubdirectory("fwreplay").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Capture(LinkType link, params (long Ts, byte[] Frame)[] frames)
    {
        string path = Path.Combine(_dir, $"c{Guid.NewGuid():N}.pcap");
        using var w = PcapWriter.Create(path, link);
        foreach (var (ts, f) in frames) w.Write(ts, f);
        return path;
    }

    private string File(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private static (int Rc, List<JsonElement> Lines, string Out, string Err) Run(ReplayOptions o)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int rc = ReplayRunner.Run(o, stdout, stderr);
        string text = Encoding.UTF8.GetString(stdout.ToArray());
        var lines = o.Format == "jsonl"
            ? text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList()
            : [];
        return (rc, lines, text, stderr.ToString());
    }

    private const string Seed = """
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A FORWARD -m conntrack --ctstate INVALID -j DROP
        -A FORWARD -s 198.18.10.0/24 -m conntrack --ctstate NEW -j ACCEPT
        COMMIT
        """;

    private static byte[] Tcp(string s, ushort sp, string d, ushort dp, byte flags, uint seq, uint ack) =>
        FB.Ethernet(FB.Ipv4(s, d, IpProto.Tcp, FB.Tcp(sp, dp, seq, ack, flags)));

    [Fact]
    public void Jsonl_OneObjectPerPacket_WithStateVerdictRuleAndReason()
    {
        string cap = Capture(LinkType.Ethernet,
            (100 * S, Tcp("198.18.10.104", 40000, "198.18.20.77", 22, 0x02, 1000, 0)),
            (100 * S + 1000, Tcp("198.18.20.77", 22, "198.18.10.104", 40000, 0x12, 5000, 1001)),
            (100 * S + 2000, Tcp("198.18.10.104", 40000, "198.18.20.77", 22, 0x10, 1001, 5001)),
            (101 * S, Tcp("198.18.20.77", 50000, "198.18.10.104", 80, 0x02, 1, 0)),
            (102 * S, Tcp("198.18.20.77", 50001, "198.18.10.104", 80, 0x12, 1, 1)));
        var (rc, lines, _, err) = Run(new ReplayOptions { Capture = cap, RuleFiles = [File("seed.v4", Seed)], Format = "jsonl" });
        Assert.Equal(0, rc);
        Assert.Equal(5, lines.Count);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, lines.Select(l => l.GetProperty("index").GetInt32()));
        Assert.Equal(new[] { "NEW", "ESTABLISHED", "ESTABLISHED", "NEW", "INVALID" }, lines.Select(l => l.GetProperty("state").GetString()));
        Assert.Equal(new[] { "ACCEPT", "ACCEPT", "ACCEPT", "DROP", "DROP" }, lines.Select(l => l.GetProperty("verdict").GetString()));
        Assert.Equal(new[] { "SYN_SENT", "SYN_RECV", "ESTABLISHED", "SYN_SENT" }, lines.Take(4).Select(l => l.GetProperty("tcp_state").GetString()));
        Assert.Equal("reply", lines[1].GetProperty("dir").GetString());
        Assert.Equal(new[] { "SEEN_REPLY", "ASSURED", "CONFIRMED" }, lines[2].GetProperty("status").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("policy FORWARD DROP", lines[3].GetProperty("rule").GetString());
        Assert.Equal("-A FORWARD -m conntrack --ctstate INVALID -j DROP", lines[4].GetProperty("rule").GetString());
        Assert.Equal("tcp_invalid_new", lines[4].GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, lines[0].GetProperty("reason").ValueKind);
        Assert.Equal(100.0, lines[0].GetProperty("time").GetDouble(), 6);
        Assert.Contains("5 packets", err);
    }

    [Fact]
    public void NoRules_TracksAndAcceptsEverything()
    {
        string cap = Capture(LinkType.RawIp,
            (S, FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 2, [1]))),
            (S, FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Udp, FB.Udp(2, 1, [1]))));
        var (rc, lines, _, _) = Run(new ReplayOptions { Capture = cap, Format = "jsonl" });
        Assert.Equal(0, rc);
        Assert.All(lines, l => Assert.Equal("ACCEPT", l.GetProperty("verdict").GetString()));
        Assert.Equal(new[] { "NEW", "ESTABLISHED" }, lines.Select(l => l.GetProperty("state").GetString()));
    }

    [Fact]
    public void CaptureTimestampsAreTheClock_EntriesExpireAsOnTheWire()
    {
        var udp = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 2, [1]));
        var back = FB.Ipv4("198.18.0.2", "198.18.0.1", IpProto.Udp, FB.Udp(2, 1, [1]));
        string cap = Capture(LinkType.RawIp, (10 * S, udp), (11 * S, back), (11 * S + S / 2, udp), (42 * S, udp));
        var (_, lines, _, _) = Run(new ReplayOptions { Capture = cap, Format = "jsonl" });
        // within 2 s of creation the timeout stays 30 s: refreshed to 41.5 s, expired at 42 s → NEW again
        Assert.Equal(new[] { "NEW", "ESTABLISHED", "ESTABLISHED", "NEW" }, lines.Select(l => l.GetProperty("state").GetString()));
    }

    [Fact]
    public void MalformedPacketInGoodCapture_IsInvalidWithReason_AndReplayGoesOn()
    {
        var good = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 2, [1]));
        string cap = Capture(LinkType.RawIp, (S, good[..10]), (S, good));
        var (rc, lines, _, _) = Run(new ReplayOptions { Capture = cap, Format = "jsonl" });
        Assert.Equal(0, rc);
        Assert.Equal("INVALID", lines[0].GetProperty("state").GetString());
        Assert.StartsWith("malformed", lines[0].GetProperty("reason").GetString());
        Assert.Equal("NEW", lines[1].GetProperty("state").GetString());
    }

    [Fact]
    public void UnreadableCapture_OneClearErrorNamingTheFile_NonZeroExit()
    {
        string bad = File("garbage.pcap", "this is not a capture");
        var (rc, _, _, err) = Run(new ReplayOptions { Capture = bad, Format = "jsonl" });
        Assert.Equal(1, rc);
        Assert.Contains("garbage.pcap", err);
        Assert.Contains("not a pcap or pcapng file", err);
        var (rc2, _, _, err2) = Run(new ReplayOptions { Capture = Path.Combine(_dir, "missing.pcap"), Format = "jsonl" });
        Assert.Equal(1, rc2);
        Assert.Contains("missing.pcap: no such file", err2);
    }

    [Fact]
    public void UnsupportedRule_IsAnErrorNamingFileLineAndOption()
    {
        string cap = Capture(LinkType.RawIp, (S, FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 2, [1]))));
        string rules = File("r.v4", "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m recent --seconds 5 -j DROP\nCOMMIT\n");
        var (rc, _, _, err) = Run(new ReplayOptions { Capture = cap, RuleFiles = [rules], Format = "jsonl" });
        Assert.Equal(2, rc);
        Assert.Contains("r.v4:3", err);
        Assert.Contains("recent", err);
    }

    [Fact]
    public void TwoRuleFiles_V4AndV6_ApplyToTheirFamily()
    {
        string v4 = File("rules.v4", "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p udp -j ACCEPT\nCOMMIT\n");
        string v6 = File("rules.v6", "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p udp -j DROP\nCOMMIT\n");
        string cap = Capture(LinkType.RawIp,
            (S, FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 2, [1]))),
            (S, FB.Ipv6("2001:db8::1", "2001:db8::2", IpProto.Udp, FB.Udp(1, 2, [1]))));
        var (_, lines, _, _) = Run(new ReplayOptions { Capture = cap, RuleFiles = [v4, v6], Format = "jsonl" });
        Assert.Equal(new[] { "ACCEPT", "DROP" }, lines.Select(l => l.GetProperty("verdict").GetString()));
    }

    [Fact]
    public void RawTableNotrack_AppliesInReplay()
    {
        string rules = File("rules.v4", "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp --dport 7777 -j CT --notrack\nCOMMIT\n*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
        string cap = Capture(LinkType.RawIp, (S, FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 7777, [1]))));
        var (_, lines, _, _) = Run(new ReplayOptions { Capture = cap, RuleFiles = [rules], Format = "jsonl" });
        Assert.Equal("UNTRACKED", lines[0].GetProperty("state").GetString());
    }

    [Fact]
    public void WriteAccepted_WritesOnlyAcceptedPackets()
    {
        string cap = Capture(LinkType.RawIp,
            (S, FB.Ipv4("198.18.10.1", "198.18.20.2", IpProto.Udp, FB.Udp(1, 2, [1]))),
            (S, FB.Ipv4("198.18.20.2", "198.18.10.1", IpProto.Udp, FB.Udp(9, 9, [1]))));
        string outPath = Path.Combine(_dir, "accepted.pcap");
        var (rc, _, _, _) = Run(new ReplayOptions { Capture = cap, RuleFiles = [File("seed.v4", Seed)], Format = "jsonl", WriteAccepted = outPath });
        Assert.Equal(0, rc);
        using var r = PcapReader.Open(outPath);
        int n = 0;
        while (r.TryRead(out _)) n++;
        Assert.Equal(1, n);
    }

    [Fact]
    public void Text_HasColumnsAndCountTable()
    {
        string cap = Capture(LinkType.RawIp, (S, FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Icmp, FB.Icmp(8, 0, 1, 1))));
        var (rc, _, text, _) = Run(new ReplayOptions { Capture = cap, Format = "text" });
        Assert.Equal(0, rc);
        Assert.Contains("STATE", text);
        Assert.Matches(@"NEW\s+1\s+0\s+0\s+1", text);
    }

    [Fact]
    public void Config_AppliesConntrackTunablesAndInlineRules()
    {
        string cfg = File("appsettings.json", """
            {
              "Firewall": {
                "Conntrack": { "Timeouts": { "Udp": 5 } },
                "Rules": { "Filter": { "Forward": { "Policy": "DROP", "Rules": [
                  { "State": [ "ESTABLISHED", "RELATED" ], "Action": "ACCEPT" },
                  { "Protocol": "udp", "DPort": "53", "State": [ "NEW" ], "Action": "ACCEPT" } ] } } }
              }
            }
            """);
        var q = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(4000, 53, [1]));
        var other = FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(4000, 54, [1]));
        string cap = Capture(LinkType.RawIp, (10 * S, q), (12 * S, q), (16 * S, q), (16 * S, other));
        var (rc, lines, _, _) = Run(new ReplayOptions { Capture = cap, ConfigFile = cfg, Format = "jsonl" });
        Assert.Equal(0, rc);
        // 5 s UDP timeout: 12 s is within it (refreshed to 17 s); at 16 s still tracked; port 54 is dropped by the policy
        Assert.Equal(new[] { "NEW", "NEW", "NEW", "NEW" }, lines.Select(l => l.GetProperty("state").GetString()));
        Assert.Equal(new[] { "ACCEPT", "ACCEPT", "ACCEPT", "DROP" }, lines.Select(l => l.GetProperty("verdict").GetString()));
        var cap2 = Capture(LinkType.RawIp, (10 * S, q), (16 * S, q));
        var (_, lines2, _, _) = Run(new ReplayOptions { Capture = cap2, ConfigFile = cfg, Format = "jsonl" });
        Assert.Equal("NEW", lines2[1].GetProperty("state").GetString()); // expired after 5 s: a new entry
    }

    [Fact]
    public void Config_BadValue_IsAnErrorNamingTheKey()
    {
        string cfg = File("bad.json", """{ "Firewall": { "Conntrack": { "Max": 0 } } }""");
        string cap = Capture(LinkType.RawIp, (S, FB.Ipv4("198.18.0.1", "198.18.0.2", IpProto.Udp, FB.Udp(1, 2, [1]))));
        var (rc, _, _, err) = Run(new ReplayOptions { Capture = cap, ConfigFile = cfg, Format = "jsonl" });
        Assert.Equal(2, rc);
        Assert.Contains("Firewall:Conntrack:Max", err);
    }
}
