using System.Globalization;
using System.Text.Json;
using Firewall.Daemon.Systemd;
using Firewall.Daemon.Tests.Support;

namespace Firewall.Daemon.Tests;

/// <summary>
/// A Debian tree (debootstrap, cached under /var/cache/firewall-daemon-test) booted with systemd-nspawn, the service
/// installed with deploy/install.sh, driven with systemctl through nsenter (see ../shared/docs/systemd-testing.md).
/// One container for all the checks of this class (booting is cheap, the install is not).
/// </summary>
public sealed class SystemdContainer : IDisposable
{
    public const string Cache = "/var/cache/firewall-daemon-test";
    // the marker names what the tree holds: a tree built with other packages is rebuilt
    private const string Include = "systemd,dbus,procps";
    public static string Tree => Path.Combine(Cache, "bookworm");
    private static string Marker => Path.Combine(Tree, ".firewall-daemon-test-" + Include.Replace(',', '-'));

    private readonly DaemonlessProcess? _nspawn;
    private readonly string _stage;
    public int Pid1 { get; }
    public TimeSpan TreeBuildTime { get; }

    public SystemdContainer()
    {
        Paths.RequireRoot("the systemd container test (debootstrap, systemd-nspawn, nsenter)");
        foreach (var tool in new[] { "systemd-nspawn", "nsenter", "debootstrap", "systemd-analyze" }) Paths.RequireTool(tool);
        TreeBuildTime = EnsureTree();
        _stage = Paths.TempDir("sysd");
        // the built daemon and fwctl laid out as a publish directory (daemon + cli/)
        CopyDir(Paths.DaemonDir, Path.Combine(_stage, "pub"));
        CopyDir(Paths.CliDir, Path.Combine(_stage, "pub", "cli"));
        Captures.Write(Path.Combine(_stage, "flows.pcap"), Captures.EstablishedTcpAndUdp());
        Proc.Run("/bin/chmod", ["-R", "a+rX", _stage]);

        _nspawn = new DaemonlessProcess("/usr/bin/setsid", ["systemd-nspawn", "-D", Tree, "--register=no", "--keep-unit", "-b", "--console=pipe",
            "--private-network", "--volatile=overlay", "--bind-ro=/usr/share/dotnet", $"--bind-ro={Paths.RepoRoot}:/src", $"--bind-ro={_stage}:/stage"]);
        Pid1 = WaitForPid1();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string state = "";
        while (DateTime.UtcNow < until && state is not ("running" or "degraded"))
        {
            state = Exec("systemctl", "is-system-running").Stdout.Trim();
            Thread.Sleep(200);
        }
        if (state is not ("running" or "degraded")) throw new InvalidOperationException($"the container did not boot (state {state})");
    }

    private static TimeSpan EnsureTree()
    {
        if (File.Exists(Marker)) return TimeSpan.Zero;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Directory.CreateDirectory(Cache);
        string partial = Tree + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, true);
        var r = Proc.Run(Paths.RequireTool("debootstrap"), ["--variant=minbase", $"--include={Include}", "bookworm", partial, Mirror()], TimeSpan.FromMinutes(15));
        if (r.ExitCode != 0) throw new InvalidOperationException("debootstrap failed: " + r);
        if (Directory.Exists(Tree)) Directory.Delete(Tree, true);
        Directory.Move(partial, Tree);
        File.WriteAllText(Marker, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        return sw.Elapsed;
    }

    /// <summary>The Debian mirror apt already uses.</summary>
    private static string Mirror()
    {
        foreach (var f in Directory.Exists("/etc/apt/sources.list.d") ? Directory.GetFiles("/etc/apt/sources.list.d", "*.sources") : [])
            foreach (var line in File.ReadLines(f))
                if (line.StartsWith("URIs:", StringComparison.Ordinal) && line.Contains("debian", StringComparison.Ordinal) && !line.Contains("security", StringComparison.Ordinal))
                    return line["URIs:".Length..].Trim().Split(' ')[0];
        return "http://deb.debian.org/debian";
    }

