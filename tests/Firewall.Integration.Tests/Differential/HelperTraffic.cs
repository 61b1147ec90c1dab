using System.Text;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.Differential;

/// <summary>
/// Real-program scenarios for the helpers: vsftpd with curl and lftp, tftpd-hpa with tftp-hpa and curl, all pinned
/// to CPU 0 like the other real scenarios. The servers start before the capture and stop after it. Every transfer
/// must succeed (the router accepts everything: a failure is a lab problem, reported as such); whether the data
/// connections were RELATED is what the kernel's log and the engine must agree on.
/// </summary>
internal static class HelperTraffic
{
    public const string FtpFile = "data.txt";
    public const string TftpFile = "boot.txt";

    /// <summary>About 3 KB: several TCP segments, several 512-byte TFTP blocks.</summary>
    public static readonly string Content = BuildContent();

    private static string BuildContent()
    {
        var sb = new StringBuilder();
        for (int i = 0; sb.Length < 3000; i++) sb.Append("line ").Append(i).Append(" of the helper test file\n");
        return sb.ToString();
    }

    /// <summary>Modes curl uses over IPv4 (all four) and IPv6 (EPSV, EPRT: PASV and PORT have no IPv6 form).</summary>
    public static FtpDataMode[] CurlModes(bool v6) =>
        v6 ? [FtpDataMode.Epsv, FtpDataMode.Eprt] : [FtpDataMode.Pasv, FtpDataMode.Epsv, FtpDataMode.Port, FtpDataMode.Eprt];

    /// <summary>curl in every mode the family has, then lftp passive and active: one data connection each.</summary>
    public static ScenarioCapture Ftp(DiffLab lab, bool v6)
    {
        string server = v6 ? RoutedTopology.ServerV6 : RoutedTopology.ServerV4;
        using var vsftpd = new VsftpdServer(lab.ServerHost, new Dictionary<string, string> { [FtpFile] = Content });
        return lab.Captured(() =>
        {
            foreach (var mode in CurlModes(v6))
                Require(LabClients.CurlFtpGet(lab.ClientHost, server, FtpFile, mode), $"curl {mode} to {server}", vsftpd.Log);
            foreach (bool passive in new[] { true, false })
                Require(LabClients.LftpCat(lab.ClientHost, server, FtpFile, passive), $"lftp {(passive ? "passive" : "active")} to {server}", vsftpd.Log);
            Thread.Sleep(300); // let the last closing handshakes finish
        });
    }

    /// <summary>Data connections the FTP scenario opens (its kernel RELATED minimum).</summary>
    public static int FtpTransfers(bool v6) => CurlModes(v6).Length + 2;

    /// <summary>tftp-hpa get over IPv4 and IPv6, put over IPv4, curl get over IPv4.</summary>
    public static ScenarioCapture Tftp(DiffLab lab)
    {
        using var tftpd = new TftpdServer(lab.ServerHost, new Dictionary<string, string> { [TftpFile] = Content }, allowCreate: true);
        return lab.Captured(() =>
        {
            Require(LabClients.TftpHpaGet(lab.ClientHost, RoutedTopology.ServerV4, TftpFile), "tftp get (IPv4)", "");
            Require(LabClients.TftpHpaGet(lab.ClientHost, RoutedTopology.ServerV6, TftpFile), "tftp get (IPv6)", "");
            string upload = $"up-{Guid.NewGuid():N}.txt";
            var put = LabClients.TftpHpaPut(lab.ClientHost, RoutedTopology.ServerV4, upload, Content);
            string stored = Path.Combine(tftpd.Root, upload);
            if (!File.Exists(stored) || File.ReadAllText(stored) != Content)
                throw new InvalidOperationException($"tftp put (IPv4) did not store {upload}: {put}");
            Require(LabClients.CurlTftpGet(lab.ClientHost, RoutedTopology.ServerV4, TftpFile), "curl tftp get (IPv4)", "");
        });
    }

    public const int TftpTransfers = 4;

    private static void Require(LabClients.Transfer t, string what, string serverLog)
    {
        if (t.ExitCode != 0 || t.Content != Content)
            throw new InvalidOperationException($"{what} failed in the differential lab (its router accepts everything): {t}\nserver log:\n{serverLog}");
    }
}
