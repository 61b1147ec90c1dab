using Firewall.Core.Conntrack.Expect;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

public sealed partial class ConntrackWorker
{
    /// <summary>Helper ids, as the raw table's <c>-j CT --helper NAME</c> assigns them.</summary>
    internal const byte HelperFtp = 1, HelperIrc = 2, HelperTftp = 3;

    /// <summary>
    /// Runs the connection's helper on a packet the rules accepted (the kernel does this at the confirm hook): it may
    /// create expectations — the data connection they announce will be RELATED — or ask to drop the packet (a
    /// partial FTP command; an expectation that cannot be inserted). Returns false when the packet must be dropped.
    /// Call after <see cref="Confirm"/> for a new entry.
    /// </summary>
    public bool RunHelper(ref ParsedPacket p, in TrackResult r)
    {
        if (r.HelperId == 0 || r.Entry < 0 || r.IsNew) return true;
        ref CtEntry e = ref _e[r.Entry];
        if (p.Protocol != e.Orig.Proto) return true;             // an ICMP error RELATED to the master is not the helper's
        int slot = _t.HelperStates.Find(r.Entry);
        if (slot < 0) return true;                               // no state could be kept for it (table of helper states full)
        ref HelperSlot hs = ref _t.HelperStates.Slot(slot);
        ConnTuple orig = e.Orig;
        bool established = r.State == CtState.Established;
        ExpectationRequest req;
        HelperAction action;
        int maxPerMaster;
        uint timeoutMs;
        switch (r.HelperId)
        {
            case HelperFtp:
                action = FtpHelper.Process(ref hs.Ftp, ref p, r.Direction, established, in orig, _t.Settings.FtpLoose, out req);
                maxPerMaster = FtpHelper.MaxExpected; timeoutMs = FtpHelper.ExpectTimeoutSeconds * 1000u;
                break;
            case HelperIrc:
                action = IrcHelper.Process(ref hs.Irc, ref p, r.Direction, established, in orig, false, out req);
                maxPerMaster = IrcHelper.DefaultMaxDccChannels; timeoutMs = IrcHelper.DefaultDccTimeoutSeconds * 1000u;
                break;
            case HelperTftp:
                action = TftpHelper.Process(ref hs.Tftp, ref p, r.Direction, established, in orig, false, out req);
                maxPerMaster = TftpHelper.MaxExpected; timeoutMs = TftpHelper.ExpectTimeoutSeconds * 1000u;
                break;
            default:
                return true;
        }
        if (action == HelperAction.None) return true;
        if (action == HelperAction.Drop) { _invalidByReason[(int)InvalidReason.HelperDrop]++; Counters.Drop++; return false; }

        var t = new ConnTuple
        {
            Src = req.Src, Dst = req.Dst, SrcId = req.SrcPort, DstId = req.DstPort,
            Proto = req.Proto, Family = req.Family, Zone = orig.Zone,
        };
        var flags = (req.SrcAddrAny ? ExpectFlags.SrcAddrAny : 0) | (req.SrcPortAny ? ExpectFlags.SrcPortAny : 0);
        var result = _t.Expectations.Create(this, in t, flags, r.Entry, r.HelperId, 0, maxPerMaster, timeoutMs, _now);
        if (result is ExpectResult.Created or ExpectResult.Replaced) return true;
        _invalidByReason[(int)InvalidReason.HelperDrop]++;
        Counters.Drop++;
        return false; // the kernel's helpers drop the packet when the expectation cannot be added
    }
}
