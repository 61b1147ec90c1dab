using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;

namespace Firewall.Core.Pipeline;

/// <summary>What the pipeline decided for one packet, and why.</summary>
public struct PacketDecision
{
    public Verdict Verdict;
    /// <summary>With <see cref="Rules.Verdict.Reject"/>: how the data path should answer.</summary>
    public RejectKind Reject;
    /// <summary>The conntrack classification (State, Direction, Reason for INVALID, Drop when conntrack itself dropped).</summary>
    public TrackResult Track;
    /// <summary>Deciding rule id, or -1 when a chain policy (or conntrack, or the non-IP policy) decided.</summary>
    public int RuleId;
    /// <summary>Chain whose rule or policy decided.</summary>
    public int ChainIndex;
    public ParseError ParseError;
    /// <summary>True when the verdict came from the raw table (e.g. a DROP there) rather than the filter table.</summary>
    public bool DecidedInRaw;
    /// <summary>True for non-IP frames (ARP …), decided by <see cref="PacketPipeline.NonIpVerdict"/>.</summary>
    public bool NonIp;
    /// <summary>True when the rules accepted the packet but the connection's helper dropped it (a partial FTP command,
    /// an expectation that could not be inserted), as the kernel's helper does at the confirm hook.</summary>
    public bool DroppedByHelper;
}

/// <summary>
/// One packet's path through the engine: parse → raw table (NOTRACK, helper, zone) → conntrack → filter table →
/// confirm (accepted) or release (dropped). Pure and synchronous: the data paths, replay, tests and benchmarks all
/// drive this same code. One <see cref="PipelineWorker"/> per packet thread.
/// </summary>
public sealed class PacketPipeline
{
    public PacketPipeline(ConntrackTable table, RuleSetHolder rules)
    {
        Table = table;
        Rules = rules;
    }

    public ConntrackTable Table { get; }
    public RuleSetHolder Rules { get; }

    /// <summary>What happens to frames that are not IP (ARP, LLDP…): bridges pass ARP by default.</summary>
    public Verdict NonIpVerdict { get; set; } = Verdict.Accept;

    public PipelineWorker CreateWorker() => new(this, Table.CreateWorker());
}

public sealed class PipelineWorker
{
    private readonly PacketPipeline _pipeline;

    internal PipelineWorker(PacketPipeline pipeline, ConntrackWorker conntrack)
    {
        _pipeline = pipeline;
        Conntrack = conntrack;
    }

    public ConntrackWorker Conntrack { get; }

    /// <summary>Parses and decides one frame. <paramref name="received"/>: the packet came in from a wire (PREROUTING:
    /// raw PREROUTING rules, checksums verified) rather than from the local host (raw OUTPUT).</summary>
    public Verdict Process(ReadOnlySpan<byte> frame, LinkType link, long nowNs, FilterHook hook, string? inInterface,
                           string? outInterface, bool received, out PacketDecision d)
    {
        PacketParser.Parse(frame, link, out ParsedPacket p);
        var meta = new PacketMeta(inInterface, outInterface, p.IpVersion == 6);
        return Process(ref p, nowNs, hook, in meta, received, out d);
    }

    public Verdict Process(ref ParsedPacket p, long nowNs, FilterHook hook, in PacketMeta meta, bool received, out PacketDecision d) =>
        Process(ref p, nowNs, hook, in meta, received, verifyChecksum: received, out d);

    /// <summary>As above, with checksum verification chosen separately: a received packet whose checksum is known to be
    /// partial (NFQUEUE's CSUMNOTREADY with GSO) must not be verified, yet runs the raw PREROUTING chain.</summary>
    public Verdict Process(ref ParsedPacket p, long nowNs, FilterHook hook, in PacketMeta meta, bool received, bool verifyChecksum,
                           out PacketDecision d)
    {
        d = default;
        d.RuleId = -1;
        d.ParseError = p.Error;
        if (p.Error == ParseError.NotIp)
        {
            d.NonIp = true;
            d.Track.State = CtState.Untracked;
            d.Track.Entry = -1;
            return d.Verdict = _pipeline.NonIpVerdict;
        }
        RuleSet rules = _pipeline.Rules.Current;

        // raw table: before tracking
        Verdict rawVerdict = Verdict.Accept;
        TrackOptions opt = p.Error == ParseError.None
            ? rules.EvaluateRaw(received ? RawHook.Prerouting : RawHook.Output, ref p, in meta, nowNs, out rawVerdict)
            : new TrackOptions { Zone = -1 };
        opt.VerifyChecksum = verifyChecksum;
        if (rawVerdict != Verdict.Accept)
        {
            d.DecidedInRaw = true;
            d.Track.State = CtState.Untracked;
            d.Track.Entry = -1;
            return d.Verdict = rawVerdict;
        }

        ref TrackResult r = ref d.Track;
        r = Conntrack.Track(ref p, nowNs, in opt);
        if (r.Drop)
            return d.Verdict = Verdict.Drop;

        RuleConnInfo ct;
        if (r.HasEntry)
        {
            _pipeline.Table.ReadTuples(r.Entry, out ConnTuple orig, out ConnTuple reply);
            ct = RuleConnInfo.From(in r, in orig, in reply);
        }
        else ct = RuleConnInfo.NoEntry(r.State);

        Verdict v = rules.Evaluate(hook, ref p, in ct, in meta, nowNs, out RuleMatchResult m);
        d.RuleId = m.RuleId;
        d.ChainIndex = m.ChainIndex;
        d.Reject = m.Reject;
        if (v == Verdict.Accept)
        {
            if (r.IsNew && !Conntrack.Confirm(ref r))
                v = Verdict.Drop; // insertion clash the protocol cannot resolve: dropped at confirm, as the kernel does
            else if (r.HelperId != 0 && !Conntrack.RunHelper(ref p, in r))
            {
                v = Verdict.Drop; // the helper refused the packet (partial command, expectation not insertable)
                d.DroppedByHelper = true;
            }
        }
        else if (r.IsNew)
        {
            Conntrack.Release(ref r);
        }
        return d.Verdict = v;
    }
}
