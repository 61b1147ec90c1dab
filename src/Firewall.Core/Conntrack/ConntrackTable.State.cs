using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

/// <summary>What <see cref="ConntrackTable.Import"/> restored and what it left out.</summary>
public readonly record struct ConntrackImportResult(int Entries, int EntriesSkipped, int EntriesTableFull, int Expectations, int ExpectationsSkipped);

/// <summary>
/// Saving and restoring the table across a restart (control plane). Entries and expectations are written as
/// fixed-size little-endian records that carry remaining timeouts, not deadlines: the engine clock of the next process
/// is another one. Restored entries belong to the control context, whose timers advance through
/// <see cref="MaintainControl"/>; they expire, refresh, are early-dropped and deleted like any other entry.
/// </summary>
public sealed partial class ConntrackTable
{
    /// <summary>Bytes per exported entry.</summary>
    public const int EntryRecordSize = 112;
    /// <summary>Bytes per exported expectation.</summary>
    public const int ExpectationRecordSize = 56;
    /// <summary>Bumped whenever the record layout or the meaning of a field changes.</summary>
    public const int RecordFormatVersion = 1;

    private const int ProtoDataOffset = 60, ProtoDataLength = 52;

    /// <summary>INVALID packets by reason, summed over the workers (index = (int)InvalidReason).</summary>
    public void ReadInvalidByReason(Span<long> into)
    {
        if (into.Length < InvalidReasons.Count) throw new ArgumentException($"needs {InvalidReasons.Count} slots", nameof(into));
        into.Clear();
        foreach (var w in Workers)
        {
            if (w is null) continue;
            var r = w.InvalidByReason;
            for (int i = 0; i < r.Length; i++) into[i] += r[i];
        }
    }

    /// <summary>Advances the control context's clock and timers (restored entries) and frees what other threads killed. Call every second or so.</summary>
    public void MaintainControl(long nowNs)
    {
        lock (_controlGate) _control.Maintain(nowNs);
    }

