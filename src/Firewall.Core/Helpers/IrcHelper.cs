using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Core.Helpers;

/// <summary>The IRC helper keeps no per-connection state (the kernel's has none either).</summary>
public struct IrcHelperState
{
}

/// <summary>
/// The IRC DCC helper (net/netfilter/nf_conntrack_irc.c, 6.x; reference 8.4), IPv4 only.
/// Policy: up to <see cref="DefaultMaxDccChannels"/> expectations per master (module parameter max_dcc_channels),
/// timeout <see cref="DefaultDccTimeoutSeconds"/> (dcc_timeout).
/// <para>
/// Only ORIGINAL (client → server) ESTABLISHED packets with payload; the first <see cref="MaxSearchSize"/> bytes.
/// Skip leading ' ', '\r', '\n'; when more than 10 bytes remain the data must start with <c>PRIVMSG </c>
/// (case-insensitive); then find " :" which must be followed by <c>\u0001DCC </c> and one of <c>SEND </c>, <c>CHAT </c>,
/// <c>MOVE </c>, <c>TSEND </c>, <c>SCHAT </c> (case-sensitive); skip the next token up to a space; a '\n' must follow
/// somewhere; the address is an unsigned decimal number (the IPv4 address as a 32-bit integer), then spaces, then the
/// decimal port. The address must be the client's and the port non-zero ("Forged DCC command" otherwise), and then
/// any:any → client:port (TCP) is expected. Numbers wrap like the kernel's simple_strtoul truncated to 32/16 bits.
/// <c>DCC RESUME</c>/<c>ACCEPT</c> carry no address and are not recognised.
/// The kernel's control flow is kept, quirks included: a DCC command that fails to parse (or is forged) does not end the
/// search — the remaining DCC words are tried from where the failed one left off, then the search for " :" resumes.
/// </para>
/// <para>
/// Deviation: where the kernel's pointer loops read one byte past the searched data (the '\n' check includes the byte
/// at the limit; successive DCC-word matches can run past it) we treat bytes outside the payload as absent, and the
/// '\n' must lie within the first 4095 bytes. In the kernel those bytes are unrelated memory or, for longer packets,
/// byte 4095 of the payload.
/// </para>
/// Never throws, never allocates.
/// </summary>
public static class IrcHelper
{
    public const int DefaultMaxDccChannels = 8;
    public const int DefaultDccTimeoutSeconds = 300;

    /// <summary>The kernel's MAX_SEARCH_SIZE.</summary>
    public const int MaxSearchSize = 4095;

    /// <summary>The kernel's MINMATCHLEN.</summary>
    private const int MinMatchLen = 5;

    /// <param name="loose">Not used by IRC (same signature as the other helpers).</param>
    public static HelperAction Process(ref IrcHelperState st, ref ParsedPacket p, CtDirection dir, bool ctinfoEstablished,
                                       in ConnTuple origTuple, bool loose, out ExpectationRequest exp)
    {
        exp = default;
        // Packets from the IRC server are not examined; nothing before traffic was seen both ways.
        if (dir == CtDirection.Reply || !ctinfoEstablished) return HelperAction.None;
        if (p.Protocol != IpProto.Tcp || origTuple.Family != 4) return HelperAction.None;
        ReadOnlySpan<byte> data = HelperPayload.Of(in p);
        if (data.IsEmpty) return HelperAction.None;
        if (data.Length > MaxSearchSize) data = data.Slice(0, MaxSearchSize);
        int limit = data.Length;

        int pos = 0;
        while (pos < limit - 10 && data[pos] is (byte)' ' or (byte)'\r' or (byte)'\n') pos++;

        // strlen("PRIVMSG x ") = 10
        if (pos < limit - 10)
        {
            if (!FtpCommandParser.EqualsIgnoreAsciiCase(data.Slice(pos, 8), "PRIVMSG "u8)) return HelperAction.None;
            pos += 8;
        }

        // strlen(" :\1DCC SENT t AAAAAAAA P\1\n") = 26 = 21 + MINMATCHLEN
        while (pos < limit - (21 + MinMatchLen))
        {
            // Find the first " :", the start of the message.
            if (data[pos] != ' ' || data[pos + 1] != ':')
            {
                pos++;
                continue;
            }
            pos += 2;
            // Then check that place only for the DCC command.
            if (!data.Slice(pos).StartsWith("\u0001DCC "u8)) return HelperAction.None;
            pos += 5;

            for (int i = 0; i < 5; i++)
            {
                ReadOnlySpan<byte> word = DccWord(i);
                if (pos > limit || !data.Slice(pos).StartsWith(word)) continue;
                pos += word.Length;
                if (!TryParseDcc(data, pos, out uint dccIp, out ushort dccPort)) continue;
                // The address must be the client's (no NAT: the reply tuple's destination is the same), the port non-zero.
                if (dccIp != origTuple.Src.V4 || dccPort == 0) continue;

                exp.Proto = IpProto.Tcp;
                exp.Family = 4;
                exp.SrcAddrAny = true;
                exp.SrcPortAny = true;
                exp.Dst = origTuple.Src;
                exp.DstPort = dccPort;
                return HelperAction.Expect;
            }
        }
        return HelperAction.None;
    }

    private static ReadOnlySpan<byte> DccWord(int i) => i switch
    {
        0 => "SEND "u8,
        1 => "CHAT "u8,
        2 => "MOVE "u8,
        3 => "TSEND "u8,
        _ => "SCHAT "u8,
    };

    /// <summary>
    /// The kernel's parse_dcc from <paramref name="start"/>: skip the token up to a space (at least 12 bytes must remain,
    /// "AAAAAAAA P\1\n"), require a '\n' later, read the address number, spaces, the port number.
    /// </summary>
    private static bool TryParseDcc(ReadOnlySpan<byte> data, int start, out uint ip, out ushort port)
    {
        ip = 0;
        port = 0;
        int end = data.Length, pos = start;
        while (true)
        {
            if (pos >= end) return false;
            byte c = data[pos++];
            if (c == ' ') break;
            if (pos > end - 12) return false;
        }
        // A '\n' must follow within the data (the number parsing relies on it to stop).
        if (data.Slice(pos).IndexOf((byte)'\n') < 0) return false;

        ip = (uint)ParseDecimal(data, ref pos);
        while (data[pos] == ' ') pos++; // stops at the '\n' at the latest
        port = (ushort)ParseDecimal(data, ref pos);
        return true;
    }

    /// <summary>simple_strtoul(…, 10): decimal digits, wrapping modulo 2^64, no sign, no leading blanks.</summary>
    private static ulong ParseDecimal(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong v = 0;
        while (pos < data.Length && FtpCommandParser.IsDigit(data[pos]))
            v = unchecked(v * 10 + (uint)(data[pos++] - '0'));
        return v;
    }
}
