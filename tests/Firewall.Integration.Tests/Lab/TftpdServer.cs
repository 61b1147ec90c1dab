namespace Firewall.Integration.Tests.Lab;

/// <summary>
/// A real tftpd-hpa in the foreground (<c>in.tftpd -L</c>) in a lab namespace, serving <see cref="Root"/> (chrooted,
/// <c>-s</c>) on [::]:69 (IPv4 and IPv6); with <c>allowCreate</c> uploads of new files are allowed (<c>-c</c>, the
/// directory then belongs to the service user <c>tftp</c>). Each transfer is answered from a new ephemeral port,
/// which is what makes the reply RELATED through the tftp helper. Dispose ends it (by PID) and deletes its files.
/// </summary>
public sealed class TftpdServer : IDisposable
{
    public const int Port = 69;

    private readonly LabDirectory _dir;
    private readonly LabProcess _server;

    public TftpdServer(LabHost host, IReadOnlyDictionary<string, string>? files = null, bool allowCreate = false)
    {
        NetLab.ResolveTool("in.tftpd");
        _dir = new LabDirectory(host.Lab.Prefix + "-tftp");
        LabProcess? server = null;
        try
        {
            Root = _dir.Sub("root");
            foreach (var (name, content) in files ?? new Dictionary<string, string>())
                LabDirectory.WriteFile(Root, name, content);
            List<string> args = ["-L", "-u", "tftp", "-s", Root, "-a", $"[::]:{Port}"];
            if (allowCreate)
            {
                LabDirectory.Chown(Root, "tftp");
                args.Insert(1, "-c");
            }
            server = host.Start("in.tftpd", [.. args]);
            host.WaitForListener(server, Port, udp: true);
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
    public int Pid => _server.Pid;

    public void Dispose()
    {
        try { _server.Dispose(); }
        finally { _dir.Dispose(); }
    }
}
