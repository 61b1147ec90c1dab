using System.Text.Json.Nodes;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// The policy of issue 5 for the daemon: FORWARD DROP; ESTABLISHED,RELATED accepted; NEW accepted only to tcp/21,
/// udp/69 and (IPv4) tcp/6667 (plus untracked ICMPv6, i.e. neighbour discovery, on a bridge); with <c>helpers</c> the raw
/// table assigns the ftp, tftp and irc helpers (<c>-p tcp --dport 21 -j CT --helper ftp</c>, <c>-p udp --dport 69 -j CT
/// --helper tftp</c>, <c>-p tcp --dport 6667 -j CT --helper irc</c>; the kernel's irc helper is IPv4 only).
/// Nothing else lets a data connection through: it passes only if the helper made it RELATED.
/// </summary>
public static class HelperPolicy
{
    public static JsonObject Create(JsonObject dataPath, bool helpers)
    {
        var forward = new JsonArray
        {
            DaemonConfig.Rule("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
            new JsonObject { ["Protocol"] = "icmpv6", ["State"] = new JsonArray("UNTRACKED"), ["Action"] = "ACCEPT" },
            DaemonConfig.Rule("-p tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT"),
            DaemonConfig.Rule("-p udp --dport 69 -m conntrack --ctstate NEW -j ACCEPT"),
            DaemonConfig.Rule("-4 -p tcp --dport 6667 -m conntrack --ctstate NEW -j ACCEPT"),
        };
        var config = DaemonConfig.Create(dataPath, "DROP", forward);
        if (helpers)
            config["Firewall"]!["Rules"]!["Raw"] = new JsonObject
            {
                ["Prerouting"] = new JsonObject
                {
                    ["Rules"] = new JsonArray(
                        DaemonConfig.Rule("-p tcp --dport 21 -j CT --helper ftp"),
                        DaemonConfig.Rule("-p udp --dport 69 -j CT --helper tftp"),
                        DaemonConfig.Rule("-4 -p tcp --dport 6667 -j CT --helper irc")),
                },
            };
        return config;
    }
}

/// <summary>
/// A lab with the daemon inline between a client and a server running vsftpd and tftpd-hpa, under
/// <see cref="HelperPolicy"/> with the helpers assigned.
/// </summary>
public abstract class HelperDataPathFixture : IDisposable
{
    public const string FtpFile = "data.txt";
    public const string TftpFile = "boot.txt";
    public static readonly string Content = string.Concat(Enumerable.Range(0, 120).Select(i => $"line {i} of the file behind the firewall\n"));

    private readonly IDisposable _topology;
    private readonly Func<JsonObject> _dataPath;

    protected HelperDataPathFixture(IDisposable topology, NetLab lab, string daemonNs, string clientNs, string serverNs,
                                    Func<JsonObject> dataPath, string serverV4, string serverV6, string clientV4)
    {
        NetLab.RequireTools("vsftpd", "in.tftpd", "tftp", "lftp", "curl", "dotnet");
        _topology = topology;
        _dataPath = dataPath;
        ServerV4 = serverV4;
        ServerV6 = serverV6;
        ClientV4 = clientV4;
        ServerHost = new LabHost(lab, serverNs);
        try
        {
            Client = new LabHost(lab, clientNs);
            var server = new LabHost(lab, serverNs);
            Ftp = new VsftpdServer(server, new Dictionary<string, string> { [FtpFile] = Content });
            Tftp = new TftpdServer(server, new Dictionary<string, string> { [TftpFile] = Content }, allowCreate: true);
            Daemon = DaemonProcess.Start(lab, daemonNs, Config(helpers: true));
        }
        catch
        {
            Tftp?.Dispose();
            Ftp?.Dispose();
            topology.Dispose();
            throw;
        }
    }

    public LabHost Client { get; }
    public VsftpdServer Ftp { get; }
    public TftpdServer Tftp { get; }
    public DaemonProcess Daemon { get; }
    public string ServerV4 { get; }
    public string ServerV6 { get; }
    public string ClientV4 { get; }
    /// <summary>The server side's namespace (the IRC server and the DCC peer run there).</summary>
    public LabHost ServerHost { get; }
    public string Server(bool v6) => v6 ? ServerV6 : ServerV4;

    public JsonObject Config(bool helpers) => HelperPolicy.Create(_dataPath(), helpers);

    public void Dispose()
    {
        Daemon.Dispose();
        Tftp.Dispose();
        Ftp.Dispose();
        _topology.Dispose();
    }
}

/// <summary>Bridge data path: inside (client) — [daemon bridging two ports] — outside (servers), one subnet.</summary>
public sealed class HelperBridgeFixture : HelperDataPathFixture
{
    public HelperBridgeFixture() : this(BridgeTopology.Create()) { }

