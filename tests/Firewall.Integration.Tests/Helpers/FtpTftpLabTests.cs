using Firewall.Integration.Tests.Lab;
using static Firewall.Integration.Tests.Lab.RoutedTopology;

namespace Firewall.Integration.Tests.Helpers;

/// <summary>
/// client — router — server (<see cref="RoutedTopology"/>, no firewall rules) with one server running in the server
/// namespace; both go on Dispose.
/// </summary>
public abstract class ServerLabFixture<TServer> : IDisposable where TServer : IDisposable
{
    protected ServerLabFixture(Func<LabHost, TServer> start)
    {
        Topology = RoutedTopology.Create();
        try
        {
            Client = new LabHost(Topology.Lab, Topology.Client);
            Server = start(new LabHost(Topology.Lab, Topology.Server));
        }
        catch
        {
            Topology.Dispose();
            throw;
        }
    }

    public RoutedTopology Topology { get; }
    public LabHost Client { get; }
    public TServer Server { get; }

    public void Dispose()
    {
        try { Server.Dispose(); }
        finally { Topology.Dispose(); }
    }
}

/// <summary>vsftpd serving <see cref="FileName"/>, shared by the FTP lab tests.</summary>
public sealed class FtpLabFixture() : ServerLabFixture<VsftpdServer>(host =>
    new VsftpdServer(host, new Dictionary<string, string> { [FileName] = FileContent }))
{
    public const string FileName = "hello.txt";
    public const string FileContent = "hello over ftp\n";
}

/// <summary>
/// Real vsftpd and real clients across the lab router (no firewall rules): the baseline the daemon-in-the-middle
/// tests build on. Each test checks the file arrived and that the client really used the intended command.
/// </summary>
public class FtpLabTests(FtpLabFixture fx) : IClassFixture<FtpLabFixture>
{
    private LabClients.Transfer Curl(string server, FtpDataMode mode) =>
        LabClients.CurlFtpGet(fx.Client, server, FtpLabFixture.FileName, mode);

    private void AssertReceived(LabClients.Transfer t, string sentCommand)
    {
        Assert.True(t.ExitCode == 0 && t.Content == FtpLabFixture.FileContent, $"{t}\nserver log:\n{fx.Server.Log}");
        Assert.Contains(sentCommand, t.Trace);
    }

    [Fact]
    public void Curl_PassivePasv_V4_Downloads()
    {
        var t = Curl(ServerV4, FtpDataMode.Pasv);
        AssertReceived(t, "> PASV");
        Assert.Contains("227 Entering Passive Mode (198,18,2,2,", t.Trace);
    }

    [Fact]
    public void Curl_PassiveEpsv_V4_Downloads() => AssertReceived(Curl(ServerV4, FtpDataMode.Epsv), "> EPSV");

    [Fact]
    public void Curl_ActivePort_V4_Downloads() => AssertReceived(Curl(ServerV4, FtpDataMode.Port), "> PORT 198,18,1,2,");

    [Fact]
    public void Curl_ActiveEprt_V4_Downloads() => AssertReceived(Curl(ServerV4, FtpDataMode.Eprt), "> EPRT |1|198.18.1.2|");

    [Fact]
    public void Curl_PassiveEpsv_V6_Downloads() => AssertReceived(Curl(ServerV6, FtpDataMode.Epsv), "> EPSV");

    [Fact]
    public void Curl_ActiveEprt_V6_Downloads() => AssertReceived(Curl(ServerV6, FtpDataMode.Eprt), $"> EPRT |2|{ClientV6}|");

    [Fact]
    public void Lftp_Passive_V4_Downloads()
    {
        var t = LabClients.LftpCat(fx.Client, ServerV4, FtpLabFixture.FileName, passive: true);
        Assert.True(t.ExitCode == 0 && t.Content == FtpLabFixture.FileContent, t.ToString());
        Assert.Matches("---> (EPSV|PASV)", t.Trace);
    }

    [Fact]
    public void Lftp_Active_V4_Downloads()
    {
        var t = LabClients.LftpCat(fx.Client, ServerV4, FtpLabFixture.FileName, passive: false);
        Assert.True(t.ExitCode == 0 && t.Content == FtpLabFixture.FileContent, t.ToString());
        Assert.Matches("---> (EPRT|PORT)", t.Trace);
    }

    [Fact]
    public void ServerLog_RecordsTheDataCommands()
    {
        AssertReceived(Curl(ServerV4, FtpDataMode.Port), "> PORT");
        Assert.Contains("\"200 PORT command successful.", fx.Server.Log);
    }
}

/// <summary>tftpd-hpa serving <see cref="FileName"/> and accepting uploads, shared by the TFTP lab tests.</summary>
public sealed class TftpLabFixture() : ServerLabFixture<TftpdServer>(host =>
    new TftpdServer(host, new Dictionary<string, string> { [FileName] = FileContent }, allowCreate: true))
{
    public const string FileName = "boot.txt";
    public const string FileContent = "hello over tftp\n";
}

/// <summary>Real tftpd-hpa and real TFTP clients across the lab router (no firewall rules).</summary>
public class TftpLabTests(TftpLabFixture fx) : IClassFixture<TftpLabFixture>
{
    [Theory]
    [InlineData(ServerV4)]
    [InlineData(ServerV6)]
    public void Curl_Get_Downloads(string server)
    {
        var t = LabClients.CurlTftpGet(fx.Client, server, TftpLabFixture.FileName);
        Assert.True(t.ExitCode == 0 && t.Content == TftpLabFixture.FileContent, t.ToString());
    }

    [Theory]
    [InlineData(ServerV4)]
    [InlineData(ServerV6)]
    public void TftpHpa_Get_Downloads(string server)
    {
        var t = LabClients.TftpHpaGet(fx.Client, server, TftpLabFixture.FileName);
        Assert.True(t.Content == TftpLabFixture.FileContent, t.ToString());
    }

    [Fact]
    public void TftpHpa_Put_Uploads()
    {
        string name = $"up-{Guid.NewGuid():N}.txt";
        var t = LabClients.TftpHpaPut(fx.Client, ServerV4, name, "uploaded over tftp\n");
        string stored = Path.Combine(fx.Server.Root, name);
        Assert.True(File.Exists(stored), t.ToString());
        Assert.Equal("uploaded over tftp\n", File.ReadAllText(stored));
    }
}

/// <summary>The lab cleans up after itself: servers ended by PID, namespaces deleted.</summary>
public class FtpTftpLabCleanupTests
{
    [Fact]
    public void Dispose_EndsServersAndDeletesNamespaces()
    {
        string prefix;
        int ftpPid, tftpPid;
        using (var topology = RoutedTopology.Create())
        {
            prefix = topology.Lab.Prefix;
            var server = new LabHost(topology.Lab, topology.Server);
            using var ftp = new VsftpdServer(server);
            using var tftp = new TftpdServer(server);
            ftpPid = ftp.Pid;
            tftpPid = tftp.Pid;
        }
        Assert.False(Directory.Exists($"/proc/{ftpPid}") && File.ReadAllText($"/proc/{ftpPid}/comm").Trim() == "vsftpd");
        Assert.False(Directory.Exists($"/proc/{tftpPid}") && File.ReadAllText($"/proc/{tftpPid}/comm").Trim() == "in.tftpd");
        string namespaces = NetLab.RunLocal(NetLab.ResolveTool("ip"), ["netns", "list"], NetLab.DefaultTimeout).ThrowIfFailed().Stdout;
        Assert.DoesNotContain(prefix, namespaces);
    }
}
