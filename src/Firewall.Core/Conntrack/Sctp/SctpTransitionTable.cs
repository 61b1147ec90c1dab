using System.Runtime.CompilerServices;

namespace Firewall.Core.Conntrack.Sctp;

/// <summary>
/// The kernel's sctp_conntracks[2][11][SCTP_CONNTRACK_MAX] (nf_conntrack_proto_sctp.c, 6.18) as data: one row per
/// chunk kind, one column per current state. Chunk types without a row (DATA, SACK, unknown types) leave the state as it is.
/// </summary>
public static class SctpTransitionTable
{
    private const byte NO = (byte)SctpState.None, CL = (byte)SctpState.Closed, CW = (byte)SctpState.CookieWait,
        CE = (byte)SctpState.CookieEchoed, ES = (byte)SctpState.Established, SS = (byte)SctpState.ShutdownSent,
        SR = (byte)SctpState.ShutdownRecd, SA = (byte)SctpState.ShutdownAckSent, HS = (byte)SctpState.HeartbeatSent,
        IV = (byte)SctpState.Max;

    private const int States = 9;

    /// <summary>Chunk travelling in the ORIGINAL direction.</summary>
    private static ReadOnlySpan<byte> Original =>
    [
        //                 NO  CL  CW  CE  ES  SS  SR  SA  HS
        /* init         */ CL, CL, CW, CE, ES, CL, CL, SA, CW,
        /* init_ack     */ CL, CL, CW, CE, ES, SS, SR, SA, CL,
        /* abort        */ CL, CL, CL, CL, CL, CL, CL, CL, CL,
        /* shutdown     */ CL, CL, CW, CE, SS, SS, SR, SA, CL,
        /* shutdown_ack */ SA, CL, CW, CE, ES, SA, SA, SA, SA,
        /* error        */ CL, CL, CW, CE, ES, SS, SR, SA, CL,
        /* cookie_echo  */ CL, CL, CE, CE, ES, SS, SR, SA, CL,
        /* cookie_ack   */ CL, CL, CW, ES, ES, SS, SR, SA, CL,
        /* shutdown_comp*/ CL, CL, CW, CE, ES, SS, SR, CL, CL,
        /* heartbeat    */ HS, CL, CW, CE, ES, SS, SR, SA, HS,
        /* heartbeat_ack*/ CL, CL, CW, CE, ES, SS, SR, SA, HS,
    ];

    /// <summary>Chunk travelling in the REPLY direction.</summary>
    private static ReadOnlySpan<byte> Reply =>
    [
        //                 NO  CL  CW  CE  ES  SS  SR  SA  HS
        /* init         */ IV, CL, CW, CE, ES, SS, SR, SA, IV,
        /* init_ack     */ IV, CW, CW, CE, ES, SS, SR, SA, IV,
        /* abort        */ IV, CL, CL, CL, CL, CL, CL, CL, IV,
        /* shutdown     */ IV, CL, CW, CE, SR, SS, SR, SA, IV,
        /* shutdown_ack */ IV, CL, CW, CE, ES, SA, SA, SA, IV,
        /* error        */ IV, CL, CW, CL, ES, SS, SR, SA, IV,
        /* cookie_echo  */ IV, CL, CE, CE, ES, SS, SR, SA, IV,
        /* cookie_ack   */ IV, CL, CW, ES, ES, SS, SR, SA, IV,
        /* shutdown_comp*/ IV, CL, CW, CE, ES, SS, SR, CL, IV,
        /* heartbeat    */ IV, CL, CW, CE, ES, SS, SR, SA, HS,
        /* heartbeat_ack*/ IV, CL, CW, CE, ES, SS, SR, SA, ES,
    ];

    /// <summary>The table row of a chunk type (the kernel's sctp_new_state switch), or -1 for a type that keeps the state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RowOf(byte chunkType) => chunkType switch
    {
        SctpChunkType.Init => 0,
        SctpChunkType.InitAck => 1,
        SctpChunkType.Abort => 2,
        SctpChunkType.Shutdown => 3,
        SctpChunkType.ShutdownAck => 4,
        SctpChunkType.Error => 5,
        SctpChunkType.CookieEcho => 6,
        SctpChunkType.CookieAck => 7,
        SctpChunkType.ShutdownComplete => 8,
        SctpChunkType.Heartbeat => 9,
        SctpChunkType.HeartbeatAck => 10,
        _ => -1,
    };

    /// <summary>
    /// The state after a chunk of <paramref name="chunkType"/> in direction <paramref name="dir"/> on an entry in
    /// <paramref name="state"/>: a real state or <see cref="SctpState.Max"/> (invalid). States beyond HEARTBEAT_SENT yield Max.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SctpState Next(CtDirection dir, SctpState state, byte chunkType)
    {
        if ((uint)state >= States) return SctpState.Max;
        int row = RowOf(chunkType);
        if (row < 0) return state;
        int i = row * States + (int)state;
        return (SctpState)(dir == CtDirection.Original ? Original[i] : Reply[i]);
    }
}