    private HelperBridgeFixture(BridgeTopology t) : base(t, t.Lab, t.Bridge, t.Inside, t.Outside,
        () => new JsonObject { ["Mode"] = "Bridge", ["Bridge"] = new JsonObject { ["Interfaces"] = new JsonArray(t.PortIn, t.PortOut), ["BufferSizeMb"] = 4 } },
        BridgeTopology.OutsideV4, BridgeTopology.OutsideV6, BridgeTopology.InsideV4)
    { }
}

/// <summary>NFQUEUE data path: client — router (daemon on queue 0 for FORWARD, no bypass) — server.</summary>
public sealed class HelperNfqueueFixture : HelperDataPathFixture
{
    public HelperNfqueueFixture() : this(RoutedTopology.Create()) { }

    private HelperNfqueueFixture(RoutedTopology t) : base(t, t.Lab, t.Router, t.Client, t.Server,
        () => new JsonObject
        {
            ["Mode"] = "Nfqueue",
            ["Nfqueue"] = new JsonObject { ["Queues"] = new JsonArray(0), ["ManageKernelRules"] = true, ["Chains"] = new JsonArray("FORWARD"), ["QueueBypass"] = false },
        },
        RoutedTopology.ServerV4, RoutedTopology.ServerV6, RoutedTopology.ClientV4)
    { }
}

/// <summary>
/// Issue 5's proof through the daemon's inline data paths: real vsftpd and real clients (curl, lftp) complete active
/// and passive FTP transfers over IPv4 and IPv6 (PORT/PASV/EPRT/EPSV), and tftp-hpa gets and puts files on tftpd-hpa,
/// through a DROP policy that admits NEW only to tcp/21 and udp/69; with the helpers not assigned (the same policy
/// reloaded without the raw rules) the same transfers fail while their control connections work.
/// </summary>
public abstract class HelperDataPathTests(HelperDataPathFixture f)
{
    public static TheoryData<FtpDataMode, bool> FtpModes => new()
    {
        { FtpDataMode.Pasv, false }, { FtpDataMode.Epsv, false }, { FtpDataMode.Port, false }, { FtpDataMode.Eprt, false },
        { FtpDataMode.Epsv, true }, { FtpDataMode.Eprt, true },
    };

    /// <summary>What the server answers to the data-connection command of each mode (proves the control connection worked).</summary>
    private static string ControlReply(FtpDataMode mode) => mode switch
    {
        FtpDataMode.Pasv => "< 227 ",
        FtpDataMode.Epsv => "< 229 ",
        FtpDataMode.Port => "< 200 PORT",
        _ => "< 200 EPRT",
    };

