using Firewall.Daemon.Tests.Support;

namespace Firewall.Daemon.Tests;

/// <summary>fwctl against a running daemon: listings in the conntrack tool's formats, actions, and who may connect.</summary>
public sealed class ControlSocketTests : IDisposable
{
    private readonly DaemonSetup _s = new("ctl");

    public ControlSocketTests()
    {
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
    }

    public void Dispose() => _s.Dispose();

    [Fact]
    public void List_PrintsConntrackLinesAndTheSummaryOnStderr()
    {
        using var d = _s.Start();
        var r = Proc.Fwctl(_s.Socket, "conntrack", "-L");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("tcp      6 ", StringComparison.Ordinal) &&
            l.Contains(" ESTABLISHED src=198.18.10.2 dst=198.18.20.2 sport=40000 dport=80 src=198.18.20.2 dst=198.18.10.2 sport=80 dport=40000 [ASSURED] mark=0 use=1"));
        Assert.Contains(lines, l => l.StartsWith("udp      17 ", StringComparison.Ordinal) && l.EndsWith("sport=53 dport=5000 mark=0 use=1", StringComparison.Ordinal));
        Assert.Equal("fwctl (firewall-daemon): 2 flow entries have been shown.", r.Stderr.Trim());
    }

    [Fact]
    public void ListFilters_SelectByProtocolAndPort()
    {
        using var d = _s.Start();
        var udp = Proc.Fwctl(_s.Socket, "conntrack", "-L", "-p", "udp");
        Assert.Single(udp.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("udp ", udp.Stdout);
        var port = Proc.Fwctl(_s.Socket, "conntrack", "-L", "--dport", "80", "-s", "198.18.10.0/24");
        Assert.StartsWith("tcp ", port.Stdout);
        var none = Proc.Fwctl(_s.Socket, "conntrack", "-L", "-f", "ipv6");
        Assert.Equal("", none.Stdout);
        Assert.Contains("0 flow entries have been shown.", none.Stderr);
    }

    [Fact]
    public void ProcAndExtendedFormats_CarryTheLayer3Prefix()
    {
        using var d = _s.Start();
        var proc = Proc.Fwctl(_s.Socket, "conntrack", "-L", "--proc", "-p", "tcp");
        Assert.StartsWith("ipv4     2 tcp      6 ", proc.Stdout);
        Assert.EndsWith("mark=0 zone=0 use=2", proc.Stdout.TrimEnd());
        var ext = Proc.Fwctl(_s.Socket, "conntrack", "-L", "-o", "extended", "-p", "tcp");
        Assert.StartsWith("ipv4     2 tcp      6 ", ext.Stdout);
        Assert.EndsWith("mark=0 use=1", ext.Stdout.TrimEnd());
    }

    [Fact]
    public void CountStatsDeleteAndFlush_ActOnTheTable()
    {
        using var d = _s.Start();
        Assert.Equal("2", Proc.Fwctl(_s.Socket, "conntrack", "-C").Stdout.Trim());
        var stats = Proc.Fwctl(_s.Socket, "conntrack", "-S").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(stats);
        Assert.All(stats, l => Assert.Matches(@"^cpu=\d+\s*\tfound=\d+ invalid=\d+ insert=\d+ insert_failed=\d+ drop=\d+ early_drop=\d+ error=\d+ search_restart=\d+ clash_resolve=\d+ chaintoolong=\d+ $", l));
        var del = Proc.Fwctl(_s.Socket, "conntrack", "-D", "-p", "udp");
        Assert.Contains("1 flow entries have been deleted.", del.Stderr);
        Assert.Equal("1", Proc.Fwctl(_s.Socket, "conntrack", "-C").Stdout.Trim());
        var flush = Proc.Fwctl(_s.Socket, "conntrack", "-F");
        Assert.Contains("connection tracking table has been emptied.", flush.Stderr);
        Assert.Equal("0", Proc.Fwctl(_s.Socket, "conntrack", "-C").Stdout.Trim());
    }

    [Fact]
    public void Events_ShowTheDestroyOfADeletedEntry()
    {
        using var d = _s.Start();
        using var listener = new DaemonlessProcess(Paths.Dotnet, ["exec", Paths.FwctlDll, "--socket", _s.Socket, "conntrack", "-E"]);
        Thread.Sleep(800); // the listener subscribes
        Proc.Fwctl(_s.Socket, "conntrack", "-D", "-p", "tcp");
        string line = listener.WaitForLine(l => l.StartsWith("[DESTROY] tcp", StringComparison.Ordinal));
        Assert.Contains("src=198.18.10.2 dst=198.18.20.2 sport=40000 dport=80", line);
    }

    /// <summary>With no listener the event pump sleeps; a listener that comes later wakes it again.</summary>
    [Fact]
    public void Events_AfterTheFirstListenerLeft_ReachTheNextListener()
    {
        using var d = _s.Start();
        using (var first = new DaemonlessProcess(Paths.Dotnet, ["exec", Paths.FwctlDll, "--socket", _s.Socket, "conntrack", "-E"]))
        {
            Thread.Sleep(800);
            Proc.Fwctl(_s.Socket, "conntrack", "-D", "-p", "tcp");
            first.WaitForLine(l => l.StartsWith("[DESTROY] tcp", StringComparison.Ordinal));
        }
        Thread.Sleep(500); // the first listener's subscription ends with its connection
        using var second = new DaemonlessProcess(Paths.Dotnet, ["exec", Paths.FwctlDll, "--socket", _s.Socket, "conntrack", "-E"]);
        Thread.Sleep(800);
        Proc.Fwctl(_s.Socket, "conntrack", "-D", "-p", "udp");
        string line = second.WaitForLine(l => l.StartsWith("[DESTROY] udp", StringComparison.Ordinal));
        Assert.Contains("dst=198.18.20.2", line);
    }

    [Fact]
    public void ExpectList_ShowsTheSummary()
    {
        using var d = _s.Start();
        var r = Proc.Fwctl(_s.Socket, "conntrack", "-L", "expect");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("0 expectations have been shown.", r.Stderr);
    }

    [Fact]
    public void Rules_ListWithCountersAndSaveForm()
    {
        _s.WriteConfig(DaemonSetup.DropNewRules);
        using var d = _s.Start();
        var list = Proc.Fwctl(_s.Socket, "rules");
        Assert.Contains("Chain FORWARD (policy DROP", list.Stdout);
        Assert.Matches(@"\n\s+\d+\s+\d+ ACCEPT     all  --  \*      \*       0\.0\.0\.0/0\s+0\.0\.0\.0/0\s+ctstate RELATED,ESTABLISHED", list.Stdout);
        var save = Proc.Fwctl(_s.Socket, "rules", "--save");
        Assert.Contains(":FORWARD DROP", save.Stdout);
        Assert.Contains("-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", save.Stdout);
        Assert.Contains("COMMIT", save.Stdout);
    }

    [Fact]
    public void Status_ReportsTheDataPathTableAndState()
    {
        using var d = _s.Start();
        var r = Proc.Fwctl(_s.Socket, "status");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("conntrack: 2 entries", r.Stdout);
        Assert.Contains("data path: replay", r.Stdout);
        Assert.Contains("packet path: healthy", r.Stdout);
        Assert.Matches(@"memory: \d+ MB resident, GC heap \d+ MB, collections gen0 \d+ gen1 \d+ gen2 \d+, pause \d+\.\d ms in all", r.Stdout);
    }

    [Fact]
    public void NoDaemon_FwctlSaysSoAndFails()
    {
        var r = Proc.Fwctl(Path.Combine(_s.Dir, "absent.sock"), "conntrack", "-L");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("cannot connect", r.Stderr);
    }
}

