namespace Firewall.Integration.Tests.Native.Lab;

/// <summary>
/// client (198.18.1.2) — router (198.18.1.1 | 198.18.2.1, ip_forward) — server (198.18.2.2), each in its own namespace.
/// </summary>
internal sealed class RouterLab : IDisposable
{
    public const string ClientAddress = "198.18.1.2";
    public const string ServerAddress = "198.18.2.2";

    public RouterLab()
    {
        Lab = new NetnsLab();
        try
        {
            IptablesPath = FindIptables();
            PingPath = Tool.Find("ping", "iputils-ping");
            Client = Lab.AddNamespace("c");
            Router = Lab.AddNamespace("r");
            Server = Lab.AddNamespace("s");
            RouterClientSide = Lab.Name("rc");
            RouterServerSide = Lab.Name("rs");
            Lab.AddVeth(Client, Lab.Name("c0"), Router, RouterClientSide);
            Lab.AddVeth(Server, Lab.Name("s0"), Router, RouterServerSide);
            Lab.Ip($"-n {Client} addr add {ClientAddress}/24 dev {Lab.Name("c0")}");
            Lab.Ip($"-n {Client} route add default via 198.18.1.1");
            Lab.Ip($"-n {Server} addr add {ServerAddress}/24 dev {Lab.Name("s0")}");
            Lab.Ip($"-n {Server} route add default via 198.18.2.1");
            Lab.Ip($"-n {Router} addr add 198.18.1.1/24 dev {RouterClientSide}");
            Lab.Ip($"-n {Router} addr add 198.18.2.1/24 dev {RouterServerSide}");
            Lab.ExecChecked(Router, "sysctl -q -w net.ipv4.ip_forward=1");
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    public NetnsLab Lab { get; }
    public string Client { get; }
    public string Router { get; }
    public string Server { get; }
    public string RouterClientSide { get; }
    public string RouterServerSide { get; }
    public string IptablesPath { get; }
    public string PingPath { get; }

    /// <summary>iptables-legacy when present (what the feasibility probe used), else iptables (nft with xt compat).</summary>
    private static string FindIptables()
    {
        try
        {
            return Tool.Find("iptables-legacy", "iptables");
        }
        catch (InvalidOperationException)
        {
            return Tool.Find("iptables", "iptables");
        }
    }

    public void Iptables(string ns, string rule) => Lab.ExecChecked(ns, $"{IptablesPath} -w {rule}");

    /// <summary>Queues forwarded ICMP of the router to the given queue (no --queue-bypass: unbound = blackhole).</summary>
    public void QueueForwardedIcmp(ushort queue) => Iptables(Router, $"-A FORWARD -p icmp -j NFQUEUE --queue-num {queue}");

    /// <summary>Pings the server from the client; true when at least one reply came back.</summary>
    public bool Ping(int count, double intervalSeconds = 0.2, int waitSeconds = 1) =>
        Lab.Exec(Client, $"{PingPath} -n -q -c {count} -i {intervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} -W {waitSeconds} {ServerAddress}", 30000).ExitCode == 0;

    public void Dispose() => Lab.Dispose();
}
