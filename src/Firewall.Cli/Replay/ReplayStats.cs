using System.Globalization;
using Firewall.Core.Conntrack;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;

namespace Firewall.Cli.Replay;

/// <summary>Counts per state and verdict, and the closing summary.</summary>
internal sealed class ReplayStats
{
    private static readonly CtState[] States = [CtState.New, CtState.Established, CtState.Related, CtState.Invalid, CtState.Untracked];
    private readonly long[,] _counts = new long[States.Length, 3];
    private long _nonIp;
    public long Packets { get; private set; }

    public void Count(in PacketDecision d)
    {
        Packets++;
        if (d.NonIp) { _nonIp++; return; }
        int s = Array.IndexOf(States, d.Track.State);
        if (s >= 0) _counts[s, (int)d.Verdict]++;
    }

    public void WriteTable(TextWriter t)
    {
        t.WriteLine();
        t.WriteLine($"{"STATE",-12} {"ACCEPT",10} {"DROP",10} {"REJECT",10} {"TOTAL",10}");
        for (int s = 0; s < States.Length; s++)
        {
            long a = _counts[s, 0], dr = _counts[s, 1], rj = _counts[s, 2];
            t.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{CtStateNames.Name(States[s]),-12} {a,10} {dr,10} {rj,10} {a + dr + rj,10}"));
        }
        if (_nonIp > 0) t.WriteLine($"{"NON-IP",-12} {_nonIp,10}");
    }

    public void WriteSummary(TextWriter err, TimeSpan elapsed, ConntrackTable table)
    {
        long Sum(CtState st) { int s = Array.IndexOf(States, st); return _counts[s, 0] + _counts[s, 1] + _counts[s, 2]; }
        long V(Verdict v) { long n = 0; for (int s = 0; s < States.Length; s++) n += _counts[s, (int)v]; return n; }
        double pps = elapsed.TotalSeconds > 0 ? Packets / elapsed.TotalSeconds : 0;
        var c = table.ReadCounters();
        err.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"replay: {Packets} packets in {elapsed.TotalSeconds:F3} s ({pps:F0} packets/s); NEW {Sum(CtState.New)}, ESTABLISHED {Sum(CtState.Established)}, RELATED {Sum(CtState.Related)}, INVALID {Sum(CtState.Invalid)}, UNTRACKED {Sum(CtState.Untracked)}; ACCEPT {V(Verdict.Accept)}, DROP {V(Verdict.Drop)}, REJECT {V(Verdict.Reject)}; entries at end {table.Count}; conntrack invalid={c.Invalid} error={c.Error} drop={c.Drop} early_drop={c.EarlyDrop}"));
    }
}
