using System.Globalization;
using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules.Matches;

/// <summary>
/// <c>-m conntrack</c> (xt_conntrack revision 3). Evaluation order and the no-entry rule follow the kernel:
/// --ctstate first; a packet without an entry (INVALID, UNTRACKED) then matches exactly when --ctstate was given;
/// otherwise --ctdir, the four addresses, protocol, the four ports, --ctstatus and --ctexpire must all pass.
/// </summary>
public sealed class ConntrackMatch : RuleMatch
{
    private const int OrigSrc = 0, OrigDst = 1, ReplSrc = 2, ReplDst = 3;
    private static readonly string[] AddrOpts = ["--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"];
    private static readonly string[] PortOpts = ["--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport"];

    internal bool HasState, StateInv;
    internal ushort StateMask;
    internal bool HasProto, ProtoInv;
    internal byte Proto;
    internal bool HasStatus, StatusInv;
    internal ushort StatusMask;
    internal bool HasExpire, ExpireInv;
    internal uint ExpireMin, ExpireMax;
    internal bool HasDir;
    internal CtDirection Dir;
    private readonly AddressSpec[] _addr = new AddressSpec[4];
    private readonly bool[] _hasAddr = new bool[4], _addrInv = new bool[4];
    private readonly ushort[] _portLo = new ushort[4], _portHi = new ushort[4];
    private readonly bool[] _hasPort = new bool[4], _portInv = new bool[4];
    private bool _anyAddr, _anyPort;

    public override string Module => "conntrack";

