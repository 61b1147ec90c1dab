using System.Net.Sockets;
using System.Text;

namespace Firewall.Native.Systemd;

/// <summary>
/// sd_notify without libsystemd: one datagram of KEY=VALUE lines to $NOTIFY_SOCKET (a path, or '@name' for an
/// abstract socket). Without $NOTIFY_SOCKET every call is a no-op returning false. Sending never throws: a failed
/// notification returns false (the daemon decides whether to log).
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Lock _lock = new();
    private Socket? _socket;

    /// <param name="socketAddress">$NOTIFY_SOCKET value; null or empty disables notifications.</param>
    /// <param name="watchdogInterval">The interval systemd expects WATCHDOG=1 within, if any.</param>
    public SystemdNotifier(string? socketAddress, TimeSpan? watchdogInterval = null)
    {
        SocketAddress = string.IsNullOrEmpty(socketAddress) ? null : socketAddress;
        // Abstract namespace: systemd writes '@', the kernel wants a leading NUL.
        if (SocketAddress is not null)
            _endPoint = new UnixDomainSocketEndPoint(SocketAddress[0] == '@' ? "\0" + SocketAddress[1..] : SocketAddress);
        WatchdogInterval = watchdogInterval;
    }

    /// <summary>Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (getVariable defaults to the process environment).</summary>
    public static SystemdNotifier FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        return new SystemdNotifier(getVariable("NOTIFY_SOCKET"),
            ParseWatchdog(getVariable("WATCHDOG_USEC"), getVariable("WATCHDOG_PID"), Environment.ProcessId));
    }

    /// <summary>
    /// The watchdog interval from WATCHDOG_USEC, when WATCHDOG_PID is unset or names this process; else null.
    /// Ping at about half of it.
    /// </summary>
    public static TimeSpan? ParseWatchdog(string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (!ulong.TryParse(watchdogUsec, out ulong usec) || usec == 0) return null;
        if (!string.IsNullOrEmpty(watchdogPid) && (!int.TryParse(watchdogPid, out int pid) || pid != processId)) return null;
        return TimeSpan.FromMicroseconds(usec);
    }

    public string? SocketAddress { get; }

    public bool IsEnabled => _endPoint is not null;

    public TimeSpan? WatchdogInterval { get; }

    /// <summary>READY=1, with an optional STATUS line.</summary>
    public bool Ready(string? status = null) => Notify(status is null ? "READY=1" : $"READY=1\nSTATUS={status}");

    public bool Status(string status) => Notify($"STATUS={status}");

    public bool Watchdog() => Notify("WATCHDOG=1");

    public bool Stopping() => Notify("STOPPING=1");

    /// <summary>RELOADING=1 with MONOTONIC_USEC (required by systemd 253+ for Type=notify-reload, ignored by older ones).</summary>
    public bool Reloading() => Notify($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}");

    /// <summary>Sends state (newline-separated KEY=VALUE lines) as one datagram.</summary>
    public bool Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_endPoint is null) return false;
        byte[] datagram = Encoding.UTF8.GetBytes(state);
        lock (_lock)
        {
            try
            {
                _socket ??= new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                return _socket.SendTo(datagram, _endPoint) == datagram.Length;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _socket?.Dispose();
                _socket = null;
                return false;
            }
        }
    }

    /// <summary>CLOCK_MONOTONIC in microseconds (what systemd compares MONOTONIC_USEC against).</summary>
    public static unsafe long MonotonicMicroseconds()
    {
        Interop.Clock.TimeSpec now;
        if (Interop.Clock.GetTime(Interop.Clock.CLOCK_MONOTONIC, &now) != 0) NativeException.ThrowLast("clock_gettime(CLOCK_MONOTONIC)");
        return now.Seconds * 1_000_000 + now.Nanoseconds / 1000;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }
}
