using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;

namespace Firewall.Cli.Replay;

/// <summary>
/// Runs a capture through the same pipeline the daemon uses, with the capture's timestamps as the clock, and reports
/// each packet's classification and verdict (JSON lines or text) plus a summary.
/// </summary>
public static class ReplayRunner
{
    public static int Run(ReplayOptions o, Stream stdout, TextWriter stderr)
    {
        var errors = new List<string>();
        var cfg = EngineSetup.LoadConfiguration(o.ConfigFile, errors);
        var ctOptions = EngineSetup.LoadConntrackOptions(cfg, o.ConfigFile, errors);
        RuleSet? rules = errors.Count == 0 ? EngineSetup.LoadRules(cfg, o.ConfigFile, o.RuleFiles, errors) : null;
        if (errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine($"fwctl replay: {e}");
            return 2;
        }
        FilterHook hook = o.Chain switch { "INPUT" => FilterHook.Input, "OUTPUT" => FilterHook.Output, _ => FilterHook.Forward };
        bool received = hook != FilterHook.Output;

        PcapReader reader;
        try { reader = PcapReader.Open(o.Capture); }
        catch (Exception e) when (e is CaptureFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"fwctl replay: {Describe(o.Capture, e)}");
            return 1;
        }

        var table = new ConntrackTable(ctOptions);
        var pipeline = new PacketPipeline(table, new RuleSetHolder(rules!));
        var worker = pipeline.CreateWorker();
        var stats = new ReplayStats();
        using var output = new BufferedStream(stdout, 1 << 16);
        var json = new JsonLineWriter(output, rules!);
        var text = o.Format == "text" ? new StreamWriter(output, new UTF8Encoding(false), 1 << 16) { AutoFlush = false } : null;
        PcapWriter? accepted = null;
        string? warning = null;
        var sw = Stopwatch.StartNew();
        try
        {
            text?.WriteLine(TextHeader);
            long index = 0;
            while (true)
            {
                CaptureRecord rec;
                try
                {
                    if (!reader.TryRead(out rec)) break;
                }
                catch (CaptureFormatException e) when (e.IsTruncated)
                {
                    warning = $"{e.Message}; stopped there";
                    break;
                }
                index++;
                PacketParser.Parse(rec.Data, rec.LinkType, out ParsedPacket p);
                var meta = new PacketMeta(null, null, p.IpVersion == 6);
                Verdict v = worker.Process(ref p, rec.TimestampNs, hook, in meta, received, out PacketDecision d);
                stats.Count(in d);
                if (v == Verdict.Accept && o.WriteAccepted is not null)
                {
                    accepted ??= PcapWriter.Create(o.WriteAccepted, rec.LinkType);
                    accepted.Write(rec.TimestampNs, rec.Data, rec.OriginalLength);
                }
                if (text is not null) WriteText(text, index, rec.TimestampNs, ref p, in d, rules!);
                else json.Write(index, rec.TimestampNs, ref p, in d);
            }
        }
        catch (CaptureFormatException e)
        {
            json.Flush();
            text?.Flush();
            output.Flush();
            stderr.WriteLine($"fwctl replay: {e.Message}");
            return 1;
        }
        finally
        {
            accepted?.Dispose();
            reader.Dispose();
        }
        sw.Stop();
        json.Flush();
        if (text is not null)
        {
            stats.WriteTable(text);
            text.Flush();
        }
        output.Flush();
        if (warning is not null) stderr.WriteLine($"fwctl replay: warning: {warning}");
        stats.WriteSummary(stderr, sw.Elapsed, table);
        return 0;
    }

    private static string Describe(string file, Exception e) => e switch
    {
        CaptureFormatException c => c.Message,
        FileNotFoundException => $"{file}: no such file",
        DirectoryNotFoundException => $"{file}: no such file or directory",
        UnauthorizedAccessException => $"{file}: permission denied",
        _ => $"{file}: {e.Message}",
    };

    internal static string RuleText(RuleSet rules, in PacketDecision d)
    {
        if (d.NonIp) return "non-ip policy";
        if (d.Track.Drop) return "conntrack";
        if (d.RuleId >= 0) return rules.Rules[d.RuleId].ToString();
        var chain = rules.Chains[d.ChainIndex];
        return $"policy {chain.Name} {VerdictName(d.Verdict)}";
    }

    private const string TextHeader =
        "   INDEX TIME              PROTO  SOURCE                                  DESTINATION                             FLAGS  STATE        DIR      TCP_STATE    VERDICT  RULE / REASON";

    private static void WriteText(TextWriter t, long index, long tsNs, ref ParsedPacket p, in PacketDecision d, RuleSet rules)
    {
        ref readonly TrackResult r = ref d.Track;
        bool v6 = p.IpVersion == 6;
        string src = p.IpVersion == 0 ? "-" : Endpoint(p.Src.ToString(v6), p.SrcPort, p.Protocol, v6);
        string dst = p.IpVersion == 0 ? "-" : Endpoint(p.Dst.ToString(v6), p.DstPort, p.Protocol, v6);
        string flags = p.Protocol == IpProto.Tcp ? TcpFlagText(p.TcpFlagBits) : p.Protocol is IpProto.Icmp or IpProto.Icmpv6 ? $"{p.IcmpType}/{p.IcmpCode}" : "";
        string dir = Tracked(in r) ? (r.Direction == CtDirection.Original ? "original" : "reply") : "-";
        string tcp = ProtoStateName(in r, p.Protocol) ?? "-";
        string why = r.State == CtState.Invalid || r.Drop ? $"{RuleText(rules, in d)} ({ReasonName(in d)})" : RuleText(rules, in d);
        t.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{index,8} {tsNs / 1e9,17:F6} {(p.IpVersion == 0 ? "-" : ProtoName(p.Protocol)),-6} {src,-39} {dst,-39} {flags,-6} {CtStateNames.Name(r.State),-12} {dir,-8} {tcp,-12} {VerdictName(d.Verdict),-8} {why}"));
    }

    private static string Endpoint(string addr, ushort port, byte proto, bool v6) =>
        HasPorts(proto) ? (v6 ? $"[{addr}]:{port}" : $"{addr}:{port}") : addr;

    internal static bool HasPorts(byte proto) => proto is IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Sctp or IpProto.Dccp;

    internal static string ProtoName(byte proto) => proto switch
    {
        IpProto.Tcp => "tcp", IpProto.Udp => "udp", IpProto.UdpLite => "udplite", IpProto.Icmp => "icmp", IpProto.Icmpv6 => "icmpv6",
        IpProto.Sctp => "sctp", IpProto.Gre => "gre", IpProto.Esp => "esp", IpProto.Ah => "ah", IpProto.Dccp => "dccp",
        _ => proto.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The packet belongs to a connection (NEW/ESTABLISHED/RELATED), even if its new entry was then released by a DROP.</summary>
    private static bool Tracked(in TrackResult r) => r.State is CtState.New or CtState.Established or CtState.Related && !r.Drop;

    internal static string? ProtoStateName(in TrackResult r, byte proto) =>
        Tracked(in r) ? ConntrackFormatter.ProtoStateName(proto, r.ProtoState) : null;

    internal static string VerdictName(Verdict v) => v switch { Verdict.Accept => "ACCEPT", Verdict.Drop => "DROP", _ => "REJECT" };

    internal static string ReasonName(in PacketDecision d) =>
        d.ParseError is not ParseError.None and not ParseError.NotIp ? $"malformed: {d.ParseError}" : InvalidReasons.Name(d.Track.Reason);

    internal static string TcpFlagText(byte f)
    {
        Span<char> s = stackalloc char[8];
        int n = 0;
        if ((f & TcpFlags.Syn) != 0) s[n++] = 'S';
        if ((f & TcpFlags.Ack) != 0) s[n++] = 'A';
        if ((f & TcpFlags.Fin) != 0) s[n++] = 'F';
        if ((f & TcpFlags.Rst) != 0) s[n++] = 'R';
        if ((f & TcpFlags.Psh) != 0) s[n++] = 'P';
        if ((f & TcpFlags.Urg) != 0) s[n++] = 'U';
        if ((f & TcpFlags.Ece) != 0) s[n++] = 'E';
        if ((f & TcpFlags.Cwr) != 0) s[n++] = 'C';
        return n == 0 ? "none" : new string(s[..n]);
    }
}
