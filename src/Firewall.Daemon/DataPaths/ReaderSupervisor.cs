using Firewall.Core.Pipeline;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Health;
using Firewall.Native;
using Firewall.Native.Scheduling;
using Microsoft.Extensions.Logging;

namespace Firewall.Daemon.DataPaths;

/// <summary>One packet reader: a NIC or a queue served by one dedicated thread with its own pipeline worker.</summary>
public abstract class PacketReader
{
    /// <summary>Short name for logs ("brA", "queue 0", …).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Reads until <paramref name="stop"/> is set, (re)opening its device first when needed. Returns when stopped;
    /// throws when the device fails — the supervisor then logs, waits with backoff and calls Run again.
    /// </summary>
    public abstract void Run(StopEvent stop);

    /// <summary>Counters and state for status lines.</summary>
    public abstract string Describe();

    /// <summary>Restarts so far (maintained by the supervisor).</summary>
    public long Restarts;

    /// <summary>Bytes allocated so far by the reader thread (refreshed on its idle/maintenance tick): flat in steady state.</summary>
    public long ThreadAllocatedBytes;

    /// <summary>Set by the supervisor: the reader's liveness mark for the systemd watchdog.</summary>
    internal Heartbeat? Heartbeat;

    /// <summary>Set by the supervisor: where decided packets are counted (metrics, status).</summary>
    internal TrafficCounters? Traffic;

    /// <summary>Called by the reader thread on its maintenance tick (busy or idle: it also shows the reader is alive).</summary>
    protected void SampleAllocations()
    {
        Volatile.Write(ref ThreadAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
        Heartbeat?.Beat();
    }

    /// <summary>Counts one decided packet (one array increment).</summary>
    protected void Count(PipelineWorker worker, in PacketDecision d) => Traffic?.Record(worker.Conntrack.WorkerId, in d);
}

/// <summary>
/// Runs each reader on its own thread; a reader that throws is logged and restarted after a backoff that doubles
/// from <see cref="InitialBackoff"/> to <see cref="MaxBackoff"/> (reset once a run lasted 10 s). Setting the stop event
/// ends every reader (they wait on it together with their descriptors) — well within a second.
/// </summary>
public sealed partial class ReaderSupervisor
{
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly ILogger _log;
    private readonly StopEvent _stop;
    private readonly List<Thread> _threads = [];

    private readonly DataPathHealth? _health;
    private readonly TrafficCounters? _traffic;

    public ReaderSupervisor(ILogger log, StopEvent stop, DataPathHealth? health = null, TrafficCounters? traffic = null)
    {
        _log = log;
        _stop = stop;
        _health = health;
        _traffic = traffic;
    }

    /// <summary>CPUs for the reader threads (DataPath:ReaderCpus): reader i runs only on <c>Cpus[i % Cpus.Count]</c>; empty = anywhere.</summary>
    public IReadOnlyList<int> Cpus { get; set; } = [];

    /// <summary>Starts one thread per reader; the task completes when all of them have ended (after stop).</summary>
    public Task Start(IReadOnlyList<PacketReader> readers)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = readers.Count;
        if (running == 0) done.SetResult();
        for (int i = 0; i < readers.Count; i++)
        {
            PacketReader reader = readers[i];
            int cpu = Cpus.Count > 0 ? Cpus[i % Cpus.Count] : -1;
            var thread = new Thread(() =>
            {
                try
                {
                    if (cpu >= 0) Pin(reader, cpu);
                    Supervise(reader);
                }
                finally
                {
                    if (Interlocked.Decrement(ref running) == 0) done.TrySetResult();
                }
            })
            {
                IsBackground = true,
                Name = "reader " + reader.Name,
            };
            _threads.Add(thread);
            thread.Start();
        }
        return done.Task;
    }

    private void Pin(PacketReader reader, int cpu)
    {
        try
        {
            CpuAffinity.PinCurrentThread(cpu);
            LogReaderPinned(reader.Name, cpu);
        }
        catch (NativeException e)
        {
            // checked at start-up; a CPU taken offline since then leaves the reader where the scheduler puts it
            LogReaderNotPinned(reader.Name, cpu, e.Message);
        }
    }

    private void Supervise(PacketReader reader)
    {
        using var heartbeat = _health?.Register(reader.Name);
        reader.Heartbeat = heartbeat;
        reader.Traffic = _traffic;
        TimeSpan backoff = InitialBackoff;
        while (!_stop.IsSet)
        {
            heartbeat?.Beat(); // a reader being restarted is not stuck
            long started = Environment.TickCount64;
            try
            {
                reader.Run(_stop);
                if (_stop.IsSet) return;
                LogReaderEnded(reader.Name, (int)backoff.TotalMilliseconds);
            }
            catch (Exception e) when (!_stop.IsSet)
            {
                LogReaderFailed(reader.Name, e.Message, (int)backoff.TotalMilliseconds);
            }
            catch (Exception)
            {
                return; // failures while stopping (device closed under us) are not news
            }
            if (Environment.TickCount64 - started > 10_000) backoff = InitialBackoff;
            if (_stop.Wait((int)backoff.TotalMilliseconds) == WaitResult.Stopped) return;
            Interlocked.Increment(ref reader.Restarts);
            LogReaderRestarting(reader.Name, Interlocked.Read(ref reader.Restarts));
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>Waits for the reader threads to end (after the stop event was set).</summary>
    public bool Join(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        foreach (var t in _threads)
            if (!t.Join((int)Math.Max(0, deadline - Environment.TickCount64))) return false;
        return true;
    }

    [LoggerMessage(EventId = 124, Level = LogLevel.Information, Message = "ReaderPinned {Reader} runs on CPU {Cpu}")]
    private partial void LogReaderPinned(string reader, int cpu);

    [LoggerMessage(EventId = 125, Level = LogLevel.Warning, Message = "ReaderNotPinned {Reader} could not be kept on CPU {Cpu}: {Error}; it runs where the scheduler puts it")]
    private partial void LogReaderNotPinned(string reader, int cpu, string error);

    [LoggerMessage(EventId = 120, Level = LogLevel.Error, Message = "ReaderFailed {Reader}: {Error}; restarting in {DelayMs} ms")]
    private partial void LogReaderFailed(string reader, string error, int delayMs);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "ReaderEnded {Reader} unexpectedly; restarting in {DelayMs} ms")]
    private partial void LogReaderEnded(string reader, int delayMs);

    [LoggerMessage(EventId = 122, Level = LogLevel.Information, Message = "ReaderRestarting {Reader} (restart {Restarts})")]
    private partial void LogReaderRestarting(string reader, long restarts);
}
