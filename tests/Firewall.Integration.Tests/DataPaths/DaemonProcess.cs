using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>One JSON log line of the daemon (Serilog's JsonFormatter).</summary>
public sealed record DaemonLogEvent(string Template, string Level, JsonObject Properties)
{
    public string Event => Template.Split(' ', 2)[0];
    public string? Property(string name) => Properties[name]?.ToString();
}

/// <summary>
/// firewall-daemon as a child process: <c>ip netns exec NS dotnet firewall-daemon.dll --config FILE</c>, started
/// through the <see cref="NetLab"/> (so the lab ends it by PID), its JSON log lines parsed from stdout.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly LabProcess _process;
    private readonly string _configPath;

    private DaemonProcess(LabProcess process, string configPath)
    {
        _process = process;
        _configPath = configPath;
    }

    public int Pid => _process.Pid;
    public string Output => _process.Stdout + _process.Stderr;

    /// <summary>The daemon built next to the tests (src/Firewall.Daemon/bin/CONFIG/net10.0/firewall-daemon.dll).</summary>
    public static string DllPath
    {
        get
        {
            string root = RepoFiles.Root;
            string config = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
            foreach (var c in new[] { config, config == "Release" ? "Debug" : "Release" })
            {
                var path = Path.Combine(root, "src", "Firewall.Daemon", "bin", c, "net10.0", "firewall-daemon.dll");
                if (File.Exists(path)) return path;
            }
            throw new InvalidOperationException(
                $"firewall-daemon.dll is not built under {root}/src/Firewall.Daemon/bin/{config}/net10.0 (build the test project: it references the daemon)");
        }
    }

    /// <summary>Writes the configuration, starts the daemon in <paramref name="ns"/> and waits until its data path is open.</summary>
    public static DaemonProcess Start(NetLab lab, string ns, JsonObject config, TimeSpan? timeout = null)
    {
        string id = $"{lab.Prefix}-{Guid.NewGuid():N}";
        string path = Path.Combine(Path.GetTempPath(), id + ".json");
        // a private control socket and state directory: never the system's (an installed daemon, or another test's state)
        if (config["Firewall"] is JsonObject fw)
        {
            string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), id)).FullName;
            if (fw["Control"] is null) fw["Control"] = new JsonObject { ["SocketPath"] = Path.Combine(dir, "control.sock") };
            if (fw["State"] is null) fw["State"] = new JsonObject { ["Directory"] = Path.Combine(dir, "state") };
        }
        File.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var p = lab.StartBackground(ns, "dotnet", DllPath, "--config", path);
        var daemon = new DaemonProcess(p, path);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!p.WaitForOutput("DataPathOpened", TimeSpan.FromMilliseconds(200)))
        {
            if (p.HasExited || DateTime.UtcNow > deadline)
            {
                string output = daemon.Output;
                daemon.Dispose();
                throw new InvalidOperationException($"firewall-daemon did not open its data path (exited: {p.HasExited}):\n{output}");
            }
        }
        return daemon;
    }

    /// <summary>Starts the daemon expecting it to fail at start-up; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) RunExpectingFailure(NetLab lab, string ns, JsonObject config)
    {
        string path = Path.Combine(Path.GetTempPath(), $"{lab.Prefix}-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config.ToJsonString());
        try
        {
            var r = lab.Run(ns, TimeSpan.FromSeconds(30), "dotnet", [DllPath, "--config", path], input: null);
            return (r.ExitCode, r.Stdout + r.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public IReadOnlyList<DaemonLogEvent> Events
    {
        get
        {
            var list = new List<DaemonLogEvent>();
            foreach (var line in _process.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!line.StartsWith('{')) continue;
                try
                {
                    var node = JsonNode.Parse(line)!.AsObject();
                    list.Add(new DaemonLogEvent(node["MessageTemplate"]?.ToString() ?? "", node["Level"]?.ToString() ?? "Information",
                        node["Properties"]?.AsObject() ?? []));
                }
                catch (JsonException) { /* a partial line */ }
            }
            return list;
        }
    }

    public IEnumerable<DaemonLogEvent> EventsNamed(string name) => Events.Where(e => e.Event == name);

    /// <summary>Waits until an event named <paramref name="name"/> beyond the first <paramref name="skip"/> ones appears.</summary>
    public DaemonLogEvent WaitForEvent(string name, int skip = 0, TimeSpan? timeout = null)
    {
        DaemonLogEvent? found = null;
        if (!NetLab.WaitUntil(() => (found = EventsNamed(name).Skip(skip).FirstOrDefault()) is not null, timeout ?? TimeSpan.FromSeconds(10),
                TimeSpan.FromMilliseconds(50)))
            throw new TimeoutException($"no {name} log line (after {skip}) from the daemon:\n{Output}");
        return found!;
    }

    /// <summary>
    /// Counters of one reader ("brA", "queue 0", …) from the newest DataPathStats line that appears after now
    /// (the configuration must set StatsIntervalSeconds), or from DataPathStopped after <see cref="Stop"/>.
    /// </summary>
    public Dictionary<string, long> FreshCounters(string reader) => ParseCounters(FreshDetails(), reader);

    /// <summary>All readers' counters ("NAME: k=v …; NAME2: …") of the newest DataPathStats line that appears after now,
    /// for <see cref="ParseCounters"/> (several readers from one line).</summary>
    public string FreshDetails()
    {
        int seen = EventsNamed("DataPathStats").Count();
        var e = WaitForEvent("DataPathStats", seen + 1, TimeSpan.FromSeconds(10)); // the second one is surely after now
        return e.Property("Details") ?? "";
    }

    public Dictionary<string, long> FinalCounters(string reader) =>
        ParseCounters(EventsNamed("DataPathStopped").Last().Property("Details") ?? "", reader);

    /// <summary>Parses "NAME: k=v k=v; NAME2: …" for NAME.</summary>
    public static Dictionary<string, long> ParseCounters(string details, string reader)
    {
        foreach (var part in details.Split("; "))
        {
            int colon = part.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0 || part[..colon] != reader) continue;
            var d = new Dictionary<string, long>();
            foreach (var kv in part[(colon + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var pair = kv.Split('=', 2);
                if (pair.Length == 2 && long.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)) d[pair[0]] = v;
            }
            return d;
        }
        throw new InvalidOperationException($"no counters for {reader} in \"{details}\"");
    }

    /// <summary>Rewrites the daemon's configuration file with <paramref name="config"/>, has it reload (SIGHUP) and waits
    /// until it logged that the new configuration applies.</summary>
    public void Reconfigure(JsonObject config)
    {
        int seen = EventsNamed("ConfigReloaded").Count();
        File.WriteAllText(_configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        _process.Signal("HUP");
        WaitForEvent("ConfigReloaded", seen, TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM; waits for the exit (the daemon must stop within a few seconds) and returns the exit code.</summary>
    public int Stop(TimeSpan? grace = null)
    {
        if (!_process.Stop("TERM", grace ?? TimeSpan.FromSeconds(10)))
            throw new TimeoutException($"firewall-daemon did not exit within {grace ?? TimeSpan.FromSeconds(10)} of SIGTERM:\n{Output}");
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no clean-up at all (kernel rules stay, queues unbind when the socket closes).</summary>
    public void Kill()
    {
        _process.Signal("KILL");
        _process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGSTOP to the daemon's own PID; returns once every thread of it is stopped (it reads nothing until
    /// <see cref="Resume"/>). A test that freezes must resume in a finally block.</summary>
    public void Freeze()
    {
        _process.Signal("STOP");
        if (!NetLab.WaitUntil(AllThreadsStopped, TimeSpan.FromSeconds(5)))
            throw new TimeoutException($"firewall-daemon (PID {Pid}) did not stop on SIGSTOP");
    }

    /// <summary>SIGCONT (harmless when the daemon is not stopped or has exited).</summary>
    public void Resume() => _process.Signal("CONT");

    private bool AllThreadsStopped()
    {
        foreach (var task in Directory.GetDirectories($"/proc/{Pid}/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; } // the thread ended
            // "TID (comm) STATE …": comm may hold spaces and parentheses, the state follows the last ')'
            if (stat[stat.LastIndexOf(')') + 2] != 'T') return false;
        }
        return true;
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        _process.Dispose();
        try { File.Delete(_configPath); } catch (IOException) { }
    }
}

/// <summary>Builds daemon configurations as JSON.</summary>
public static class DaemonConfig
{
    /// <summary>A configuration: the data path section, the FORWARD chain (policy + rules), extra chains, 1-second stats.</summary>
    public static JsonObject Create(JsonObject dataPath, string forwardPolicy, JsonArray forwardRules, JsonObject? extraFilter = null,
                                    bool checksum = true)
    {
        dataPath["StatsIntervalSeconds"] = 1;
        var filter = new JsonObject { ["Forward"] = new JsonObject { ["Policy"] = forwardPolicy, ["Rules"] = forwardRules } };
        if (extraFilter is not null)
            foreach (var (k, v) in extraFilter.ToList())
            {
                extraFilter.Remove(k);
                filter[k] = v;
            }
        return new JsonObject
        {
            ["Firewall"] = new JsonObject
            {
                ["DataPath"] = dataPath,
                ["Conntrack"] = new JsonObject { ["Checksum"] = checksum, ["TcpLoose"] = true },
                ["Rules"] = new JsonObject { ["Filter"] = filter },
            },
            ["Serilog"] = new JsonObject
            {
                ["Using"] = new JsonArray("Serilog.Sinks.Console"),
                ["MinimumLevel"] = new JsonObject { ["Default"] = "Information", ["Override"] = new JsonObject { ["Microsoft"] = "Warning" } },
                ["WriteTo"] = new JsonArray(new JsonObject
                {
                    ["Name"] = "Console",
                    ["Args"] = new JsonObject { ["formatter"] = "Serilog.Formatting.Json.JsonFormatter, Serilog" },
                }),
            },
        };
    }

    public static JsonObject Rule(string iptables) => new() { ["Iptables"] = iptables };

    /// <summary>The seed policy: answers accepted, INVALID dropped, ICMPv6 ND (untracked) accepted, NEW only from <paramref name="insideInterface"/>
    /// (or from <paramref name="insideNets"/> when no interface is visible, as on a TUN).</summary>
    public static JsonArray SeedRules(string? insideInterface, params string[] insideNets)
    {
        var rules = new JsonArray
        {
            Rule("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
            Rule("-m conntrack --ctstate INVALID -j DROP"),
            new JsonObject { ["Protocol"] = "icmpv6", ["State"] = new JsonArray("UNTRACKED"), ["Action"] = "ACCEPT" },
        };
        if (insideInterface is not null) rules.Add(Rule($"-i {insideInterface} -m conntrack --ctstate NEW -j ACCEPT"));
        foreach (var net in insideNets) rules.Add(Rule($"-s {net} -m conntrack --ctstate NEW -j ACCEPT"));
        return rules;
    }
}