/// <summary>Who may use the socket: root and the group; everybody else is refused (file mode, then SO_PEERCRED).</summary>
public sealed class ControlSocketPermissionTests : IDisposable
{
    private readonly DaemonSetup _s = new("perm");
    private readonly string _group = "fwt" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "x" + Random.Shared.Next(100, 999);
    private uint _gid;

    public ControlSocketPermissionTests()
    {
        Paths.RequireRoot("the control socket permission tests (setpriv to another uid, groupadd)");
        Paths.RequireTool("setpriv");
        Proc.Run(Paths.RequireTool("groupadd"), [_group]).ExitCode.ToString();
        _gid = Firewall.Native.Unix.UnixAccounts.TryGetGroupId(_group) ?? throw new InvalidOperationException($"groupadd {_group} failed");
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
        File.WriteAllText(_s.Config, File.ReadAllText(_s.Config).Replace("\"Group\": \"root\"", $"\"Group\": \"{_group}\""));
    }

    public void Dispose()
    {
        Proc.Run(Paths.RequireTool("groupdel"), [_group]);
        _s.Dispose();
    }

    private ProcResult FwctlAs(uint uid, uint gid, string groups, params string[] args) =>
        Proc.Run(Paths.RequireTool("setpriv"),
            [$"--reuid={uid}", $"--regid={gid}", groups.Length == 0 ? "--clear-groups" : $"--groups={groups}", "--",
             Paths.Dotnet, "exec", Paths.FwctlDll, "--socket", _s.Socket, .. args],
            TimeSpan.FromSeconds(30), new Dictionary<string, string?> { ["HOME"] = "/tmp", ["DOTNET_CLI_HOME"] = "/tmp" });

    [Fact]
    public void Socket_IsMode0660WithTheControlGroup()
    {
        using var d = _s.Start();
        var mode = File.GetUnixFileMode(_s.Socket);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, mode);
        var stat = Proc.Run("/usr/bin/stat", ["-c", "%g", _s.Socket]);
        Assert.Equal(_gid.ToString(System.Globalization.CultureInfo.InvariantCulture), stat.Stdout.Trim());
    }

    [Fact]
    public void AUserOutsideTheGroup_IsRefusedByThePermissions()
    {
        using var d = _s.Start();
        var r = FwctlAs(65534, 65534, "", "conntrack", "-L");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ermission denied", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void AUserOutsideTheGroup_IsRefusedByThePeerCheckEvenIfTheFileWereOpen()
    {
        using var d = _s.Start();
        File.SetUnixFileMode(_s.Socket, (UnixFileMode)0x1B6); // 0666: only SO_PEERCRED stands in the way now
        var r = FwctlAs(65534, 65534, "", "conntrack", "-L");
        Assert.Equal(13, r.ExitCode);
        Assert.Contains("permission denied: uid 65534", r.Stderr);
        Assert.Equal("", r.Stdout);
        d.WaitForEvent("ControlRefused", where: e => e.GetProperty("PeerUid").GetInt32() == 65534);
    }

    [Fact]
    public void AMemberOfTheGroup_IsServed()
    {
        using var d = _s.Start();
        var r = FwctlAs(65534, 65534, _gid.ToString(System.Globalization.CultureInfo.InvariantCulture), "conntrack", "-C");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("2", r.Stdout.Trim());
    }
}
