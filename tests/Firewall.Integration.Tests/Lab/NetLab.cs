using System.Globalization;
using System.Security.Cryptography;

namespace Firewall.Integration.Tests.Lab;

/// <summary>
/// Network namespaces for real-traffic tests. Every namespace and link name starts with a random
/// per-run prefix (names stay ≤ 15 characters), veth pairs are created directly inside the
/// namespaces (nothing appears in the caller's namespace), and <see cref="Dispose"/> removes
/// everything — processes first (by PID), then the namespaces — even after a failed test.
/// Only addresses from 198.18.0.0/15 and 2001:db8::/32 are accepted.
/// </summary>
public sealed class NetLab : IDisposable
{
    /// <summary>Linux IFNAMSIZ - 1; also kept for namespace names so they can double as link names.</summary>
    public const int MaxNameLength = 15;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly string[] SearchDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    private readonly List<string> _namespaces = [];
    private readonly List<LabProcess> _processes = [];
    private readonly object _gate = new();
    private readonly string _ip;
    private bool _disposed;

    /// <summary>Random prefix of this lab ("fw" + 5 lowercase letters/digits), shared by all its names.</summary>
    public string Prefix { get; }

    public IReadOnlyList<string> Namespaces { get { lock (_gate) return _namespaces.ToArray(); } }

    private NetLab(string prefix)
    {
        Prefix = prefix;
        _ip = ResolveTool("ip");
    }

    /// <summary>Creates an empty lab. Fails with a message naming what is missing when not root or without iproute2.</summary>
    public static NetLab Create()
    {
        RequireRoot();
        RequireTools("ip");
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        Span<char> c = stackalloc char[5];
        for (int i = 0; i < c.Length; i++) c[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        return new NetLab("fw" + new string(c));
    }

    // ---------------------------------------------------------------- requirements

    public static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("This test needs root (network namespaces, iptables, raw sockets); run it as root.");
    }

