using System.Globalization;
using System.Text;
using Firewall.Core.Conntrack.Sctp;
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
        AppendCommon(sb, s, fullV6: true, seconds: s.RemainingMs / 1000, showTimeout: true, proc: true);
        sb.Append("mark=0 zone=").Append(s.Orig.Zone).Append(" use=2");
        return sb.ToString();
    }

    /// <summary>One line as conntrack -L prints it (compressed IPv6, zone only when non-zero, use=1).</summary>
    public static string ListLine(in ConntrackEntrySnapshot s)
    {
        var sb = new StringBuilder(200);
        AppendCommon(sb, s, fullV6: false, seconds: s.RemainingMs / 1000, showTimeout: true, proc: false);
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
        AppendCommon(sb, s, fullV6: false, seconds: e.TimeoutMs == uint.MaxValue ? 0 : e.TimeoutMs / 1000, showTimeout: e.TimeoutMs != uint.MaxValue, proc: false);
        if (e.Orig.Zone != 0) sb.Append("zone=").Append(e.Orig.Zone).Append(' ');
        var helper = HelperName(e.HelperId);
        if (helper is not null) sb.Append("helper=").Append(helper).Append(' ');
        return sb.ToString().TrimEnd();
    }

    /// <summary>conntrack -S line for one worker ("cpu").</summary>
    public static string StatsLine(int cpu, in ConntrackCounters c) =>
        string.Create(CultureInfo.InvariantCulture,
            $"cpu={cpu,-4}\tfound={c.Found} invalid={c.Invalid} insert={c.Insert} insert_failed={c.InsertFailed} drop={c.Drop} early_drop={c.EarlyDrop} error={c.Error} search_restart={c.SearchRestart} clash_resolve={c.ClashResolve} chaintoolong={c.ChainTooLong} ");

    /// <summary>
    /// The state name listings and replay records show for an entry's state byte: TCP and SCTP states by name,
    /// null for protocols without states.
    /// </summary>
    public static string? ProtoStateName(byte proto, byte state) => proto switch
    {
        IpProto.Tcp => TcpStateNames.Name((TcpState)state),
        IpProto.Sctp => SctpStateNames.Name((SctpState)state),
        _ => null,
    };

    /// <summary>
    /// The protocol name conntrack-tools print: /proc names every protocol without a tracker "unknown", while
    /// conntrack -L / -E name DCCP (generic in the kernel since 6.16) "dccp" from their own table (observed on 6.18).
    /// </summary>
    private static string ProtoName(byte proto, bool proc) =>
        !proc && proto == IpProto.Dccp ? "dccp" : IpProto.ConntrackName(proto);

    /// <param name="proc">True for /proc/net/nf_conntrack, which adds the tracker's private text (GRE timeouts)
    /// that conntrack -L / -E do not print.</param>
    private static void AppendCommon(StringBuilder sb, in ConntrackEntrySnapshot s, bool fullV6, uint seconds, bool showTimeout, bool proc)
    {
        sb.Append(ProtoName(s.Orig.Proto, proc).PadRight(8)).Append(' ').Append(s.Orig.Proto).Append(' ');
        if (showTimeout) sb.Append(seconds).Append(' ');
        var stateName = ProtoStateName(s.Orig.Proto, s.State);
        if (stateName is not null) sb.Append(stateName).Append(' ');
        else if (proc && s.Orig.Proto == IpProto.Gre)
        {
            uint t = s.GreTimeoutMs != 0 ? s.GreTimeoutMs / 1000 : 30, st = s.GreStreamTimeoutMs != 0 ? s.GreStreamTimeoutMs / 1000 : 180;
            sb.Append("timeout=").Append(t).Append(", stream_timeout=").Append(st).Append(' ');
        }
        AppendTuple(sb, s.Orig, fullV6, proc);
        if ((s.Status & CtStatus.SeenReply) == 0) sb.Append("[UNREPLIED] ");
        AppendTuple(sb, s.Reply, fullV6, proc);
        if ((s.Status & CtStatus.Assured) != 0) sb.Append("[ASSURED] ");
    }

    private static void AppendTuple(StringBuilder sb, in ConnTuple t, bool fullV6, bool proc)
    {
        sb.Append("src=").Append(t.Src.ToString(t.IsV6, fullV6)).Append(" dst=").Append(t.Dst.ToString(t.IsV6, fullV6)).Append(' ');
        switch (t.Proto)
        {
            case IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp:
            case IpProto.Dccp when !proc: // conntrack-tools print DCCP ports even from a generic entry (then 0)
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
