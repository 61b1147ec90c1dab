using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Core.Helpers;

/// <summary>
/// The FTP connection-tracking helper (net/netfilter/nf_conntrack_ftp.c; reference 8.3), IPv4 and IPv6.
/// Policy: <see cref="MaxExpected"/> = 1, <see cref="ExpectTimeoutSeconds"/> = 300.
/// <para>
/// As in the kernel: only ESTABLISHED / ESTABLISHED_REPLY packets with payload are looked at; a segment is parsed only
/// when its sequence number is a remembered line start of its direction (the sequence number after an earlier segment
/// that ended in '\n'; up to two per direction), so the first segment of each direction only seeds the tracking.
/// ORIGINAL segments are matched against <c>PORT</c> then <c>EPRT</c>, REPLY segments against <c>227 </c> then
/// <c>229 </c>, case-insensitively at the very start of the segment. A partial match (keyword prefix, missing skip
/// character, bad number syntax, EPRT family mismatch, zero EPRT/EPSV port) drops the packet and leaves the line
/// tracking alone. A full match whose address differs from the sender's creates nothing (FTP bounce) unless
/// <c>loose</c>, in which case the announced address becomes the expected destination. PORT/EPRT expect
/// server:any → client:port, 227/229 expect client:any → server:port.
/// </para>
/// <para>
/// <b>Extension: a command line split across segments.</b> The kernel only sees what one segment holds, so
/// <c>"PORT 1,2,3,4,"</c> + <c>"5,6\r\n"</c> is a partial match there (the first segment is dropped and only a
/// retransmission that happens to carry the whole line gets through). Here a line-start segment whose parse is partial
/// <i>and that contains no '\n'</i> (its line is not complete yet) is accepted and its bytes are kept in a per-direction
/// buffer of <see cref="PendingLineCapacity"/> bytes; the segment that continues it exactly
/// (sequence number = end of the kept bytes) is appended, up to and including its first '\n', and the joined line is
/// parsed as if it had come in one segment: match → expectation, no match → nothing, partial with the line now
/// complete → the continuation is dropped (the kernel's partial-match drop, applied once the line is complete; the kept
/// bytes stay so a retransmitted continuation is judged the same way), still incomplete → kept and accepted again.
/// A line that outgrows the buffer is abandoned: accepted, no expectation, nothing kept. Only sequence-contiguous
/// continuations of a line the helper saw start are joined; overlapping or out-of-order pieces are treated like any
/// segment that does not start a line. In the joined case the parsers see the line only, not what follows its '\n'.
/// </para>
/// Never throws, never allocates.
/// </summary>
public static class FtpHelper
{
    public const int MaxExpected = 1;
    public const int ExpectTimeoutSeconds = 300;

    /// <summary>Bytes of an incomplete command line kept per direction.</summary>
    public const int PendingLineCapacity = FtpDirectionState.PendingCapacity;

    /// <param name="st">The connection's helper state.</param>
    /// <param name="p">The master's packet (TCP: payload, <see cref="ParsedPacket.Seq"/>).</param>
    /// <param name="dir">The packet's direction relative to the master.</param>
    /// <param name="ctinfoEstablished">The packet was classified ESTABLISHED (either direction).</param>
    /// <param name="origTuple">The master's ORIGINAL tuple (client → server).</param>
    /// <param name="loose">Module parameter <c>loose</c>: accept an announced address that differs from the sender's.</param>
    /// <param name="exp">Filled when the result is <see cref="HelperAction.Expect"/>, default otherwise.</param>
    public static HelperAction Process(ref FtpHelperState st, ref ParsedPacket p, CtDirection dir, bool ctinfoEstablished,
                                       in ConnTuple origTuple, bool loose, out ExpectationRequest exp)
    {
        exp = default;
        // Until there has been traffic both ways, don't look in packets.
        if (!ctinfoEstablished || p.Protocol != IpProto.Tcp) return HelperAction.None;
        ReadOnlySpan<byte> data = HelperPayload.Of(in p);
        if (data.IsEmpty) return HelperAction.None;

        ref FtpDirectionState ds = ref st.For(dir);
        bool endsInNl = data[^1] == '\n';
        uint nextSeq = unchecked(p.Seq + (uint)data.Length);
        IpAddr sender = dir == CtDirection.Original ? origTuple.Src : origTuple.Dst;

        FtpParseResult found = FtpParseResult.NoMatch;
        IpAddr addr = default;
        ushort port = 0;
        if (ds.IsLineStart(p.Seq) || ds.TakePickUp())
        {
            ds.PendingLength = 0;
            found = FtpCommandParser.Parse(data, dir, origTuple.Family, sender, out addr, out port);
            if (found == FtpParseResult.Partial && data.IndexOf((byte)'\n') < 0)
            {
                // The line continues in a later segment: keep it if it fits, else abandon it. Accept either way.
                if (data.Length <= PendingLineCapacity) ds.Hold(data, nextSeq);
                return HelperAction.None;
            }
        }
        else if (ds.PendingLength != 0 && p.Seq == ds.PendingNextSeq)
        {
            int nl = data.IndexOf((byte)'\n');
            int take = nl < 0 ? data.Length : nl + 1;
            int kept = ds.PendingLength;
            if (kept + take > PendingLineCapacity)
            {
                ds.PendingLength = 0; // abandoned
            }
            else
            {
                Span<byte> line = ds.Pending;
                data.Slice(0, take).CopyTo(line.Slice(kept));
                found = FtpCommandParser.Parse(line.Slice(0, kept + take), dir, origTuple.Family, sender, out addr, out port);
                if (found == FtpParseResult.Partial)
                {
                    if (nl >= 0) return HelperAction.Drop; // complete and malformed: keep the head for a retransmission
                    ds.PendingLength = (byte)(kept + take);
                    ds.PendingNextSeq = nextSeq;
                    return HelperAction.None;
                }
                ds.PendingLength = 0;
            }
        }

        if (found == FtpParseResult.Partial) return HelperAction.Drop; // line tracking not updated

        HelperAction action = HelperAction.None;
        if (found == FtpParseResult.Match)
        {
            // The announced address must be the sender's (no FTP bounce), unless loose.
            bool differs = addr != sender;
            if (!differs || loose)
            {
                exp.Proto = IpProto.Tcp;
                exp.Family = origTuple.Family;
                exp.SrcPortAny = true;
                exp.DstPort = port;
                // Expected: from the other end of the control connection to the announced address:port.
                exp.Src = dir == CtDirection.Original ? origTuple.Dst : origTuple.Src;
                exp.Dst = differs ? addr : sender;
                action = HelperAction.Expect;
            }
        }
        if (endsInNl) ds.RememberLineStart(nextSeq);
        return action;
    }
}