    private int WaitForPid1()
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var nspawnPid = _nspawnPidFromSetsid();
        while (DateTime.UtcNow < until)
        {
            var r = Proc.Run("/usr/bin/pgrep", ["-x", "systemd", "-P", nspawnPid.ToString(CultureInfo.InvariantCulture)]);
            if (r.ExitCode == 0 && int.TryParse(r.Stdout.Split('\n')[0], out int pid)) return pid;
            Thread.Sleep(100);
        }
        throw new InvalidOperationException("no systemd inside the container");
    }

    // setsid execs systemd-nspawn in place: same PID
    private int _nspawnPidFromSetsid() => _nspawn!.Pid;

    private static void CopyDir(string from, string to)
    {
        if (!Directory.Exists(from)) throw new InvalidOperationException($"{from} is missing: build the solution first");
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), true);
        foreach (var d in Directory.GetDirectories(from))
            if (Path.GetFileName(d) is not ("cli" or "runtimes")) CopyDir(d, Path.Combine(to, Path.GetFileName(d)));
            else if (Path.GetFileName(d) == "runtimes") CopyDir(d, Path.Combine(to, "runtimes"));
    }

    /// <summary>Runs a command inside the container (all namespaces of its PID 1).</summary>
    public ProcResult Exec(params string[] command) => Proc.Run("/usr/bin/nsenter", ["-t", Pid1.ToString(CultureInfo.InvariantCulture), "-a", .. command], TimeSpan.FromSeconds(120));

    public ProcResult Sh(string script) => Exec("/bin/sh", "-c", script);

    public string Show(string property) => Exec("systemctl", "show", "firewall-daemon", "-p", property, "--value").Stdout.Trim();

    public void Dispose()
    {
        if (_nspawn is not null)
        {
            Proc.Run("/bin/kill", ["-TERM", _nspawn.Pid.ToString(CultureInfo.InvariantCulture)]);
            _nspawn.WaitForExit(TimeSpan.FromSeconds(20));
            _nspawn.Dispose();
        }
        try { Directory.Delete(_stage, true); } catch (IOException) { }
    }
}

[CollectionDefinition("systemd")]
public sealed class SystemdCollection : ICollectionFixture<SystemdContainer>;

[Collection("systemd")]
public sealed class SystemdContainerTests
{
    private readonly SystemdContainer _c;

    public SystemdContainerTests(SystemdContainer c)
    {
        _c = c;
        lock (s_installGate)
        {
            if (s_installed) return;
            var r = _c.Exec("/src/deploy/install.sh", "--from", "/stage/pub", "--no-enable");
            Assert.True(r.ExitCode == 0, "install.sh: " + r);
            WriteConfig(_c, "\"Rules\": { \"Filter\": { \"Forward\": { \"Policy\": \"ACCEPT\" } } }");
            s_installed = true;
        }
    }

    private static readonly Lock s_installGate = new();
    private static bool s_installed;

    private static void WriteConfig(SystemdContainer c, string firewallExtra) =>
        Assert.Equal(0, c.Sh($$"""
            cat > /etc/firewall-daemon/appsettings.json <<'EOF'
            { "Firewall": { "DataPath": { "Mode": "Replay", "Replay": { "Capture": "/stage/flows.pcap" } },
                            "State": { "SaveIntervalSeconds": 0 }, {{firewallExtra}} } }
            EOF
            """).ExitCode);

    private const string AcceptAll = "\"Rules\": { \"Filter\": { \"Forward\": { \"Policy\": \"ACCEPT\" } } }";

    private void StartFresh()
    {
        _c.Exec("systemctl", "stop", "firewall-daemon");
        WriteConfig(_c, AcceptAll);
        _c.Exec("systemctl", "reset-failed", "firewall-daemon");
        _c.Exec("rm", "-f", "/var/lib/firewall-daemon/conntrack.state");
        var r = _c.Exec("systemctl", "start", "firewall-daemon");
        Assert.True(r.ExitCode == 0, "systemctl start: " + r + "\n" + _c.Exec("journalctl", "-u", "firewall-daemon", "--no-pager", "-n", "30").Stdout);
    }

