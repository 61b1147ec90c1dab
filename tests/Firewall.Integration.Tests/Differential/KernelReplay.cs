using System.Globalization;
using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Packets.Capture;

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
    bool EngineDropped)
{
    public string EngineText => CtStateNames.Name(Engine) + (EngineDropped ? " (dropped by conntrack)" : "");
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
/// Replays an NFLOG capture of the router's FORWARD chain through a fresh engine with the scenario's options,
/// accepting everything (as the router does: every new entry is confirmed), with the capture timestamps as the
/// clock, and pairs each packet's kernel state (the log prefix) with the engine's.
/// </summary>
public static class KernelReplay
{
    public static ReplayResult Run(string scenario, string pcapPath, ConntrackOptions options)
    {
        var table = new ConntrackTable(options);
        var worker = table.CreateWorker();
        var verdicts = new List<PacketVerdict>();
        var opt = TrackOptions.Received;
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

            TrackResult r = worker.Track(ref p, rec.TimestampNs, in opt);
            bool dropped = r.Drop;
            if (r.IsNew && !worker.Confirm(ref r)) dropped = true;
            verdicts.Add(new PacketVerdict(verdicts.Count, (rec.TimestampNs - first) / 1e9, PacketSummary.Describe(in p),
                kernel, r.State, r.Reason, r.TcpState, dropped));
        }
        return new ReplayResult(scenario, verdicts);
    }
}
