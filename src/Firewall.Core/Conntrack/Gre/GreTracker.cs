using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack.Gre;

/// <summary>
/// Per-connection GRE data (the kernel's struct nf_ct_gre): the two timeouts, fixed when the entry is created
/// (a PPTP helper could raise them; without one they are the settings' values). 8 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
public struct GreConnState
{
    /// <summary>Timeout before a reply was seen (nf_conntrack_gre_timeout).</summary>
    public uint TimeoutMs;
    /// <summary>Timeout once a reply was seen (nf_conntrack_gre_timeout_stream).</summary>
    public uint StreamTimeoutMs;
}

/// <summary>
/// The kernel's GRE tracker (nf_conntrack_proto_gre.c, 6.18) as pure functions. Tuple: version-1 (PPTP) packets with
/// at least 8 header bytes put the call ID in the destination key and the PPTP keymap's key (0: there is no PPTP
/// helper here) in the source key; every other GRE packet (version 0, other versions, shorter headers) has keys 0.
/// The only INVALID GRE packet is a version-1 header of at least 8 bytes whose protocol is not PPP (0x880B).
/// </summary>
public static class GreTracker
{
    /// <summary>The protocol field of PPTP's enhanced GRE (GRE_PROTO_PPP).</summary>
    public const ushort ProtoPpp = 0x880B;
    private const int VersionMask = 0x0007;
    private const int Version1 = 1;

    /// <summary>
    /// gre_pkt_to_tuple: the tuple keys of a GRE header. False (no tuple: the packet is INVALID) only for a version-1
    /// header of at least 8 bytes with a protocol other than PPP.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryKeys(ReadOnlySpan<byte> gre, out ushort srcKey, out ushort dstKey)
    {
        srcKey = 0;
        dstKey = 0;
        // shorter than the base header, or not version 1: behave like the generic tracker
        if (gre.Length < 4 || (BinaryPrimitives.ReadUInt16BigEndian(gre) & VersionMask) != Version1) return true;
        if (gre.Length < 8) return true; // the kernel keeps the zeroed keys when the call ID is not there
        if (BinaryPrimitives.ReadUInt16BigEndian(gre.Slice(2)) != ProtoPpp) return false;
        dstKey = BinaryPrimitives.ReadUInt16BigEndian(gre.Slice(6)); // call ID
        srcKey = 0; // gre_keymap_lookup: no PPTP helper, no keymap
        return true;
    }

    /// <summary>INVALID when the tuple cannot be built (see <see cref="TryKeys"/>).</summary>
    public static InvalidReason Validate(ref ParsedPacket p) =>
        TryKeys(L4(ref p), out _, out _) ? InvalidReason.None : InvalidReason.GreMalformed;

    /// <summary>The per-entry timeouts a new entry gets (gre_packet on an unconfirmed entry).</summary>
    public static GreConnState NewState(ConntrackSettings s) => new() { TimeoutMs = s.GreMs, StreamTimeoutMs = s.GreStreamMs };

    /// <summary>
    /// nf_conntrack_gre_packet: with SEEN_REPLY already set (before this packet) the stream timeout and ASSURED
    /// (never for a clash loser); otherwise the unreplied timeout.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Timeout(in GreConnState g, CtStatus status, out bool setAssured)
    {
        if ((status & CtStatus.SeenReply) != 0)
        {
            setAssured = (status & CtStatus.NatClash) == 0;
            return g.StreamTimeoutMs;
        }
        setAssured = false;
        return g.TimeoutMs;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ReadOnlySpan<byte> L4(ref ParsedPacket p)
    {
        if (p.L4Offset < 0 || p.L4Length < 0 || (long)p.L4Offset + p.L4Length > p.Frame.Length) return default;
        return p.Frame.Slice(p.L4Offset, p.L4Length);
    }
}