    private List<(JsonElement Entry, JsonElement Message)> Journal()
    {
        var r = _c.Exec("journalctl", "-u", "firewall-daemon", "-o", "json", "--no-pager");
        var list = new List<(JsonElement, JsonElement)>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = JsonDocument.Parse(line).RootElement.Clone();
            if (entry.TryGetProperty("MESSAGE", out var m) && m.ValueKind == JsonValueKind.String && m.GetString()!.StartsWith('{'))
                list.Add((entry, JsonDocument.Parse(m.GetString()!).RootElement.Clone()));
        }
        return list;
    }

    private (JsonElement Entry, JsonElement Message) LastEvent(string name) =>
        Journal().Last(e => e.Message.GetProperty("@e").GetString() == name);

    [Fact]
    public void TheUnit_VerifiesAndRatesAtMost3()
    {
        var verify = _c.Exec("systemd-analyze", "verify", "firewall-daemon.service");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        var sec = Proc.Run("/usr/bin/systemd-analyze", ["security", "--offline=true", Path.Combine(Paths.RepoRoot, "systemd", "firewall-daemon.service")]);
        var m = System.Text.RegularExpressions.Regex.Match(sec.Stdout, @"Overall exposure level for \S+: (\d+\.\d+)");
        Assert.True(m.Success, sec.ToString());
        Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) <= 3.0, m.Value);
    }

    [Fact]
    public void Start_BecomesActiveOnlyAfterReady_AsTheServiceUserWithTwoCapabilities()
    {
        StartFresh();
        Assert.Equal("active", _c.Show("ActiveState"));
        // READY=1 carries the status at the moment the data path opened, when the replay may still be under way; the
        // daemon refreshes STATUS= every StatusInterval, so the finished replay's figure shows by the next refresh
        var until = DateTime.UtcNow + SystemdIntegration.StatusInterval + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < until && !_c.Show("StatusText").StartsWith("replay: 2 connections", StringComparison.Ordinal))
            Thread.Sleep(100);
        Assert.StartsWith("replay: 2 connections", _c.Show("StatusText"));
        // the data path was open before systemd saw READY=1: the daemon's own time of the event vs. the active-enter time
        string active = _c.Exec("systemctl", "show", "firewall-daemon", "-p", "ActiveEnterTimestamp", "--value", "--timestamp=us+utc").Stdout.Trim();
        var activeAt = DateTime.ParseExact(active, "ddd yyyy-MM-dd HH:mm:ss.ffffff 'UTC'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var openedAt = DateTime.Parse(LastEvent("DataPathOpened").Message.GetProperty("@t").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.True(openedAt <= activeAt, $"data path opened at {openedAt:O}, active at {activeAt:O}");
        var pid = _c.Show("MainPID");
        var status = _c.Exec("cat", $"/proc/{pid}/status").Stdout;
        Assert.Contains("CapAmb:\t0000000000003000", status); // CAP_NET_ADMIN | CAP_NET_RAW
        Assert.Contains("CapBnd:\t0000000000003000", status);
        Assert.Equal("firewall-daemon", _c.Exec("stat", "-c", "%U", $"/proc/{pid}").Stdout.Trim());
    }

    [Fact]
    public void ADataPathThatCannotOpen_NeverBecomesActive()
    {
        WriteConfig(_c, "\"Rules\": { \"Filter\": { \"Forward\": { \"Policy\": \"ACCEPT\" } } }");
        _c.Sh("sed -i 's#/stage/flows.pcap#/stage/missing.pcap#' /etc/firewall-daemon/appsettings.json");
        try
        {
            _c.Exec("systemctl", "stop", "firewall-daemon");
            var r = _c.Exec("systemctl", "start", "firewall-daemon");
            Assert.NotEqual(0, r.ExitCode);
            Assert.NotEqual("active", _c.Show("ActiveState"));
            Assert.Contains("missing.pcap", _c.Exec("journalctl", "-u", "firewall-daemon", "--no-pager", "-n", "20").Stdout);
        }
        finally
        {
            _c.Exec("systemctl", "stop", "firewall-daemon");
            _c.Exec("systemctl", "reset-failed", "firewall-daemon");
            WriteConfig(_c, "\"Rules\": { \"Filter\": { \"Forward\": { \"Policy\": \"ACCEPT\" } } }");
        }
    }

    [Fact]
    public void Watchdog_IsFed()
    {
        StartFresh();
        long first = long.Parse(_c.Show("WatchdogTimestampMonotonic"), CultureInfo.InvariantCulture);
        Thread.Sleep(6000);
        long second = long.Parse(_c.Show("WatchdogTimestampMonotonic"), CultureInfo.InvariantCulture);
        Assert.True(first > 0 && second > first, $"watchdog timestamps {first} then {second}");
        Assert.Equal("active", _c.Show("ActiveState"));
    }

    [Fact]
    public void SystemctlReload_AppliesNewRulesAndKeepsState()
    {
        StartFresh();
        string before = _c.Exec("fwctl", "conntrack", "-C").Stdout.Trim();
        Assert.Equal("2", before);
        WriteConfig(_c, """ "Rules": { "Filter": { "Forward": { "Policy": "DROP", "Rules": [ { "State": [ "ESTABLISHED", "RELATED" ], "Action": "ACCEPT" } ] } } } """);
        int reloadsBefore = Journal().Count(e => e.Message.GetProperty("@e").GetString() == "ConfigReloaded");
        var r = _c.Exec("systemctl", "reload", "firewall-daemon");
        Assert.True(r.ExitCode == 0, r.ToString());
        // systemd 252 runs ExecReload (kill -HUP) and then waits in "reloading" for our READY=1 after RELOADING=1
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < until && (_c.Show("ActiveState") != "active" ||
               Journal().Count(e => e.Message.GetProperty("@e").GetString() == "ConfigReloaded") == reloadsBefore))
            Thread.Sleep(100);
        Assert.Equal("active", _c.Show("ActiveState"));
        Assert.Contains("Chain FORWARD (policy DROP", _c.Exec("fwctl", "rules").Stdout);
        Assert.Equal(before, _c.Exec("fwctl", "conntrack", "-C").Stdout.Trim());
        var reloaded = LastEvent("ConfigReloaded").Message;
        Assert.Equal(1, reloaded.GetProperty("Rules").GetInt32());
        Assert.Equal(2, reloaded.GetProperty("Entries").GetInt32());
        WriteConfig(_c, "\"Rules\": { \"Filter\": { \"Forward\": { \"Policy\": \"ACCEPT\" } } }");
    }

    [Fact]
    public void Stop_IsCleanAndSavesTheTable_AndStartRestoresIt()
    {
        StartFresh();
        var stop = _c.Exec("systemctl", "stop", "firewall-daemon");
        Assert.Equal(0, stop.ExitCode);
        Assert.Equal("inactive", _c.Show("ActiveState"));
        Assert.Equal("success", _c.Show("Result"));
        Assert.Equal(2, LastEvent("StateSaved").Message.GetProperty("Entries").GetInt32());
        Assert.Equal(0, _c.Exec("systemctl", "start", "firewall-daemon").ExitCode);
        Assert.Equal(2, LastEvent("StateRestored").Message.GetProperty("Entries").GetInt32());
    }

    [Fact]
    public void TheJournal_HoldsStructuredEventsWithTheirPriority()
    {
        StartFresh();
        var events = Journal();
        var started = events.Last(e => e.Message.GetProperty("@e").GetString() == "DaemonStarted");
        Assert.Equal("6", started.Entry.GetProperty("PRIORITY").GetString());
        Assert.Equal("replay", started.Message.GetProperty("DataPath").GetString());
        Assert.True(started.Message.TryGetProperty("TableMax", out _));
        Assert.Contains(events, e => e.Message.GetProperty("@e").GetString() == "ControlSocketListening");
        Assert.All(events, e => Assert.True(e.Message.TryGetProperty("@t", out _) && e.Message.TryGetProperty("@l", out _)));
    }

    [Fact]
    public void AUserOutsideTheGroup_CannotUseTheSocket_AMemberCan()
    {
        StartFresh();
        _c.Exec("useradd", "--no-create-home", "outsider");
        _c.Exec("useradd", "--no-create-home", "-G", "firewall-daemon", "member");
        var outsider = _c.Exec("setpriv", "--reuid=outsider", "--regid=outsider", "--init-groups", "fwctl", "conntrack", "-C");
        Assert.NotEqual(0, outsider.ExitCode);
        Assert.Contains("ermission denied", outsider.Stderr);
        var member = _c.Exec("setpriv", "--reuid=member", "--regid=member", "--init-groups", "fwctl", "conntrack", "-C");
        Assert.True(member.ExitCode == 0, member.ToString());
        Assert.Equal("2", member.Stdout.Trim());
    }
}
