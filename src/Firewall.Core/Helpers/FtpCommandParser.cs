using System.Runtime.CompilerServices;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Core.Helpers;

/// <summary>Result of matching one FTP command pattern (the kernel's find_pattern: 1, 0, -1).</summary>
internal enum FtpParseResult : sbyte
{
    Partial = -1,
    NoMatch = 0,
    Match = 1,
}

/// <summary>
/// The FTP helper's command/reply parsers, following net/netfilter/nf_conntrack_ftp.c (6.x) byte for byte:
/// the per-direction pattern table (ORIGINAL: <c>PORT</c>, <c>EPRT</c>; REPLY: <c>227 </c>, <c>229 </c>, tried in that
/// order, the first non-"no match" result wins), <c>find_pattern</c>, <c>try_number</c>, <c>try_rfc959</c>,
/// <c>try_rfc1123</c>, <c>try_eprt</c>, <c>try_epsv_response</c> and <c>get_port</c>.
/// Numbers accumulate without range checks (u32 for the six/four numbers, u16 for EPRT/EPSV ports), exactly as the kernel.
/// </summary>
internal static class FtpCommandParser
{
    private enum NumberSyntax : byte { Rfc959, Rfc1123, Eprt, EpsvResponse }

    /// <summary>
    /// Runs the direction's patterns over <paramref name="data"/> (which must start at a line start).
    /// <paramref name="addr"/> starts as <paramref name="sender"/> (EPSV names no address) and, on a match, holds the
    /// announced address as the kernel builds it; <paramref name="port"/> the announced port.
    /// </summary>
    public static FtpParseResult Parse(ReadOnlySpan<byte> data, CtDirection dir, byte family, IpAddr sender,
                                       out IpAddr addr, out ushort port)
    {
        addr = sender;
        port = 0;
        FtpParseResult r;
        if (dir == CtDirection.Original)
        {
            r = FindPattern(data, "PORT"u8, (byte)' ', (byte)'\r', NumberSyntax.Rfc959, family, ref addr, ref port);
            if (r != FtpParseResult.NoMatch) return r;
            return FindPattern(data, "EPRT"u8, (byte)' ', (byte)'\r', NumberSyntax.Eprt, family, ref addr, ref port);
        }
        // 227: no skip character, no terminator (RFC 1123: scan for the first digit, parentheses optional).
        r = FindPattern(data, "227 "u8, 0, 0, NumberSyntax.Rfc1123, family, ref addr, ref port);
        if (r != FtpParseResult.NoMatch) return r;
        return FindPattern(data, "229 "u8, (byte)'(', (byte)')', NumberSyntax.EpsvResponse, family, ref addr, ref port);
    }

    private static FtpParseResult FindPattern(ReadOnlySpan<byte> data, ReadOnlySpan<byte> pattern, byte skip, byte term,
                                              NumberSyntax syntax, byte family, ref IpAddr addr, ref ushort port)
    {
        int dlen = data.Length, plen = pattern.Length;
        if (dlen <= plen)
            // Short segment: a case-insensitive prefix of the keyword is a partial match.
            return EqualsIgnoreAsciiCase(data, pattern.Slice(0, dlen)) ? FtpParseResult.Partial : FtpParseResult.NoMatch;
        if (!EqualsIgnoreAsciiCase(data.Slice(0, plen), pattern))
            return FtpParseResult.NoMatch;

        int i = plen;
        if (skip != 0)
        {
            for (i = plen; data[i] != skip; i++)
                if (i == dlen - 1) return FtpParseResult.Partial;
            i++; // over the skip character
        }

        int numLen = syntax switch
        {
            NumberSyntax.Rfc959 => TryRfc959(data.Slice(i), term, family, ref addr, ref port),
            NumberSyntax.Rfc1123 => TryRfc1123(data.Slice(i), family, ref addr, ref port),
            NumberSyntax.Eprt => TryEprt(data.Slice(i), family, ref addr, ref port),
            _ => TryEpsvResponse(data.Slice(i), ref port),
        };
        return numLen == 0 ? FtpParseResult.Partial : FtpParseResult.Match;
    }

