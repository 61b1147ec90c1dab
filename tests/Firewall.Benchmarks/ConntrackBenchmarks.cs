using BenchmarkDotNet.Attributes;
using Firewall.Cli.Bench;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Benchmarks;

// Every per-packet benchmark sets OperationsPerInvoke to the packets it tracks, so "Mean" reads as ns/packet and
// "Allocated" as bytes/packet. Each checks its own results: a run that tracked packets into the wrong state fails
// in GlobalCleanup instead of reporting a figure for work it did not do.

/// <summary>One established TCP connection: data both ways, seq/ack advancing so window tracking accepts every packet.</summary>
[MemoryDiagnoser]
public class ConntrackEstablishedBenchmarks
{
    private const int Packets = 1 << 16;
    private const uint Step = 100; // payload bytes per segment
    private readonly byte[] _fromA = new byte[BenchFrames.MaxFrame], _fromB = new byte[BenchFrames.MaxFrame];
    private int _lenA, _lenB;
    private ConntrackTable _table = null!;
    private ConntrackWorker _w = null!;
    private uint _seqA, _seqB;
    private long _now;
    private long _wrong;

    [GlobalSetup]
    public void Setup()
    {
        _table = new ConntrackTable(new ConntrackOptions { Max = 1024 });
        _w = _table.CreateWorker();
        _now = 1_000_000_000_000;
        var f = new byte[BenchFrames.MaxFrame];
        uint a = BenchFrames.V4(1), b = BenchFrames.V4(2);
        uint isnA = 1000, isnB = 5_000_000;
        Track(f, BenchFrames.Ipv4Tcp(f, a, b, 40000, 443, isnA, 0, BenchFrames.Syn, 64240, 0, windowScale: 7), CtState.New);
        Track(f, BenchFrames.Ipv4Tcp(f, b, a, 443, 40000, isnB, isnA + 1, BenchFrames.Syn | BenchFrames.Ack, 65160, 0, windowScale: 7), CtState.Established);
        Track(f, BenchFrames.Ipv4Tcp(f, a, b, 40000, 443, isnA + 1, isnB + 1, BenchFrames.Ack, 502, 0), CtState.Established);
        _seqA = isnA + 1;
        _seqB = isnB + 1;
        _lenA = BenchFrames.Ipv4Tcp(_fromA, a, b, 40000, 443, 0, 0, BenchFrames.Psh | BenchFrames.Ack, 502, (int)Step);
        _lenB = BenchFrames.Ipv4Tcp(_fromB, b, a, 443, 40000, 0, 0, BenchFrames.Psh | BenchFrames.Ack, 509, (int)Step);
    }

    private void Track(byte[] frame, int length, CtState expected)
    {
        PacketParser.Parse(frame.AsSpan(0, length), LinkType.Ethernet, out var p);
        var r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
        if (r.State != expected) throw new InvalidOperationException($"setup packet was {r.State} ({r.Reason})");
        if (r.IsNew) _w.Confirm(ref r);
    }

    /// <summary>Track only: the two frames are parsed once per invocation and their seq/ack fields advanced in place.</summary>
    [Benchmark(OperationsPerInvoke = Packets)]
    public long TrackEstablishedTcp()
    {
        PacketParser.Parse(_fromA.AsSpan(0, _lenA), LinkType.Ethernet, out var pa);
        PacketParser.Parse(_fromB.AsSpan(0, _lenB), LinkType.Ethernet, out var pb);
        uint a = _seqA, b = _seqB;
        long now = _now, wrong = 0;
        var w = _w;
        for (int i = 0; i < Packets / 2; i++)
        {
            pa.Seq = a; pa.Ack = b;
            var r = w.Track(ref pa, now, TrackOptions.LocallyGenerated);
            wrong += r.State == CtState.Established ? 0 : 1;
            pb.Seq = b; pb.Ack = a + Step;
            r = w.Track(ref pb, now + 25, TrackOptions.LocallyGenerated);
            wrong += r.State == CtState.Established ? 0 : 1;
            a += Step; b += Step; now += 50;
        }
        _seqA = a; _seqB = b; _now = now; _wrong += wrong;
        return wrong;
    }

    [GlobalCleanup]
    public void Check()
    {
        if (_wrong != 0) throw new InvalidOperationException($"{_wrong} packets were not ESTABLISHED");
    }
}

