using System.Threading.Channels;
using Firewall.Core.Conntrack;
using Firewall.Daemon.Engine;
using Microsoft.Extensions.Hosting;

namespace Firewall.Daemon.Events;

/// <summary>
/// The single consumer of the table's event rings. Table events are on only while somebody wants them (an
/// <c>fwctl conntrack -E</c> listener, or conntrack event logging) — like nf_conntrack_events=2. While they are on,
/// events are drained every 50 ms off the packet path and handed to each subscriber's bounded queue; a slow subscriber
/// loses events (counted), it never slows the packet path. While they are off, the pump sleeps.
/// </summary>
public sealed class ConntrackEventHub : BackgroundService
{
    private readonly FirewallEngine _engine;
    private readonly Lock _gate = new();
    private Subscription[] _subs = [];
    private Action<CtEvent>? _logSink;

    public ConntrackEventHub(FirewallEngine engine) { _engine = engine; }

    /// <summary>Subscribes to events that pass <paramref name="filter"/>; dispose to unsubscribe.</summary>
    public Subscription Subscribe(Func<CtEvent, bool>? filter, int capacity = 8192)
    {
        var s = new Subscription(this, filter, capacity);
        lock (_gate) { _subs = [.. _subs, s]; Update(); }
        return s;
    }

    /// <summary>Sets (or clears) the logging consumer, which also keeps events on.</summary>
    public void SetLogSink(Action<CtEvent>? sink)
    {
        lock (_gate) { _logSink = sink; Update(); }
    }

    public int Subscribers => Volatile.Read(ref _subs).Length;

    internal void Remove(Subscription s)
    {
        lock (_gate) { _subs = Array.FindAll(_subs, x => x != s); Update(); }
    }

    private void Update()
    {
        bool on = _subs.Length > 0 || _logSink is not null;
        _engine.Table.EventsEnabled = on;
        if (on) _enabled.TrySetResult();
        else if (_enabled.Task.IsCompleted) _enabled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // completed while events are on: with nobody listening the pump sleeps instead of ticking 20 times a second
    private TaskCompletionSource _enabled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Drains once (also used by tests); returns how many events were dispatched.</summary>
    public int Pump(List<CtEvent> buffer)
    {
        buffer.Clear();
        if (!_engine.Table.EventsEnabled) return 0;
        _engine.Table.DrainEvents(buffer, 65536);
        var subs = Volatile.Read(ref _subs);
        var log = Volatile.Read(ref _logSink);
        foreach (var e in buffer)
        {
            log?.Invoke(e);
            foreach (var s in subs) s.Offer(e);
        }
        return buffer.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var buffer = new List<CtEvent>(1024);
        TimeSpan tick = TimeSpan.FromMilliseconds(50);
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (true)
            {
                Task enabled;
                lock (_gate) enabled = _enabled.Task;
                if (!enabled.IsCompleted)
                {
                    Pump(buffer); // what was recorded before the last listener left
                    timer.Period = Timeout.InfiniteTimeSpan; // a PeriodicTimer fires whether awaited or not
                    await enabled.WaitAsync(stoppingToken).ConfigureAwait(false);
                    timer.Period = tick;
                }
                if (!await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) break;
                Pump(buffer);
            }
        }
        catch (OperationCanceledException) { }
        foreach (var s in Volatile.Read(ref _subs)) s.Complete();
    }

    public sealed class Subscription : IDisposable
    {
        private readonly ConntrackEventHub _hub;
        private readonly Func<CtEvent, bool>? _filter;
        private readonly Channel<CtEvent> _channel;
        private long _lost;

        internal Subscription(ConntrackEventHub hub, Func<CtEvent, bool>? filter, int capacity)
        {
            _hub = hub;
            _filter = filter;
            _channel = Channel.CreateBounded<CtEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        }

        public ChannelReader<CtEvent> Reader => _channel.Reader;
        /// <summary>Events this subscriber missed because it did not keep up.</summary>
        public long Lost => Interlocked.Read(ref _lost);

        internal void Offer(in CtEvent e)
        {
            if (_filter is not null && !_filter(e)) return;
            if (!_channel.Writer.TryWrite(e)) Interlocked.Increment(ref _lost);
        }

        internal void Complete() => _channel.Writer.TryComplete();

        public void Dispose()
        {
            _hub.Remove(this);
            Complete();
        }
    }
}
