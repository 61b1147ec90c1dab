using System.Diagnostics;
using Firewall.Core.Conntrack;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Core.Rules.Config;

namespace Firewall.Daemon.Engine;

/// <summary>
/// The engine the data paths share: one conntrack table, the current rule set (swapped atomically on reload),
/// and the pipeline that ties them. Built once from validated configuration.
/// </summary>
public sealed class FirewallEngine
{
    public FirewallEngine(ConntrackOptions conntrack, RuleSet rules, RuleLogRing logRing)
    {
        // the table is read at random: back it with huge pages where the kernel allows (THP "madvise" or "always")
        Table = new ConntrackTable(conntrack, static (address, length) => Firewall.Native.Memory.MemoryAdvice.UseHugePages(address, length));
        Rules = new RuleSetHolder(rules);
        LogRing = logRing;
        Pipeline = new PacketPipeline(Table, Rules);
    }

    public ConntrackTable Table { get; }
    public RuleSetHolder Rules { get; }
    public RuleLogRing LogRing { get; }
    public PacketPipeline Pipeline { get; }

    /// <summary>
    /// The engine's clock for live data paths: monotonic nanoseconds (CLOCK_MONOTONIC through Stopwatch), shared by all
    /// readers, their idle maintenance and listings. Allocation-free.
    /// </summary>
    public static long NowNs() => s_ticksToNs == 1 ? Stopwatch.GetTimestamp() : (long)(Stopwatch.GetTimestamp() * s_ticksToNsDouble);

    private static readonly long s_ticksToNs = Stopwatch.Frequency == 1_000_000_000 ? 1 : 0;
    private static readonly double s_ticksToNsDouble = 1e9 / Stopwatch.Frequency;

    /// <summary>Compiles the Firewall:Rules section (reading its iptables-save files); errors name the key or file and line.</summary>
    public static RuleSet? CompileRules(FirewallRulesOptions options, RuleLogRing logRing, out List<string> errors) =>
        RulesConfigCompiler.Compile(options, File.ReadAllText, logRing, out errors);
}
