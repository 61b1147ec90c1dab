using System.Net;

namespace Firewall.Daemon.Metrics;

/// <summary>The <c>Firewall:Metrics</c> section: the Prometheus endpoint (off by default).</summary>
public sealed class MetricsOptions
{
    public const string SectionPath = "Firewall:Metrics";

    public bool Enabled { get; set; }
    /// <summary>Address to listen on: loopback unless <see cref="AllowNonLoopback"/>.</summary>
    public string Address { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 9466;
    public bool AllowNonLoopback { get; set; }

    public List<string> Validate(string prefix = SectionPath)
    {
        var e = new List<string>();
        if (!Enabled) return e;
        if (!IPAddress.TryParse(Address, out var ip)) e.Add($"{prefix}:Address \"{Address}\" is not an IP address.");
        else if (!IPAddress.IsLoopback(ip) && !AllowNonLoopback) e.Add($"{prefix}:Address {Address} is not a loopback address (set {prefix}:AllowNonLoopback to expose metrics).");
        if (Port is < 1 or > 65535) e.Add($"{prefix}:Port must be between 1 and 65535 (got {Port}).");
        return e;
    }
}
