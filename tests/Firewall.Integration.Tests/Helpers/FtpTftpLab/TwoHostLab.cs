namespace Firewall.Integration.Tests.Helpers.FtpTftpLab;

/// <summary>
/// Two network namespaces, "client" and "server", joined by one veth pair, with IPv4 and IPv6 addresses:
/// client 198.18.0.1/24 and 2001:db8:f7::1/64, server 198.18.0.2/24 and 2001:db8:f7::2/64 (IPv6 without DAD so the
/// addresses work at once). Names carry a per-run prefix ("fh" + 6 hex digits, ≤ 15 chars with suffixes); Dispose
/// deletes both namespaces (the veth pair goes with them), even when a test failed.
/// For a firewall in the middle, the lead can build client — fw — server instead and reuse the servers and clients,
/// which only need a namespace name and addresses.
/// </summary>
public sealed class TwoHostLab : IDisposable
{
    public const string Client4 = "198.18.0.1", Server4 = "198.18.0.2";
    public const string Client6 = "2001:db8:f7::1", Server6 = "2001:db8:f7::2";

    private readonly List<string> _namespaces = [];

    public TwoHostLab()
    {
        LabTool.RequireRoot();
        IpPath = LabTool.Find("ip", "iproute2");
        Prefix = "fh" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
        try
        {
            ClientNs = AddNamespace("c");
            ServerNs = AddNamespace("s");
            string a = Prefix + "a", b = Prefix + "b";
            LabTool.Check(IpPath, "link", "add", a, "netns", ClientNs, "type", "veth", "peer", "name", b, "netns", ServerNs);
            Configure(ClientNs, a, Client4, Client6);
            Configure(ServerNs, b, Server4, Server6);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Prefix { get; }
    public string IpPath { get; }
    public string ClientNs { get; } = "";
    public string ServerNs { get; } = "";

    /// <summary>Runs a command inside <paramref name="ns"/> (no shell).</summary>
    public LabTool.Result Exec(string ns, string file, IReadOnlyList<string> args, int timeoutMilliseconds = 20000, string? workingDirectory = null) =>
        LabTool.Run(IpPath, ["netns", "exec", ns, file, .. args], timeoutMilliseconds, workingDirectory);

    /// <summary>Starts a server process inside <paramref name="ns"/>.</summary>
    public LabServer StartServer(string name, string ns, string file, IEnumerable<string> args) => new(name, IpPath, ns, file, args);

    /// <summary>True when something in <paramref name="ns"/> listens on <paramref name="port"/> (TCP or UDP).</summary>
    public bool IsListening(string ns, int port, bool udp)
    {
        LabTool.Result r = LabTool.Run(IpPath, ["netns", "exec", ns, "ss", "-H", udp ? "-lun" : "-ltn", $"sport = :{port}"]);
        return r.ExitCode == 0 && r.Output.Trim().Length > 0;
    }

    private string AddNamespace(string suffix)
    {
        string name = Prefix + suffix;
        LabTool.Check(IpPath, "netns", "add", name);
        _namespaces.Add(name);
        LabTool.Check(IpPath, "-n", name, "link", "set", "lo", "up");
        return name;
    }

    private void Configure(string ns, string dev, string v4, string v6)
    {
        LabTool.Check(IpPath, "-n", ns, "addr", "add", v4 + "/24", "dev", dev);
        LabTool.Check(IpPath, "-n", ns, "-6", "addr", "add", v6 + "/64", "dev", dev, "nodad");
        LabTool.Check(IpPath, "-n", ns, "link", "set", dev, "up");
    }

    public void Dispose()
    {
        List<string> failures = [];
        foreach (string ns in _namespaces)
        {
            LabTool.Result r = LabTool.Run(IpPath, ["netns", "del", ns]);
            if (r.ExitCode != 0) failures.Add($"{ns}: {r.Error.Trim()}");
        }
        _namespaces.Clear();
        if (failures.Count > 0) throw new InvalidOperationException("could not delete namespaces: " + string.Join("; ", failures));
    }
}
