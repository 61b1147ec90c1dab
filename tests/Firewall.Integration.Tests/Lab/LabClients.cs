using System.Globalization;

namespace Firewall.Integration.Tests.Lab;

/// <summary>How an FTP client opens its data connection.</summary>
public enum FtpDataMode
{
    /// <summary>Passive, PASV → 227 (IPv4 only).</summary>
    Pasv,
    /// <summary>Passive, EPSV → 229.</summary>
    Epsv,
    /// <summary>Active, PORT (IPv4 only).</summary>
    Port,
    /// <summary>Active, EPRT.</summary>
    Eprt,
}

/// <summary>Real FTP and TFTP clients run in a lab namespace: curl (FTP in all four modes, TFTP), lftp, tftp-hpa.</summary>
public static class LabClients
{
    public readonly record struct Transfer(int ExitCode, string Content, string Trace)
    {
        public override string ToString() => $"exit {ExitCode}; content '{Content}'; trace:\n{Trace}";
    }

    private static string Host(string address) => address.Contains(':') ? $"[{address}]" : address;

    private static string Seconds(int s) => s.ToString(CultureInfo.InvariantCulture);

    private static Transfer ToTransfer(CommandResult r, string content, string trace) =>
        new(r.TimedOut ? -1 : r.ExitCode, content, r.TimedOut ? "(timed out) " + trace : trace);

    /// <summary>
    /// curl fetching ftp://server/path in <paramref name="mode"/>; <see cref="Transfer.Trace"/> is curl's verbose
    /// output, where the commands it sent appear as "> PORT …", "> EPRT …", "> PASV", "> EPSV".
    /// </summary>
    public static Transfer CurlFtpGet(LabHost client, string server, string path, FtpDataMode mode, int timeoutSeconds = 10)
    {
        List<string> args = ["-g", "-sS", "-v", "--max-time", Seconds(timeoutSeconds)];
        args.AddRange(mode switch
        {
            FtpDataMode.Pasv => ["--ftp-pasv", "--disable-epsv"],
            FtpDataMode.Epsv => ["--ftp-pasv"],
            FtpDataMode.Port => ["--ftp-port", "-", "--disable-eprt"],
            _ => ["--ftp-port", "-"],
        });
        args.Add($"ftp://{Host(server)}/{path}");
        var r = client.Run(TimeSpan.FromSeconds(timeoutSeconds + 5), "curl", args);
        return ToTransfer(r, r.Stdout, r.Stderr);
    }

    /// <summary>lftp (anonymous) printing a file; passive or active per <paramref name="passive"/>.</summary>
    public static Transfer LftpCat(LabHost client, string server, string path, bool passive, int timeoutSeconds = 10)
    {
        string script = $"set ftp:passive-mode {(passive ? "on" : "off")}; set net:max-retries 1; set net:timeout {timeoutSeconds}; "
                        + $"debug 9; cat {path}; bye";
        var r = client.Run(TimeSpan.FromSeconds(timeoutSeconds + 10), "lftp", ["-e", script, $"ftp://{Host(server)}"]);
        return ToTransfer(r, r.Stdout, r.Stderr);
    }

    /// <summary>curl fetching tftp://server/file (RRQ).</summary>
    public static Transfer CurlTftpGet(LabHost client, string server, string file, int timeoutSeconds = 10)
    {
        var r = client.Run(TimeSpan.FromSeconds(timeoutSeconds + 5), "curl",
            ["-g", "-sS", "--max-time", Seconds(timeoutSeconds), $"tftp://{Host(server)}/{file}"]);
        return ToTransfer(r, r.Stdout, r.Stderr);
    }

    /// <summary>tftp-hpa "get" (RRQ) into a temporary file; the content is read back from it. (tftp-hpa exits 0
    /// even when the transfer failed, so the content is what counts.)</summary>
    public static Transfer TftpHpaGet(LabHost client, string server, string file)
    {
        using var dir = new LabDirectory(client.Lab.Prefix + "-tget");
        string received = Path.Combine(dir.Path, "received");
        var r = client.Run(TimeSpan.FromSeconds(20), "tftp",
            [server.Contains(':') ? "-6" : "-4", "-m", "binary", server, "-c", "get", file, received]);
        return ToTransfer(r, File.Exists(received) ? File.ReadAllText(received) : "", r.Stdout + r.Stderr);
    }

    /// <summary>tftp-hpa "put" (WRQ) of <paramref name="content"/> as <paramref name="file"/>.</summary>
    public static Transfer TftpHpaPut(LabHost client, string server, string file, string content)
    {
        using var dir = new LabDirectory(client.Lab.Prefix + "-tput");
        string upload = LabDirectory.WriteFile(dir.Path, "upload", content);
        var r = client.Run(TimeSpan.FromSeconds(20), "tftp",
            [server.Contains(':') ? "-6" : "-4", "-m", "binary", server, "-c", "put", upload, file]);
        return ToTransfer(r, "", r.Stdout + r.Stderr);
    }
}
