using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;
using R = Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// A routed topology with the daemon started on its router from <c>config</c> (which may also prepare the topology)
/// and the servers <see cref="RoutedPolicyTests"/> talks to on both hosts.
/// </summary>
public abstract class RoutedDaemonFixture(Func<R, JsonObject> config) : DaemonFixture<R>(CreateTopology(), t => Start(t, config))
{
    private static R CreateTopology()
    {
        NetLab.RequireTools("curl", "socat", "ping", "tcpdump", "iperf3", "dotnet");
        return R.Create();
    }

    private static DaemonProcess Start(R t, Func<R, JsonObject> config)
    {
        var daemon = DaemonProcess.Start(t.Lab, t.Router, config(t));
        Traffic.StartServers(t.Lab, t.Server, RoutedPolicyTests.HttpPort, RoutedPolicyTests.BannerPort, "banner-server");
        Traffic.StartServers(t.Lab, t.Client, RoutedPolicyTests.HttpPort, RoutedPolicyTests.BannerPort, "banner-client");
        return daemon;
    }
}

/// <summary>
/// The seed policy on a routed topology (client — daemon on the router — server), the same for every routed data path
/// (NFQUEUE, TUN): the client's connections and pings are answered, nothing from the server gets in, INVALID is dropped.
/// The fixture starts an HTTP server on <see cref="HttpPort"/> and a banner on <see cref="BannerPort"/> on both hosts.
/// </summary>
public abstract class RoutedPolicyTests(R t)
{
    public const int HttpPort = 80;
    public const int BannerPort = 22;

    private NetLab Lab => t.Lab;
    private static string Server(bool v6) => v6 ? R.ServerV6 : R.ServerV4;
    private static string Client(bool v6) => v6 ? R.ClientV6 : R.ClientV4;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClientOpensHttp_GetsAnswer(bool v6)
    {
        Assert.Equal("200", Traffic.Http(Lab, t.Client, Server(v6), HttpPort).Status);
        Assert.Equal("banner-server", Traffic.TcpBanner(Lab, t.Client, Server(v6), BannerPort));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ServerCannotConnectToClient(bool v6)
    {
        var (status, exit) = Traffic.Http(Lab, t.Server, Client(v6), HttpPort, timeoutSeconds: 2);
        Assert.Equal("000", status);
        Assert.Equal(28, exit);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PingFromClient_IsAnswered(bool v6) => Assert.Equal(3, Traffic.Ping(Lab, t.Client, Server(v6)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PingFromServer_IsDropped(bool v6) => Assert.Equal(0, Traffic.Ping(Lab, t.Server, Client(v6)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InvalidFromClient_IsDropped_ValidSynPasses(bool v6)
    {
        using var capture = PacketCapture.Start(Lab, t.Server, t.ServerLink, "tcp portrange 40405-40406");
        string ip = BridgeDataPathTests.Ip(v6, Client(v6), Server(v6));
        Traffic.Scapy(Lab, t.Client,
            $"send({ip}/TCP(sport=40405, dport=9, flags='SF'), count=3, inter=0.02)\n" +
            $"send({ip}/TCP(sport=40406, dport=9, flags='S'))");
        string[] seen = capture.Stop();
        Assert.Single(seen);
        Assert.Contains(".40406 >", seen[0]);
    }
}
