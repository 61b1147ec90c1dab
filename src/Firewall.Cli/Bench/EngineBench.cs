using System.Diagnostics;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;

namespace Firewall.Cli.Bench;

/// <summary>What one scenario measured.</summary>
internal readonly record struct BenchResult(string Scenario, int Threads, long Flows, long Packets, double Seconds,
                                            long AllocatedBytes, int Gen0, int Gen1, int Gen2, long Unexpected)
{
    public double PacketsPerSecond => Packets / Seconds;
    public double NsPerPacket => Seconds * 1e9 / Packets;
    public double BytesPerPacket => (double)AllocatedBytes / Packets;
}

/// <summary>
/// The whole engine (parse + track + confirm) in a tight loop over frames built before the clock starts, one
/// conntrack worker per thread. The engine clock is synthetic (50 ns per packet), so timers behave as at 20 Mpps.
/// Every result is checked (state, new/confirmed); a packet with an unexpected result is counted, never hidden.
/// Locally generated mode: checksums are not verified (as for OVS's benchmark and the kernel's OUTPUT path).
/// </summary>
internal static class EngineBench
{
    /// <summary>Packets per batch for the random and new scenarios: 1 = one at a time; more = two prefetch stages per batch
    /// (index buckets, then entries) before tracking, as a data path that receives bursts would do.</summary>
    public static int BatchSize = 32;

    /// <summary>Memory advice for the tables (huge pages), or null.</summary>
    public static ConntrackTable.MemoryAdvisor? Advise;

    private const long NsPerPacket = 50;
    private const long Start = 1_000_000_000_000; // 1000 s: any positive engine time works
    private const int Stride = 64;                 // frame slot size in the flow store
    private const int UdpPayload = 18;             // 14 + 20 + 8 + 18 = 60 bytes: a minimum-size Ethernet frame
    private const ushort ServerPort = 53;
    private static readonly uint Server = BenchFrames.V4(0x1FFFF);

    /// <summary>One TCP connection per thread after its handshake, data both ways with advancing seq/ack.</summary>
    public static BenchResult Established(int threads, long packets)
    {
        var table = new ConntrackTable(new ConntrackOptions { Max = 1024 });
        var workers = new ConntrackWorker[threads];
        var flows = new (byte[] A, byte[] B, uint SeqA, uint SeqB)[threads];
        for (int t = 0; t < threads; t++)
        {
            workers[t] = table.CreateWorker();
            flows[t] = Handshake(workers[t], (ushort)(40000 + t));
        }
        long per = packets / threads / 2 * 2;
        return Run("established", threads, threads, per * threads, null, t =>
        {
            var (fa, fb, a, b) = flows[t];
            var w = workers[t];
            long now = Start, wrong = 0;
            const uint Step = 100;
            for (long i = 0; i < per; i += 2)
            {
                BenchFrames.PatchSeqAck(fa, a, b);
                PacketParser.Parse(fa, LinkType.Ethernet, out var p);
                wrong += w.Track(ref p, now, TrackOptions.LocallyGenerated).State == CtState.Established ? 0 : 1;
                BenchFrames.PatchSeqAck(fb, b, a + Step);
                PacketParser.Parse(fb, LinkType.Ethernet, out p);
                wrong += w.Track(ref p, now + NsPerPacket, TrackOptions.LocallyGenerated).State == CtState.Established ? 0 : 1;
                a += Step; b += Step; now += 2 * NsPerPacket;
            }
            return wrong;
        });
    }

    private static (byte[], byte[], uint, uint) Handshake(ConntrackWorker w, ushort port)
    {
        uint client = BenchFrames.V4(1), server = BenchFrames.V4(2);
        const uint IsnA = 1000, IsnB = 5_000_000;
        var f = new byte[BenchFrames.MaxFrame];
        Expect(w, f, BenchFrames.Ipv4Tcp(f, client, server, port, 443, IsnA, 0, BenchFrames.Syn, 64240, 0, windowScale: 7), CtState.New);
        Expect(w, f, BenchFrames.Ipv4Tcp(f, server, client, 443, port, IsnB, IsnA + 1, BenchFrames.Syn | BenchFrames.Ack, 65160, 0, windowScale: 7), CtState.Established);
        Expect(w, f, BenchFrames.Ipv4Tcp(f, client, server, port, 443, IsnA + 1, IsnB + 1, BenchFrames.Ack, 502, 0), CtState.Established);
        var a = new byte[BenchFrames.Ipv4Tcp(f, client, server, port, 443, 0, 0, BenchFrames.Psh | BenchFrames.Ack, 502, 100)];
        f.AsSpan(0, a.Length).CopyTo(a);
        var b = new byte[BenchFrames.Ipv4Tcp(f, server, client, 443, port, 0, 0, BenchFrames.Psh | BenchFrames.Ack, 509, 100)];
        f.AsSpan(0, b.Length).CopyTo(b);
        return (a, b, IsnA + 1, IsnB + 1);
    }

