using Firewall.Native.Scheduling;

namespace Firewall.Daemon.Options;

public enum DataPathMode
{
    /// <summary>Inline between two NICs through libpcap ("bump in the wire").</summary>
    Bridge,
    /// <summary>The kernel's NFQUEUE: the kernel's chains send packets to our queue(s).</summary>
    Nfqueue,
    /// <summary>Traffic routed through a TUN device.</summary>
    Tun,
    /// <summary>Passive capture on one NIC: nothing is enforced, would-be verdicts are counted and logged.</summary>
    Monitor,
    /// <summary>Offline: a capture file through the pipeline (for checks and demos).</summary>
    Replay,
}

/// <summary>The <c>Firewall:DataPath</c> section.</summary>
public sealed class DataPathOptions
{
    public const string SectionPath = "Firewall:DataPath";

    public DataPathMode Mode { get; set; } = DataPathMode.Monitor;
    public BridgeOptions Bridge { get; set; } = new();
    public NfqueueOptions Nfqueue { get; set; } = new();
    public TunOptions Tun { get; set; } = new();
    public MonitorOptions Monitor { get; set; } = new();
    public ReplayDataPathOptions Replay { get; set; } = new();
    /// <summary>Seconds between live statistics log lines of the running data path (0 = only at stop).</summary>
    public int StatsIntervalSeconds { get; set; }
    /// <summary>At stop, log every conntrack entry as conntrack -L prints it (labs and demos).</summary>
    public bool LogConntrackAtStop { get; set; }
    /// <summary>
    /// Hold a PM QoS request on /dev/cpu_dma_latency with this many microseconds while the data path runs (as tuned's
    /// latency-performance profile does; 0 = idle CPUs poll instead of halting). Cuts the time a reader takes to wake
    /// for a packet at light load, at the cost of power (on a VM: host CPU). Unset = leave the machine's setting alone.
    /// </summary>
    public int? CpuDmaLatencyUs { get; set; }
    /// <summary>
    /// CPUs for the reader threads: reader i (NIC, queue) runs only on <c>ReaderCpus[i % count]</c>, as taskset would
    /// keep it. Empty = wherever the scheduler puts them. With busy polling, a CPU no other busy program uses keeps the
    /// spinning reader and the programs it serves from waiting for each other (as OVS pins its PMD threads).
    /// </summary>
    public List<int> ReaderCpus { get; set; } = [];

