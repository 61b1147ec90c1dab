using Firewall.Core.Conntrack;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;

namespace Firewall.Daemon.Engine;

/// <summary>
/// Packets by verdict and drops by reason, per data path worker (one stripe per packet thread, summed on read).
/// Data paths call <see cref="Record"/> after each <c>PipelineWorker.Process</c>: one array increment, no locks.
/// </summary>
public sealed class TrafficCounters
{
    public const int MaxStripes = ConntrackTable.MaxWorkers + 1;
    // per stripe: [0..2] verdicts, [3] non-IP, [4] conntrack drops, [5] raw-table decisions, then drops by InvalidReason
    private const int Fixed = 6;
    private const int Stride = Fixed + InvalidReasons.Count + 8; // padding keeps stripes off each other's cache lines
    private readonly long[] _c = new long[MaxStripes * Stride];

    /// <summary>Counts one decided packet on stripe <paramref name="worker"/> (the conntrack worker id, 0–7).</summary>
    public void Record(int worker, in PacketDecision d)
    {
        int b = (worker & 7) * Stride;
        _c[b + (int)d.Verdict]++;
        if (d.NonIp) _c[b + 3]++;
        if (d.Track.Drop) _c[b + 4]++;
        if (d.DecidedInRaw) _c[b + 5]++;
        if (d.Verdict != Verdict.Accept && d.Track.State == CtState.Invalid) _c[b + Fixed + (int)d.Track.Reason]++;
    }

    private long Sum(int offset)
    {
        long s = 0;
        for (int w = 0; w < MaxStripes; w++) s += Volatile.Read(ref _c[w * Stride + offset]);
        return s;
    }

    public long Packets(Verdict v) => Sum((int)v);
    public long NonIp => Sum(3);
    public long ConntrackDrops => Sum(4);
    /// <summary>Packets dropped while INVALID, by reason.</summary>
    public long DroppedInvalid(InvalidReason r) => Sum(Fixed + (int)r);
}
