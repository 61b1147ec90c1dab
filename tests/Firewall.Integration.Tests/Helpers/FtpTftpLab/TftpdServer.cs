namespace Firewall.Integration.Tests.Helpers.FtpTftpLab;

/// <summary>
/// A real tftpd-hpa in the foreground (<c>in.tftpd -L</c>) inside a namespace, serving <see cref="Root"/> (chrooted,
/// <c>-s</c>) on [::]:69 (IPv4 and IPv6); with <c>allowCreate</c> uploads of new files are allowed (<c>-c</c>, the
/// directory then belongs to the service user <c>tftp</c>). Each transfer is answered from a new ephemeral port,
/// which is what makes the reply RELATED through the tftp helper.
/// </summary>
public sealed class TftpdServer : IDisposable
{
    private readonly LabDirectory _dir;
    private readonly LabServer _server;

    public TftpdServer(TwoHostLab lab, string ns, IReadOnlyDictionary<string, string>? files = null, bool allowCreate = false)
    {
        string tftpd = LabTool.Find("in.tftpd", "tftpd-hpa");
        _dir = new LabDirectory(lab.Prefix + "-tftp");
        try
        {
            Root = _dir.Sub("root");
            foreach (var (name, content) in files ?? new Dictionary<string, string>())
                LabDirectory.WriteFile(Root, name, content);
            List<string> args = ["-L", "-u", "tftp", "-s", Root, "-a", "[::]:69"];
            if (allowCreate)
            {
                LabDirectory.Chown(Root, "tftp");
                args.Insert(1, "-c");
            }
            _server = lab.StartServer("in.tftpd", ns, tftpd, args);
            _server.WaitUntil(() => lab.IsListening(ns, 69, udp: true));
        }
        catch
        {
            _dir.Dispose();
            throw;
        }
    }

    public string Root { get; } = "";
    public int Pid => _server.Pid;

    public void Dispose()
    {
        try { _server.Dispose(); }
        finally { _dir.Dispose(); }
    }
}
