using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using Firewall.Core.Rules.IptablesSave;

namespace Firewall.Core.Tests.Rules;

/// <summary>Builds packets (ParsedPacket fields set directly), connection infos and small rule sets for the rule tests.</summary>
internal static class RuleTestKit
{
    public static IpAddr Ip(string s) => IpAddr.TryParse(s, out var a, out _) ? a : throw new ArgumentException(s);

    private static ParsedPacket Base(string src, string dst, byte proto, int length)
    {
        bool v6 = src.Contains(':');
        return new ParsedPacket
        {
            IpVersion = v6 ? (byte)6 : (byte)4,
            Src = Ip(src),
            Dst = Ip(dst),
            Protocol = proto,
            L3Length = length,
            L3DeclaredLength = length,
            VlanId = -1,
            NflogHook = -1,
        };
    }

    public static ParsedPacket Tcp(string src, ushort sport, string dst, ushort dport, byte flags = TcpFlags.Ack, int length = 60)
    {
        var p = Base(src, dst, IpProto.Tcp, length);
        p.SrcPort = sport; p.DstPort = dport; p.TcpFlagBits = flags;
        return p;
    }

    public static ParsedPacket Udp(string src, ushort sport, string dst, ushort dport, int length = 60)
    {
        var p = Base(src, dst, IpProto.Udp, length);
        p.SrcPort = sport; p.DstPort = dport;
        return p;
    }

    public static ParsedPacket Icmp(string src, string dst, byte type, byte code = 0, int length = 84)
    {
        var p = Base(src, dst, src.Contains(':') ? IpProto.Icmpv6 : IpProto.Icmp, length);
        p.IcmpType = type; p.IcmpCode = code;
        return p;
    }

    public static ParsedPacket Other(string src, string dst, byte proto, int length = 60) => Base(src, dst, proto, length);

    public static RuleConnInfo Conn(CtState state, CtStatus status = CtStatus.Confirmed | CtStatus.SeenReply, CtDirection dir = CtDirection.Original)
    {
        if (state is CtState.Invalid or CtState.Untracked) return RuleConnInfo.NoEntry(state);
        var orig = new ConnTuple { Src = Ip("198.18.0.1"), Dst = Ip("198.18.1.1"), SrcId = 40000, DstId = 22, Proto = IpProto.Tcp, Family = 4 };
        orig.TryInvert(out var reply);
        return new RuleConnInfo { State = state, Status = status, Direction = dir, HasEntry = true, Original = orig, Reply = reply, ExpiresInSeconds = 300 };
    }

    public static readonly RuleConnInfo New = Conn(CtState.New, CtStatus.None);
    public static readonly RuleConnInfo Established = Conn(CtState.Established);

    /// <summary>A rule set from iptables-save text; fails the test with the errors when it does not compile.</summary>
    public static RuleSet Load(string text, byte family = 4, RuleLogRing? ring = null, Action<RuleSetBuilder>? setup = null)
    {
        var b = new RuleSetBuilder();
        setup?.Invoke(b);
        IptablesSaveParser.Load(text, "test.rules", family, b);
        RuleSet? rs = b.Build(ring);
        Assert.True(rs is not null, "rule set did not compile: " + string.Join(" | ", b.Errors));
        return rs!;
    }

    /// <summary>Errors from loading (the test expects some).</summary>
    public static List<string> Errors(string text, byte family = 4, Action<RuleSetBuilder>? setup = null)
    {
        var b = new RuleSetBuilder();
        setup?.Invoke(b);
        IptablesSaveParser.Load(text, "rules.v4", family, b);
        if (b.Errors.Count == 0) b.Build();
        return b.Errors;
    }

    /// <summary>A filter table: INPUT with the given policy and rule lines (without "-A INPUT"), FORWARD/OUTPUT ACCEPT.</summary>
    public static RuleSet Input(string policy, params string[] rules) => Chain("INPUT", policy, 4, rules);

    public static RuleSet Input6(string policy, params string[] rules) => Chain("INPUT", policy, 6, rules);

    public static RuleSet Chain(string chain, string policy, byte family, params string[] rules)
    {
        var sb = new System.Text.StringBuilder("*filter\n");
        foreach (string c in (string[])["INPUT", "FORWARD", "OUTPUT"])
            sb.Append($":{c} {(c == chain ? policy : "ACCEPT")} [0:0]\n");
        foreach (string r in rules) sb.Append($"-A {chain} {r}\n");
        sb.Append("COMMIT\n");
        return Load(sb.ToString(), family);
    }

    public static Verdict Eval(RuleSet rs, ParsedPacket p, RuleConnInfo? ct = null, FilterHook hook = FilterHook.Input,
        string? inIf = "eth0", string? outIf = null, long now = 0) =>
        Eval(rs, p, out _, ct, hook, inIf, outIf, now);

    public static Verdict Eval(RuleSet rs, ParsedPacket p, out RuleMatchResult m, RuleConnInfo? ct = null, FilterHook hook = FilterHook.Input,
        string? inIf = "eth0", string? outIf = null, long now = 0)
    {
        var meta = new PacketMeta(inIf, outIf, p.IsV6);
        RuleConnInfo c = ct ?? New;
        return rs.Evaluate(hook, ref p, in c, in meta, now, out m);
    }

    /// <summary>True when a one-rule INPUT chain (policy DROP) with <paramref name="rule"/> -j ACCEPT accepts the packet.</summary>
    public static bool Matches(string rule, ParsedPacket p, RuleConnInfo? ct = null, string? inIf = "eth0", long now = 0, byte family = 0)
    {
        byte fam = family != 0 ? family : (p.IsV6 ? (byte)6 : (byte)4);
        var rs = Chain("INPUT", "DROP", fam, rule + " -j ACCEPT");
        return Eval(rs, p, ct, FilterHook.Input, inIf, null, now) == Verdict.Accept;
    }
}
