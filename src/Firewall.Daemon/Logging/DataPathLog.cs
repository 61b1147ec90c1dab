using System.Threading.Channels;

namespace Firewall.Daemon.Logging;

/// <summary>
/// What data paths report about themselves: errors and recoveries of readers, capture drops. Calls never block and
/// never allocate beyond the record: they go into a bounded queue that <see cref="TrafficLogService"/> writes out
/// off the packet path, at most <see cref="PerKeyPerMinute"/> per data path, reader and kind (the rest is counted
/// and reported as suppressed).
/// </summary>
public sealed class DataPathLog
{
    public const int PerKeyPerMinute = 10;

    public enum Kind : byte { Error, Recovered, CaptureDrops }

    public readonly record struct Item(Kind Kind, string DataPath, string Reader, string? Problem, long Value, DateTimeOffset At);

    private readonly Channel<Item> _queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(1024)
    {
        FullMode = BoundedChannelFullMode.Wait, SingleReader = true,
    });
    private long _lost;

    /// <summary>A reader failed (it will be restarted with backoff, or the data path gives up).</summary>
    public void Error(string dataPath, string reader, string problem) => Post(new Item(Kind.Error, dataPath, reader, problem, 0, DateTimeOffset.UtcNow));

    /// <summary>A reader works again after <paramref name="downMs"/> ms.</summary>
    public void Recovered(string dataPath, string reader, long downMs) => Post(new Item(Kind.Recovered, dataPath, reader, null, downMs, DateTimeOffset.UtcNow));

    /// <summary>The kernel or the capture library dropped <paramref name="count"/> packets since the last report.</summary>
    public void CaptureDrops(string dataPath, string reader, long count) => Post(new Item(Kind.CaptureDrops, dataPath, reader, null, count, DateTimeOffset.UtcNow));

    private void Post(in Item item)
    {
        if (!_queue.Writer.TryWrite(item)) Interlocked.Increment(ref _lost);
    }

    internal ChannelReader<Item> Reader => _queue.Reader;

    /// <summary>Reports lost because the queue was full, since the last call.</summary>
    internal long TakeLost() => Interlocked.Exchange(ref _lost, 0);
}
