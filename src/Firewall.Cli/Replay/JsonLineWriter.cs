using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;

namespace Firewall.Cli.Replay;

/// <summary>
/// Writes replay's JSON lines straight into a reusable UTF-8 buffer: fixed strings and rule texts are encoded once
/// (rule texts JSON-escaped and cached per rule), numbers and IPv4 addresses are formatted without allocating.
/// One object per line; the field order is fixed.
/// </summary>
internal sealed class JsonLineWriter
{
    private readonly Stream _out;
    private readonly RuleSet _rules;
    private byte[] _buf = new byte[4096];
    private int _n;
    private readonly Dictionary<int, byte[]> _ruleText = new();
    private readonly Dictionary<(int, Verdict), byte[]> _policyText = new();
    private static readonly byte[] NonIp = Quote("non-ip policy"), Conntrack = Quote("conntrack");

    public JsonLineWriter(Stream output, RuleSet rules)
    {
        _out = output;
        _rules = rules;
    }

    private static byte[] Quote(string s) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(s, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

    public void Write(long index, long tsNs, ref ParsedPacket p, in PacketDecision d)
    {
        ref readonly TrackResult r = ref d.Track;
        Ensure(1024);
        Raw("{\"index\":"u8); Num(index);
        Raw(",\"time\":"u8); Time(tsNs);
        Raw(",\"state\":\""u8); Ascii(CtStateNames.Name(r.State)); Raw("\""u8);
        bool tracked = r.State is CtState.New or CtState.Established or CtState.Related && !r.Drop;
        if (tracked) { Raw(",\"dir\":\""u8); Raw(r.Direction == CtDirection.Original ? "original"u8 : "reply"u8); Raw("\""u8); }
        else Raw(",\"dir\":null"u8);
        string? ps = tracked ? ConntrackFormatter.ProtoStateName(p.Protocol, r.ProtoState) : null;
        if (ps is null) Raw(",\"tcp_state\":null"u8); else { Raw(",\"tcp_state\":\""u8); Ascii(ps); Raw("\""u8); }
        Raw(",\"status\":["u8);
        if (r.HasEntry)
        {
            bool first = true;
            void Flag(JsonLineWriter w, bool on, ReadOnlySpan<byte> name, ref bool first)
            {
                if (!on) return;
                if (!first) w.Raw(","u8);
                w.Raw(name);
                first = false;
            }
            Flag(this, (r.Status & CtStatus.Expected) != 0, "\"EXPECTED\""u8, ref first);
            Flag(this, (r.Status & CtStatus.SeenReply) != 0, "\"SEEN_REPLY\""u8, ref first);
            Flag(this, (r.Status & CtStatus.Assured) != 0, "\"ASSURED\""u8, ref first);
            Flag(this, (r.Status & CtStatus.Confirmed) != 0, "\"CONFIRMED\""u8, ref first);
        }
        Raw("]"u8);
        Raw(",\"verdict\":\""u8); Raw(d.Verdict switch { Verdict.Accept => "ACCEPT"u8, Verdict.Drop => "DROP"u8, _ => "REJECT"u8 }); Raw("\""u8);
        Raw(",\"rule\":"u8); Raw(RuleBytes(in d));
        if (r.State == CtState.Invalid || r.Drop) { Raw(",\"reason\":\""u8); Ascii(ReplayRunner.ReasonName(in d)); Raw("\""u8); }
        else Raw(",\"reason\":null"u8);
        if (p.IpVersion != 0)
        {
            bool v6 = p.IpVersion == 6;
            Raw(",\"proto\":\""u8); Ascii(ReplayRunner.ProtoName(p.Protocol)); Raw("\""u8);
            Raw(",\"src\":\""u8); Addr(p.Src, v6); Raw("\""u8);
            Raw(",\"dst\":\""u8); Addr(p.Dst, v6); Raw("\""u8);
            if (ReplayRunner.HasPorts(p.Protocol)) { Raw(",\"sport\":"u8); Num(p.SrcPort); Raw(",\"dport\":"u8); Num(p.DstPort); }
            if (p.Protocol == IpProto.Tcp) { Raw(",\"flags\":\""u8); Flags(p.TcpFlagBits); Raw("\""u8); }
            if (p.Protocol is IpProto.Icmp or IpProto.Icmpv6) { Raw(",\"icmp_type\":"u8); Num(p.IcmpType); Raw(",\"icmp_code\":"u8); Num(p.IcmpCode); }
        }
        Raw("}\n"u8);
        if (_n > 64 * 1024) Flush();
    }

    public void Flush()
    {
        _out.Write(_buf, 0, _n);
        _n = 0;
    }

    private byte[] RuleBytes(in PacketDecision d)
    {
        if (d.NonIp) return NonIp;
        if (d.Track.Drop) return Conntrack;
        if (d.RuleId >= 0)
        {
            if (!_ruleText.TryGetValue(d.RuleId, out var b)) _ruleText[d.RuleId] = b = Quote(_rules.Rules[d.RuleId].ToString());
            return b;
        }
        var key = (d.ChainIndex, d.Verdict);
        if (!_policyText.TryGetValue(key, out var pb)) _policyText[key] = pb = Quote(ReplayRunner.RuleText(_rules, in d));
        return pb;
    }

    private void Ensure(int more)
    {
        if (_n + more > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _n + more));
    }

    private void Raw(ReadOnlySpan<byte> s)
    {
        Ensure(s.Length);
        s.CopyTo(_buf.AsSpan(_n));
        _n += s.Length;
    }

    private void Ascii(string s)
    {
        Ensure(s.Length);
        foreach (char c in s) _buf[_n++] = (byte)c;
    }

    private void Num(long v)
    {
        Utf8Formatter.TryFormat(v, _buf.AsSpan(_n), out int w);
        _n += w;
    }

    /// <summary>Seconds with nanosecond digits, exactly (no floating point).</summary>
    private void Time(long ns)
    {
        Num(ns / 1_000_000_000);
        _buf[_n++] = (byte)'.';
        Utf8Formatter.TryFormat(ns % 1_000_000_000, _buf.AsSpan(_n), out int w, new StandardFormat('D', 9));
        _n += w;
    }

    private void Addr(IpAddr a, bool v6)
    {
        if (v6) { Ascii(a.ToString(true)); return; }
        uint v = a.V4;
        Num(v >> 24); _buf[_n++] = (byte)'.'; Num((v >> 16) & 255); _buf[_n++] = (byte)'.';
        Num((v >> 8) & 255); _buf[_n++] = (byte)'.'; Num(v & 255);
    }

    private void Flags(byte f)
    {
        if (f == 0) { Raw("none"u8); return; }
        if ((f & TcpFlags.Syn) != 0) _buf[_n++] = (byte)'S';
        if ((f & TcpFlags.Ack) != 0) _buf[_n++] = (byte)'A';
        if ((f & TcpFlags.Fin) != 0) _buf[_n++] = (byte)'F';
        if ((f & TcpFlags.Rst) != 0) _buf[_n++] = (byte)'R';
        if ((f & TcpFlags.Psh) != 0) _buf[_n++] = (byte)'P';
        if ((f & TcpFlags.Urg) != 0) _buf[_n++] = (byte)'U';
        if ((f & TcpFlags.Ece) != 0) _buf[_n++] = (byte)'E';
        if ((f & TcpFlags.Cwr) != 0) _buf[_n++] = (byte)'C';
    }
}