    /// <summary>Absolute path of a tool found on PATH or in the usual sbin/bin directories, or null.</summary>
    public static string? FindTool(string name)
    {
        if (name.Contains('/')) return File.Exists(name) ? name : null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SearchDirs))
        {
            var full = Path.Combine(dir, name);
            if (File.Exists(full)) return full;
        }
        return null;
    }

    public static string ResolveTool(string name) =>
        FindTool(name) ?? throw new InvalidOperationException(
            $"Required tool '{name}' was not found on PATH or in /usr/sbin, /usr/bin, /sbin, /bin. Install it (see PKGS in test.sh).");

    /// <summary>Throws one message naming every missing tool.</summary>
    public static void RequireTools(params string[] names)
    {
        var missing = names.Where(n => FindTool(n) is null).ToArray();
        if (missing.Length > 0)
            throw new InvalidOperationException(
                $"Required tool(s) missing: {string.Join(", ", missing)}. Install them (Debian: see PKGS in test.sh, e.g. apt-get install iproute2 iptables tcpdump ethtool socat curl iputils-ping).");
    }

    /// <summary>The system Python with scapy. Python on PATH may be a pyenv without scapy, so only /usr/bin/python3 is used.</summary>
    public const string SystemPython = "/usr/bin/python3";

    public static void RequireScapy()
    {
        if (!File.Exists(SystemPython))
            throw new InvalidOperationException($"{SystemPython} is missing; install the Debian packages python3 and python3-scapy.");
        using var p = LabProcess.Start(SystemPython, ["-c", "import scapy.layers.inet, scapy.layers.inet6, scapy.layers.sctp"]);
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)) || p.ExitCode != 0)
            throw new InvalidOperationException(
                $"{SystemPython} cannot import scapy; install the Debian package python3-scapy. {p.Stderr.Trim()}");
    }

    /// <summary>iptables-legacy when present (the flavour the lab recipes use), else iptables.</summary>
    public static string Iptables => FindTool("iptables-legacy") ?? ResolveTool("iptables");
    public static string Ip6tables => FindTool("ip6tables-legacy") ?? ResolveTool("ip6tables");

    // ---------------------------------------------------------------- building

    /// <summary>Full name for a role: prefix + role (e.g. "fwab12c" + "cli").</summary>
    public string Name(string role)
    {
        var name = Prefix + role;
        if (name.Length > MaxNameLength || role.Length == 0 || role.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '-'))
            throw new ArgumentException($"Role '{role}' gives the name '{name}': names must be ≤ {MaxNameLength} characters of [a-z0-9-].", nameof(role));
        return name;
    }

    /// <summary>
    /// Lays the lab out with <paramref name="build"/> and returns what it returns; when it throws, the lab is deleted
    /// before the exception goes on (xunit never disposes a test class whose constructor threw).
    /// </summary>
    public T Build<T>(Func<NetLab, T> build)
    {
        try
        {
            return build(this);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Creates namespace prefix+role with loopback up; returns its name.</summary>
    public string AddNamespace(string role)
    {
        ThrowIfDisposed();
        var ns = Name(role);
        RunHost(_ip, "netns", "add", ns).ThrowIfFailed();
        lock (_gate) _namespaces.Add(ns);
        Run(ns, _ip, "link", "set", "lo", "up").ThrowIfFailed();
        return ns;
    }

    /// <summary>
    /// Creates a veth pair with one end in each namespace (created there directly) and brings both up (unless
    /// <paramref name="up"/> is false). Link names are prefix+role. MACs are optional ("02:…" locally administered).
    /// Returns the two link names.
    /// </summary>
    public (string A, string B) AddVethPair(string nsA, string roleA, string nsB, string roleB, string? macA = null, string? macB = null, bool up = true)
    {
        string a = Name(roleA), b = Name(roleB);
        var args = new List<string> { "link", "add", a, "netns", nsA };
        if (macA is not null) { args.Add("address"); args.Add(macA); }
        args.AddRange(["type", "veth", "peer", "name", b, "netns", nsB]);
        if (macB is not null) { args.Add("address"); args.Add(macB); }
        RunHost(_ip, [.. args]).ThrowIfFailed();
        if (up)
        {
            Run(nsA, _ip, "link", "set", a, "up").ThrowIfFailed();
            Run(nsB, _ip, "link", "set", b, "up").ThrowIfFailed();
        }
        return (a, b);
    }

    /// <summary>Adds an address (CIDR). IPv6 addresses get <c>nodad</c> so they are usable at once.</summary>
    public void AddAddress(string ns, string link, string cidr)
    {
        CheckLabAddress(cidr);
        if (cidr.Contains(':')) Run(ns, _ip, "-6", "addr", "add", cidr, "dev", link, "nodad").ThrowIfFailed();
        else Run(ns, _ip, "addr", "add", cidr, "dev", link).ThrowIfFailed();
    }

    /// <summary>Adds a route (<paramref name="destination"/> may be "default").</summary>
    public void AddRoute(string ns, string destination, string via)
    {
        CheckLabAddress(via);
        Run(ns, _ip, via.Contains(':') ? "-6" : "-4", "route", "add", destination, "via", via).ThrowIfFailed();
    }

    /// <summary>Adds a permanent neighbour (ARP / NDP) entry so no resolution traffic appears in captures.</summary>
    public void AddNeighbor(string ns, string link, string address, string mac)
    {
        CheckLabAddress(address);
        Run(ns, _ip, "neigh", "replace", address, "lladdr", mac, "dev", link, "nud", "permanent").ThrowIfFailed();
    }

    public void SetSysctl(string ns, string key, string value) =>
        Run(ns, ResolveTool("sysctl"), "-qw", $"{key}={value}").ThrowIfFailed();

    public string GetSysctl(string ns, string key) =>
        Run(ns, ResolveTool("sysctl"), "-n", key).ThrowIfFailed().Stdout.Trim();

    /// <summary>Switches off offloads on a link (e.g. "tx", "tso", "gso", "gro"): with tx off, captured packets carry complete checksums.</summary>
    public void DisableOffloads(string ns, string link, params string[] features)
    {
        var args = new List<string> { "-K", link };
        foreach (var f in features) { args.Add(f); args.Add("off"); }
        Run(ns, ResolveTool("ethtool"), [.. args]).ThrowIfFailed();
    }

    private static void CheckLabAddress(string cidr)
    {
        var addr = cidr.Split('/')[0];
        if (!System.Net.IPAddress.TryParse(addr, out var ip))
            throw new ArgumentException($"'{cidr}' is not an IP address.");
        bool ok = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? ip.GetAddressBytes() is [198, 18 or 19, ..]
            : ip.GetAddressBytes() is [0x20, 0x01, 0x0d, 0xb8, ..] || ip.IsIPv6LinkLocal;
        if (!ok) throw new ArgumentException($"Lab addresses must be in 198.18.0.0/15 or 2001:db8::/32 (got {cidr}).");
    }

    // ---------------------------------------------------------------- running

    /// <summary>Runs a command in <paramref name="ns"/> (<c>ip netns exec</c>) with the default timeout and returns its result (never throws on failure).</summary>
    public CommandResult Run(string ns, string file, params string[] args) => Run(ns, DefaultTimeout, file, args);

    public CommandResult Run(string ns, TimeSpan timeout, string file, params string[] args) => Run(ns, timeout, file, args, input: null);

    /// <summary>Runs a command in <paramref name="ns"/>, writing <paramref name="input"/> (when not null) to its stdin and then closing it.</summary>
    public CommandResult Run(string ns, TimeSpan timeout, string file, IReadOnlyList<string> args, string? input)
    {
        ThrowIfDisposed();
        return RunLocal(_ip, ["netns", "exec", ns, ResolveTool(file), .. args], timeout, input);
    }

    /// <summary>Runs a command in the test's own namespace (used only for <c>ip netns add/del</c> and <c>ip link add … netns</c>).</summary>
    private CommandResult RunHost(string file, params string[] args) => RunLocal(file, args, DefaultTimeout);

    /// <summary>Runs a command in the caller's own namespace (for read-only helpers; lab changes go through <see cref="Run(string, string, string[])"/>).</summary>
    public static CommandResult RunLocal(string file, IReadOnlyList<string> args, TimeSpan timeout, string? input = null)
    {
        using var p = LabProcess.Start(file, args, redirectStdin: input is not null);
        if (input is not null) p.CloseInput(input);
        bool done = p.WaitForExit(timeout);
        if (!done) p.Kill();
        return p.ToResult(!done);
    }

    /// <summary>
    /// Starts a long-running command in <paramref name="ns"/>. <c>ip netns exec</c> replaces itself with the
    /// command, so <see cref="LabProcess.Pid"/> is the command's own PID. Dispose ends it if the test did not.
    /// </summary>
    public LabProcess StartBackground(string ns, string file, params string[] args) => StartBackground(ns, false, file, args);

    public LabProcess StartBackground(string ns, bool redirectStdin, string file, params string[] args)
    {
        ThrowIfDisposed();
        var p = LabProcess.Start(_ip, ["netns", "exec", ns, ResolveTool(file), .. args], redirectStdin);
        lock (_gate) _processes.Add(p);
        return p;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; false on timeout.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (condition()) return true;
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(interval ?? TimeSpan.FromMilliseconds(25));
        }
    }

    /// <summary>Waits until something listens on <paramref name="port"/> (TCP or UDP) in <paramref name="ns"/>, on <paramref name="address"/> when given.</summary>
    public bool WaitForListener(string ns, int port, bool udp = false, string? address = null, TimeSpan? timeout = null)
    {
        string p = port.ToString(CultureInfo.InvariantCulture);
        string[] filter = address is null ? ["sport", "=", ":" + p]
            : ["src", (address.Contains(':') ? "[" + address + "]" : address) + ":" + p];
        return WaitUntil(() =>
        {
            var r = Run(ns, "ss", ["-Hn", udp ? "-ul" : "-tl", .. filter]);
            return r.Succeeded && r.Stdout.Trim().Length > 0;
        }, timeout ?? TimeSpan.FromSeconds(10));
    }

    // ---------------------------------------------------------------- teardown

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Ends every process this lab started (by PID), then any process still inside its namespaces (by PID), then deletes the namespaces.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        List<LabProcess> procs;
        List<string> namespaces;
        lock (_gate) { procs = [.. _processes]; namespaces = [.. _namespaces]; }
        foreach (var p in procs)
        {
            try { p.Dispose(); } catch (Exception) { /* keep tearing down */ }
        }
        foreach (var ns in namespaces)
        {
            try
            {
                // Anything still running inside our own namespace was started by this lab.
                var pids = RunLocal(_ip, ["netns", "pids", ns], DefaultTimeout);
                foreach (var line in pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                        RunLocal(ResolveTool("kill"), ["-s", "KILL", pid.ToString(CultureInfo.InvariantCulture)], DefaultTimeout);
            }
            catch (Exception) { /* keep tearing down */ }
        }
        foreach (var ns in namespaces)
        {
            try { RunLocal(_ip, ["netns", "del", ns], DefaultTimeout); }
            catch (Exception) { /* keep tearing down */ }
        }
    }
}