    private static void Expect(ConntrackWorker w, byte[] f, int length, CtState expected)
    {
        PacketParser.Parse(f.AsSpan(0, length), LinkType.Ethernet, out var p);
        var r = w.Track(ref p, Start, TrackOptions.LocallyGenerated);
        if (r.State != expected) throw new InvalidOperationException($"setup packet was {r.State} ({r.Reason}), expected {expected}");
        if (r.IsNew && !w.Confirm(ref r)) throw new InvalidOperationException("setup packet was not confirmed");
    }

    /// <summary><paramref name="flows"/> live UDP flows (both directions seen), looked up in random order.</summary>
    public static BenchResult Random(int threads, int flows, long packets)
    {
        var table = new ConntrackTable(new ConntrackOptions { Max = TableMax(flows), EventRingSize = 0 }, Advise);
        var workers = CreateWorkers(table, threads);
        byte[] store = BuildFlowStore(flows);
        var reply = new byte[BenchFrames.MaxFrame];
        for (int i = 0; i < flows; i++)
        {
            PacketParser.Parse(store.AsSpan(i * Stride, FrameLength), LinkType.Ethernet, out var p);
            var r = workers[0].Track(ref p, Start, TrackOptions.LocallyGenerated);
            if (!r.IsNew || !workers[0].Confirm(ref r)) throw new InvalidOperationException($"flow {i} was not created: {r.State} {r.Reason}");
            var (addr, port) = BenchFrames.Client(i);
            int n = BenchFrames.Ipv4Udp(reply, Server, addr, ServerPort, port, UdpPayload);
            PacketParser.Parse(reply.AsSpan(0, n), LinkType.Ethernet, out p);
            if (workers[0].Track(ref p, Start, TrackOptions.LocallyGenerated).State != CtState.Established)
                throw new InvalidOperationException($"reply of flow {i} was not ESTABLISHED");
        }
        // a fixed pseudo-random order (up to 4 M lookups, cycled), built before the clock starts
        var order = new int[(int)Math.Min(packets, 1 << 22)];
        var rng = new System.Random(12345);
        for (int i = 0; i < order.Length; i++) order[i] = rng.Next(flows);
        long per = packets / threads;
        return Run("random", threads, flows, per * threads, null, t =>
        {
            var w = workers[t];
            // A NIC writes each packet into a hot receive buffer: the frame is rewritten in place (source address and
            // port of the flow), so the measurement is the engine's table access, not a cache miss on a cold frame.
            byte[] frame = store.AsSpan(0, FrameLength).ToArray();
            long now = Start + 1_000_000_000, wrong = 0;
            int k = t * order.Length / threads;
            int batch = Math.Max(1, BatchSize);
            Span<ulong> hashes = stackalloc ulong[batch];
            for (long i = 0; i < per; i += batch)
            {
                int n = (int)Math.Min(batch, per - i);
                if (batch > 1)
                {
                    // stage 1 and 2 of a batch: start loading every bucket, then every candidate entry
                    int kk = k;
                    for (int j = 0; j < n; j++)
                    {
                        var (a, pt) = BenchFrames.Client(order[kk]);
                        BenchFrames.PatchSource(frame, a, pt);
                        PacketParser.Parse(frame, LinkType.Ethernet, out var pp);
                        hashes[j] = w.PrefetchBucket(ref pp, TrackOptions.LocallyGenerated);
                        if (++kk == order.Length) kk = 0;
                    }
                    for (int j = 0; j < n; j++) w.PrefetchEntries(hashes[j]);
                }
                for (int j = 0; j < n; j++)
                {
                    var (addr, port) = BenchFrames.Client(order[k]);
                    BenchFrames.PatchSource(frame, addr, port);
                    PacketParser.Parse(frame, LinkType.Ethernet, out var p);
                    wrong += w.Track(ref p, now, TrackOptions.LocallyGenerated).State == CtState.Established ? 0 : 1;
                    if (++k == order.Length) k = 0;
                    now += NsPerPacket;
                }
            }
            return wrong;
        });
    }

