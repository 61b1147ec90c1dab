using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Firewall.Native.Systemd;

namespace Firewall.Integration.Tests.Native;

/// <summary>sd_notify datagrams against real AF_UNIX datagram sockets bound by the test.</summary>
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fw-notify-").FullName;
    private readonly List<Socket> _sockets = [];

    public void Dispose()
    {
        foreach (Socket s in _sockets) s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Socket Listen(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _sockets.Add(socket);
        socket.Bind(new UnixDomainSocketEndPoint(address));
        socket.ReceiveTimeout = 2000;
        return socket;
    }

    private static string ReceiveText(Socket socket)
    {
        var buffer = new byte[4096];
        int n = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void Ready_WithStatus_ArrivesAsOneDatagramOnAPathSocket()
    {
        string path = Path.Combine(_dir, "notify");
        Socket listener = Listen(path);
        using var notifier = new SystemdNotifier(path);
        Assert.True(notifier.Ready("tracking 0 connections"));
        Assert.Equal("READY=1\nSTATUS=tracking 0 connections", ReceiveText(listener));
    }

    [Fact]
    public void AtSign_AddressesAnAbstractSocket()
    {
        string name = $"fw-notify-test-{Guid.NewGuid():N}";
        Socket listener = Listen("\0" + name);
        using var notifier = new SystemdNotifier("@" + name);
        Assert.True(notifier.Watchdog());
        Assert.Equal("WATCHDOG=1", ReceiveText(listener));
    }

    [Theory]
    [InlineData("status", "STATUS=reloading rules")]
    [InlineData("watchdog", "WATCHDOG=1")]
    [InlineData("stopping", "STOPPING=1")]
    [InlineData("ready", "READY=1")]
    public void EachNotification_SendsItsKey(string kind, string expected)
    {
        string path = Path.Combine(_dir, "n-" + kind);
        Socket listener = Listen(path);
        using var notifier = new SystemdNotifier(path);
        bool sent = kind switch
        {
            "status" => notifier.Status("reloading rules"),
            "watchdog" => notifier.Watchdog(),
            "stopping" => notifier.Stopping(),
            _ => notifier.Ready(),
        };
        Assert.True(sent);
        Assert.Equal(expected, ReceiveText(listener));
    }

    [Fact]
    public void Reloading_CarriesMonotonicUsecOfNow()
    {
        Assert.Equal(1_000_000_000, Stopwatch.Frequency); // Stopwatch reads CLOCK_MONOTONIC in ns on Linux
        string path = Path.Combine(_dir, "reload");
        Socket listener = Listen(path);
        using var notifier = new SystemdNotifier(path);
        long before = Stopwatch.GetTimestamp() / 1000;
        Assert.True(notifier.Reloading());
        long after = Stopwatch.GetTimestamp() / 1000;

        string[] lines = ReceiveText(listener).Split('\n');
        Assert.Equal("RELOADING=1", lines[0]);
        Assert.StartsWith("MONOTONIC_USEC=", lines[1]);
        Assert.InRange(long.Parse(lines[1]["MONOTONIC_USEC=".Length..]), before, after);
    }

    [Fact]
    public void WithoutNotifySocket_NotificationsAreNoOps()
    {
        using var notifier = SystemdNotifier.FromEnvironment(_ => null);
        Assert.False(notifier.IsEnabled);
        Assert.False(notifier.Ready());
        Assert.Null(notifier.WatchdogInterval);
    }

    [Fact]
    public void MissingSocket_ReturnsFalseInsteadOfThrowing()
    {
        using var notifier = new SystemdNotifier(Path.Combine(_dir, "nobody-listens"));
        Assert.True(notifier.IsEnabled);
        Assert.False(notifier.Ready());
    }

    [Fact]
    public void FromEnvironment_ReadsSocketAndWatchdogForThisProcess()
    {
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = "@fw-test",
            ["WATCHDOG_USEC"] = "30000000",
            ["WATCHDOG_PID"] = Environment.ProcessId.ToString(),
        };
        using var notifier = SystemdNotifier.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("@fw-test", notifier.SocketAddress);
        Assert.Equal(TimeSpan.FromSeconds(30), notifier.WatchdogInterval);
    }

    [Theory]
    [InlineData("5000000", null, 5.0)]      // no WATCHDOG_PID: meant for us
    [InlineData("5000000", "1", null)]      // meant for another process
    [InlineData("0", null, null)]           // disabled
    [InlineData("garbage", null, null)]
    [InlineData(null, null, null)]
    public void ParseWatchdog_HonoursWatchdogPid(string? usec, string? pid, double? expectedSeconds)
    {
        TimeSpan? interval = SystemdNotifier.ParseWatchdog(usec, pid, processId: 4242);
        Assert.Equal(expectedSeconds is null ? null : TimeSpan.FromSeconds(expectedSeconds.Value), interval);
    }
}
