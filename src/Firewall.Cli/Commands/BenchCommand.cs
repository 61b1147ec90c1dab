using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Firewall.Cli.Bench;

namespace Firewall.Cli.Commands;

/// <summary><c>fwctl bench</c>: the whole engine (parse + track + confirm) on pre-built frames, in this process.</summary>
public static class BenchCommand
{
    private const int MemoryProbeEntries = 4_194_304;

    public static Command Create()
    {
        var flows = new Option<int>("--flows")
        {
            Description = "Live flows for the random and new scenarios",
            DefaultValueFactory = _ => 1_000_000,
        };
        flows.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 2 || v > 4_000_000) r.AddError("--flows must be between 2 and 4000000.");
        });
        var packets = new Option<long>("--packets")
        {
            Description = "Packets per scenario",
            DefaultValueFactory = _ => 10_000_000,
        };
        packets.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() < 1000) r.AddError("--packets must be at least 1000.");
        });
        var threads = new Option<int>("--threads")
        {
            Description = "Packet threads, one conntrack worker each (1 or 2)",
            DefaultValueFactory = _ => 1,
        };
        threads.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v is not (1 or 2)) r.AddError("--threads must be 1 or 2.");
        });
        var scenario = new Option<string>("--scenario")
        {
            Description = "established: one TCP flow per thread; random: lookups of live flows in random order; new: a new flow per packet",
            DefaultValueFactory = _ => "all",
        };
        scenario.AcceptOnlyFromAmong("established", "random", "new", "all");

        var batch = new Option<int>("--batch")
        {
            Description = "packets per batch for random/new (two prefetch stages per batch); 1 = one packet at a time",
            DefaultValueFactory = _ => 32,
        };
        var hugePages = new Option<bool>("--huge-pages")
        {
            Description = "back the table with transparent huge pages (madvise), as the daemon does",
            DefaultValueFactory = _ => true,
        };

        var cmd = new Command("bench", "Measure the conntrack engine: packets per second, allocations, GCs, memory per entry")
        {
            flows, packets, threads, scenario, batch, hugePages,
        };
        cmd.SetAction(parse =>
        {
            EngineBench.BatchSize = Math.Clamp(parse.GetValue(batch), 1, 256);
            EngineBench.Advise = parse.GetValue(hugePages) ? (a, l) => Firewall.Native.Memory.MemoryAdvice.UseHugePages(a, l) : null;
            return Run(parse.GetValue(scenario)!, parse.GetValue(threads), parse.GetValue(flows), parse.GetValue(packets), Console.Out);
        });
        return cmd;
    }

    private static int Run(string scenario, int threads, int flows, long packets, TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(ci, $"fwctl bench: {RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}"));
        o.WriteLine(string.Create(ci, $"threads={threads} packets={packets:N0} flows={flows:N0} batch={EngineBench.BatchSize} huge-pages={(EngineBench.Advise is null ? "no" : "yes")} (checksums not verified; engine clock 50 ns/packet)"));
        o.WriteLine();
        o.WriteLine($"{"scenario",-12} {"flows",10} {"packets",12} {"Mpps",8} {"ns/pkt",8} {"B/pkt",7} {"GC0/1/2",9} {"bad",5}");
        int bad = 0;
        void Print(BenchResult r)
        {
            o.WriteLine(string.Create(ci,
                $"{r.Scenario,-12} {r.Flows,10:N0} {r.Packets,12:N0} {r.PacketsPerSecond / 1e6,8:F2} {r.NsPerPacket,8:F1} {r.BytesPerPacket,7:F3} {$"{r.Gen0}/{r.Gen1}/{r.Gen2}",9} {r.Unexpected,5}"));
            if (r.Unexpected != 0) bad++;
        }
        if (scenario is "established" or "all") Print(EngineBench.Established(threads, packets));
        if (scenario is "random" or "all") Print(EngineBench.Random(threads, flows, packets));
        if (scenario is "new" or "all") Print(EngineBench.New(threads, flows, packets));

        var (accounted, heap) = EngineBench.MemoryPerEntry(MemoryProbeEntries);
        o.WriteLine();
        o.WriteLine(string.Create(ci, $"memory per entry (Max={MemoryProbeEntries:N0}, index included): {accounted:F1} B accounted (MemoryBytes/Max), {heap:F1} B managed heap growth"));
        if (bad > 0)
        {
            Console.Error.WriteLine($"fwctl bench: {bad} scenario(s) saw packets with unexpected results (column 'bad'): the figures are not valid");
            return 1;
        }
        return 0;
    }
}
