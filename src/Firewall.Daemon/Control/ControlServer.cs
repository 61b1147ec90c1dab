using System.Net.Sockets;
using System.Text;
using Firewall.Core.Control;
using Firewall.Native.Unix;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.Control;

/// <summary>
/// The control socket: a Unix stream socket, mode 0660, group <see cref="ControlOptions.Group"/>; file permissions keep
/// everybody else out, and each connection's SO_PEERCRED/SO_PEERGROUPS are checked again (defence in depth). One
/// request per connection (see <see cref="ControlProtocol"/>), served on the thread pool, never on a packet thread.
/// </summary>
public sealed partial class ControlServer : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly ControlOptions _options;
    private readonly ControlHandler _handler;
    private readonly ILogger<ControlServer> _log;
    private Socket? _listener;
    private uint? _gid;

    public ControlServer(IOptions<ControlOptions> options, ControlHandler handler, ILogger<ControlServer> log)
    {
        _options = options.Value;
        _handler = handler;
        _log = log;
    }

    /// <summary>Completes once the socket listens (tests wait on it).</summary>
    public TaskCompletionSource Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled) Open();
        return base.StartAsync(cancellationToken);
    }

    private void Open()
    {
        string path = _options.SocketPath;
        string? dir = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        if (File.Exists(path)) File.Delete(path); // a stale socket of an earlier run
        _gid = UnixAccounts.TryGetGroupId(_options.Group);
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Bind(new UnixDomainSocketEndPoint(path));
            // nobody can connect before listen(): set the final owner and mode first
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            // created with our effective group; change it only when that is not the control group (needs CAP_CHOWN or membership)
            if (_gid is uint gid && gid != UnixAccounts.EffectiveGroupId)
            {
                try { UnixAccounts.SetOwner(path, null, gid); }
                catch (Firewall.Native.NativeException e) { LogGroupNotSet(path, _options.Group, e.Message); }
            }
            else if (_gid is null) LogGroupMissing(_options.Group);
            s.Listen(32);
        }
        catch
        {
            s.Dispose();
            throw;
        }
        _listener = s;
        LogListening(path, _options.Group);
        Listening.TrySetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is null) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            catch (SocketException e) { LogAcceptFailed(e.Message); await Task.Delay(100, stoppingToken).ConfigureAwait(false); continue; }
            _ = Task.Run(() => ServeAsync(client, stoppingToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        using var owned = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = false };
        var response = new StreamResponse(writer);
        try
        {
            var peer = PeerCredentials.Of(client);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(RequestTimeout);
            // the request is read in any case, so that a refusal reaches the client instead of a reset connection
            string? line = await ReadLineAsync(stream, timeout.Token).ConfigureAwait(false);
            if (!peer.IsAllowed(_gid))
            {
                LogRefused(peer.Uid, peer.Pid);
                response.Err($"permission denied: uid {peer.Uid} is not root and not in group {_options.Group}");
                await response.ExitAsync(13).ConfigureAwait(false);
                return;
            }
            ControlRequest? request = null;
            try { if (line is not null) request = ControlProtocol.Deserialize(line); }
            catch (System.Text.Json.JsonException) { }
            if (request is null)
            {
                response.Err("bad request: expected one JSON object on one line");
                await response.ExitAsync(2).ConfigureAwait(false);
                return;
            }
            LogRequest(request.Command, peer.Uid, peer.Pid);
            // the client closing its end ends a streaming command
            using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _ = WatchHangupAsync(client, session);
            int code = await _handler.ExecuteAsync(request, response, session.Token).ConfigureAwait(false);
            await response.ExitAsync(code).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the client went away
        }
        catch (Exception e)
        {
            LogCommandFailed(e.GetType().Name, e.Message);
            try
            {
                response.Err($"internal error: {e.Message}");
                await response.ExitAsync(1).ConfigureAwait(false);
            }
            catch (Exception e2) when (e2 is IOException or SocketException or ObjectDisposedException) { }
        }
    }

    private static async Task WatchHangupAsync(Socket client, CancellationTokenSource session)
    {
        var buf = new byte[64];
        try
        {
            while (await client.ReceiveAsync(buf, SocketFlags.None, session.Token).ConfigureAwait(false) > 0) { }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
        try { session.Cancel(); } catch (ObjectDisposedException) { }
    }

    private static async Task<string?> ReadLineAsync(NetworkStream stream, CancellationToken ct)
    {
        var buf = new byte[ControlProtocol.MaxRequestBytes];
        int n = 0;
        while (n < buf.Length)
        {
            int r = await stream.ReadAsync(buf.AsMemory(n, 1), ct).ConfigureAwait(false);
            if (r == 0) break;
            if (buf[n] == (byte)'\n') return Encoding.UTF8.GetString(buf, 0, n);
            n += r;
        }
        return n > 0 && n < buf.Length ? Encoding.UTF8.GetString(buf, 0, n) : null;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _listener?.Dispose();
        if (_listener is not null)
        {
            try { File.Delete(_options.SocketPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private sealed class StreamResponse(StreamWriter writer) : IControlResponse
    {
        public void Out(string text) => Write(ControlProtocol.Stdout, text);
        public void Err(string text) => Write(ControlProtocol.Stderr, text);

        private void Write(char channel, string text)
        {
            foreach (var line in text.Split('\n'))
                writer.WriteLine(ControlProtocol.Line(channel, line));
        }

        public Task FlushAsync(CancellationToken ct) => writer.FlushAsync(ct);

        public async Task ExitAsync(int code)
        {
            writer.WriteLine(ControlProtocol.Line(ControlProtocol.Exit, code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            await writer.FlushAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "ControlSocketListening {SocketPath} {Group}")]
    private partial void LogListening(string socketPath, string group);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "ControlRefused {PeerUid} {PeerPid}")]
    private partial void LogRefused(uint peerUid, int peerPid);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug, Message = "ControlRequest {Command} {PeerUid} {PeerPid}")]
    private partial void LogRequest(string command, uint peerUid, int peerPid);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "ControlGroupMissing {Group}: only root and the daemon's user can use the control socket")]
    private partial void LogGroupMissing(string group);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "ControlGroupNotSet {SocketPath} {Group}: {Problem}")]
    private partial void LogGroupNotSet(string socketPath, string group, string problem);

    [LoggerMessage(EventId = 206, Level = LogLevel.Error, Message = "ControlCommandFailed {Exception}: {Problem}")]
    private partial void LogCommandFailed(string exception, string problem);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "ControlAcceptFailed {Problem}")]
    private partial void LogAcceptFailed(string problem);
}

/// <summary>Where a command writes: lines for the client's standard output and standard error.</summary>
public interface IControlResponse
{
    void Out(string text);
    void Err(string text);
    Task FlushAsync(CancellationToken ct);
}