    /// <summary>
    /// New connections: every packet is the first of a distinct UDP flow (Track + Confirm). The table is flushed after
    /// each pass over the <paramref name="flows"/> pre-built frames (off the clock; the owners free the entries off the
    /// clock too), so every packet creates an entry.
    /// </summary>
    public static BenchResult New(int threads, int flows, long packets)
    {
        var table = new ConntrackTable(new ConntrackOptions { Max = TableMax(flows), EventRingSize = 0 }, Advise);
        var workers = CreateWorkers(table, threads);
        byte[] store = BuildFlowStore(flows);
        long per = packets / threads;
        long perRound = flows / threads;
        long now0 = Start;
        return Run("new", threads, flows, per * threads, round =>
        {
            table.Flush(now0);
            return table.Count == 0;
        }, t =>
        {
            var w = workers[t];
            long wrong = 0, done = 0, now = now0;
            int from = (int)(t * perRound);
            int batch = Math.Max(1, BatchSize);
            Span<ulong> hashes = stackalloc ulong[batch];
            while (done < per)
            {
                long n = Math.Min(perRound, per - done);
                for (int i = 0; i < n; i += batch)
                {
                    int m = (int)Math.Min(batch, n - i);
                    if (batch > 1)
                    {
                        for (int j = 0; j < m; j++)
                        {
                            PacketParser.Parse(store.AsSpan((from + i + j) * Stride, FrameLength), LinkType.Ethernet, out var pp);
                            hashes[j] = w.PrefetchBucket(ref pp, TrackOptions.LocallyGenerated);
                        }
                        for (int j = 0; j < m; j++) w.PrefetchEntries(hashes[j]);
                        w.PrefetchAllocations(m);
                    }
                    for (int j = 0; j < m; j++)
                    {
                        PacketParser.Parse(store.AsSpan((from + i + j) * Stride, FrameLength), LinkType.Ethernet, out var p);
                        var r = w.Track(ref p, now, TrackOptions.LocallyGenerated);
                        wrong += r.IsNew && w.Confirm(ref r) ? 0 : 1;
                        now += NsPerPacket;
                    }
                }
                done += n;
                if (done < per) now = RoundBarrier(w, now);
            }
            return wrong;
        }, Math.Max(1, (int)((per + perRound - 1) / perRound)));
    }

    private static int FrameLength => BenchFrames.EthernetLength + 20 + 8 + UdpPayload;

    private static int TableMax(int flows) => Math.Min(ConntrackOptions.MaxEntries, flows + flows / 16 + 1024);

    private static ConntrackWorker[] CreateWorkers(ConntrackTable table, int threads)
    {
        var w = new ConntrackWorker[threads];
        for (int t = 0; t < threads; t++) w[t] = table.CreateWorker();
        return w;
    }

    /// <summary>Original-direction UDP frames of flows 0 … n-1, one per <see cref="Stride"/> bytes.</summary>
    private static byte[] BuildFlowStore(int flows)
    {
        var store = new byte[(long)flows * Stride];
        for (int i = 0; i < flows; i++)
        {
            var (addr, port) = BenchFrames.Client(i);
            BenchFrames.Ipv4Udp(store.AsSpan(i * Stride, Stride), addr, Server, port, ServerPort, UdpPayload);
        }
        return store;
    }

    // ------------------------------------------------------------------ running threads

    [ThreadStatic] private static Barrier? t_barrier;

    /// <summary>Between two passes of a multi-pass scenario: stop the clock, let the coordinator reset the table, free
    /// what it killed (owner only), restart the clock. Returns the engine time to continue from.</summary>
    private static long RoundBarrier(ConntrackWorker w, long now)
    {
        var b = t_barrier!;
        b.SignalAndWait();   // all threads finished the pass: the coordinator stops the clock and resets the table
        b.SignalAndWait();   // the table is reset
        now += 1_000_000_000;
        w.Maintain(now);     // the owner frees what the reset killed
        b.SignalAndWait();   // everyone is ready: the clock restarts
        return now;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on <paramref name="threads"/> new threads started together, timing the packet
    /// loops only (wall clock from the common start to the last finish, excluding <paramref name="between"/> phases).
    /// Allocated bytes are those of the worker threads during their loops; GC counts are process-wide over the run.
    /// </summary>
    private static BenchResult Run(string name, int threads, long flows, long packets, Func<int, bool>? between,
                                   Func<int, long> work, int rounds = 1)
    {
        var clock = new Stopwatch();
        var barrier = new Barrier(threads + 1);
        bool failed = false;
        long unexpected = 0, allocated = 0;
        var pool = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            pool[t] = new Thread(() =>
            {
                t_barrier = barrier;
                barrier.SignalAndWait();
                long before = GC.GetAllocatedBytesForCurrentThread();
                long wrong = work(id);
                long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                Interlocked.Add(ref unexpected, wrong);
                Interlocked.Add(ref allocated, bytes);
                barrier.SignalAndWait();
            }) { Name = $"bench-{name}-{t}", IsBackground = true };
            pool[t].Start();
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        barrier.SignalAndWait();
        clock.Start();
        for (int r = 1; r < rounds; r++)
        {
            barrier.SignalAndWait();
            clock.Stop();
            if (between is not null && !between(r)) failed = true;
            barrier.SignalAndWait();
            barrier.SignalAndWait();
            clock.Start();
        }
        barrier.SignalAndWait();
        clock.Stop();
        foreach (var t in pool) t.Join();
        if (failed) unexpected++;
        return new BenchResult(name, threads, flows, packets, clock.Elapsed.TotalSeconds, allocated,
                               GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2, unexpected);
    }

    // ------------------------------------------------------------------ memory

    /// <summary>Bytes per entry of a table of <paramref name="max"/> entries: the table's own account, and the managed heap growth.</summary>
    public static (double Accounted, double Heap) MemoryPerEntry(int max)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new ConntrackTable(new ConntrackOptions { Max = max, EventRingSize = 0 }, Advise);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        double accounted = (double)table.MemoryBytes / max;
        GC.KeepAlive(table);
        return (accounted, (double)(after - before) / max);
    }
}
