using System.Runtime.CompilerServices;

namespace Firewall.Core.Conntrack.Tcp;

/// <summary>
/// The kernel's tcp_conntracks[2][6][10] as data, laid out like conntrack-reference.md §4.5:
/// one row per current state, one column per packet kind (SYN, SYN-ACK, FIN, ACK, RST, NONE).
/// </summary>
public static class TcpTransitionTable
{
    // Abbreviations of the reference (and of the kernel's sXX macros).
    private const byte NO = (byte)TcpState.None, SS = (byte)TcpState.SynSent, SR = (byte)TcpState.SynRecv,
        ES = (byte)TcpState.Established, FW = (byte)TcpState.FinWait, CW = (byte)TcpState.CloseWait,
        LA = (byte)TcpState.LastAck, TW = (byte)TcpState.TimeWait, CL = (byte)TcpState.Close,
        S2 = (byte)TcpState.SynSent2, IV = (byte)TcpState.Max, IG = (byte)TcpState.Ignore;

    private const int Kinds = 6;

    /// <summary>Packet travelling in the ORIGINAL direction.</summary>
    private static ReadOnlySpan<byte> Original =>
    [
        //        SYN  SYN-ACK FIN  ACK  RST  NONE
        /* NO */  SS,  IV,     IV,  ES,  IV,  IV,
        /* SS */  SS,  IV,     IV,  IV,  CL,  IV,
        /* SR */  IG,  SR,     FW,  ES,  CL,  IV,
        /* ES */  IG,  IV,     FW,  ES,  CL,  IV,
        /* FW */  IG,  IV,     LA,  CW,  CL,  IV,
        /* CW */  IG,  IV,     LA,  CW,  CL,  IV,
        /* LA */  IG,  IV,     LA,  TW,  CL,  IV,
        /* TW */  SS,  IV,     TW,  TW,  CL,  IV,
        /* CL */  SS,  IV,     CL,  CL,  CL,  IV,
        /* S2 */  S2,  SR,     IV,  IV,  CL,  IV,
    ];

    /// <summary>Packet travelling in the REPLY direction.</summary>
    private static ReadOnlySpan<byte> Reply =>
    [
        //        SYN  SYN-ACK FIN  ACK  RST  NONE
        /* NO */  IV,  IV,     IV,  IV,  IV,  IV,
        /* SS */  S2,  SR,     IV,  IG,  CL,  IV,
        /* SR */  IV,  IG,     FW,  SR,  CL,  IV,
        /* ES */  IV,  IG,     FW,  ES,  CL,  IV,
        /* FW */  IV,  IG,     LA,  CW,  CL,  IV,
        /* CW */  IV,  IG,     LA,  CW,  CL,  IV,
        /* LA */  IV,  IG,     LA,  TW,  CL,  IV,
        /* TW */  SS,  IG,     TW,  TW,  CL,  IV,
        /* CL */  IV,  IG,     CL,  CL,  CL,  IV,
        /* S2 */  S2,  SR,     IV,  IG,  CL,  IV,
    ];

    /// <summary>
    /// The table cell for a packet of <paramref name="kind"/> in direction <paramref name="dir"/> on an entry in
    /// <paramref name="state"/>: a real state, <see cref="TcpState.Max"/> (IV) or <see cref="TcpState.Ignore"/> (IG).
    /// States outside NONE … SYN_SENT2 yield IV.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TcpState Next(CtDirection dir, TcpState state, TcpPacketKind kind)
    {
        uint row = (uint)state;
        if (row > (uint)TcpState.SynSent2 || (uint)kind >= Kinds) return TcpState.Max;
        int i = (int)row * Kinds + (int)kind;
        return (TcpState)(dir == CtDirection.Original ? Original[i] : Reply[i]);
    }

    /// <summary>The packet kind (table column) of a TCP flag byte, 4.2: RST, then SYN/SYN-ACK, then FIN, then ACK, else NONE.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TcpPacketKind KindOf(byte flags)
    {
        if ((flags & TcpTracker.FlagRst) != 0) return TcpPacketKind.Rst;
        if ((flags & TcpTracker.FlagSyn) != 0) return (flags & TcpTracker.FlagAck) != 0 ? TcpPacketKind.SynAck : TcpPacketKind.Syn;
        if ((flags & TcpTracker.FlagFin) != 0) return TcpPacketKind.Fin;
        if ((flags & TcpTracker.FlagAck) != 0) return TcpPacketKind.Ack;
        return TcpPacketKind.None;
    }
}
