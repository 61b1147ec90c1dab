using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Firewall.Core.Conntrack.Gre;
using Firewall.Core.Conntrack.Sctp;
using Firewall.Core.Conntrack.Tcp;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>
/// The per-thread face of the table: classifies packets (Track), confirms or releases new entries, owns a timing
/// wheel pair (entries not yet ASSURED / ASSURED) for the entries it created, a small local free list, its own
/// counters and its own event ring. Not thread-safe: one thread per worker. Allocation-free and lock-free.
/// </summary>
public sealed partial class ConntrackWorker
{
    private readonly ConntrackTable _t;
    private readonly CtEntry[] _e;
    internal readonly int Id;
    internal readonly TimingWheel Unassured;
    internal readonly TimingWheel Assured;
    internal ConntrackCounters Counters;
    internal readonly EventRing? Events;
    private readonly long[] _invalidByReason = new long[InvalidReasons.Count];

    // entries killed by other threads, to unlink and free here (MPSC stack linked through Deadline)
    private int _reclaimHead = -1;
    private readonly int[] _localFree = new int[64];
    // entries of ours whose timer another worker shortened, to re-file here
    internal readonly RefileQueue Refiles = new(1024);
    private int _localCount;

    private uint _now;
    private uint _cursorTick;
    private bool _clockStarted;

    internal ConntrackWorker(ConntrackTable table, int id)
    {
        _t = table;
        _e = table.Entries;
        Id = id;
        Unassured = new TimingWheel(_e, assured: false);
        Assured = new TimingWheel(_e, assured: true);
        int ring = table.Settings.EventRingSize;
        Events = ring > 0 ? new EventRing(ring) : null;
    }

    public int WorkerId => Id;

    /// <summary>INVALID packets by reason seen by this worker (for aggregated logging).</summary>
    public ReadOnlySpan<long> InvalidByReason => _invalidByReason;

    // ================================================================= Track

    /// <summary>
    /// Classifies one packet. For a packet that creates an entry (<see cref="TrackResult.IsNew"/>), call
    /// <see cref="Confirm"/> once the rules accepted it, or <see cref="Release"/> if it is dropped.
    /// </summary>
    public TrackResult Track(ref ParsedPacket p, long nowNs, in TrackOptions opt)
    {
        uint now = TimeMath.ToMs(nowNs);
        Tick(now);
        Counters.Packets++;
        var r = new TrackResult { Entry = -1 };
        if (opt.NoTrack) { r.State = CtState.Untracked; return r; }
        if (p.Error == ParseError.NotIp) { r.State = CtState.Untracked; return r; }
        var s = _t.Settings;
        if (p.Error != ParseError.None) return Invalid(ref r, InvalidReason.Malformed);
        bool verify = s.Checksum && opt.VerifyChecksum;
        if (verify && p.IpVersion == 4 && !PacketParser.Ipv4HeaderChecksumOk(ref p)) return Invalid(ref r, InvalidReason.Malformed);
        if (p.IsFragment)
        {
            if (p.FragmentOffset != 0) return Invalid(ref r, InvalidReason.Fragment);
            verify = false; // a first fragment's L4 checksum covers bytes we do not have
        }
        // IPv6 "no next header": the kernel's extension-header walk fails on it
        if (p.Protocol == IpProto.Ipv6NoNext && p.IpVersion == 6) return Invalid(ref r, InvalidReason.Malformed);
        ushort zone = opt.Zone >= 0 ? (ushort)opt.Zone : s.DefaultZone;

        // ---- per-protocol validation before the lookup (the kernel's *_error handlers) ----
        byte proto = p.Protocol;
        switch (proto)
        {
            case IpProto.Tcp:
            {
                var why = TcpTracker.Validate(ref p, verify);
                if (why != InvalidReason.None) return InvalidFirstPacket(ref p, zone, now, ref r, why);
                break;
            }
            case IpProto.Udp:
            {
                var why = ValidateUdp(ref p, verify, p.IsFragment);
                if (why != InvalidReason.None) return InvalidFirstPacket(ref p, zone, now, ref r, why);
                break;
            }
            case IpProto.UdpLite:
            {
                var why = ValidateUdpLite(ref p, verify);
                if (why != InvalidReason.None) return Invalid(ref r, why);
                break;
            }
            case IpProto.Sctp:
            {
                var why = SctpTracker.Validate(ref p, verify);
                if (why != InvalidReason.None) return Invalid(ref r, why);
                break;
            }
            case IpProto.Gre:
            {
                var why = GreTracker.Validate(ref p);
                if (why != InvalidReason.None) return Invalid(ref r, why);
                break;
            }
            case IpProto.Icmp:
            case IpProto.Icmpv6:
            {
                if ((proto == IpProto.Icmp) == p.IsV6) return Invalid(ref r, InvalidReason.IcmpWrongFamily);
                if (p.L4Length < 8) return Invalid(ref r, InvalidReason.IcmpTruncated);
                if (verify && !Checksum.VerifyL4(ref p)) return Invalid(ref r, InvalidReason.IcmpBadChecksum);
                if (proto == IpProto.Icmp)
                {
                    if (p.IcmpType > 18) return Invalid(ref r, InvalidReason.IcmpBadType);
                    if (IsIcmpError(p.IcmpType)) return IcmpError(ref p, zone, now, ref r);
                }
                else
                {
                    if (IsIcmpv6Untracked(p.IcmpType)) { r.State = CtState.Untracked; return r; }
                    if (p.IcmpType < 128) return IcmpError(ref p, zone, now, ref r);
                }
                break;
            }
        }

        TupleOf(ref p, zone, out ConnTuple t);
        bool invertible = t.TryInvert(out ConnTuple tinv);
        ulong hash = t.Hash(_t.Seed);

        for (int attempt = 0; ; attempt++)
        {
            int idx = _t.Lookup(in t, hash, in tinv, invertible, now, this, out CtDirection dir, out int ver);
            if (idx < 0)
                return New(ref p, in t, hash, in tinv, invertible, now, s, opt, ref r);
            var outcome = Existing(idx, ver, dir, ref p, now, s, ref r);
            if (outcome == Step.Done) return r;
            Counters.SearchRestart++; // the entry changed under us (or a TCP reopen deleted it): look up again
            if (attempt > 1000) return Invalid(ref r, InvalidReason.InsertFailed);
        }
    }

