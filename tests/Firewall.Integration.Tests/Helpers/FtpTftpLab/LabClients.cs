namespace Firewall.Integration.Tests.Helpers.FtpTftpLab;

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

/// <summary>Real FTP and TFTP clients run inside a namespace: curl (FTP in all four modes, TFTP), lftp, tftp-hpa.</summary>
public static class LabClients
{
    public readonly record struct Transfer(int ExitCode, string Content, string Trace)
    {
        public override string ToString() => $"exit {ExitCode}; content '{Content}'; trace:\n{Trace}";
    }

    private static string Host(string address) => address.Contains(':') ? $"[{address}]" : address;

    /// <summary>
    /// curl fetching ftp://server/path in <paramref name="mode"/>; <see cref="Transfer.Trace"/> is curl's verbose
    /// output, where the commands it sent appear as "> PORT …", "> EPRT …", "> PASV", "> EPSV".
    /// </summary>
    public static Transfer CurlFtpGet(TwoHostLab lab, string ns, string server, string path, FtpDataMode mode, int timeoutSeconds = 10)
    {
        string curl = LabTool.Find("curl", "curl");
        List<string> args = ["-sS", "-v", "--max-time", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        args.AddRange(mode switch
        {
            FtpDataMode.Pasv => ["--ftp-pasv", "--disable-epsv"],
            FtpDataMode.Epsv => ["--ftp-pasv"],
            FtpDataMode.Port => ["--ftp-port", "-", "--disable-eprt"],
            _ => ["--ftp-port", "-"],
        });
        args.Add($"ftp://{Host(server)}/{path}");
        LabTool.Result r = lab.Exec(ns, curl, args, (timeoutSeconds + 5) * 1000);
        return new Transfer(r.ExitCode, r.Output, r.Error);
    }

    /// <summary>lftp (anonymous) printing a file; passive or active per <paramref name="passive"/>.</summary>
    public static Transfer LftpCat(TwoHostLab lab, string ns, string server, string path, bool passive, int timeoutSeconds = 10)
    {
        string lftp = LabTool.Find("lftp", "lftp");
        string script = $"set ftp:passive-mode {(passive ? "on" : "off")}; set net:max-retries 1; set net:timeout {timeoutSeconds}; "
                        + $"debug 9; cat {path}; bye";
        LabTool.Result r = lab.Exec(ns, lftp, ["-e", script, $"ftp://{Host(server)}"], (timeoutSeconds + 10) * 1000);
        return new Transfer(r.ExitCode, r.Output, r.Error);
    }

    /// <summary>curl fetching tftp://server/file (RRQ).</summary>
    public static Transfer CurlTftpGet(TwoHostLab lab, string ns, string server, string file, int timeoutSeconds = 10)
    {
        string curl = LabTool.Find("curl", "curl");
        LabTool.Result r = lab.Exec(ns, curl, ["-sS", "--max-time", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                               $"tftp://{Host(server)}/{file}"], (timeoutSeconds + 5) * 1000);
        return new Transfer(r.ExitCode, r.Output, r.Error);
    }

    /// <summary>tftp-hpa "get" (RRQ) into a temporary directory; the content is read back from the file. (tftp-hpa exits 0
    /// even when the transfer failed, so the content is what counts.)</summary>
    public static Transfer TftpHpaGet(TwoHostLab lab, string ns, string server, string file)
    {
        string tftp = LabTool.Find("tftp", "tftp-hpa");
        using var dir = new LabDirectory(lab.Prefix + "-tget");
        List<string> args = server.Contains(':') ? ["-6"] : ["-4"];
        args.AddRange(["-m", "binary", server, "-c", "get", file, "received"]);
        LabTool.Result r = lab.Exec(ns, tftp, args, 20000, dir.Path);
        string path = Path.Combine(dir.Path, "received");
        return new Transfer(r.ExitCode, File.Exists(path) ? File.ReadAllText(path) : "", r.Output + r.Error);
    }

    /// <summary>tftp-hpa "put" (WRQ) of <paramref name="content"/> as <paramref name="file"/>.</summary>
    public static Transfer TftpHpaPut(TwoHostLab lab, string ns, string server, string file, string content)
    {
        string tftp = LabTool.Find("tftp", "tftp-hpa");
        using var dir = new LabDirectory(lab.Prefix + "-tput");
        LabDirectory.WriteFile(dir.Path, "upload", content);
        List<string> args = server.Contains(':') ? ["-6"] : ["-4"];
        args.AddRange(["-m", "binary", server, "-c", "put", "upload", file]);
        LabTool.Result r = lab.Exec(ns, tftp, args, 20000, dir.Path);
        return new Transfer(r.ExitCode, "", r.Output + r.Error);
    }
}
