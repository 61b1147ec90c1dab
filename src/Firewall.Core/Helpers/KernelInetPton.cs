namespace Firewall.Core.Helpers;

/// <summary>
/// The kernel's <c>in6_pton</c> / <c>in4_pton</c> (net/core/utils.c) as the FTP helper uses them for EPRT |2|
/// addresses, reproduced state for state so that exactly the same strings are accepted and the parse ends at the
/// same byte. Quirks kept on purpose: a NUL byte or the end of the data acts as the delimiter, a ':' ends an embedded
/// dotted quad, and "::" writes a zero word. Never reads outside <c>src</c>, never throws.
/// </summary>
internal static class KernelInetPton
{
    private const int XDigit = 0x00010000;
    private const int Digit = 0x00020000;
    private const int ColonMask = 0x00700000;
    private const int Colon1 = 0x00100000;   // single ':' allowed
    private const int Colon2 = 0x00200000;   // second ':' allowed
    private const int Colon12 = 0x00400000;  // "::" allowed
    private const int Dot = 0x00800000;
    private const int Delim = 0x10000000;
    private const int Null = 0x20000000;     // first/tail
    private const int Unknown = 0x40000000;

    /// <summary>Byte at <paramref name="i"/> while <paramref name="left"/> &gt; 0, else NUL (the kernel's "srclen &gt; 0 ? *s : '\0'").</summary>
    private static int At(ReadOnlySpan<byte> s, int i, int left) => left > 0 && (uint)i < (uint)s.Length ? s[i] : 0;

    private static int Classify(int c, int delim)
    {
        if (c == delim || c == 0) return Delim;
        if (c == ':') return ColonMask;
        if (c == '.') return Dot;
        int val = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
        if (val >= 0) return val | XDigit | (val < 10 ? Digit : 0);
        return Unknown;
    }

    /// <summary>Parses an IPv6 address ending at <paramref name="delim"/> (or NUL / end of data).
    /// On success <paramref name="end"/> is the index of the terminating byte.</summary>
    public static bool TryParseV6(ReadOnlySpan<byte> src, int delim, Span<byte> dst16, out int end)
    {
        Span<byte> buf = stackalloc byte[16];
        buf.Clear();
        int s = 0, left = src.Length, d = 0, dc = -1, tok = -1, w = 0;
        int state = Colon12 | XDigit | Null;
        while (true)
        {
            int c = Classify(At(src, s, left), delim);
            if ((c & state) == 0) { end = s; return false; }
            if ((c & (Delim | ColonMask)) != 0)
            {
                if ((state & Null) == 0)
                {
                    if (d + 2 > 16) { end = s; return false; } // unreachable by the state machine; keeps us in bounds
                    buf[d++] = (byte)(w >> 8);
                    buf[d++] = (byte)w;
                }
                w = 0;
                if ((c & Delim) != 0) break;
                switch (state & ColonMask)
                {
                    case Colon2:
                        dc = d;
                        state = XDigit | Delim;
                        if (dc >= 16) state |= Null;
                        break;
                    case Colon1 | Colon12:
                        state = XDigit | Colon2;
                        break;
                    case Colon1:
                        state = XDigit;
                        break;
                    case Colon12:
                        state = Colon2;
                        break;
                    default:
                        state = 0;
                        break;
                }
                tok = s + 1;
            }
            else if ((c & Dot) != 0)
            {
                int from = tok >= 0 ? tok : 0;
                if (d + 4 > 16) { end = s; return false; } // unreachable: Dot is only allowed with room for 4 bytes
                if (TryParseV4(src.Slice(from, Math.Min(src.Length - from, left + (s - from))), delim, buf.Slice(d, 4), out int e4))
                {
                    s = from + e4;
                    d += 4;
                    break;
                }
                end = from + e4;
                return false;
            }
            else
            {
                w = (w << 4) | (0xff & c);
                state = Colon1 | Delim;
                if ((w & 0xf000) == 0) state |= XDigit;
                if (dc < 0 && d + 2 < 16)
                {
                    state |= Colon12;
                    state &= ~Delim;
                }
                if (d + 2 >= 16) state &= ~(Colon1 | Colon12);
            }
            // cont:
            if ((dc >= 0 && d + 4 < 16) || d + 4 == 16) state |= Dot;
            if (d >= 16) state &= ~(XDigit | ColonMask);
            s++;
            left--;
        }

        if (dc >= 0)
        {
            int i = 15, k = d - 1;
            while (k >= dc) dst16[i--] = buf[k--];
            while (i >= dc) dst16[i--] = 0;
            while (i >= 0) dst16[i--] = buf[k--];
        }
        else
        {
            buf.CopyTo(dst16);
        }
        end = s;
        return true;
    }

    /// <summary>The kernel's <c>in4_pton</c>: four decimal octets (each ≤ 255, none empty) separated by '.',
    /// ended by <paramref name="delim"/>, NUL, end of data or ':'.</summary>
    public static bool TryParseV4(ReadOnlySpan<byte> src, int delim, Span<byte> dst4, out int end)
    {
        Span<byte> buf = stackalloc byte[4];
        int s = 0, left = src.Length, d = 0, i = 0, w = 0;
        while (true)
        {
            int c = Classify(At(src, s, left), delim);
            if ((c & (Digit | Dot | Delim | ColonMask)) == 0) { end = s; return false; }
            if ((c & (Dot | Delim | ColonMask)) != 0)
            {
                if (w == 0) { end = s; return false; }
                buf[d++] = (byte)w;
                w = 0;
                i++;
                if ((c & (Delim | ColonMask)) != 0)
                {
                    if (i != 4) { end = s; return false; }
                    break;
                }
            }
            else
            {
                // The class flags ride along above bit 16 (as in the kernel); the low 16 bits hold the decimal value.
                w = unchecked(w * 10 + c);
                if ((w & 0xffff) > 255) { end = s; return false; }
            }
            if (i >= 4) { end = s; return false; }
            s++;
            left--;
        }
        buf.CopyTo(dst4);
        end = s;
        return true;
    }
}
