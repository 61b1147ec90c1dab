namespace Firewall.Daemon.State;

/// <summary>The <c>Firewall:State</c> section: saving the connection table across restarts.</summary>
public sealed class StateOptions
{
    public const string SectionPath = "Firewall:State";

    public bool Enabled { get; set; } = true;
    public string Directory { get; set; } = "/var/lib/firewall-daemon";
    /// <summary>Save every N seconds while running (0: only at stop).</summary>
    public int SaveIntervalSeconds { get; set; } = 60;
    /// <summary>A snapshot older than this is not restored (its connections have timed out on the peers anyway).</summary>
    public int MaxAgeSeconds { get; set; } = 3600;

    public List<string> Validate(string prefix = SectionPath)
    {
        var e = new List<string>();
        if (!Enabled) return e;
        if (string.IsNullOrWhiteSpace(Directory) || !Path.IsPathRooted(Directory))
            e.Add($"{prefix}:Directory must be an absolute path (got \"{Directory}\").");
        if (SaveIntervalSeconds is < 0 or > 86400) e.Add($"{prefix}:SaveIntervalSeconds must be between 0 and 86400 (got {SaveIntervalSeconds}).");
        if (MaxAgeSeconds is < 1 or > 30 * 86400) e.Add($"{prefix}:MaxAgeSeconds must be between 1 and 2592000 (got {MaxAgeSeconds}).");
        return e;
    }
}
