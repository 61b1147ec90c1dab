using System.Buffers;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Core.Rules.Config;
using Firewall.Daemon.State;
using Firewall.Daemon.Tests.Support;

namespace Firewall.Daemon.Tests;

/// <summary>Saving and restoring the table: the engine's export/import and the state file around it.</summary>
public sealed class StateTests : IDisposable
{
    private const long Sec = 1_000_000_000;
    private readonly string _dir = Paths.TempDir("state");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (ConntrackTable Table, PipelineWorker Worker) Engine(string forward = "ACCEPT")
    {
        var rules = RulesConfigCompiler.Compile(new FirewallRulesOptions { Filter = new FilterTableOptions { Forward = new BuiltInChainOptions { Policy = forward,
            Rules = forward == "DROP" ? [new RuleOptions { State = ["ESTABLISHED", "RELATED"], Action = "ACCEPT" }] : [] } } },
            File.ReadAllText, null, out var errors) ?? throw new InvalidOperationException(string.Join("; ", errors));
        var table = new ConntrackTable(new ConntrackOptions { Max = 1024 });
        var pipeline = new PacketPipeline(table, new RuleSetHolder(rules));
        return (table, pipeline.CreateWorker());
    }

    private static Verdict Send(PipelineWorker w, byte[] packet, long nowNs, out PacketDecision d) =>
        w.Process(packet, LinkType.RawIp, nowNs, FilterHook.Forward, null, null, true, out d);

    private static (byte[] Entries, byte[] Expectations, int N) Export(ConntrackTable t, long nowNs)
    {
        var e = new ArrayBufferWriter<byte>();
        var x = new ArrayBufferWriter<byte>();
        var (n, _) = t.Export(nowNs, e, x);
        return (e.WrittenSpan.ToArray(), x.WrittenSpan.ToArray(), n);
    }

