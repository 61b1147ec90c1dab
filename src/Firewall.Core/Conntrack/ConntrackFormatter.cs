using System.Globalization;
using System.Text;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>Text formats of the conntrack tools: /proc/net/nf_conntrack, conntrack -L, conntrack -E, conntrack -S (reference §10).</summary>
public static class ConntrackFormatter
{
    /// <summary>Helper names by id (0 none).</summary>
    public static string? HelperName(byte id) => id switch { 1 => "ftp", 2 => "irc", 3 => "tftp", _ => null };

    /// <summary>One line of /proc/net/nf_conntrack (without the newline).</summary>
    public static string ProcLine(in ConntrackEntrySnapshot s)
    {
        var sb = new StringBuilder(200);
        bool v6 = s.Orig.IsV6;
        sb.Append((v6 ? "ipv6" : "ipv4").PadRight(8)).Append(' ').Append(v6 ? 10 : 2).Append(' ');
        AppendCommon(sb, s, fullV6: true, seconds: s.RemainingMs / 1000, showTimeout: true);
        sb.Append("mark=0 zone=").Append(s.Orig.Zone).Append(" use=2");
        return sb.ToString();
    }

    /// <summary>One line as conntrack -L prints it (compressed IPv6, zone only when non-zero, use=1).</summary>
    public static string ListLine(in ConntrackEntrySnapshot s)
    {
        var sb = new StringBuilder(200);
        AppendCommon(sb, s, fullV6: false, seconds: s.RemainingMs / 1000, showTimeout: true);
        sb.Append("mark=0 ");
        if (s.Orig.Zone != 0) sb.Append("zone=").Append(s.Orig.Zone).Append(' ');
        var helper = HelperName(s.HelperId);
        if (helper is not null) sb.Append("helper=").Append(helper).Append(' ');
        sb.Append("use=1");
        return sb.ToString();
    }

    /// <summary>One event line as conntrack -E prints it.</summary>
    public static string EventLine(in CtEvent e)
    {
        var sb = new StringBuilder(200);
        sb.Append(e.Type switch { CtEventType.New => "    [NEW] ", CtEventType.Update => " [UPDATE] ", _ => "[DESTROY] " });
        e.Orig.TryInvert(out var reply);
        var s = new ConntrackEntrySnapshot { Orig = e.Orig, Reply = reply, Status = e.Status, State = e.Orig.Proto == IpProto.Tcp ? (byte)e.TcpState : e.ProtoState, HelperId = e.HelperId };
        AppendCommon(sb, s, fullV6: false, seconds: e.TimeoutMs == uint.MaxValue ? 0 : e.TimeoutMs / 1000, showTimeout: e.TimeoutMs != uint.MaxValue);
        if (e.Orig.Zone != 0) sb.Append("zone=").Append(e.Orig.Zone).Append(' ');
        var helper = HelperName(e.HelperId);
        if (helper is not null) sb.Append("helper=").Append(helper).Append(' ');
        return sb.ToString().TrimEnd();
    }

    /// <summary>conntrack -S line for one worker ("cpu").</summary>
    public static string StatsLine(int cpu, in ConntrackCounters c) =>
        string.Create(CultureInfo.InvariantCulture,
            $"cpu={cpu,-4}\tfound={c.Found} invalid={c.Invalid} insert={c.Insert} insert_failed={c.InsertFailed} drop={c.Drop} early_drop={c.EarlyDrop} error={c.Error} search_restart={c.SearchRestart} clash_resolve={c.ClashResolve} chaintoolong={c.ChainTooLong} ");

    private static void AppendCommon(StringBuilder sb, in ConntrackEntrySnapshot s, bool fullV6, uint seconds, bool showTimeout)
    {
        sb.Append(IpProto.ConntrackName(s.Orig.Proto).PadRight(8)).Append(' ').Append(s.Orig.Proto).Append(' ');
        if (showTimeout) sb.Append(seconds).Append(' ');
        if (s.Orig.Proto == IpProto.Tcp) sb.Append(TcpStateNames.Name((TcpState)s.State)).Append(' ');
        else if (s.Orig.Proto == IpProto.Gre) sb.Append("timeout=30, stream_timeout=180 ");
        AppendTuple(sb, s.Orig, fullV6);
        if ((s.Status & CtStatus.SeenReply) == 0) sb.Append("[UNREPLIED] ");
        AppendTuple(sb, s.Reply, fullV6);
        if ((s.Status & CtStatus.Assured) != 0) sb.Append("[ASSURED] ");
    }

    private static void AppendTuple(StringBuilder sb, in ConnTuple t, bool fullV6)
    {
        sb.Append("src=").Append(t.Src.ToString(t.IsV6, fullV6)).Append(" dst=").Append(t.Dst.ToString(t.IsV6, fullV6)).Append(' ');
        switch (t.Proto)
        {
            case IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp:
                sb.Append("sport=").Append(t.SrcId).Append(" dport=").Append(t.DstId).Append(' ');
                break;
            case IpProto.Icmp or IpProto.Icmpv6:
                sb.Append("type=").Append(t.IcmpType).Append(" code=").Append(t.IcmpCode).Append(" id=").Append(t.SrcId).Append(' ');
                break;
            case IpProto.Gre:
                sb.Append("srckey=0x").Append(t.SrcId.ToString("x", CultureInfo.InvariantCulture)).Append(" dstkey=0x").Append(t.DstId.ToString("x", CultureInfo.InvariantCulture)).Append(' ');
                break;
        }
    }
}
