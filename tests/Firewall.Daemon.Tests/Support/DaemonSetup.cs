namespace Firewall.Daemon.Tests.Support;

/// <summary>A temporary directory with a config file, a capture, a state directory and a socket path for one daemon run.</summary>
public sealed class DaemonSetup : IDisposable
{
    public DaemonSetup(string tag)
    {
        Dir = Paths.TempDir(tag);
        StateDir = Path.Combine(Dir, "state");
        Socket = Path.Combine(Dir, "control.sock");
        Config = Path.Combine(Dir, "appsettings.json");
        Capture = Path.Combine(Dir, "in.pcap");
    }

    public string Dir { get; }
    public string StateDir { get; }
    public string Socket { get; }
    public string Config { get; }
    public string Capture { get; }

    /// <summary>FORWARD: accept ESTABLISHED/RELATED, drop the rest (a policy that drops NEW).</summary>
    public const string DropNewRules = """
        "Rules": { "Filter": { "Forward": { "Policy": "DROP", "Rules": [ { "State": [ "ESTABLISHED", "RELATED" ], "Action": "ACCEPT" } ] } } }
        """;

    public const string AcceptAllRules = """
        "Rules": { "Filter": { "Forward": { "Policy": "ACCEPT" } } }
        """;

    /// <summary>Writes the config: replay of <see cref="Capture"/>, this directory's socket and state, plus <paramref name="firewallExtra"/> (JSON members of "Firewall").</summary>
    public void WriteConfig(string firewallExtra = AcceptAllRules, string? capture = null)
    {
        File.WriteAllText(Config, $$"""
            {
              "Firewall": {
                "DataPath": { "Mode": "Replay", "Replay": { "Capture": "{{capture ?? Capture}}" } },
                "Control": { "SocketPath": "{{Socket}}", "Group": "root" },
                "State": { "Directory": "{{StateDir}}", "SaveIntervalSeconds": 0 },
                {{firewallExtra}}
              }
            }
            """);
    }

    public string[] Args(params string[] extra) => ["--config", Config, .. extra];

    /// <summary>Starts the daemon and waits until it is ready (its control socket listens).</summary>
    public DaemonProcess Start(IDictionary<string, string?>? env = null, params string[] extra)
    {
        var d = new DaemonProcess(Args(extra), env);
        d.WaitForEvent("ControlSocketListening");
        d.WaitForEvent("DaemonStarted");
        return d;
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
