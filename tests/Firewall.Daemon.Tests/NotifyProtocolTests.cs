using System.Net.Sockets;
using System.Text;
using Firewall.Daemon.Health;
using Firewall.Daemon.Tests.Support;

namespace Firewall.Daemon.Tests;

/// <summary>The sd_notify conversation, received on a real datagram socket as systemd would.</summary>
public sealed class NotifyProtocolTests : IDisposable
{
    private readonly DaemonSetup _s = new("notify");
    private readonly Socket _sock = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly string _path;

    public NotifyProtocolTests()
    {
        _path = Path.Combine(_s.Dir, "notify.sock");
        _sock.Bind(new UnixDomainSocketEndPoint(_path));
        _sock.ReceiveTimeout = 200;
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
    }

    public void Dispose()
    {
        _sock.Dispose();
        _s.Dispose();
    }

    private readonly List<string> _got = [];

    private string WaitFor(string prefix, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        var buf = new byte[4096];
        while (DateTime.UtcNow < until)
        {
            try
            {
                int n = _sock.Receive(buf);
                string msg = Encoding.UTF8.GetString(buf, 0, n);
                _got.Add(msg);
                if (msg.StartsWith(prefix, StringComparison.Ordinal)) return msg;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock) { }
        }
        throw new Xunit.Sdk.XunitException($"no \"{prefix}\" notification; got: {string.Join(" | ", _got)}");
    }

    private DaemonProcess Start(string watchdogUsec = "1000000") =>
        new(_s.Args(), new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = _path, ["WATCHDOG_USEC"] = watchdogUsec });

    [Fact]
    public void Ready_ComesAfterTheDataPathOpened_WithAStatusLine()
    {
        using var d = Start();
        string ready = WaitFor("READY=1");
        var readyAt = DateTimeOffset.UtcNow;
        Assert.Contains("\nSTATUS=replay: ", ready);
        // the data path was open before READY was sent: its log event (read from stdout, which may lag the datagram)
        // carries a timestamp no later than the moment READY arrived
        var opened = d.WaitForEvent("DataPathOpened", TimeSpan.FromSeconds(10));
        Assert.True(opened.GetProperty("@t").GetDateTimeOffset() <= readyAt, $"DataPathOpened logged at {opened.GetProperty("@t")}, READY received at {readyAt:O}");
        Assert.DoesNotContain(_got.Take(_got.Count - 1), m => m.Contains("READY=1"));
    }

    [Fact]
    public void Watchdog_IsFedWhileThePacketPathIsHealthy()
    {
        using var d = Start("400000");
        WaitFor("READY=1");
        WaitFor("WATCHDOG=1");
        WaitFor("WATCHDOG=1");
        Assert.True(_got.Count(m => m == "WATCHDOG=1") >= 2);
    }

    [Fact]
    public void Sighup_SendsReloadingWithMonotonicUsec_ThenReadyAgain()
    {
        using var d = Start();
        WaitFor("READY=1");
        d.Signal(1);
        string reloading = WaitFor("RELOADING=1");
        var usec = reloading.Split('\n').Single(l => l.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal))["MONOTONIC_USEC=".Length..];
        Assert.True(long.Parse(usec, System.Globalization.CultureInfo.InvariantCulture) > 0);
        WaitFor("READY=1");
        Assert.False(d.HasExited, "SIGHUP must not end the daemon");
        d.WaitForEvent("ConfigReloaded", where: e => e.GetProperty("Trigger").GetString() == "signal");
    }

    [Fact]
    public void Sigterm_SendsStoppingAndExitsCleanly()
    {
        using var d = Start();
        WaitFor("READY=1");
        d.Signal(15);
        WaitFor("STOPPING=1");
        Assert.True(d.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, d.ExitCode);
    }

    [Fact]
    public void Status_IsRefreshedWithLiveFigures()
    {
        using var d = Start("20000000");
        WaitFor("READY=1");
        string status = WaitFor("STATUS=", TimeSpan.FromSeconds(12));
        Assert.Contains("connections", status);
        Assert.Contains("packets accepted 6", status);
    }
}

public sealed class DataPathHealthTests
{
    [Fact]
    public void NoReaders_IsHealthy() => Assert.True(new DataPathHealth().IsHealthy(out _));

    [Fact]
    public void AReaderThatBeatsRecently_IsHealthy()
    {
        var h = new DataPathHealth(TimeSpan.FromSeconds(5));
        using var beat = h.Register("r0");
        beat.Beat();
        Assert.True(h.IsHealthy(Environment.TickCount64 + 4000, out _));
    }

    [Fact]
    public void AReaderSilentLongerThanTheStallTime_IsUnhealthyAndNamed()
    {
        var h = new DataPathHealth(TimeSpan.FromSeconds(5));
        using var beat = h.Register("queue-3");
        beat.Beat();
        Assert.False(h.IsHealthy(Environment.TickCount64 + 6000, out var problem));
        Assert.Contains("queue-3", problem);
    }

    [Fact]
    public void AReportedFailure_IsUnhealthyUntilCleared()
    {
        var h = new DataPathHealth();
        h.ReportFailure("reader died");
        Assert.False(h.IsHealthy(out var problem));
        Assert.Equal("reader died", problem);
        h.ClearFailure();
        Assert.True(h.IsHealthy(out _));
    }

    [Fact]
    public void AnEndedReader_NoLongerCounts()
    {
        var h = new DataPathHealth(TimeSpan.FromSeconds(1));
        var beat = h.Register("r0");
        beat.Dispose();
        Assert.True(h.IsHealthy(Environment.TickCount64 + 10_000, out _));
        Assert.Equal(0, h.Readers);
    }
}