    // ----------------------------------------------------------------- batches: hide memory latency

    /// <summary>
    /// First stage of tracking a batch: computes the packet's lookup hash and starts loading its index bucket (and,
    /// for a possible new entry, the bucket its reply tuple will go into). Call for every packet of a batch, then
    /// <see cref="PrefetchEntries"/> for each, then <see cref="Track"/> for each: the cache misses of a batch then
    /// overlap instead of following one another. Pure hints: results are the same with or without them.
    /// </summary>
    public ulong PrefetchBucket(ref ParsedPacket p, in TrackOptions opt)
    {
        if (p.Error != ParseError.None || p.IpVersion == 0) return 0;
        TupleOf(ref p, opt.Zone >= 0 ? (ushort)opt.Zone : _t.Settings.DefaultZone, out ConnTuple t);
        ulong h = t.Hash(_t.Seed);
        _t.Index.Prefetch(h);
        if (t.TryInvert(out ConnTuple r)) _t.Index.Prefetch(r.Hash(_t.Seed));
        return h;
    }

    /// <summary>Second stage: with the bucket loaded, starts loading the entries whose fingerprint matches.</summary>
    public unsafe void PrefetchEntries(ulong hash)
    {
        if (hash == 0 || !System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        ReadOnlySpan<uint> slots = _t.Index.Bucket(_t.Index.Home(hash));
        uint fp = HashIndex.Fingerprint(hash);
        for (int i = 0; i < slots.Length; i++)
        {
            uint v = slots[i];
            if (v == 0 || (v & 0xFF000000u) != fp) continue;
            byte* e = (byte*)Unsafe.AsPointer(ref _e[HashIndex.RefOf(v) >> 1]);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(e);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(e + 64);
        }
    }

    private enum Step : byte { Done, Retry }

    /// <summary>
    /// A TCP or UDP packet the protocol checks make INVALID (checksum, lengths, TCP flags). The kernel runs those
    /// checks only after the lookup: a packet of no existing connection has by then been given a new entry
    /// (init_conntrack), which takes a matching expectation out of the table before the entry is thrown away with the
    /// INVALID packet. So such a packet uses up the expectation, and the valid packet after it is NEW, not RELATED
    /// (observed on 6.18 by the helper_invalid_first_packet differential scenario).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TrackResult InvalidFirstPacket(ref ParsedPacket p, ushort zone, uint now, ref TrackResult r, InvalidReason why)
    {
        if (_t.Expectations.Count > 0 && p.L4Length >= 4)
        {
            TupleOf(ref p, zone, out ConnTuple t);
            if (t.TryInvert(out ConnTuple tinv) && _t.Lookup(in t, t.Hash(_t.Seed), in tinv, true, now, this, out _, out _) < 0)
                ConsumeExpectation(in t, now);
        }
        return Invalid(ref r, why);
    }

    /// <summary>The kernel's init_conntrack takes a matching expectation even for a first packet that then turns out INVALID.</summary>
    private void ConsumeExpectation(in ConnTuple t, uint now)
    {
        if (_t.Expectations.Count > 0) _t.Expectations.Consume(this, in t, now, out _);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TrackResult Invalid(ref TrackResult r, InvalidReason why)
    {
        r.State = CtState.Invalid;
        r.Reason = why;
        r.Entry = -1;
        if (InvalidReasons.IsError(why)) Counters.Error++; else Counters.Invalid++;
        _invalidByReason[(int)why]++;
        return r;
    }

    // ----------------------------------------------------------------- existing entry

    private Step Existing(int idx, int ver, CtDirection dir, ref ParsedPacket p, uint now, ConntrackSettings s, ref TrackResult r)
    {
        ref CtEntry e = ref _e[idx];
        ushort status = e.Status;
        byte state = e.State;
        uint deadline = e.Deadline;
        bool reply = dir == CtDirection.Reply;
        // ctinfo (reference 2.2): reply → ESTABLISHED; original → ESTABLISHED after a reply, RELATED if expected, else NEW
        CtState cls = reply || (status & (ushort)CtStatus.SeenReply) != 0 ? CtState.Established
                    : (status & (ushort)CtStatus.Expected) != 0 ? CtState.Related : CtState.New;

        ushort newStatus = status;
        byte newState = state;
        uint newDeadline = deadline;
        bool delete = false;
        bool refresh;
        uint timeout = 0;
        byte proto = e.Orig.Proto;

        if (proto == IpProto.Tcp)
        {
            TcpConnState tcp = e.Tcp;
            if (Volatile.Read(ref e.Version) != ver) return Step.Retry;
            var tr = TcpTracker.Packet(ref tcp, (TcpState)state, (CtStatus)status, dir, ref p, s, TimeMath.Remaining(deadline, now));
            switch (tr.Verdict)
            {
                case TcpVerdict.Reopen:
                    TryKill(idx, ver, now, expired: false);
                    return Step.Retry;
                case TcpVerdict.Invalid:
                    if (tr.ShortenTimeout && TimeMath.Remaining(deadline, now) > 120_000)
                    {
                        if (!TryBegin(ref e, ver)) return Step.Retry;
                        e.Deadline = now + tr.TimeoutMs;
                        End(ref e, ver);
                        Refile(idx);
                    }
                    Invalid(ref r, tr.Reason);
                    return Step.Done;
                case TcpVerdict.Ignore:
                    refresh = false;
                    break;
                default:
                    newState = (byte)tr.NewState;
                    refresh = tr.RefreshTimer;
                    timeout = tr.TimeoutMs;
                    if (tr.SetAssured) newStatus |= (ushort)CtStatus.Assured;
                    delete = tr.DeleteEntry;
                    break;
            }
            if (reply) newStatus |= (ushort)CtStatus.SeenReply;
            if (refresh && (status & (ushort)CtStatus.FixedTimeout) == 0) newDeadline = now + timeout;
            if (!TryBegin(ref e, ver)) return Step.Retry;
            e.Tcp = tcp;
            e.State = newState;
            e.Status = newStatus;
            e.Deadline = newDeadline;
            End(ref e, ver);
            ver += 2;
        }
        else if (proto == IpProto.Sctp)
        {
            if (!SctpExisting(idx, ref ver, dir, ref p, now, s, status, state, ref newStatus, ref newState, ref newDeadline, ref r, out bool invalid))
                return Step.Retry;
            if (invalid) return Step.Done;
        }
        else
        {
            switch (proto)
            {
                case IpProto.Udp:
                case IpProto.UdpLite:
                    // seen-reply is tested before this packet sets it (reference 6.1)
                    if ((status & (ushort)CtStatus.SeenReply) != 0)
                    {
                        bool stream;
                        if (proto == IpProto.UdpLite) { timeout = s.UdpStreamMs; stream = true; }
                        else if (!TimeMath.AtOrBefore(now, e.Created + 2000)) { timeout = s.UdpStreamMs; stream = true; }
                        else { timeout = s.UdpMs; stream = false; }
                        if (stream && (status & (ushort)CtStatus.NatClash) == 0) newStatus |= (ushort)CtStatus.Assured;
                    }
                    else timeout = s.UdpMs;
                    break;
                case IpProto.Icmp: timeout = s.IcmpMs; break;
                case IpProto.Icmpv6: timeout = s.Icmpv6Ms; break;
                case IpProto.Gre: timeout = GreExisting(ref e, status, ref newStatus); break;
                default: timeout = s.GenericMs; break;
            }
            if (reply) newStatus |= (ushort)CtStatus.SeenReply;
            if ((status & (ushort)CtStatus.FixedTimeout) == 0) newDeadline = now + timeout;
            if (newStatus != status || newDeadline != deadline)
            {
                if (!TryBegin(ref e, ver)) return Step.Retry;
                e.Status = newStatus;
                e.Deadline = newDeadline;
                End(ref e, ver);
                ver += 2;
            }
        }

        // the wheel re-files lazily only when a deadline moves later; an earlier one must be re-filed now
        if (!TimeMath.AtOrBefore(deadline, newDeadline)) Refile(idx);

        r.State = cls;
        r.Direction = dir;
        r.Entry = idx;
        r.Version = ver;
        r.Status = (CtStatus)newStatus;
        r.TcpState = proto == IpProto.Tcp ? (TcpState)newState : TcpState.None;
        r.ProtoState = newState;
        r.ExpiresInMs = TimeMath.Remaining(newDeadline, now);
        r.HelperId = e.HelperId;

        if (_t.EventsEnabled && (newStatus != status || newState != state))
            Emit(CtEventType.Update, idx, now, showTimeout: true);
        if (delete) TryKill(idx, ver, now, expired: false);
        return Step.Done;
    }

    // ----------------------------------------------------------------- new entry

    private TrackResult New(ref ParsedPacket p, in ConnTuple t, ulong hash, in ConnTuple tinv, bool invertible, uint now,
                            ConntrackSettings s, in TrackOptions opt, ref TrackResult r)
    {
        if (!invertible) return Invalid(ref r, InvalidReason.NotInvertible);
        byte proto = t.Proto;
        TcpConnState tcp = default;
        if (proto == IpProto.Tcp)
        {
            var why = TcpTracker.New(ref p, s, ref tcp);
            if (why != InvalidReason.None)
            {
                ConsumeExpectation(in t, now); // tcp_new() runs after init_conntrack took the expectation
                return Invalid(ref r, why);
            }
        }
        else if (proto == IpProto.Icmp)
        {
            if (p.IcmpType is not (8 or 13 or 15 or 17)) return Invalid(ref r, InvalidReason.IcmpNotRequest);
        }
        else if (proto == IpProto.Icmpv6)
        {
            if (p.IcmpType is not (128 or 139)) return Invalid(ref r, InvalidReason.IcmpNotRequest);
        }

        int idx = Allocate(now, s);
        if (idx < 0)
        {
            Counters.Drop++;
            _invalidByReason[(int)InvalidReason.TableFull]++;
            r.State = CtState.Invalid;
            r.Reason = InvalidReason.TableFull;
            r.Drop = true;
            return r;
        }
        ref CtEntry e = ref _e[idx];
        e.Orig = t;
        e.Status = 0;
        e.State = 0;
        e.Misc = (byte)(Id | (opt.HelperId & 3) << CtEntry.HelperShift);
        e.WheelNext = -1;
        e.WheelPrev = -1;
        e.Tcp = default;
        _t.MasterOf[idx] = -1;

        uint timeout;
        ushort status = 0;
        byte state = 0;
        if (proto == IpProto.Tcp)
        {
            var tr = TcpTracker.Packet(ref tcp, TcpState.None, CtStatus.None, CtDirection.Original, ref p, s, 0);
            if (tr.Verdict is TcpVerdict.Invalid or TcpVerdict.Reopen or TcpVerdict.Ignore)
            {
                FreeTentative(idx);
                ConsumeExpectation(in t, now);
                return Invalid(ref r, tr.Verdict == TcpVerdict.Invalid ? tr.Reason : InvalidReason.TcpInvalidNew);
            }
            e.Tcp = tcp;
            state = (byte)tr.NewState;
            timeout = tr.TimeoutMs;
        }
        else if (proto == IpProto.Sctp)
        {
            e.Created = now;
            if (!SctpNew(ref e, ref p, s, ref state, ref status, out timeout, out var why))
            {
                FreeTentative(idx);
                return Invalid(ref r, why);
            }
        }
        else
        {
            e.Created = now;
            timeout = proto switch
            {
                IpProto.Udp or IpProto.UdpLite => s.UdpMs,
                IpProto.Icmp => s.IcmpMs,
                IpProto.Icmpv6 => s.Icmpv6Ms,
                IpProto.Gre => GreNew(ref e, s),
                _ => s.GenericMs,
            };
        }
        // an expectation turns this connection into a RELATED one (its helper template, if any, is then not applied)
        CtState cls = CtState.New;
        byte helperId = opt.HelperId;
        if (_t.Expectations.Count > 0)
        {
            int master = _t.Expectations.Consume(this, in t, now, out _);
            if (master >= 0)
            {
                status |= (ushort)CtStatus.Expected;
                _t.MasterOf[idx] = master;
                helperId = 0;
                e.Misc = (byte)Id;
                cls = CtState.Related;
                Counters.ExpectNew++;
            }
        }
        if (helperId != 0) status |= (ushort)CtStatus.Helper;
        e.Status = status;
        e.State = state;
        e.Deadline = timeout; // relative until confirmed: the timer starts at confirmation

        r.State = cls;
        r.Direction = CtDirection.Original;
        r.Entry = idx;
        r.IsNew = true;
        r.Hash = hash;
        r.ReplyHash = tinv.Hash(_t.Seed);
        r.Version = e.Version;
        r.Status = (CtStatus)status;
        r.TcpState = proto == IpProto.Tcp ? (TcpState)state : TcpState.None;
        r.ProtoState = state;
        r.ExpiresInMs = 0;
        r.HelperId = helperId;
        return r;
    }

    /// <summary>
    /// Inserts the entry created by an accepted packet into the table (the kernel's confirm step). Returns false when
    /// the packet must be dropped after all (an insertion clash TCP/ICMP cannot resolve). For UDP/UDP-Lite/generic,
    /// a clash with an entry confirmed meanwhile by another thread merges the packet onto that entry.
    /// </summary>
    public bool Confirm(ref TrackResult r)
    {
        if (!r.IsNew) return true;
        int idx = r.Entry;
        r.IsNew = false;
        uint now = _now;
        ref CtEntry e = ref _e[idx];
        ConnTuple t = e.Orig;
        t.TryInvert(out ConnTuple tinv);
        ulong h = r.Hash, hr = r.ReplyHash;

        int other = _t.Lookup(in t, h, in tinv, true, now, this, out var odir, out int over);
        if (other >= 0) return Clash(ref r, idx, other, odir, over);

        e.Status = (ushort)(e.Status | (ushort)CtStatus.Confirmed);
        uint deadline = now + e.Deadline;
        e.Deadline = deadline;
        Unassured.Add(idx, deadline);
        _t.Index.Insert(h, HashIndex.MakeValue(h, idx, 0));
        _t.Index.Insert(hr, HashIndex.MakeValue(hr, idx, 1));

        // Two threads may have inserted the same flow at the same moment: the lower index wins. Whichever of the two
        // checks second sees the other, so both sides act: the higher entry takes itself out, and the lower one kills
        // a higher duplicate (which may have checked first, seen nothing and kept itself). The version CAS decides
        // who removes the higher entry when both try.
        other = FindDuplicate(in t, h, in tinv, idx, out int dupVersion);
        if (other >= 0 && other < idx)
        {
            var od = _e[other].Orig.Equals(t) ? CtDirection.Original : CtDirection.Reply;
            if (!TryBegin(ref e, r.Version))
            {
                // the winner killed our entry already (its owner, we, reclaims it): the packet joins the winner
                Counters.ClashResolve++;
                r.Entry = other;
                r.Version = dupVersion;
                r.Direction = od;
                return true;
            }
            Unlink(idx);
            _t.Index.Remove(h, HashIndex.MakeValue(h, idx, 0));
            _t.Index.Remove(hr, HashIndex.MakeValue(hr, idx, 1));
            e.Status = 0;
            return Clash(ref r, idx, other, od, dupVersion); // frees the entry: a new version, even again
        }
        if (other > idx) TryKill(other, dupVersion, now, expired: false);
        r.Status |= CtStatus.Confirmed;
        r.ExpiresInMs = TimeMath.Remaining(deadline, now);
        if ((e.Status & (ushort)CtStatus.Helper) != 0) _t.HelperStates.Acquire(idx);
        if (_t.EventsEnabled) Emit(CtEventType.New, idx, now, showTimeout: true);
        return true;
    }

    private bool Clash(ref TrackResult r, int idx, int other, CtDirection odir, int over)
    {
        byte proto = _e[idx].Orig.Proto;
        FreeTentative(idx);
        if (proto is IpProto.Udp or IpProto.UdpLite or IpProto.Gre || !IsTrackedProto(proto))
        {
            Counters.ClashResolve++;
            r.Entry = other;
            r.Version = over;
            r.Direction = odir;
            return true;
        }
        Counters.InsertFailed++;
        Counters.Drop++;
        r.Entry = -1;
        r.Drop = true;
        r.Reason = InvalidReason.InsertFailed;
        return false;
    }

    private static bool IsTrackedProto(byte proto) =>
        proto is IpProto.Tcp or IpProto.Udp or IpProto.UdpLite or IpProto.Icmp or IpProto.Icmpv6 or IpProto.Sctp or IpProto.Gre;

    /// <summary>Another live, confirmed entry of the same flow (the lowest index when several), with the version it was read at; -1 if none.</summary>
    private int FindDuplicate(in ConnTuple t, ulong h, in ConnTuple tinv, int self, out int version)
    {
        int best = -1;
        version = 0;
        foreach (int rf in _t.Index.Candidates(h))
        {
            int idx = rf >> 1;
            if (idx == self) continue;
            ref CtEntry e = ref _e[idx];
            int ver = Volatile.Read(ref e.Version);
            if ((ver & 1) != 0) continue; // being killed or removed right now
            if ((rf & 1) == 0 ? !e.Orig.Equals(t) : !e.Orig.Equals(tinv)) continue;
            ushort st = e.Status;
            if ((st & (ushort)CtStatus.Dying) != 0 || (st & (ushort)CtStatus.Confirmed) == 0) continue;
            if (Volatile.Read(ref e.Version) != ver) continue;
            if (best < 0 || idx < best) { best = idx; version = ver; }
        }
        return best;
    }

    /// <summary>Frees the unconfirmed entry of a dropped packet: it leaves nothing behind (no entry, no event).</summary>
    public void Release(ref TrackResult r)
    {
        if (!r.IsNew) return;
        r.IsNew = false;
        FreeTentative(r.Entry);
        r.Entry = -1;
    }

    // ----------------------------------------------------------------- ICMP errors

    private static bool IsIcmpError(byte type) => type is 3 or 4 or 5 or 11 or 12;

    private static bool IsIcmpv6Untracked(byte type) => type is 130 or 131 or 132 or 133 or 134 or 135 or 136 or 143 or 151 or 152;

    private TrackResult IcmpError(ref ParsedPacket p, ushort zone, uint now, ref TrackResult r)
    {
        if (p.InnerL3Offset <= 0) return Invalid(ref r, InvalidReason.IcmpErrorBadInner);
        if (PacketParser.ParseEmbedded(in p, out ParsedPacket inner) != ParseError.None)
            return Invalid(ref r, InvalidReason.IcmpErrorBadInner);
        if (inner.IpVersion != p.IpVersion) return Invalid(ref r, InvalidReason.IcmpErrorBadInner);
        // an error quoting an error (or any non-invertible ICMP) cannot be inverted
        TupleOf(ref inner, zone, out ConnTuple quoted);
        if (!quoted.TryInvert(out ConnTuple t)) return Invalid(ref r, InvalidReason.IcmpErrorBadInner);
        bool invertible = t.TryInvert(out ConnTuple tinv);
        ulong hash = t.Hash(_t.Seed);
        int idx = _t.Lookup(in t, hash, in tinv, invertible, now, this, out CtDirection dir, out int ver);
        if (idx < 0) return Invalid(ref r, InvalidReason.IcmpErrorNoEntry);
        if (!_t.TryReadStable(idx, out CtEntry c) || c.Version != ver) return Invalid(ref r, InvalidReason.IcmpErrorNoEntry);
        // the outer destination must be the destination of the matched direction
        IpAddr expectedDst = dir == CtDirection.Original ? c.Orig.Dst : c.Orig.Src;
        if (expectedDst != p.Dst) return Invalid(ref r, InvalidReason.IcmpErrorDestMismatch);
        r.State = CtState.Related;
        r.Direction = dir;
        r.Entry = idx;
        r.Version = ver;
        r.Status = (CtStatus)c.Status;
        r.TcpState = c.Orig.Proto == IpProto.Tcp ? (TcpState)c.State : TcpState.None;
        r.ProtoState = c.State;
        r.ExpiresInMs = TimeMath.Remaining(c.Deadline, now);
        r.HelperId = c.HelperId;
        return r;
    }

    // ----------------------------------------------------------------- UDP validation

    private static InvalidReason ValidateUdp(ref ParsedPacket p, bool verify, bool fragment)
    {
        if (p.L4Length < 8) return InvalidReason.UdpTruncated;
        var l4 = p.Frame.Slice(p.L4Offset, p.L4Length);
        int ulen = BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(4));
        if (!fragment && (ulen > p.L4Length || ulen < 8)) return InvalidReason.UdpBadLength;
        if (BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(6)) == 0) return InvalidReason.None;
        if (verify && !Checksum.VerifyL4(ref p)) return InvalidReason.UdpBadChecksum;
        return InvalidReason.None;
    }