    [Theory]
    [MemberData(nameof(FtpModes))]
    public void Curl_FtpTransfer_PassesWithTheHelper(FtpDataMode mode, bool v6)
    {
        var t = LabClients.CurlFtpGet(f.Client, f.Server(v6), HelperDataPathFixture.FtpFile, mode);
        Assert.True(t.ExitCode == 0 && t.Content == HelperDataPathFixture.Content, $"{t}\nvsftpd log:\n{f.Ftp.Log}\ndaemon:\n{f.Daemon.Output}");
        Assert.Contains(ControlReply(mode), t.Trace);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Lftp_FtpTransfer_PassesWithTheHelper(bool passive)
    {
        var t = LabClients.LftpCat(f.Client, f.ServerV4, HelperDataPathFixture.FtpFile, passive);
        Assert.True(t.ExitCode == 0 && t.Content == HelperDataPathFixture.Content, t.ToString());
        Assert.Matches(passive ? "---> (EPSV|PASV)" : "---> (EPRT|PORT)", t.Trace);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TftpHpa_Get_PassesWithTheHelper(bool v6)
    {
        var t = LabClients.TftpHpaGet(f.Client, f.Server(v6), HelperDataPathFixture.TftpFile);
        Assert.True(t.Content == HelperDataPathFixture.Content, t.ToString());
    }

    [Fact]
    public void TftpHpa_Put_PassesWithTheHelper()
    {
        string name = $"up-{Guid.NewGuid():N}.txt";
        var t = LabClients.TftpHpaPut(f.Client, f.ServerV4, name, HelperDataPathFixture.Content);
        string stored = Path.Combine(f.Tftp.Root, name);
        Assert.True(File.Exists(stored), t.ToString());
        Assert.Equal(HelperDataPathFixture.Content, File.ReadAllText(stored));
    }

    /// <summary>
    /// IRC DCC (crafted over a real TCP connection; there is no convenient real IRC client here): the inside client
    /// announces "DCC SEND" with its address and a port to the IRC server; the peer on the outside then connects to that
    /// port. NEW from the outside is dropped by the policy, so the connection gets through only if the irc helper read
    /// the announcement and made it RELATED.
    /// </summary>
    private (int ExitCode, string Received) DccTransfer(int port, int connectTimeoutSeconds)
    {
        using var irc = f.ServerHost.Start("socat", "-u", $"TCP4-LISTEN:6667,bind={f.ServerV4},reuseaddr", "OPEN:/dev/null");
        f.ServerHost.WaitForListener(irc, 6667);
        using var dcc = f.Client.Start("socat", "-u", $"SYSTEM:echo dcc-file-content", $"TCP4-LISTEN:{port},bind={f.ClientV4},reuseaddr");
        f.Client.WaitForListener(dcc, port);
        uint ip = System.Net.IPAddress.Parse(f.ClientV4).GetAddressBytes().Aggregate(0u, (a, b) => a << 8 | b);
        string announce = $"PRIVMSG bob :\u0001DCC SEND file.bin {ip} {port} 17\u0001\r\n";
        var sent = f.Client.Run(TimeSpan.FromSeconds(10), "socat", ["-t", "1", "-", $"TCP4:{f.ServerV4}:6667"], input: announce);
        Assert.True(sent.ExitCode == 0, $"the IRC connection itself failed: {sent}");
        var got = f.ServerHost.Run(TimeSpan.FromSeconds(connectTimeoutSeconds + 5), "socat",
            ["-u", $"TCP4:{f.ClientV4}:{port},connect-timeout={connectTimeoutSeconds}", "-"]);
        return (got.ExitCode, got.Stdout.Trim());
    }

    [Fact]
    public void IrcDccSend_PeerConnectsToTheAnnouncedPort_WithTheHelper()
    {
        var (rc, received) = DccTransfer(port: 5000, connectTimeoutSeconds: 5);
        Assert.True(rc == 0 && received == "dcc-file-content", $"exit {rc}, received '{received}'");
    }

    [Fact]
    public async Task WithoutTheHelper_TheSameTransfersFail()
    {
        f.Daemon.Reconfigure(f.Config(helpers: false));
        try
        {
            // all at once: each failure is a timeout
            var ftp = FtpModes.Select(row => ((FtpDataMode)row[0], (bool)row[1]))
                .Select(m => (m.Item1, m.Item2, Task.Run(() => LabClients.CurlFtpGet(f.Client, f.Server(m.Item2), HelperDataPathFixture.FtpFile, m.Item1, timeoutSeconds: 3))))
                .ToList();
            var tftp = new[] { false, true }
                .Select(v6 => (v6, Task.Run(() => LabClients.CurlTftpGet(f.Client, f.Server(v6), HelperDataPathFixture.TftpFile, timeoutSeconds: 3))))
                .ToList();
            foreach (var (mode, v6, task) in ftp)
            {
                var t = await task;
                Assert.True(t.ExitCode == 28 && t.Content == "", $"{mode} over IPv{(v6 ? 6 : 4)} should time out on its data connection: {t}");
                Assert.Contains(ControlReply(mode), t.Trace); // the control connection itself worked
            }
            foreach (var (v6, task) in tftp)
            {
                var t = await task;
                Assert.True(t.ExitCode == 28 && t.Content == "", $"TFTP over IPv{(v6 ? 6 : 4)} should time out: {t}");
            }
            var (dccRc, dccReceived) = DccTransfer(port: 5001, connectTimeoutSeconds: 3);
            Assert.True(dccRc != 0 && dccReceived == "", $"IRC DCC should fail without the helper: exit {dccRc}, received '{dccReceived}'");
        }
        finally
        {
            f.Daemon.Reconfigure(f.Config(helpers: true));
        }
        // and with the helpers assigned again, a transfer passes
        Assert.Equal(0, LabClients.CurlFtpGet(f.Client, f.ServerV4, HelperDataPathFixture.FtpFile, FtpDataMode.Pasv).ExitCode);
    }
}

[Collection("DataPaths")]
public sealed class BridgeHelperTests(HelperBridgeFixture f) : HelperDataPathTests(f), IClassFixture<HelperBridgeFixture>;

[Collection("DataPaths")]
public sealed class NfqueueHelperTests(HelperNfqueueFixture f) : HelperDataPathTests(f), IClassFixture<HelperNfqueueFixture>;
