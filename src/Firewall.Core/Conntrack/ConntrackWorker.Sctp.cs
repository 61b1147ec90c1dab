using Firewall.Core.Conntrack.Sctp;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>SCTP hooks of the worker: validation before the lookup, creation, and the update of an existing entry.</summary>
public sealed partial class ConntrackWorker
{
    /// <summary>
    /// New entry: the tracker runs from state NONE on an unconfirmed entry (sctp_new, then the chunk loop).
    /// False when the packet is INVALID (<paramref name="why"/>).
    /// </summary>
    private static bool SctpNew(ref CtEntry e, ref ParsedPacket p, ConntrackSettings s, ref byte state, ref ushort status,
                                out uint timeout, out InvalidReason why)
    {
        timeout = 0;
        why = SctpTracker.New(ref p, out SctpConnState ct);
        if (why != InvalidReason.None) return false;
        var sr = SctpTracker.Packet(ref ct, SctpState.None, CtDirection.Original, confirmed: false, ref p, s);
        if (sr.Verdict == SctpVerdict.Invalid) { why = sr.Reason; return false; }
        e.Sctp = ct;
        state = (byte)sr.NewState;
        timeout = SctpTracker.TimeoutMs(sr.NewState, s);
        if (sr.SetAssured) status |= (ushort)CtStatus.Assured;
        return true;
    }

    /// <summary>
    /// Existing entry: runs the tracker on a copy of the SCTP data and publishes the result (state, tags, status,
    /// deadline) with the entry's commit protocol. Returns false when the entry changed under us (look up again).
    /// When the packet is INVALID, <paramref name="r"/> is filled and <paramref name="invalid"/> set; changes made by
    /// the chunks before the offending one are still published, as the kernel keeps them.
    /// </summary>
    private bool SctpExisting(int idx, ref int ver, CtDirection dir, ref ParsedPacket p, uint now, ConntrackSettings s,
                              ushort status, byte state, ref ushort newStatus, ref byte newState, ref uint newDeadline,
                              ref TrackResult r, out bool invalid)
    {
        ref CtEntry e = ref _e[idx];
        SctpConnState before = e.Sctp;
        invalid = false;
        if (Volatile.Read(ref e.Version) != ver) return false;
        SctpConnState ct = before;
        var sr = SctpTracker.Packet(ref ct, (SctpState)state, dir, confirmed: true, ref p, s);
        invalid = sr.Verdict == SctpVerdict.Invalid;
        newState = (byte)sr.NewState;
        if (sr.SetAssured) newStatus |= (ushort)CtStatus.Assured;
        if (!invalid && dir == CtDirection.Reply) newStatus |= (ushort)CtStatus.SeenReply;
        if (sr.Verdict == SctpVerdict.Accept && (status & (ushort)CtStatus.FixedTimeout) == 0) newDeadline = now + sr.TimeoutMs;

        if (!ct.Equals(in before) || newState != state || newStatus != status || newDeadline != e.Deadline)
        {
            if (!TryBegin(ref e, ver)) return false;
            e.Sctp = ct;
            e.State = newState;
            e.Status = newStatus;
            e.Deadline = newDeadline;
            End(ref e, ver);
            ver += 2;
        }
        if (invalid)
        {
            if (_t.EventsEnabled && (newStatus != status || newState != state)) Emit(CtEventType.Update, idx, now, showTimeout: true);
            Invalid(ref r, sr.Reason);
        }
        return true;
    }
}
