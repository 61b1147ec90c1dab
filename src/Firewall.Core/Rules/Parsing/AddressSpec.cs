using System.Globalization;
using Firewall.Core.Packets;

namespace Firewall.Core.Rules.Parsing;

/// <summary>An address with a mask (network/prefix or dotted mask), as <c>-s</c>, <c>--ctorigsrc</c> and sets take it.</summary>
public readonly struct AddressSpec
{
    public readonly IpAddr Network;
    public readonly IpAddr Mask;
    public readonly bool IsV6;
    /// <summary>Prefix length, or -1 for a non-contiguous dotted mask.</summary>
    public readonly int PrefixLength;

    public AddressSpec(IpAddr network, IpAddr mask, bool isV6, int prefixLength)
    {
        Network = network; Mask = mask; IsV6 = isV6; PrefixLength = prefixLength;
    }

    public bool Contains(in IpAddr a) => (a.Hi & Mask.Hi) == Network.Hi && (a.Lo & Mask.Lo) == Network.Lo;

    public static IpAddr PrefixMask(int len, bool isV6)
    {
        if (!isV6) return new IpAddr(0, len <= 0 ? 0 : (uint.MaxValue << (32 - len)) & 0xFFFFFFFFUL);
        ulong hi = len <= 0 ? 0 : len >= 64 ? ulong.MaxValue : ~(ulong.MaxValue >> len);
        ulong lo = len <= 64 ? 0 : len >= 128 ? ulong.MaxValue : ~(ulong.MaxValue >> (len - 64));
        return new IpAddr(hi, lo);
    }

    /// <summary>
    /// Parses <c>ADDR</c>, <c>ADDR/LEN</c> or (IPv4) <c>ADDR/DOTTED-MASK</c>. Host bits are cleared, as iptables does.
    /// Host names are refused (the engine does no name lookups).
    /// </summary>
    public static bool TryParse(string s, out AddressSpec spec, out string error)
    {
        spec = default;
        int slash = s.IndexOf('/');
        string addrPart = slash < 0 ? s : s[..slash];
        if (!IpAddr.TryParse(addrPart, out IpAddr addr, out bool v6) || addrPart.Contains('%'))
        {
            error = $"\"{s}\" is not an IP address or network (host names are not resolved)";
            return false;
        }
        if (!v6 && addrPart.Count(c => c == '.') != 3)
        {
            error = $"\"{s}\" is not an IP address or network (write IPv4 addresses as a.b.c.d)";
            return false;
        }
        int max = v6 ? 128 : 32;
        int len = max;
        IpAddr mask;
        if (slash >= 0)
        {
            string m = s[(slash + 1)..];
            if (int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out int l))
            {
                if (l > max) { error = $"\"{s}\": prefix length {l} is larger than {max}"; return false; }
                len = l;
                mask = PrefixMask(len, v6);
            }
            else if (!v6 && IpAddr.TryParse(m, out IpAddr dotted, out bool mv6) && !mv6 && m.Count(c => c == '.') == 3)
            {
                mask = dotted;
                uint mv = dotted.V4;
                int ones = System.Numerics.BitOperations.PopCount(mv);
                len = (ones == 0 ? 0u : uint.MaxValue << (32 - ones)) == mv ? ones : -1;
            }
            else { error = $"\"{s}\": \"{m}\" is not a prefix length or mask"; return false; }
        }
        else mask = PrefixMask(len, v6);
        spec = new AddressSpec(new IpAddr(addr.Hi & mask.Hi, addr.Lo & mask.Lo), mask, v6, len);
        error = "";
        return true;
    }

    /// <summary>iptables-save form: <c>a.b.c.d/len</c> (or dotted mask), <c>x::/len</c>.</summary>
    public string ToSaveString()
    {
        string a = Network.ToString(IsV6);
        if (PrefixLength >= 0) return a + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);
        return a + "/" + Mask.ToString(false);
    }

    /// <summary>conntrack match form: the mask is omitted for a single host.</summary>
    public string ToCtString()
    {
        string a = Network.ToString(IsV6);
        if (PrefixLength == (IsV6 ? 128 : 32)) return a;
        return PrefixLength >= 0 ? a + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture) : a + "/" + Mask.ToString(false);
    }
}