    private static InvalidReason ValidateUdpLite(ref ParsedPacket p, bool verify)
    {
        if (p.L4Length < 8) return InvalidReason.UdpTruncated;
        var l4 = p.Frame.Slice(p.L4Offset, p.L4Length);
        int cscov = BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(4));
        if (cscov == 0) cscov = p.L4Length;
        else if (cscov < 8 || cscov > p.L4Length) return InvalidReason.UdpLiteBadCoverage;
        if (BinaryPrimitives.ReadUInt16BigEndian(l4.Slice(6)) == 0) return InvalidReason.UdpLiteZeroChecksum;
        // The kernel's udplite_error() verifies with IPPROTO_UDP (17) in the pseudo-header, not 136 as RFC 3828 says;
        // observed on 6.18.44 by the differential test: RFC-correct UDP-Lite checksums are INVALID there. We follow the kernel.
        if (verify && !Checksum.VerifyL4(ref p, cscov, IpProto.Udp)) return InvalidReason.UdpLiteBadChecksum;
        return InvalidReason.None;
    }

    // ----------------------------------------------------------------- tuples

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void TupleOf(ref ParsedPacket p, ushort zone, out ConnTuple t)
    {
        t = default;
        t.Src = p.Src;
        t.Dst = p.Dst;
        t.Proto = p.Protocol;
        t.Family = p.IpVersion;
        t.Zone = zone;
        switch (p.Protocol)
        {
            case IpProto.Tcp:
            case IpProto.Udp:
            case IpProto.UdpLite:
            case IpProto.Sctp:
                t.SrcId = p.SrcPort;
                t.DstId = p.DstPort;
                break;
            case IpProto.Icmp:
            case IpProto.Icmpv6:
                t.SrcId = p.IcmpId;
                t.DstId = (ushort)(p.IcmpType << 8 | p.IcmpCode);
                break;
            case IpProto.Gre:
                GreTracker.TryKeys(GreTracker.L4(ref p), out t.SrcId, out t.DstId);
                break;
        }
    }
}
