using System.Globalization;
using System.Text.RegularExpressions;

namespace Firewall.Integration.Tests.Lab;

/// <summary>What tcpdump reported when it stopped.</summary>
public sealed record CaptureStats(int Captured, int DroppedByKernel, string Report);

/// <summary>
/// <c>tcpdump -i nflog:GROUP -w FILE -U</c> running in a namespace: every packet an NFLOG rule of that group
/// logs is written with its prefix (link type NFLOG), in processing order, with timestamps.
/// Use <c>--nflog-threshold 1</c> on the rules: otherwise the kernel batches up to a second of packets.
/// </summary>
public sealed partial class NflogCapture : IDisposable
{
    private readonly LabProcess _tcpdump;
    private CaptureStats? _stats;

    public string File { get; }

    private NflogCapture(LabProcess tcpdump, string file)
    {
        _tcpdump = tcpdump;
        File = file;
    }

    /// <summary>Socket buffer asked of tcpdump (-B, KiB): a burst of full-size packets overflows the default
    /// netlink buffer and NFLOG then loses packets without any counter showing it. Capped by net.core.rmem_max.</summary>
    public const int BufferKiB = 4096;

    /// <summary>Starts tcpdump and waits until it is capturing.</summary>
    public static NflogCapture Start(NetLab lab, string ns, int group, string file)
    {
        NetLab.RequireTools("tcpdump");
        if (System.IO.File.Exists(file)) System.IO.File.Delete(file);
        var p = lab.StartBackground(ns, "tcpdump", "-i", "nflog:" + group.ToString(CultureInfo.InvariantCulture), "-w", file, "-U", "-n", "-Z", "root",
            "-B", BufferKiB.ToString(CultureInfo.InvariantCulture));
        if (!p.WaitForOutput("listening on", TimeSpan.FromSeconds(10)))
        {
            p.Kill();
            throw new InvalidOperationException($"tcpdump did not start capturing on nflog:{group} in {ns}: {p.Stderr.Trim()}");
        }
        return new NflogCapture(p, file);
    }

    /// <summary>Stops tcpdump with SIGINT (it flushes and prints its counters) and returns those counters.</summary>
    public CaptureStats Stop()
    {
        if (_stats is not null) return _stats;
        bool clean = _tcpdump.Stop("INT", TimeSpan.FromSeconds(10));
        string err = _tcpdump.Stderr;
        if (!clean) throw new InvalidOperationException($"tcpdump did not exit on SIGINT: {err.Trim()}");
        var captured = CapturedRegex().Match(err);
        var dropped = DroppedRegex().Match(err);
        _stats = new CaptureStats(
            captured.Success ? int.Parse(captured.Groups[1].Value, CultureInfo.InvariantCulture) : -1,
            dropped.Success ? int.Parse(dropped.Groups[1].Value, CultureInfo.InvariantCulture) : -1,
            err.Trim());
        return _stats;
    }

    [GeneratedRegex(@"(\d+) packets? captured")]
    private static partial Regex CapturedRegex();

    [GeneratedRegex(@"(\d+) packets? dropped by kernel")]
    private static partial Regex DroppedRegex();

    public void Dispose()
    {
        try { Stop(); } catch (InvalidOperationException) { /* already reported or killed */ }
        _tcpdump.Dispose();
    }
}
