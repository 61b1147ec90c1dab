using System.Net.Sockets;
using System.Text;
using Firewall.Core.Control;

namespace Firewall.Cli.Control;

/// <summary>Talks to the daemon's control socket: one request, lines routed to stdout/stderr, the daemon's exit code.</summary>
public static class ControlClient
{
    /// <summary>The socket path: --socket, else $FWCTL_SOCKET, else the default.</summary>
    public static string ResolvePath(string? option) =>
        !string.IsNullOrEmpty(option) ? option : Environment.GetEnvironmentVariable("FWCTL_SOCKET") is { Length: > 0 } env ? env : ControlProtocol.DefaultSocketPath;

    /// <summary>Sends <paramref name="request"/> and copies the answer; <paramref name="onStdoutLine"/> sees each output line.</summary>
    public static async Task<int> RunAsync(string socketPath, ControlRequest request, TextWriter stdout, TextWriter stderr,
                                           CancellationToken ct, Action<string>? onStdoutLine = null)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            string hint = e.SocketErrorCode switch
            {
                SocketError.AccessDenied => " (permission denied: run as root or as a member of group firewall-daemon)",
                SocketError.AddressNotAvailable or SocketError.ConnectionRefused => " (is firewall-daemon running?)",
                _ => "",
            };
            if (e.SocketErrorCode == SocketError.AccessDenied || e.NativeErrorCode == 13)
                hint = " (permission denied: run as root or as a member of group firewall-daemon)";
            await stderr.WriteLineAsync($"fwctl: cannot connect to {socketPath}: {e.Message}{hint}").ConfigureAwait(false);
            return e.NativeErrorCode == 13 ? 13 : 1;
        }
        catch (OperationCanceledException) { return 130; }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[] req = Encoding.UTF8.GetBytes(ControlProtocol.Serialize(request) + "\n");
        await stream.WriteAsync(req, ct).ConfigureAwait(false);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        try
        {
            while (true)
            {
                string? line = await reader.ReadLineAsync(ct).ConfigureAwait(false);
                if (line is null) break;
                if (line.Length < 2) continue;
                string text = line[2..];
                switch (line[0])
                {
                    case ControlProtocol.Stdout:
                        await stdout.WriteLineAsync(text).ConfigureAwait(false);
                        onStdoutLine?.Invoke(text);
                        if (request.Command == ControlCommands.ConntrackEvents) await stdout.FlushAsync(ct).ConfigureAwait(false);
                        break;
                    case ControlProtocol.Stderr:
                        await stderr.WriteLineAsync(text).ConfigureAwait(false);
                        break;
                    case ControlProtocol.Exit:
                        await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        return int.TryParse(text, out int code) ? code : 1;
                }
            }
        }
        catch (OperationCanceledException) { await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false); return 0; }
        catch (IOException) { }
        await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        if (ct.IsCancellationRequested) return 0;
        await stderr.WriteLineAsync("fwctl: the daemon closed the connection without an answer").ConfigureAwait(false);
        return 1;
    }
}
