namespace Firewall.Daemon.Logging;

/// <summary>The <c>Firewall:Logging</c> section: which traffic-driven events are logged and how often.</summary>
public sealed class LoggingOptions
{
    public const string SectionPath = "Firewall:Logging";

    /// <summary>Log conntrack NEW and DESTROY events (off by default: they follow every connection).</summary>
    public bool ConntrackEvents { get; set; }
    /// <summary>At most this many conntrack events per second are logged; the rest are counted.</summary>
    public int ConntrackEventsPerSecond { get; set; } = 20;
    /// <summary>At most this many rule LOG hits per drain are logged (the ring's own rate limit applies first).</summary>
    public int RuleLogPerSecond { get; set; } = 100;
    /// <summary>How often INVALID packets are reported, aggregated by reason.</summary>
    public int InvalidIntervalSeconds { get; set; } = 60;
    /// <summary>How often the periodic statistics event is written (0: never).</summary>
    public int StatisticsIntervalSeconds { get; set; } = 300;
    /// <summary>How often suppressed-event counts and table-full conditions are reported.</summary>
    public int SuppressedReportSeconds { get; set; } = 10;

    public List<string> Validate(string prefix = SectionPath)
    {
        var e = new List<string>();
        if (ConntrackEventsPerSecond is < 1 or > 100_000) e.Add($"{prefix}:ConntrackEventsPerSecond must be between 1 and 100000 (got {ConntrackEventsPerSecond}).");
        if (RuleLogPerSecond is < 1 or > 100_000) e.Add($"{prefix}:RuleLogPerSecond must be between 1 and 100000 (got {RuleLogPerSecond}).");
        if (InvalidIntervalSeconds is < 1 or > 86400) e.Add($"{prefix}:InvalidIntervalSeconds must be between 1 and 86400 (got {InvalidIntervalSeconds}).");
        if (StatisticsIntervalSeconds is < 0 or > 86400) e.Add($"{prefix}:StatisticsIntervalSeconds must be between 0 and 86400 (got {StatisticsIntervalSeconds}).");
        if (SuppressedReportSeconds is < 1 or > 3600) e.Add($"{prefix}:SuppressedReportSeconds must be between 1 and 3600 (got {SuppressedReportSeconds}).");
        return e;
    }
}
