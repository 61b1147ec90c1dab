using System.Buffers.Binary;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Core.Helpers;

/// <summary>The TFTP helper keeps no per-connection state.</summary>
public struct TftpHelperState
{
}

/// <summary>
/// The TFTP helper (net/netfilter/nf_conntrack_tftp.c; reference 8.5), UDP, IPv4 and IPv6.
/// Policy: <see cref="MaxExpected"/> = 1, <see cref="ExpectTimeoutSeconds"/> = 300.
/// Every packet of the master, in either direction and including the first (NEW) one, is looked at: when the
/// two-byte opcode after the UDP header is 1 (RRQ) or 2 (WRQ) the helper expects UDP from the server address (the reply
/// tuple's source) and any port to the client address and port (the reply tuple's destination) — whichever side sent the
/// request. Other opcodes (DATA, ACK, ERROR, OACK, unknown) and payloads shorter than two bytes are ignored.
/// Never throws, never allocates.
/// </summary>
public static class TftpHelper
{
    public const int MaxExpected = 1;
    public const int ExpectTimeoutSeconds = 300;

    public const ushort OpcodeReadRequest = 1;
    public const ushort OpcodeWriteRequest = 2;

    /// <param name="ctinfoEstablished">Ignored: TFTP also parses the NEW packet.</param>
    /// <param name="loose">Not used by TFTP (same signature as the other helpers).</param>
    public static HelperAction Process(ref TftpHelperState st, ref ParsedPacket p, CtDirection dir, bool ctinfoEstablished,
                                       in ConnTuple origTuple, bool loose, out ExpectationRequest exp)
    {
        exp = default;
        if (p.Protocol != IpProto.Udp) return HelperAction.None;
        ReadOnlySpan<byte> data = HelperPayload.Of(in p);
        if (data.Length < 2) return HelperAction.None;
        ushort opcode = BinaryPrimitives.ReadUInt16BigEndian(data);
        if (opcode is not (OpcodeReadRequest or OpcodeWriteRequest)) return HelperAction.None;

        // The reply tuple is the original one inverted: source = server, destination = client:client port.
        exp.Proto = IpProto.Udp;
        exp.Family = origTuple.Family;
        exp.Src = origTuple.Dst;
        exp.SrcPortAny = true;
        exp.Dst = origTuple.Src;
        exp.DstPort = origTuple.SrcId;
        return HelperAction.Expect;
    }
}
