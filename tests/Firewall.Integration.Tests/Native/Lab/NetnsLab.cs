namespace Firewall.Integration.Tests.Native.Lab;

/// <summary>
/// Network namespaces and links with a unique per-run prefix (names ≤ 15 chars), all deleted on Dispose —
/// links die with their namespace, so only namespaces need deleting.
/// </summary>
internal sealed class NetnsLab : IDisposable
{
    private readonly List<string> _namespaces = [];

    public NetnsLab()
    {
        Tool.RequireRoot();
        IpPath = Tool.Find("ip", "iproute2");
        Prefix = "fn" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
    }

    /// <summary>8 characters: "fn" + 6 hex digits. Add at most 7 more.</summary>
    public string Prefix { get; }

    public string IpPath { get; }

    /// <summary>A per-run interface name.</summary>
    public string Name(string suffix)
    {
        string name = Prefix + suffix;
        if (name.Length > 15) throw new ArgumentException($"'{name}' is longer than 15 characters");
        return name;
    }

    /// <summary>Creates namespace Prefix+suffix with lo up; returns its name.</summary>
    public string AddNamespace(string suffix)
    {
        string name = Name(suffix);
        Tool.Check(IpPath, $"netns add {name}");
        _namespaces.Add(name);
        Ip($"-n {name} link set lo up");
        return name;
    }

    /// <summary>A veth pair, both ends up, each end created directly in its namespace (nothing touches the root netns).</summary>
    public void AddVeth(string nsA, string nameA, string nsB, string nameB)
    {
        Ip($"link add {nameA} netns {nsA} type veth peer name {nameB} netns {nsB}");
        Ip($"-n {nsA} link set {nameA} up");
        Ip($"-n {nsB} link set {nameB} up");
    }

    /// <summary>Runs a test fixture's set-up; on failure deletes what was made (xunit skips Dispose when a constructor throws).</summary>
    public void Setup(Action build)
    {
        try
        {
            build();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Ip(string commandLine) => Tool.Check(IpPath, commandLine);

    /// <summary>ip netns exec ns command... ; returns the raw result (no throw).</summary>
    public Tool.Result Exec(string ns, string commandLine, int timeoutMilliseconds = 15000) =>
        Tool.Run(IpPath, ["netns", "exec", ns, .. commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)], timeoutMilliseconds);

    public string ExecChecked(string ns, string commandLine)
    {
        Tool.Result r = Exec(ns, commandLine);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"in {ns}: '{commandLine}' failed ({r.ExitCode}): {r.Error.Trim()} {r.Output.Trim()}");
        return r.Output;
    }

    public void Dispose()
    {
        List<string> failures = [];
        foreach (string ns in _namespaces)
        {
            Tool.Result r = Tool.Run(IpPath, ["netns", "del", ns]);
            if (r.ExitCode != 0) failures.Add($"{ns}: {r.Error.Trim()}");
        }
        _namespaces.Clear();
        if (failures.Count > 0) throw new InvalidOperationException("could not delete namespaces: " + string.Join("; ", failures));
    }
}
