using System.Text;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary><c>-m tcp</c> / <c>-m udp</c> (xt_tcpudp): <c>--sport</c>, <c>--dport</c> and, for TCP, <c>--tcp-flags</c> / <c>--syn</c>.</summary>
public sealed class TcpUdpMatch : RuleMatch
{
    private readonly byte _proto;
    internal ushort SLo, SHi = 65535, DLo, DHi = 65535;
    internal bool HasS, HasD, SInv, DInv;
    internal bool HasFlags, FlagsInv;
    internal byte FlagMask, FlagComp;

    public TcpUdpMatch(byte proto) { _proto = proto; }

    public override string Module => _proto == IpProto.Tcp ? "tcp" : "udp";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        string err;
        switch (option)
        {
            case "--sport" or "--source-port":
                if (!Names.TryParsePortRange(args.Value(), out SLo, out SHi, out err)) throw args.ValueError(err);
                HasS = true; SInv = invert;
                return true;
            case "--dport" or "--destination-port":
                if (!Names.TryParsePortRange(args.Value(), out DLo, out DHi, out err)) throw args.ValueError(err);
                HasD = true; DInv = invert;
                return true;
            case "--tcp-flags" when _proto == IpProto.Tcp:
                if (HasFlags) throw args.Error("only one of --tcp-flags / --syn is allowed");
                if (!Names.TryParseTcpFlags(args.Value(), out FlagMask, out err)) throw args.ValueError(err);
                if (!Names.TryParseTcpFlags(args.Value(), out FlagComp, out err)) throw args.ValueError(err);
                HasFlags = true; FlagsInv = invert;
                return true;
            case "--syn" when _proto == IpProto.Tcp:
                if (HasFlags) throw args.Error("only one of --tcp-flags / --syn is allowed");
                FlagMask = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack;
                FlagComp = TcpFlags.Syn;
                HasFlags = true; FlagsInv = invert;
                return true;
            case "--tcp-option" when _proto == IpProto.Tcp:
                throw args.Error("unsupported option --tcp-option");
        }
        return false;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex) =>
        RequireProto(rule, moduleArgIndex, Module, _proto);

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs)
    {
        // Later fragments carry no L4 header; a truncated header cannot match either.
        if (p.FragmentOffset != 0 || p.Error != ParseError.None) return false;
        if ((p.SrcPort >= SLo && p.SrcPort <= SHi) == SInv) return false;
        if ((p.DstPort >= DLo && p.DstPort <= DHi) == DInv) return false;
        if (HasFlags && ((p.TcpFlagBits & FlagMask) == FlagComp) == FlagsInv) return false;
        return true;
    }

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        if (HasS) { Inv(sb, SInv); sb.Append(" --sport ").Append(Names.PortRange(SLo, SHi)); }
        if (HasD) { Inv(sb, DInv); sb.Append(" --dport ").Append(Names.PortRange(DLo, DHi)); }
        if (HasFlags)
        {
            Inv(sb, FlagsInv);
            sb.Append(" --tcp-flags ").Append(Names.TcpFlagList(FlagMask)).Append(' ').Append(Names.TcpFlagList(FlagComp));
        }
    }

    internal override void AppendListing(StringBuilder sb, Rule rule)
    {
        sb.Append(' ').Append(Module);
        if (HasS) sb.Append(SLo == SHi ? " spt:" : " spts:").Append(SInv ? "!" : "").Append(Names.PortRange(SLo, SHi));
        if (HasD) sb.Append(DLo == DHi ? " dpt:" : " dpts:").Append(DInv ? "!" : "").Append(Names.PortRange(DLo, DHi));
        if (HasFlags) sb.Append(" flags:").Append(FlagsInv ? "!" : "").Append($"0x{FlagMask:X2}/0x{FlagComp:X2}");
    }
}