/// <summary>A table of 1,000,000 live UDP flows (both directions seen), looked up in a pre-shuffled random order.</summary>
[MemoryDiagnoser]
public class ConntrackRandomLookupBenchmarks
{
    private const int Flows = 1_000_000;
    private const int Packets = 1 << 20;
    private ConntrackTable _table = null!;
    private ConntrackWorker _w = null!;
    private readonly byte[] _frame = new byte[BenchFrames.MaxFrame];
    private int _frameLength;
    private int[] _order = null!;
    private long _now;
    private long _wrong;

    [GlobalSetup]
    public void Setup()
    {
        _table = new ConntrackTable(new ConntrackOptions { Max = 1 << 20 });
        _w = _table.CreateWorker();
        _now = 1_000_000_000_000;
        _frameLength = BenchFrames.Ipv4Udp(_frame, BenchFrames.V4(0), BenchFrames.V4(1), 1, 53, 32);
        PacketParser.Parse(_frame.AsSpan(0, _frameLength), LinkType.Ethernet, out var p);
        for (int i = 0; i < Flows; i++)
        {
            SetFlow(ref p, i, reply: false);
            var r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
            if (!r.IsNew || !_w.Confirm(ref r)) throw new InvalidOperationException($"flow {i}: {r.State} {r.Reason}");
            SetFlow(ref p, i, reply: true);
            r = _w.Track(ref p, _now, TrackOptions.LocallyGenerated);
            if (r.State != CtState.Established) throw new InvalidOperationException($"reply {i}: {r.State} {r.Reason}");
        }
        if (_table.Count != Flows) throw new InvalidOperationException($"table holds {_table.Count}");
        _order = new int[Packets];
        var rng = new Random(12345);
        for (int i = 0; i < Packets; i++) _order[i] = rng.Next(Flows) << 1 | (i & 1); // flow << 1 | direction
    }

    private static void SetFlow(ref ParsedPacket p, int flow, bool reply)
    {
        var (addr, port) = BenchFrames.Client(flow);
        var client = new IpAddr(0, addr);
        var server = new IpAddr(0, BenchFrames.V4(0x1FFFF));
        p.Src = reply ? server : client;
        p.Dst = reply ? client : server;
        p.SrcPort = reply ? (ushort)53 : port;
        p.DstPort = reply ? port : (ushort)53;
    }

    /// <summary>Track only, on a parsed UDP packet whose addresses and ports are set per lookup (alternating directions).</summary>
    [Benchmark(OperationsPerInvoke = Packets)]
    public long TrackRandomFlowOf1M()
    {
        PacketParser.Parse(_frame.AsSpan(0, _frameLength), LinkType.Ethernet, out var p);
        int[] order = _order;
        long now = _now, wrong = 0;
        var w = _w;
        for (int i = 0; i < order.Length; i++)
        {
            int v = order[i];
            SetFlow(ref p, v >> 1, reply: (v & 1) != 0);
            var r = w.Track(ref p, now, TrackOptions.LocallyGenerated);
            wrong += r.State == CtState.Established ? 0 : 1;
            now += 50;
        }
        _now = now; _wrong += wrong;
        return wrong;
    }

    [GlobalCleanup]
    public void Check()
    {
        if (_wrong != 0) throw new InvalidOperationException($"{_wrong} lookups were not ESTABLISHED");
    }
}

/// <summary>
/// New connections: Track + Confirm of distinct flows (UDP, or TCP SYNs), into a table flushed before each iteration.
/// One thread, and two threads with a worker each inserting disjoint flows.
/// </summary>
[MemoryDiagnoser]
public class ConntrackNewConnectionBenchmarks
{
    private const int Flows = 1 << 20;
    private ConntrackTable _table = null!;
    private ConntrackWorker _w0 = null!, _w1 = null!;
    private readonly byte[] _udp = new byte[BenchFrames.MaxFrame], _syn = new byte[BenchFrames.MaxFrame];
    private int _udpLength, _synLength;
    private long _now;
    private long _wrong;
    private TwoThreads _threads = null!;