    [Fact]
    public void ExportImport_RestoresEveryEntryWithItsStateAndRemainingTimeout()
    {
        var (t1, w1) = Engine();
        foreach (var p in Captures.EstablishedTcpAndUdp()) Send(w1, p, 100 * Sec, out _);
        var before = t1.Snapshot(110 * Sec).OrderBy(s => s.Proto).ToList();
        var (entries, expectations, n) = Export(t1, 110 * Sec);
        Assert.Equal(2, n);

        var (t2, _) = Engine();
        var r = t2.Import(5000 * Sec, entries, expectations); // another process: another clock
        Assert.Equal(2, r.Entries);
        var after = t2.Snapshot(5000 * Sec).OrderBy(s => s.Proto).ToList();
        Assert.Equal(before.Select(s => (s.Orig, s.Status, s.State)), after.Select(s => (s.Orig, s.Status & ~CtStatus.Dying, s.State)));
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i].RemainingMs, after[i].RemainingMs);
    }

    [Fact]
    public void RestoredTcpAndUdpFlows_StayEstablishedUnderADropNewPolicy()
    {
        var (t1, w1) = Engine();
        foreach (var p in Captures.EstablishedTcpAndUdp()) Send(w1, p, 100 * Sec, out _);
        var (entries, expectations, _) = Export(t1, 101 * Sec);

        var (t2, w2) = Engine(forward: "DROP");
        t2.Import(7 * Sec, entries, expectations, elapsedMs: 2000);
        foreach (var p in Captures.Continuation())
        {
            Assert.Equal(Verdict.Accept, Send(w2, p, 8 * Sec, out var d));
            Assert.Equal(CtState.Established, d.Track.State);
        }
    }

    [Fact]
    public void WithoutTheRestore_TheSameFlowsAreDropped()
    {
        var (_, w) = Engine(forward: "DROP");
        foreach (var p in Captures.Continuation()) Assert.Equal(Verdict.Drop, Send(w, p, 8 * Sec, out _));
    }

    [Fact]
    public void Import_TakesTheDowntimeOffAndLeavesWhatExpiredMeanwhile()
    {
        var (t1, w1) = Engine();
        foreach (var p in Captures.EstablishedTcpAndUdp()) Send(w1, p, 100 * Sec, out _);
        var (entries, expectations, _) = Export(t1, 100 * Sec); // UDP (a reply within 2 s: 30 s) and TCP with data in flight (300 s)
        uint tcpBefore = t1.Snapshot(100 * Sec).Single(s => s.Proto == IpProto.Tcp).RemainingMs;
        var (t2, _) = Engine();
        var r = t2.Import(10 * Sec, entries, expectations, elapsedMs: 60_000);
        Assert.Equal(1, r.Entries);
        Assert.Equal(1, r.EntriesSkipped);
        var tcp = Assert.Single(t2.Snapshot(10 * Sec));
        Assert.Equal(IpProto.Tcp, tcp.Proto);
        Assert.Equal(tcpBefore - 60_000u, tcp.RemainingMs);
    }

    [Fact]
    public void RestoredEntries_ExpireOnTheControlContextsTimers()
    {
        var (t1, w1) = Engine();
        foreach (var p in Captures.EstablishedTcpAndUdp()) Send(w1, p, 100 * Sec, out _);
        var (entries, expectations, _) = Export(t1, 100 * Sec);
        var (t2, _) = Engine();
        t2.Import(10 * Sec, entries, expectations);
        Assert.Equal(2, t2.Count);
        for (long s = 11; s <= 45; s++) t2.MaintainControl(s * Sec);
        Assert.Equal(1, t2.Count); // the UDP entry (30 s) is gone, TCP stays
    }

    [Fact]
    public void Import_SkipsADuplicateOfALiveEntry()
    {
        var (t1, w1) = Engine();
        foreach (var p in Captures.EstablishedTcpAndUdp()) Send(w1, p, 100 * Sec, out _);
        var (entries, expectations, _) = Export(t1, 100 * Sec);
        var r = t1.Import(100 * Sec, entries, expectations);
        Assert.Equal(0, r.Entries);
        Assert.Equal(2, r.EntriesSkipped);
        Assert.Equal(2, t1.Count);
    }

    // ---- the file

    private string SaveOne(out ConntrackTable table)
    {
        var (t, w) = Engine();
        foreach (var p in Captures.EstablishedTcpAndUdp()) Send(w, p, 100 * Sec, out _);
        string path = Path.Combine(_dir, StateFile.FileName);
        var (n, _) = StateFile.Save(path, t, 100 * Sec, StateFile.HostIdentity(), DateTimeOffset.UtcNow);
        Assert.Equal(2, n);
        table = t;
        return path;
    }

    [Fact]
    public void StateFile_RoundTrips()
    {
        string path = SaveOne(out _);
        var parsed = StateFile.TryParse(File.ReadAllBytes(path), StateFile.HostIdentity(), out var problem);
        Assert.True(parsed is not null, problem);
        Assert.Equal(2, parsed!.Entries);
        Assert.Equal(2 * ConntrackTable.EntryRecordSize, parsed.EntryRecords.Length);
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void StateFile_WithOneFlippedBit_IsRejectedAsCorrupt()
    {
        string path = SaveOne(out _);
        byte[] b = File.ReadAllBytes(path);
        b[100] ^= 0x10;
        Assert.Null(StateFile.TryParse(b, StateFile.HostIdentity(), out var problem));
        Assert.Contains("checksum", problem);
    }

    [Fact]
    public void StateFile_Truncated_IsRejected()
    {
        string path = SaveOne(out _);
        byte[] b = File.ReadAllBytes(path);
        Assert.Null(StateFile.TryParse(b[..(b.Length - 40)], StateFile.HostIdentity(), out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void StateFile_FromAnotherHost_IsRejected()
    {
        string path = SaveOne(out _);
        byte[] other = new byte[32];
        other[0] = 1;
        Assert.Null(StateFile.TryParse(File.ReadAllBytes(path), other, out var problem));
        Assert.Contains("another host", problem);
    }

    [Fact]
    public void StateFile_NotOurs_IsRejectedByItsMagic()
    {
        byte[] junk = new byte[500];
        Random.Shared.NextBytes(junk);
        Assert.Null(StateFile.TryParse(junk, StateFile.HostIdentity(), out var problem));
        Assert.Contains("magic", problem);
    }
}

/// <summary>The daemon saves at stop and restores at start; a bad file is reported and ignored.</summary>
public sealed class DaemonRestartTests : IDisposable
{
    private readonly DaemonSetup _s = new("restart");

    public void Dispose() => _s.Dispose();

    private static long Field(ProcResult status, string word)
    {
        var m = System.Text.RegularExpressions.Regex.Match(status.Stdout, word + @" (\d+)");
        Assert.True(m.Success, status.ToString());
        return long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void StopAndStart_KeepsEstablishedTcpAndUdpUnderADropNewPolicy()
    {
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig(DaemonSetup.AcceptAllRules);
        using (var first = _s.Start()) Assert.Equal(0, first.Stop());

        string cont = Path.Combine(_s.Dir, "continue.pcap");
        Captures.Write(cont, Captures.Continuation());
        _s.WriteConfig(DaemonSetup.DropNewRules, capture: cont);
        using var second = _s.Start();
        var restored = second.WaitForEvent("StateRestored");
        Assert.Equal(2, restored.GetProperty("Entries").GetInt32());
        second.WaitForEvent("ReplayDone");
        var status = Proc.Fwctl(_s.Socket, "status");
        Assert.Equal(4, Field(status, "accepted"));
        Assert.Equal(0, Field(status, "dropped"));
    }

    [Fact]
    public void ACorruptSnapshot_IsReportedAndIgnored()
    {
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
        using (var first = _s.Start()) Assert.Equal(0, first.Stop());
        string file = Path.Combine(_s.StateDir, StateFile.FileName);
        byte[] b = File.ReadAllBytes(file);
        b[b.Length / 2] ^= 0xFF;
        File.WriteAllBytes(file, b);

        string cont = Path.Combine(_s.Dir, "continue.pcap");
        Captures.Write(cont, Captures.Continuation());
        _s.WriteConfig(DaemonSetup.DropNewRules, capture: cont);
        using var second = _s.Start();
        var ignored = second.WaitForEvent("StateSnapshotIgnored");
        Assert.Contains("checksum", ignored.GetProperty("Problem").GetString());
        Assert.Empty(second.Events("StateRestored"));
        second.WaitForEvent("ReplayDone");
        Assert.Equal(4, Field(Proc.Fwctl(_s.Socket, "status"), "dropped"));
        Assert.True(File.Exists(file + ".rejected"));
    }
}
