using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Conntrack;

public sealed partial class ConntrackWorker
{
    /// <summary>
    /// Inserts a restored, already confirmed entry owned by this worker (the control context). Returns its index, or
    /// -1 when the table is at Max (restoring never evicts).
    /// </summary>
    internal int ImportEntry(in ConnTuple t, ushort status, byte state, byte helperId, uint remainingMs, uint ageMs,
                             ReadOnlySpan<byte> protoData, uint now, ConntrackSettings s)
    {
        if (Interlocked.Increment(ref _t.CountField) > s.Max)
        {
            Interlocked.Decrement(ref _t.CountField);
            return -1;
        }
        int idx = _localCount > 0 ? _localFree[--_localCount] : _t.PopFree();
        if (idx < 0) { Interlocked.Decrement(ref _t.CountField); return -1; }
        ref CtEntry e = ref _e[idx];
        e.Orig = t;
        Span<byte> raw = MemoryMarshal.CreateSpan(ref Unsafe.As<CtEntry, byte>(ref e), Unsafe.SizeOf<CtEntry>());
        protoData.CopyTo(raw.Slice(60, 52));
        if (t.Proto != IpProto.Tcp) e.Created = now - ageMs;
        e.State = state;
        e.Misc = (byte)(Id | (helperId & 3) << CtEntry.HelperShift);
        e.WheelNext = -1;
        e.WheelPrev = -1;
        _t.MasterOf[idx] = -1;
        e.Status = (ushort)((status & ~(ushort)CtStatus.Dying) | (ushort)CtStatus.Confirmed);
        uint deadline = now + remainingMs;
        e.Deadline = deadline;
        Unassured.Add(idx, deadline);
        t.TryInvert(out ConnTuple tinv);
        ulong h = t.Hash(_t.Seed), hr = tinv.Hash(_t.Seed);
        _t.Index.Insert(h, HashIndex.MakeValue(h, idx, 0));
        _t.Index.Insert(hr, HashIndex.MakeValue(hr, idx, 1));
        if ((e.Status & (ushort)CtStatus.Helper) != 0) _t.HelperStates.Acquire(idx);
        return idx;
    }
}