    /// <summary><c>h1,h2,h3,h4,p1,p2</c> followed by <paramref name="term"/> (or, with term 0, by any other character).</summary>
    private static int TryRfc959(ReadOnlySpan<byte> data, byte term, byte family, ref IpAddr addr, ref ushort port)
    {
        Span<uint> n = stackalloc uint[6];
        int length = TryNumber(data, n, (byte)',', term);
        if (length == 0) return 0;
        uint v4 = n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3];
        addr = WithFirstFourBytes(addr, v4, family);
        port = unchecked((ushort)(n[4] << 8 | n[5]));
        return length;
    }

    /// <summary>227 reply: scan to the first digit anywhere in the rest of the segment, then <see cref="TryRfc959"/> with no terminator.</summary>
    private static int TryRfc1123(ReadOnlySpan<byte> data, byte family, ref IpAddr addr, ref ushort port)
    {
        int i = 0;
        while (i < data.Length && !IsDigit(data[i])) i++;
        if (i == data.Length) return 0;
        return TryRfc959(data.Slice(i), 0, family, ref addr, ref port);
    }

    /// <summary><c>&lt;d&gt;1&lt;d&gt;a.b.c.d&lt;d&gt;port&lt;d&gt;</c> or <c>&lt;d&gt;2&lt;d&gt;ipv6&lt;d&gt;port&lt;d&gt;</c>;
    /// the protocol digit must match the control connection's family.</summary>
    private static int TryEprt(ReadOnlySpan<byte> data, byte family, ref IpAddr addr, ref ushort port)
    {
        if (data.Length <= 3) return 0;
        byte delim = data[0];
        if (IsDigit(delim) || delim < 33 || delim > 126 || data[2] != delim) return 0;
        if ((family == 4 && data[1] != '1') || (family == 6 && data[1] != '2')) return 0;

        int length;
        if (data[1] == '1')
        {
            Span<uint> n = stackalloc uint[4];
            length = TryNumber(data.Slice(3), n, (byte)'.', delim);
            if (length != 0) addr = WithFirstFourBytes(addr, n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3], family);
        }
        else
        {
            Span<byte> a6 = stackalloc byte[16];
            length = KernelInetPton.TryParseV6(data.Slice(3), delim, a6, out int end) ? end : 0;
            if (length != 0) addr = IpAddr.ReadV6(a6);
        }
        if (length == 0) return 0;
        // The offset includes the leading "|1|" and the delimiter after the address.
        return GetPort(data, 3 + length + 1, delim, ref port);
    }

    /// <summary>229 reply: <c>&lt;d&gt;&lt;d&gt;&lt;d&gt;port&lt;d&gt;</c> after the '('.</summary>
    private static int TryEpsvResponse(ReadOnlySpan<byte> data, ref ushort port)
    {
        if (data.Length <= 3) return 0;
        byte delim = data[0];
        if (IsDigit(delim) || delim < 33 || delim > 126 || data[1] != delim || data[2] != delim) return 0;
        return GetPort(data, 3, delim, ref port);
    }

    /// <summary>Decimal port up to <paramref name="delim"/>, accumulated in 16 bits; a zero port fails.</summary>
    private static int GetPort(ReadOnlySpan<byte> data, int start, byte delim, ref ushort port)
    {
        ushort tmp = 0;
        for (int i = start; i < data.Length; i++)
        {
            byte c = data[i];
            if (c == delim)
            {
                if (tmp == 0) break;
                port = tmp;
                return i + 1;
            }
            if (!IsDigit(c)) break;
            tmp = unchecked((ushort)(tmp * 10 + (c - '0')));
        }
        return 0;
    }

    /// <summary>
    /// Fills <paramref name="numbers"/> with decimal numbers separated by <paramref name="sep"/>; succeeds (returning the
    /// terminator's offset) when the last number is followed by <paramref name="term"/> (any non-digit, non-separator
    /// character when term is 0). Running out of data fails.
    /// </summary>
    private static int TryNumber(ReadOnlySpan<byte> data, Span<uint> numbers, byte sep, byte term)
    {
        numbers.Clear();
        int i = 0, len = 0;
        for (; len < data.Length && i < numbers.Length; len++)
        {
            byte c = data[len];
            if (IsDigit(c))
                numbers[i] = unchecked(numbers[i] * 10 + (uint)(c - '0'));
            else if (c == sep)
                i++;
            else
                return (c == term || term == 0) && i == numbers.Length - 1 ? len : 0;
        }
        return 0;
    }

    /// <summary>The kernel writes an IPv4 result into the first four bytes of the 16-byte address it started from
    /// (the sender's): for an IPv6 control connection PORT/227 replace only the top 32 bits.</summary>
    private static IpAddr WithFirstFourBytes(IpAddr start, uint v4, byte family) =>
        family == 6 ? new IpAddr((start.Hi & 0xFFFF_FFFFUL) | (ulong)v4 << 32, start.Lo) : new IpAddr(start.Hi, v4 | (start.Lo & 0xFFFF_FFFF_0000_0000UL));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte AsciiLower(byte c) => (uint)(c - 'A') <= 'Z' - 'A' ? (byte)(c + 32) : c;

    /// <summary>strncasecmp over equal-length spans (the kernel's tolower maps no non-ASCII byte onto ASCII, so ASCII folding is exact).</summary>
    internal static bool EqualsIgnoreAsciiCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
        return true;
    }
}
