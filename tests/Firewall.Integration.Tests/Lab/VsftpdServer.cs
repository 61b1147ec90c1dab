namespace Firewall.Integration.Tests.Lab;

/// <summary>
/// A real vsftpd in the foreground (<c>background=NO</c>) in a lab namespace, with its own config file: anonymous
/// read-only access to <see cref="Root"/>, listening on [::]:21 (IPv4 and IPv6), passive ports
/// <see cref="PasvMinPort"/>–<see cref="PasvMaxPort"/>, active data connections from port 20, the FTP protocol logged
/// to <see cref="LogFile"/>. Sandboxing that does not work in a test namespace (seccomp, network isolation) is off.
/// Dispose ends it (by PID) and deletes its files.
/// </summary>
public sealed class VsftpdServer : IDisposable
{
    public const int Port = 21;
    public const int PasvMinPort = 40000, PasvMaxPort = 40009;

    private readonly LabDirectory _dir;
    private readonly LabProcess _server;

    public VsftpdServer(LabHost host, IReadOnlyDictionary<string, string>? files = null)
    {
        NetLab.ResolveTool("vsftpd");
        _dir = new LabDirectory(host.Lab.Prefix + "-ftp");
        LabProcess? server = null;
        try
        {
            Root = _dir.Sub("root");
            string empty = _dir.Sub("empty");
            foreach (var (name, content) in files ?? new Dictionary<string, string>())
                LabDirectory.WriteFile(Root, name, content);
            LogFile = Path.Combine(_dir.Path, "vsftpd.log");
            string conf = Path.Combine(_dir.Path, "vsftpd.conf");
            File.WriteAllText(conf, $"""
                listen=NO
                listen_ipv6=YES
                listen_port={Port}
                background=NO
                anonymous_enable=YES
                no_anon_password=YES
                anon_root={Root}
                local_enable=NO
                write_enable=NO
                pasv_enable=YES
                pasv_min_port={PasvMinPort}
                pasv_max_port={PasvMaxPort}
                port_enable=YES
                connect_from_port_20=YES
                secure_chroot_dir={empty}
                seccomp_sandbox=NO
                isolate_network=NO
                isolate=NO
                syslog_enable=NO
                xferlog_enable=YES
                xferlog_std_format=NO
                log_ftp_protocol=YES
                vsftpd_log_file={LogFile}

                """);
            server = host.Start("vsftpd", conf);
            host.WaitForListener(server, Port);
            _server = server;
        }
        catch
        {
            server?.Dispose();
            _dir.Dispose();
            throw;
        }
    }

    public string Root { get; } = "";
    public string LogFile { get; } = "";
    public int Pid => _server.Pid;

    /// <summary>The protocol log so far (commands and responses), for assertions and failure messages.</summary>
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public void Dispose()
    {
        try { _server.Dispose(); }
        finally { _dir.Dispose(); }
    }
}
