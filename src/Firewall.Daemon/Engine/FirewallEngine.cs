using System.Diagnostics;
using Firewall.Core.Conntrack;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Core.Rules.Config;

namespace Firewall.Daemon.Engine;

/// <summary>
/// The engine the data paths share: one conntrack table, the current rule set (swapped atomically on reload),
/// and the pipeline that ties them. Built once from validated configuration.
/// <para>Time: every data path passes <see cref="NowNs"/> (CLOCK_MONOTONIC in ns) to the pipeline, so listings, the
/// saved state and the packet path agree. The replay data path substitutes the capture's clock.</para>
/// </summary>
public sealed class FirewallEngine
{
    private Func<long> _clock = MonotonicNs;

    public FirewallEngine(ConntrackOptions conntrack, RuleSet rules, RuleLogRing logRing)
    {
        // the table is read at random: back it with huge pages where the kernel allows (THP "madvise" or "always")
        Table = new ConntrackTable(conntrack, static (address, length) => Firewall.Native.Memory.MemoryAdvice.UseHugePages(address, length));
        Rules = new RuleSetHolder(rules);
        LogRing = logRing;
        Pipeline = new PacketPipeline(Table, Rules);
        Traffic = new TrafficCounters();
    }

    /// <summary>Liveness of the packet readers (the systemd watchdog follows it).</summary>
    public Health.DataPathHealth Health { get; } = new();

    public ConntrackTable Table { get; }
    public RuleSetHolder Rules { get; }
    public RuleLogRing LogRing { get; }
    public PacketPipeline Pipeline { get; }
    /// <summary>Packets by verdict and drop reason, reported by the data paths.</summary>
    public TrafficCounters Traffic { get; }
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The engine clock in nanoseconds.</summary>
    public long NowNs() => Volatile.Read(ref _clock)();

    /// <summary>Replaces the engine clock (replay: the capture's timestamps).</summary>
    public void UseClock(Func<long> clock) => Volatile.Write(ref _clock, clock);

    /// <summary>CLOCK_MONOTONIC (Stopwatch on Linux) in nanoseconds: the clock of the live data paths' packet threads
    /// (allocation-free; equal to <see cref="NowNs"/> unless replay substituted the capture's clock).</summary>
    public static long MonotonicNs()
    {
        long t = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == 1_000_000_000 ? t : (long)(t * (1_000_000_000.0 / Stopwatch.Frequency));
    }

    /// <summary>Compiles the Firewall:Rules section (reading its iptables-save files); errors name the key or file and line.</summary>
    public static RuleSet? CompileRules(FirewallRulesOptions options, RuleLogRing logRing, out List<string> errors) =>
        RulesConfigCompiler.Compile(options, File.ReadAllText, logRing, out errors);
}