    /// <summary>Each problem names its key; empty when valid.</summary>
    public List<string> Validate(string prefix = SectionPath)
    {
        var e = new List<string>();
        if (CpuDmaLatencyUs is < 0) e.Add($"{prefix}:CpuDmaLatencyUs must be 0 or more microseconds (got {CpuDmaLatencyUs}).");
        foreach (int cpu in ReaderCpus ?? [])
            if (cpu is < 0 or > CpuAffinity.MaxCpu)
            {
                e.Add($"{prefix}:ReaderCpus entries must be CPU numbers between 0 and {CpuAffinity.MaxCpu} (got {cpu}).");
                break;
            }
        switch (Mode)
        {
            case DataPathMode.Bridge:
                if (Bridge.Interfaces is not { Count: 2 } || Bridge.Interfaces.Any(string.IsNullOrWhiteSpace))
                    e.Add($"{prefix}:Bridge:Interfaces must list exactly two interface names.");
                else if (Bridge.Interfaces[0] == Bridge.Interfaces[1])
                    e.Add($"{prefix}:Bridge:Interfaces must name two different interfaces.");
                if (Bridge.BufferSizeMb is < 1 or > 1024) e.Add($"{prefix}:Bridge:BufferSizeMb must be between 1 and 1024 (got {Bridge.BufferSizeMb}).");
                if (Bridge.TxRingFrames is < 64 or > 65536 || !System.Numerics.BitOperations.IsPow2(Bridge.TxRingFrames))
                    e.Add($"{prefix}:Bridge:TxRingFrames must be a power of two between 64 and 65536 (got {Bridge.TxRingFrames}).");
                if (Bridge.BusyPollUs is < 0 or > 1_000_000) e.Add($"{prefix}:Bridge:BusyPollUs must be between 0 and 1000000 microseconds (got {Bridge.BusyPollUs}).");
                CheckVerdict(e, $"{prefix}:Bridge:NonIp", Bridge.NonIp);
                CheckVerdict(e, $"{prefix}:Bridge:Arp", Bridge.Arp);
                break;
            case DataPathMode.Nfqueue:
                if (Nfqueue.EffectiveQueues.Any(q => q is < 0 or > 65535)) e.Add($"{prefix}:Nfqueue:Queues entries must be between 0 and 65535.");
                if (Nfqueue.QueueMaxLen is < 1 or > 1_000_000) e.Add($"{prefix}:Nfqueue:QueueMaxLen must be between 1 and 1000000 (got {Nfqueue.QueueMaxLen}).");
                if (Nfqueue.BusyPollUs is < 0 or > 1_000_000) e.Add($"{prefix}:Nfqueue:BusyPollUs must be between 0 and 1000000 microseconds (got {Nfqueue.BusyPollUs}).");
                foreach (var c in Nfqueue.Chains ?? [])
                    if (c is not ("FORWARD" or "INPUT" or "OUTPUT")) e.Add($"{prefix}:Nfqueue:Chains: \"{c}\" is not FORWARD, INPUT or OUTPUT.");
                if (Nfqueue.ManageKernelRules && Nfqueue.EffectiveQueues is { Count: > 1 } qs)
                {
                    var sorted = qs.Order().ToList();
                    for (int i = 1; i < sorted.Count; i++)
                        if (sorted[i] != sorted[i - 1] + 1)
                        {
                            e.Add($"{prefix}:Nfqueue:Queues must be consecutive numbers when ManageKernelRules is true (iptables --queue-balance FIRST:LAST).");
                            break;
                        }
                }
                if (Nfqueue.EffectiveFamilies.Any(f => f is not ("IPv4" or "IPv6")))
                    e.Add($"{prefix}:Nfqueue:Families must list IPv4 and/or IPv6.");
                break;
            case DataPathMode.Tun:
                if (string.IsNullOrWhiteSpace(Tun.Name) || Tun.Name.Length > 15) e.Add($"{prefix}:Tun:Name must be 1 to 15 characters (got \"{Tun.Name}\").");
                if (Tun.RouteTable is < 1 or > 252) e.Add($"{prefix}:Tun:RouteTable must be between 1 and 252 (got {Tun.RouteTable}).");
                if (Tun.ManageRoutes && Tun.FromInterfaces is not { Count: > 0 })
                    e.Add($"{prefix}:Tun:FromInterfaces must list the interfaces whose traffic is routed through the TUN when ManageRoutes is true.");
                break;
            case DataPathMode.Monitor:
                if (string.IsNullOrWhiteSpace(Monitor.Interface)) e.Add($"{prefix}:Monitor:Interface must name the interface to watch.");
                if (Monitor.BufferSizeMb is < 1 or > 1024) e.Add($"{prefix}:Monitor:BufferSizeMb must be between 1 and 1024 (got {Monitor.BufferSizeMb}).");
                if (Monitor.Hook is not ("FORWARD" or "INPUT")) e.Add($"{prefix}:Monitor:Hook must be FORWARD or INPUT (got \"{Monitor.Hook}\").");
                if (Monitor.SummaryIntervalSeconds is < 1 or > 86400) e.Add($"{prefix}:Monitor:SummaryIntervalSeconds must be between 1 and 86400 (got {Monitor.SummaryIntervalSeconds}).");
                break;
            case DataPathMode.Replay:
                if (string.IsNullOrWhiteSpace(Replay.Capture)) e.Add($"{prefix}:Replay:Capture must name a pcap or pcapng file.");
                break;
        }
        if (StatsIntervalSeconds is < 0 or > 86400) e.Add($"{prefix}:StatsIntervalSeconds must be between 0 and 86400 (got {StatsIntervalSeconds}).");
        return e;
    }

    private static void CheckVerdict(List<string> e, string key, string? value)
    {
        if (value is not ("ACCEPT" or "DROP")) e.Add($"{key} must be ACCEPT or DROP (got \"{value}\").");
    }
}