    /// <summary>
    /// Writes every live confirmed entry (<paramref name="entries"/>, <see cref="EntryRecordSize"/> bytes each) and every live
    /// expectation (<paramref name="expectations"/>, <see cref="ExpectationRecordSize"/> bytes each). Lock-free for the
    /// packet path: entries are read consistently through their version words. Returns the record counts.
    /// </summary>
    public (int Entries, int Expectations) Export(long nowNs, IBufferWriter<byte> entries, IBufferWriter<byte> expectations)
    {
        uint now = TimeMath.ToMs(nowNs);
        int n = 0;
        for (int i = 0; i < Capacity; i++)
        {
            if ((Volatile.Read(ref Entries[i].Status) & (ushort)CtStatus.Confirmed) == 0) continue;
            if (!TryReadStable(i, out var c)) continue;
            if ((c.Status & (ushort)CtStatus.Dying) != 0 || (c.Status & (ushort)CtStatus.Confirmed) == 0) continue;
            if ((c.Status & (ushort)CtStatus.FixedTimeout) == 0 && TimeMath.AtOrBefore(c.Deadline, now)) continue;
            Span<byte> r = entries.GetSpan(EntryRecordSize)[..EntryRecordSize];
            r.Clear();
            MemoryMarshal.Write(r, in c.Orig);
            BinaryPrimitives.WriteUInt16LittleEndian(r[40..], c.Status);
            r[42] = c.State;
            r[43] = c.HelperId;
            BinaryPrimitives.WriteUInt32LittleEndian(r[44..], TimeMath.Remaining(c.Deadline, now));
            BinaryPrimitives.WriteUInt32LittleEndian(r[48..], c.Orig.Proto == IpProto.Tcp ? 0 : now - c.Created);
            BinaryPrimitives.WriteInt32LittleEndian(r[52..], i);
            ReadOnlySpan<byte> raw = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<CtEntry, byte>(ref c), Unsafe.SizeOf<CtEntry>());
            raw.Slice(ProtoDataOffset, ProtoDataLength).CopyTo(r[56..]);
            BinaryPrimitives.WriteInt32LittleEndian(r[108..], MasterOf[i]);
            entries.Advance(EntryRecordSize);
            n++;
        }
        int x = 0;
        foreach (var s in SnapshotExpectations(nowNs))
        {
            Span<byte> r = expectations.GetSpan(ExpectationRecordSize)[..ExpectationRecordSize];
            r.Clear();
            var t = s.Tuple;
            MemoryMarshal.Write(r, in t);
            r[40] = (byte)s.Flags;
            r[41] = s.HelperId;
            r[42] = s.Class;
            BinaryPrimitives.WriteUInt32LittleEndian(r[44..], s.RemainingMs);
            BinaryPrimitives.WriteInt32LittleEndian(r[48..], s.Master);
            expectations.Advance(ExpectationRecordSize);
            x++;
        }
        return (n, x);
    }

    /// <summary>
    /// Restores records written by <see cref="Export"/> (possibly by another process): each entry gets its remaining
    /// timeout from <paramref name="nowNs"/> on the current engine clock. Records that are malformed, expired, or
    /// duplicate a live entry are skipped; when the table is full the rest is counted and left out. Expectations whose
    /// master was not restored are skipped. <paramref name="elapsedMs"/> is the time that passed since the export (the
    /// daemon's downtime): it is taken off every remaining timeout, and what it uses up is not restored. Call before
    /// traffic flows, or at least from one thread.
    /// </summary>
    public ConntrackImportResult Import(long nowNs, ReadOnlySpan<byte> entries, ReadOnlySpan<byte> expectations, uint elapsedMs = 0)
    {
        if (entries.Length % EntryRecordSize != 0) throw new ArgumentException("not a whole number of entry records", nameof(entries));
        if (expectations.Length % ExpectationRecordSize != 0) throw new ArgumentException("not a whole number of expectation records", nameof(expectations));
        uint now = TimeMath.ToMs(nowNs);
        int ok = 0, skipped = 0, full = 0, xok = 0, xskipped = 0;
        var map = new Dictionary<int, int>();
        var masters = new List<(int Idx, int OldMaster)>();
        lock (_controlGate)
        {
            _control.Maintain(nowNs);
            var s = Settings;
            for (int off = 0; off < entries.Length; off += EntryRecordSize)
            {
                var r = entries.Slice(off, EntryRecordSize);
                var t = MemoryMarshal.Read<ConnTuple>(r);
                ushort status = BinaryPrimitives.ReadUInt16LittleEndian(r[40..]);
                uint remaining = BinaryPrimitives.ReadUInt32LittleEndian(r[44..]);
                if ((status & (ushort)CtStatus.FixedTimeout) == 0) remaining = remaining > elapsedMs ? remaining - elapsedMs : 0;
                int oldIdx = BinaryPrimitives.ReadInt32LittleEndian(r[52..]);
                int oldMaster = BinaryPrimitives.ReadInt32LittleEndian(r[108..]);
                if (!Plausible(in t, status, remaining, r[43]) || !t.TryInvert(out var tinv) || Lookup(in t, t.Hash(Seed), in tinv, true, now, _control, out _, out _) >= 0)
                {
                    skipped++;
                    continue;
                }
                uint age = BinaryPrimitives.ReadUInt32LittleEndian(r[48..]);
                age = age > uint.MaxValue - elapsedMs ? uint.MaxValue : age + elapsedMs;
                int idx = _control.ImportEntry(in t, status, r[42], r[43], remaining, age, r.Slice(56, ProtoDataLength), now, s);
                if (idx < 0) { full += (entries.Length - off) / EntryRecordSize; break; }
                map[oldIdx] = idx;
                if (oldMaster >= 0 && (status & (ushort)CtStatus.Expected) != 0) masters.Add((idx, oldMaster));
                ok++;
            }
            foreach (var (idx, oldMaster) in masters)
                if (map.TryGetValue(oldMaster, out int m)) MasterOf[idx] = m;

            for (int off = 0; off < expectations.Length; off += ExpectationRecordSize)
            {
                var r = expectations.Slice(off, ExpectationRecordSize);
                var t = MemoryMarshal.Read<ConnTuple>(r);
                uint remaining = BinaryPrimitives.ReadUInt32LittleEndian(r[44..]);
                remaining = remaining > elapsedMs ? remaining - elapsedMs : 0;
                int oldMaster = BinaryPrimitives.ReadInt32LittleEndian(r[48..]);
                if (t.Family is not (4 or 6) || remaining == 0 || remaining > ConntrackOptions.MaxTimeoutSeconds * 1000u ||
                    !map.TryGetValue(oldMaster, out int master) || r[41] > 3)
                {
                    xskipped++;
                    continue;
                }
                var res = Expectations.Create(_control, in t, (Expect.ExpectFlags)(r[40] & 0x0F), master, r[41], r[42], 0, remaining, now);
                if (res is Expect.ExpectResult.Created or Expect.ExpectResult.Replaced) xok++; else xskipped++;
            }
        }
        return new ConntrackImportResult(ok, skipped, full, xok, xskipped);
    }

    private static bool Plausible(in ConnTuple t, ushort status, uint remainingMs, byte helperId) =>
        t.Family is 4 or 6 && (status & (ushort)CtStatus.Confirmed) != 0 && (status & (ushort)CtStatus.Dying) == 0 &&
        remainingMs > 0 && remainingMs <= ConntrackOptions.MaxTimeoutSeconds * 1000u && helperId <= 3 &&
        (t.Family == 6 || (t.Src.Hi == 0 && t.Dst.Hi == 0 && t.Src.Lo <= uint.MaxValue && t.Dst.Lo <= uint.MaxValue));
}