    internal override bool TryParseOption(string option, bool invert, ArgCursor args, Rule rule, RuleParseContext ctx)
    {
        string err;
        switch (option)
        {
            case "--ctstate":
                if (!Names.TryParseStates(args.Value(), true, out StateMask, out err)) throw args.ValueError(err);
                HasState = true; StateInv = invert;
                return true;
            case "--ctproto":
            {
                string v = args.Value();
                if (!Names.TryParseProtocol(v, out Proto)) throw args.ValueError($"unknown protocol \"{v}\"");
                if (Proto == 0) throw args.ValueError("rule would never match protocol");
                HasProto = true; ProtoInv = invert;
                return true;
            }
            case "--ctstatus":
                if (!Names.TryParseStatus(args.Value(), out StatusMask, out err)) throw args.ValueError(err);
                HasStatus = true; StatusInv = invert;
                return true;
            case "--ctexpire":
            {
                string v = args.Value();
                int colon = v.IndexOf(':');
                string a = colon < 0 ? v : v[..colon], b = colon < 0 ? v : v[(colon + 1)..];
                if (!uint.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out ExpireMin) ||
                    !uint.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out ExpireMax))
                    throw args.ValueError($"\"{v}\" is not a time in seconds or MIN:MAX");
                if (ExpireMin > ExpireMax) throw args.ValueError($"invalid range \"{v}\" (min > max)");
                HasExpire = true; ExpireInv = invert;
                return true;
            }
            case "--ctdir":
            {
                NoInvert(invert, args);
                string v = args.Value();
                if (v.Equals("ORIGINAL", StringComparison.OrdinalIgnoreCase)) Dir = CtDirection.Original;
                else if (v.Equals("REPLY", StringComparison.OrdinalIgnoreCase)) Dir = CtDirection.Reply;
                else throw args.ValueError($"\"{v}\" is not ORIGINAL or REPLY");
                HasDir = true;
                return true;
            }
        }
        int i = Array.IndexOf(AddrOpts, option);
        if (i >= 0)
        {
            string v = args.Value();
            if (!AddressSpec.TryParse(v, out _addr[i], out err)) throw args.ValueError(err);
            RuleParser.RequireFamily(rule, _addr[i].IsV6 ? (byte)6 : (byte)4, args, v);
            _hasAddr[i] = true; _addrInv[i] = invert; _anyAddr = true;
            return true;
        }
        i = Array.IndexOf(PortOpts, option);
        if (i >= 0)
        {
            if (!Names.TryParsePortRange(args.Value(), out _portLo[i], out _portHi[i], out err)) throw args.ValueError(err);
            _hasPort[i] = true; _portInv[i] = invert; _anyPort = true;
            return true;
        }
        return false;
    }

    internal override void Finish(Rule rule, RuleParseContext ctx, int moduleArgIndex)
    {
        if (!HasState && !HasProto && !HasStatus && !HasExpire && !HasDir && !_anyAddr && !_anyPort)
            throw new RuleParseException(null, "-m conntrack needs at least one option", moduleArgIndex);
    }

    public override bool Matches(ref ParsedPacket p, in RuleConnInfo ct, in PacketMeta meta, long nowNs)
    {
        if (HasState)
        {
            // No NAT in this engine: the SNAT/DNAT virtual states are never present.
            if (((StateMask & (ushort)ct.State) != 0) == StateInv) return false;
        }
        if (!ct.HasEntry) return HasState;
        if (HasDir && ct.Direction != Dir) return false;
        if (_anyAddr && !AddressesMatch(in ct)) return false;
        if (HasProto && (ct.Original.Proto == Proto) == ProtoInv) return false;
        if (_anyPort && !PortsMatch(in ct)) return false;
        if (HasStatus && (((ushort)ct.Status & StatusMask) != 0) == StatusInv) return false;
        if (HasExpire && (ct.ExpiresInSeconds >= ExpireMin && ct.ExpiresInSeconds <= ExpireMax) == ExpireInv) return false;
        return true;
    }

    private bool AddressesMatch(in RuleConnInfo ct)
    {
        if (_hasAddr[OrigSrc] && _addr[OrigSrc].Contains(ct.Original.Src) == _addrInv[OrigSrc]) return false;
        if (_hasAddr[OrigDst] && _addr[OrigDst].Contains(ct.Original.Dst) == _addrInv[OrigDst]) return false;
        if (_hasAddr[ReplSrc] && _addr[ReplSrc].Contains(ct.Reply.Src) == _addrInv[ReplSrc]) return false;
        if (_hasAddr[ReplDst] && _addr[ReplDst].Contains(ct.Reply.Dst) == _addrInv[ReplDst]) return false;
        return true;
    }

    private bool PortsMatch(in RuleConnInfo ct)
    {
        return Port(OrigSrc, ct.Original.SrcId) && Port(OrigDst, ct.Original.DstId) &&
               Port(ReplSrc, ct.Reply.SrcId) && Port(ReplDst, ct.Reply.DstId);
    }

    private bool Port(int i, ushort v) => !_hasPort[i] || ((v >= _portLo[i] && v <= _portHi[i]) != _portInv[i]);

    internal override void AppendSave(StringBuilder sb, Rule rule)
    {
        if (HasState) { Inv(sb, StateInv); sb.Append(" --ctstate ").Append(Names.States(StateMask)); }
        if (HasProto) { Inv(sb, ProtoInv); sb.Append(" --ctproto ").Append(Proto); }
        for (int i = 0; i < 4; i++)
            if (_hasAddr[i]) { Inv(sb, _addrInv[i]); sb.Append(' ').Append(AddrOpts[i]).Append(' ').Append(_addr[i].ToCtString()); }
        for (int i = 0; i < 4; i++)
            if (_hasPort[i]) { Inv(sb, _portInv[i]); sb.Append(' ').Append(PortOpts[i]).Append(' ').Append(Names.PortRange(_portLo[i], _portHi[i])); }
        if (HasStatus) { Inv(sb, StatusInv); sb.Append(" --ctstatus ").Append(Names.Status(StatusMask)); }
        if (HasExpire)
        {
            Inv(sb, ExpireInv);
            sb.Append(" --ctexpire ").Append(ExpireMin);
            if (ExpireMax != ExpireMin) sb.Append(':').Append(ExpireMax);
        }
        if (HasDir) sb.Append(" --ctdir ").Append(Dir == CtDirection.Original ? "ORIGINAL" : "REPLY");
    }

    internal override void AppendListing(StringBuilder sb, Rule rule)
    {
        var save = new StringBuilder();
        AppendSave(save, rule);
        // "-L" prints the same options without the dashes.
        sb.Append(save.Replace(" --ct", " ct"));
    }
}