public sealed class BridgeOptions
{
    /// <summary>The two NICs, by name; rules see the ingress one as -i and the egress one as -o.</summary>
    public List<string> Interfaces { get; set; } = [];
    public int BufferSizeMb { get; set; } = 32;
    /// <summary>What happens to non-IP frames other than ARP (LLDP, STP…): ACCEPT or DROP. IPv6 neighbour discovery is IP and follows the rules.</summary>
    public string NonIp { get; set; } = "ACCEPT";
    /// <summary>What happens to ARP frames: ACCEPT (default: IPv4 hosts on the two sides must resolve each other) or DROP.</summary>
    public string Arp { get; set; } = "ACCEPT";
    /// <summary>
    /// Send accepted frames through a memory-mapped AF_PACKET transmit ring on each NIC, one send() per batch read
    /// (default); false = pcap_inject, one send() per frame.
    /// </summary>
    public bool TxRing { get; set; } = true;
    /// <summary>Slots in each transmit ring (a power of two, 64–65536).</summary>
    public int TxRingFrames { get; set; } = 1024;
    /// <summary>
    /// With the transmit ring, a batch of one frame (the usual case at light load) is sent as a copy through a plain
    /// socket instead of from the ring (default): the kernel passes a frame from the ring on as the ring's own pages,
    /// which costs more on the way through veth and the receiving stack than one buffer does (the bridge's added
    /// latency at light load; docs/benchmarks-datapaths.md). Larger batches still use the ring.
    /// </summary>
    public bool TxRingCopySingle { get; set; } = true;
    /// <summary>
    /// PACKET_QDISC_BYPASS on the transmit rings: frames go straight to the driver, skipping the NIC's queueing
    /// discipline; tcpdump on the bridge ports no longer sees them leave, and a full driver queue drops them.
    /// </summary>
    public bool QdiscBypass { get; set; }
    /// <summary>
    /// After a frame, the reader that handled it keeps reading both NICs without sleeping for this many microseconds
    /// (0 = sleep in poll() as soon as they are empty, the default). Only one reader spins at a time, so this costs at
    /// most one CPU while traffic flows; a value longer than the gap between packets means that reader never sleeps
    /// (poll mode: the lowest added latency at light load, one CPU always busy). 0–1000000.
    /// </summary>
    public int BusyPollUs { get; set; }
}

public sealed class NfqueueOptions
{
    /// <summary>Queue numbers, one reader each; empty = [0]. (Lists default to empty: the configuration binder appends to a
    /// list that already has items, so defaults live in the Effective… properties.)</summary>
    public List<int> Queues { get; set; } = [];
    public IReadOnlyList<int> EffectiveQueues => Queues is { Count: > 0 } ? Queues.Distinct().ToList() : [0];
    /// <summary>Install (and remove on exit) the iptables NFQUEUE rules in these chains.</summary>
    public bool ManageKernelRules { get; set; }
    public List<string> Chains { get; set; } = [];
    /// <summary>Chains, empty = [FORWARD].</summary>
    public IReadOnlyList<string> EffectiveChains => Chains is { Count: > 0 } ? Chains.Distinct().ToList() : ["FORWARD"];
    /// <summary>--queue-bypass: accept packets while no daemon listens.</summary>
    public bool QueueBypass { get; set; } = true;
    /// <summary>NFQA_CFG_F_FAIL_OPEN: accept packets when the queue is full.</summary>
    public bool FailOpen { get; set; }
    public int QueueMaxLen { get; set; } = 4096;
    /// <summary>NFQA_CFG_F_GSO: take GSO super-packets unsegmented (their checksums are partial and not verified).</summary>
    public bool Gso { get; set; } = true;
    /// <summary>
    /// After a packet, the queue's reader keeps reading without sleeping for this many microseconds (0 = sleep as soon
    /// as the queue is empty, the default). Only one reader spins at a time (one CPU at most); longer than the gap
    /// between packets means it never sleeps (poll mode). 0–1000000.
    /// </summary>
    public int BusyPollUs { get; set; }
    /// <summary>Families whose iptables rules are managed: IPv4 (iptables) and IPv6 (ip6tables).</summary>
    public List<string> Families { get; set; } = [];
    /// <summary>Families, empty = both.</summary>
    public IReadOnlyList<string> EffectiveFamilies => Families is { Count: > 0 } ? Families.Distinct().ToList() : ["IPv4", "IPv6"];
}

public sealed class TunOptions
{
    public string Name { get; set; } = "fwtun0";
    public bool MultiQueue { get; set; }
    /// <summary>
    /// Create the policy routing that sends traffic through the TUN (README, "TUN data path"): a default route via the
    /// TUN in <see cref="RouteTable"/> (IPv4 and IPv6) and "ip rule add iif X lookup TABLE" for each of
    /// <see cref="FromInterfaces"/>; the rules are removed at stop (the routes vanish with the device).
    /// </summary>
    public bool ManageRoutes { get; set; }
    public int RouteTable { get; set; } = 100;
    public List<string> FromInterfaces { get; set; } = [];
}

public sealed class MonitorOptions
{
    public string Interface { get; set; } = "";
    public int BufferSizeMb { get; set; } = 32;
    /// <summary>
    /// FORWARD: every frame seen on the interface (both directions) runs the FORWARD chain with -i = the interface
    /// (a mirror port or a tap). INPUT: the host's own traffic: incoming frames run INPUT, outgoing frames OUTPUT.
    /// </summary>
    public string Hook { get; set; } = "FORWARD";
    /// <summary>Seconds between "would have dropped" summary log lines (only when something would have been dropped).</summary>
    public int SummaryIntervalSeconds { get; set; } = 10;
}

public sealed class ReplayDataPathOptions
{
    public string Capture { get; set; } = "";
    public string Chain { get; set; } = "FORWARD";
}
