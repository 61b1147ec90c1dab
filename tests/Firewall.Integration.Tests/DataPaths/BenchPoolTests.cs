using System.Diagnostics;
using System.Globalization;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// deploy/bench-pool.py, which pools the latency samples of several benchmark runs: on sample directories laid out
/// as bench-datapaths.sh writes them (SAMPLES=DIR), its per-run and pooled figures are the quantiles worked out here
/// independently, and its verdict against the 100 µs target follows the bootstrap interval.
/// </summary>
public sealed class BenchPoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fw-benchpool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Script() => RepoFiles.Get("deploy/bench-pool.py");

    private static (int Rc, string Out, string Err) Pool(params string[] args)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Script());
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start (apt-get install python3)");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "bench-pool.py did not finish within 60 s");
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>A run directory with the NFQUEUE poll set-up's paired samples at the wire.</summary>
    private string Run(string name, IReadOnlyList<double> kernel, IReadOnlyList<double> daemon)
    {
        string d = Path.Combine(_dir, name);
        Directory.CreateDirectory(d);
        File.WriteAllLines(Path.Combine(d, "wire.dnfqp.kernel"), kernel.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        File.WriteAllLines(Path.Combine(d, "wire.dnfqp.daemon"), daemon.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return d;
    }

    private static double Quantile(List<double> v, double p)
    {
        v.Sort();
        return v[Math.Min(v.Count - 1, (int)(p * v.Count))];
    }

    private static string Line(string output, string path, string measure) =>
        output.Split('\n').SingleOrDefault(l => l.TrimStart().StartsWith(path + " ", StringComparison.Ordinal) &&
                                                l.Contains(" " + measure + " ", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no line for {path} / {measure} in:\n{output}");

    [Fact]
    public void PoolsRuns_PerRunAndPooledQuantiles_AndTheVerdict()
    {
        var rng = new Random(7);
        // two runs: kernel round trips of 20–60 µs; the daemon's 30–90 µs in run a, 30–130 µs in run b
        var ka = Enumerable.Range(0, 1000).Select(_ => 20 + rng.Next(41) + 0.0).ToList();
        var da = Enumerable.Range(0, 1000).Select(_ => 30 + rng.Next(61) + 0.0).ToList();
        var kb = Enumerable.Range(0, 1500).Select(_ => 20 + rng.Next(41) + 0.0).ToList();
        var db = Enumerable.Range(0, 1500).Select(_ => 30 + rng.Next(101) + 0.0).ToList();
        string a = Run("a", ka, da), b = Run("b", kb, db);

        var (rc, output, err) = Pool("--boot", "200", a, b);
        Assert.True(rc == 0, err);
        string line = Line(output, "NFQUEUE poll", "wire");
        string expectRuns = $"[ {Quantile(da, 0.5) - Quantile(ka, 0.5):+0;-0}/{Quantile(da, 0.99) - Quantile(ka, 0.99):+0;-0} " +
                            $"{Quantile(db, 0.5) - Quantile(kb, 0.5):+0;-0}/{Quantile(db, 0.99) - Quantile(kb, 0.99):+0;-0} ]";
        Assert.Contains(expectRuns, line);
        var pd = da.Concat(db).ToList();
        var pk = ka.Concat(kb).ToList();
        Assert.Contains($"pooled p50 {Quantile(pd, 0.5) - Quantile(pk, 0.5):+0;-0}  p99 {Quantile(pd, 0.99) - Quantile(pk, 0.99):+0;-0} ", line);
        Assert.Contains("n=2500/2500", line);
        Assert.EndsWith("  met", line.TrimEnd()); // added p99 about +64: the whole interval is under 100 (not "not met")
        // only the measure all runs have is shown
        Assert.DoesNotContain("NFQUEUE poll wire, PM QoS", output);
        Assert.DoesNotContain("bridge", output);
        // the same input gives the same output (seeded bootstrap)
        Assert.Equal(output, Pool("--boot", "200", a, b).Out);
    }

    [Fact]
    public void AnAddedP99WellOverTheTarget_IsNotMet()
    {
        var k = Enumerable.Range(0, 1000).Select(i => 20.0 + i % 40).ToList();
        var d = Enumerable.Range(0, 1000).Select(i => 150.0 + i % 60).ToList();
        var (rc, output, err) = Pool("--boot", "100", Run("slow", k, d));
        Assert.True(rc == 0, err);
        Assert.EndsWith("  not met", Line(output, "NFQUEUE poll", "wire").TrimEnd());
    }

    [Fact]
    public void ADirectoryThatIsNotThere_IsAnErrorThatSaysSo()
    {
        var (rc, _, err) = Pool(Path.Combine(_dir, "missing"));
        Assert.Equal(2, rc);
        Assert.Contains("not a directory of samples", err);
    }
}