    [GlobalSetup]
    public void Setup()
    {
        _table = new ConntrackTable(new ConntrackOptions { Max = Flows + 1024 });
        _w0 = _table.CreateWorker();
        _w1 = _table.CreateWorker();
        _now = 1_000_000_000_000;
        _udpLength = BenchFrames.Ipv4Udp(_udp, BenchFrames.V4(0), BenchFrames.V4(1), 1, 53, 32);
        _synLength = BenchFrames.Ipv4Tcp(_syn, BenchFrames.V4(0), BenchFrames.V4(1), 1, 443, 1000, 0, BenchFrames.Syn, 64240, 0, windowScale: 7);
        _threads = new TwoThreads();
    }

    [IterationSetup]
    public void Empty()
    {
        _now += 1_000_000_000;
        _table.Flush(_now);
        _w0.Maintain(_now); // the owners free what the flush killed, outside the measured loop
        _w1.Maintain(_now);
        if (_table.Count != 0) throw new InvalidOperationException($"flush left {_table.Count}");
    }

    private long Insert(ConntrackWorker w, byte[] frame, int length, int from, int to, long now)
    {
        PacketParser.Parse(frame.AsSpan(0, length), LinkType.Ethernet, out var p);
        var server = new IpAddr(0, BenchFrames.V4(0x1FFFF));
        long wrong = 0;
        for (int i = from; i < to; i++)
        {
            var (addr, port) = BenchFrames.Client(i);
            p.Src = new IpAddr(0, addr);
            p.Dst = server;
            p.SrcPort = port;
            var r = w.Track(ref p, now, TrackOptions.LocallyGenerated);
            wrong += r.IsNew && w.Confirm(ref r) ? 0 : 1;
            now += 50;
        }
        return wrong;
    }

    [Benchmark(OperationsPerInvoke = Flows)]
    public long NewUdpOneThread() => _wrong += Insert(_w0, _udp, _udpLength, 0, Flows, _now);

    [Benchmark(OperationsPerInvoke = Flows)]
    public long NewTcpSynOneThread() => _wrong += Insert(_w0, _syn, _synLength, 0, Flows, _now);

    [Benchmark(OperationsPerInvoke = Flows)]
    public long NewUdpTwoThreads()
    {
        long now = _now, w0 = 0, w1 = 0;
        _threads.Run(() => w0 = Insert(_w0, _udp, _udpLength, 0, Flows / 2, now),
                     () => w1 = Insert(_w1, _udp, _udpLength, Flows / 2, Flows, now));
        return _wrong += w0 + w1;
    }

    [GlobalCleanup]
    public void Check()
    {
        _threads.Dispose();
        if (_wrong != 0) throw new InvalidOperationException($"{_wrong} packets did not create and confirm an entry");
    }
}

/// <summary>Memory of the preallocated table: Allocated / 4,194,304 is the cost of one entry including the index.</summary>
[MemoryDiagnoser]
public class ConntrackTableMemoryBenchmarks
{
    public const int Max = 4_194_304;

    [Benchmark(OperationsPerInvoke = Max)]
    public long CreateTable4M() => new ConntrackTable(new ConntrackOptions { Max = Max, EventRingSize = 0 }).MemoryBytes;
}

/// <summary>Two long-lived threads that run one action each per <see cref="Run"/> (no thread start inside the measurement).</summary>
internal sealed class TwoThreads : IDisposable
{
    private readonly Thread[] _threads = new Thread[2];
    private readonly SemaphoreSlim[] _go = [new(0), new(0)];
    private readonly CountdownEvent _done = new(2);
    private readonly Action?[] _work = new Action?[2];
    private volatile bool _stop;

    public TwoThreads()
    {
        for (int i = 0; i < 2; i++)
        {
            int id = i;
            _threads[i] = new Thread(() => Loop(id)) { IsBackground = true, Name = $"bench-{i}" };
            _threads[i].Start();
        }
    }

    private void Loop(int id)
    {
        while (true)
        {
            _go[id].Wait();
            if (_stop) return;
            _work[id]!();
            _done.Signal();
        }
    }

    public void Run(Action a, Action b)
    {
        _done.Reset(2);
        _work[0] = a; _work[1] = b;
        _go[0].Release(); _go[1].Release();
        _done.Wait();
    }

    public void Dispose()
    {
        _stop = true;
        _go[0].Release(); _go[1].Release();
        foreach (var t in _threads) t.Join();
    }
}
