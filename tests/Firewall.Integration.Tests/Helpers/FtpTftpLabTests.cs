using Firewall.Integration.Tests.Helpers.FtpTftpLab;
using static Firewall.Integration.Tests.Helpers.FtpTftpLab.TwoHostLab;

namespace Firewall.Integration.Tests.Helpers;

/// <summary>A client/server namespace pair with one server running in the server namespace; both go on Dispose.</summary>
public abstract class ServerLabFixture<TServer> : IDisposable where TServer : IDisposable
{
    protected ServerLabFixture(Func<TwoHostLab, TServer> start)
    {
        Lab = new TwoHostLab();
        try
        {
            Server = start(Lab);
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    public TwoHostLab Lab { get; }
    public TServer Server { get; }

    public void Dispose()
    {
        try { Server.Dispose(); }
        finally { Lab.Dispose(); }
    }
}

/// <summary>vsftpd serving <see cref="FileName"/>, shared by the FTP lab tests.</summary>
public sealed class FtpLabFixture() : ServerLabFixture<VsftpdServer>(lab =>
    new VsftpdServer(lab, lab.ServerNs, new Dictionary<string, string> { [FileName] = FileContent }))
{
    public const string FileName = "hello.txt";
    public const string FileContent = "hello over ftp\n";
}

/// <summary>
/// Real vsftpd and real clients directly between two namespaces (no firewall): the baseline the daemon-in-the-middle
/// tests build on. Each test checks the file arrived and that the client really used the intended command.
/// </summary>
public class FtpLabTests(FtpLabFixture fx) : IClassFixture<FtpLabFixture>
{
    private LabClients.Transfer Curl(string server, FtpDataMode mode) =>
        LabClients.CurlFtpGet(fx.Lab, fx.Lab.ClientNs, server, FtpLabFixture.FileName, mode);

    private void AssertReceived(LabClients.Transfer t, string sentCommand)
    {
        Assert.True(t.ExitCode == 0 && t.Content == FtpLabFixture.FileContent, $"{t}\nserver log:\n{fx.Server.Log}");
        Assert.Contains(sentCommand, t.Trace);
    }

    [Fact]
    public void Curl_PassivePasv_V4_Downloads()
    {
        var t = Curl(Server4, FtpDataMode.Pasv);
        AssertReceived(t, "> PASV");
        Assert.Contains("227 Entering Passive Mode (198,18,0,2,", t.Trace);
    }

    [Fact]
    public void Curl_PassiveEpsv_V4_Downloads() => AssertReceived(Curl(Server4, FtpDataMode.Epsv), "> EPSV");

    [Fact]
    public void Curl_ActivePort_V4_Downloads() => AssertReceived(Curl(Server4, FtpDataMode.Port), "> PORT 198,18,0,1,");

    [Fact]
    public void Curl_ActiveEprt_V4_Downloads() => AssertReceived(Curl(Server4, FtpDataMode.Eprt), "> EPRT |1|198.18.0.1|");

    [Fact]
    public void Curl_PassiveEpsv_V6_Downloads() => AssertReceived(Curl(Server6, FtpDataMode.Epsv), "> EPSV");

    [Fact]
    public void Curl_ActiveEprt_V6_Downloads() => AssertReceived(Curl(Server6, FtpDataMode.Eprt), $"> EPRT |2|{Client6}|");

    [Fact]
    public void Lftp_Passive_V4_Downloads()
    {
        var t = LabClients.LftpCat(fx.Lab, fx.Lab.ClientNs, Server4, FtpLabFixture.FileName, passive: true);
        Assert.True(t.ExitCode == 0 && t.Content == FtpLabFixture.FileContent, t.ToString());
        Assert.Matches("---> (EPSV|PASV)", t.Trace);
    }

    [Fact]
    public void Lftp_Active_V4_Downloads()
    {
        var t = LabClients.LftpCat(fx.Lab, fx.Lab.ClientNs, Server4, FtpLabFixture.FileName, passive: false);
        Assert.True(t.ExitCode == 0 && t.Content == FtpLabFixture.FileContent, t.ToString());
        Assert.Matches("---> (EPRT|PORT)", t.Trace);
    }

    [Fact]
    public void ServerLog_RecordsTheDataCommands()
    {
        AssertReceived(Curl(Server4, FtpDataMode.Port), "> PORT");
        Assert.Contains("\"200 PORT command successful.", fx.Server.Log);
    }
}

/// <summary>tftpd-hpa serving <see cref="FileName"/> and accepting uploads, shared by the TFTP lab tests.</summary>
public sealed class TftpLabFixture() : ServerLabFixture<TftpdServer>(lab =>
    new TftpdServer(lab, lab.ServerNs, new Dictionary<string, string> { [FileName] = FileContent }, allowCreate: true))
{
    public const string FileName = "boot.txt";
    public const string FileContent = "hello over tftp\n";
}

/// <summary>Real tftpd-hpa and real TFTP clients directly between two namespaces (no firewall).</summary>
public class TftpLabTests(TftpLabFixture fx) : IClassFixture<TftpLabFixture>
{
    [Theory]
    [InlineData(Server4)]
    [InlineData(Server6)]
    public void Curl_Get_Downloads(string server)
    {
        var t = LabClients.CurlTftpGet(fx.Lab, fx.Lab.ClientNs, server, TftpLabFixture.FileName);
        Assert.True(t.ExitCode == 0 && t.Content == TftpLabFixture.FileContent, t.ToString());
    }

    [Theory]
    [InlineData(Server4)]
    [InlineData(Server6)]
    public void TftpHpa_Get_Downloads(string server)
    {
        var t = LabClients.TftpHpaGet(fx.Lab, fx.Lab.ClientNs, server, TftpLabFixture.FileName);
        Assert.True(t.Content == TftpLabFixture.FileContent, t.ToString());
    }

    [Fact]
    public void TftpHpa_Put_Uploads()
    {
        string name = $"up-{Guid.NewGuid():N}.txt";
        var t = LabClients.TftpHpaPut(fx.Lab, fx.Lab.ClientNs, Server4, name, "uploaded over tftp\n");
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
        using (var lab = new TwoHostLab())
        {
            prefix = lab.Prefix;
            using var ftp = new VsftpdServer(lab, lab.ServerNs);
            using var tftp = new TftpdServer(lab, lab.ServerNs);
            ftpPid = ftp.Pid;
            tftpPid = tftp.Pid;
        }
        Assert.False(Directory.Exists($"/proc/{ftpPid}") && File.ReadAllText($"/proc/{ftpPid}/comm").Trim() == "vsftpd");
        Assert.False(Directory.Exists($"/proc/{tftpPid}") && File.ReadAllText($"/proc/{tftpPid}/comm").Trim() == "in.tftpd");
        string namespaces = LabTool.Check(LabTool.Find("ip", "iproute2"), "netns", "list");
        Assert.DoesNotContain(prefix, namespaces);
    }
}
