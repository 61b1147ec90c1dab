using System.Text;
using Firewall.Core.Control;

namespace Firewall.Daemon.Control;

/// <summary>The <c>Firewall:Control</c> section: the fwctl control socket.</summary>
public sealed class ControlOptions
{
    public const string SectionPath = "Firewall:Control";

    public bool Enabled { get; set; } = true;
    public string SocketPath { get; set; } = ControlProtocol.DefaultSocketPath;
    /// <summary>Group whose members may use the socket (besides root and the daemon's own user).</summary>
    public string Group { get; set; } = "firewall-daemon";

    public List<string> Validate(string prefix = SectionPath)
    {
        var e = new List<string>();
        if (!Enabled) return e;
        if (string.IsNullOrWhiteSpace(SocketPath) || !Path.IsPathRooted(SocketPath))
            e.Add($"{prefix}:SocketPath must be an absolute path (got \"{SocketPath}\").");
        else if (Encoding.UTF8.GetByteCount(SocketPath) > 107)
            e.Add($"{prefix}:SocketPath is longer than the 107 bytes a Unix socket address holds.");
        if (string.IsNullOrWhiteSpace(Group)) e.Add($"{prefix}:Group must name a group.");
        return e;
    }
}
