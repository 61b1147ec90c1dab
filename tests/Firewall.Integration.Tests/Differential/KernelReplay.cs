using System.Globalization;
using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;
using Firewall.Core.Pipeline;
using Firewall.Core.Rules;
using Firewall.Core.Rules.IptablesSave;

namespace Firewall.Integration.Tests.Differential;

/// <summary>One captured packet: what the kernel said (the NFLOG prefix) and what the engine says.</summary>
public sealed record PacketVerdict(
    int Index,
    double Seconds,
    string Packet,
    string Kernel,
    CtState Engine,
    InvalidReason Reason,
    TcpState EngineTcpState,
    bool EngineDropped,
    bool EngineHelperDropped = false)
{
    /// <summary>A drop by conntrack itself (table full, insertion clash) is a disagreement: the kernel logged the packet
    /// with a state. A drop by the connection's helper is not: the kernel's helper drops after the FORWARD log too.</summary>
    public string EngineText => CtStateNames.Name(Engine) + (EngineDropped ? " (dropped by conntrack)" : EngineHelperDropped ? " (dropped by helper)" : "");
    public bool Agrees => !EngineDropped && Kernel == CtStateNames.Name(Engine);

    public override string ToString()
    {
        var s = string.Create(CultureInfo.InvariantCulture,
            $"#{Index,-3} t={Seconds,8:F3}s  kernel {Kernel,-11}  engine {EngineText,-11}");
        if (Engine == CtState.Invalid) s += $" ({InvalidReasons.Name(Reason)})";
        if (EngineTcpState != TcpState.None) s += $" [{TcpStateNames.Name(EngineTcpState)}]";
        return s + "  " + Packet;
    }
}

/// <summary>The engine's verdicts next to the kernel's for one capture.</summary>
public sealed record ReplayResult(string Scenario, IReadOnlyList<PacketVerdict> Packets)
{
    public int Agreements => Packets.Count(v => v.Agrees);
    public IReadOnlyList<PacketVerdict> Disagreements => Packets.Where(v => !v.Agrees).ToList();

    public string SummaryLine(string? note = null) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Scenario}: agreement {Agreements}/{Packets.Count}{(Disagreements.Count > 0 ? $", {Disagreements.Count} disagreements" : "")}{(note is null ? "" : "; " + note)}");

    public string Trace()
    {
        var sb = new StringBuilder();
        foreach (var v in Packets) sb.Append(v.Agrees ? "   " : "!! ").Append(v).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// Replays an NFLOG capture of the router's FORWARD chain through a fresh engine with the scenario's options, through
/// the same <see cref="PacketPipeline"/> the daemon uses: the raw table the router had (its iptables-save output, so
/// the same <c>CT --helper</c> rules assign the same helpers and the helpers run after the accept, creating
/// expectations), then a filter table that accepts everything (as the router does: every new entry is confirmed),
/// with the capture timestamps as the clock; it pairs each packet's kernel state (the log prefix) with the engine's.
/// </summary>
public static class KernelReplay
{
    public static ReplayResult Run(string scenario, string pcapPath, ConntrackOptions options, IReadOnlyList<string> rawRuleFiles)
    {
        var worker = new PacketPipeline(new ConntrackTable(options), new RuleSetHolder(LoadRules(rawRuleFiles))).CreateWorker();
        var verdicts = new List<PacketVerdict>();
        long first = 0;
        using var reader = PcapReader.Open(pcapPath);
        while (reader.TryRead(out CaptureRecord rec))
        {
            if (verdicts.Count == 0) first = rec.TimestampNs;
            if (rec.LinkType != LinkType.Nflog)
                throw new InvalidDataException($"{pcapPath}: record {verdicts.Count} has link type {rec.LinkType}, expected NFLOG.");
            PacketParser.Parse(rec.Data, rec.LinkType, out ParsedPacket p);
            string kernel = p.NflogPrefixLength > 0
                ? Encoding.ASCII.GetString(rec.Data.Slice(p.NflogPrefixOffset, p.NflogPrefixLength)).TrimEnd('\0')
                : "";
            if (Array.IndexOf(DiffLab.States, kernel) < 0)
                throw new InvalidDataException($"{pcapPath}: record {verdicts.Count} has NFLOG prefix '{kernel}', not a conntrack state.");

            var meta = new PacketMeta(null, null, p.IpVersion == 6);
            Verdict v = worker.Process(ref p, rec.TimestampNs, FilterHook.Forward, in meta, received: true, out PacketDecision d);
            ref readonly TrackResult r = ref d.Track;
            // the filter table accepts everything: any other drop is conntrack's (table full, confirm clash)
            bool dropped = v != Verdict.Accept && !d.DroppedByHelper;
            verdicts.Add(new PacketVerdict(verdicts.Count, (rec.TimestampNs - first) / 1e9, PacketSummary.Describe(in p),
                kernel, r.State, r.Reason, r.TcpState, dropped, d.DroppedByHelper));
        }
        return new ReplayResult(scenario, verdicts);
    }

    /// <summary>The router's raw table from iptables-save files (named *.v4.* / *.v6.*) plus an accept-all filter table.</summary>
    public static RuleSet LoadRules(IReadOnlyList<string> rawRuleFiles)
    {
        var b = new RuleSetBuilder();
        foreach (var file in rawRuleFiles)
        {
            byte family = Path.GetFileName(file).Contains(".v6.", StringComparison.Ordinal) ? (byte)6 : (byte)4;
            IptablesSaveParser.Load(File.ReadAllText(file), file, family, b);
        }
        return b.Build() ?? throw new InvalidDataException("The router's raw rules do not load into the engine: " + string.Join("; ", b.Errors));
    }
}
