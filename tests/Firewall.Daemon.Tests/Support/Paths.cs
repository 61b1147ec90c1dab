namespace Firewall.Daemon.Tests.Support;

/// <summary>Where the built daemon and fwctl are (same configuration as these tests).</summary>
public static class Paths
{
    public static string RepoRoot { get; } = FindRepo();

    private static string FindRepo()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Firewall.Daemon.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root (Firewall.Daemon.sln) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Debug or Release: whatever these tests were built as.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string DaemonDir => Path.Combine(RepoRoot, "src", "Firewall.Daemon", "bin", Configuration, "net10.0");
    public static string CliDir => Path.Combine(RepoRoot, "src", "Firewall.Cli", "bin", Configuration, "net10.0");
    public static string DaemonDll => Path.Combine(DaemonDir, "firewall-daemon.dll");
    public static string FwctlDll => Path.Combine(CliDir, "fwctl.dll");

    public static string Dotnet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p
        : File.Exists("/usr/share/dotnet/dotnet") ? "/usr/share/dotnet/dotnet" : "dotnet";

    /// <summary>A fresh directory under /tmp (0755), removed by the caller.</summary>
    public static string TempDir(string tag)
    {
        string d = Path.Combine("/tmp", $"fwd-{tag}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(d);
        File.SetUnixFileMode(d, (UnixFileMode)0x1ED);
        return d;
    }

    public static void RequireRoot(string what)
    {
        if (Environment.UserName != "root" && Firewall.Native.Unix.UnixAccounts.EffectiveUserId != 0)
            throw new InvalidOperationException($"{what} needs root (run the tests as root)");
    }

    public static string RequireTool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException($"this test needs the tool `{name}` (not found on PATH)");
    }
}
