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

    /// <summary>Each problem names its key; empty when valid.</summary>
    public List<string> Validate(string prefix = SectionPath)
    {
        var e = new List<string>();
        switch (Mode)
        {
            case DataPathMode.Bridge:
                if (Bridge.Interfaces is not { Count: 2 } || Bridge.Interfaces.Any(string.IsNullOrWhiteSpace))
                    e.Add($"{prefix}:Bridge:Interfaces must list exactly two interface names.");
                else if (Bridge.Interfaces[0] == Bridge.Interfaces[1])
                    e.Add($"{prefix}:Bridge:Interfaces must name two different interfaces.");
                if (Bridge.BufferSizeMb is < 1 or > 1024) e.Add($"{prefix}:Bridge:BufferSizeMb must be between 1 and 1024 (got {Bridge.BufferSizeMb}).");
                break;
            case DataPathMode.Nfqueue:
                if (Nfqueue.Queues is not { Count: > 0 }) e.Add($"{prefix}:Nfqueue:Queues must list at least one queue number.");
                else if (Nfqueue.Queues.Any(q => q is < 0 or > 65535)) e.Add($"{prefix}:Nfqueue:Queues entries must be between 0 and 65535.");
                if (Nfqueue.QueueMaxLen is < 1 or > 1_000_000) e.Add($"{prefix}:Nfqueue:QueueMaxLen must be between 1 and 1000000 (got {Nfqueue.QueueMaxLen}).");
                foreach (var c in Nfqueue.Chains ?? [])
                    if (c is not ("FORWARD" or "INPUT" or "OUTPUT")) e.Add($"{prefix}:Nfqueue:Chains: \"{c}\" is not FORWARD, INPUT or OUTPUT.");
                break;
            case DataPathMode.Tun:
                if (string.IsNullOrWhiteSpace(Tun.Name) || Tun.Name.Length > 15) e.Add($"{prefix}:Tun:Name must be 1 to 15 characters (got \"{Tun.Name}\").");
                break;
            case DataPathMode.Monitor:
                if (string.IsNullOrWhiteSpace(Monitor.Interface)) e.Add($"{prefix}:Monitor:Interface must name the interface to watch.");
                break;
            case DataPathMode.Replay:
                if (string.IsNullOrWhiteSpace(Replay.Capture)) e.Add($"{prefix}:Replay:Capture must name a pcap or pcapng file.");
                break;
        }
        return e;
    }
}

public sealed class BridgeOptions
{
    /// <summary>The two NICs, by name; rules see the ingress one as -i and the egress one as -o.</summary>
    public List<string> Interfaces { get; set; } = [];
    public int BufferSizeMb { get; set; } = 32;
    /// <summary>What happens to non-IP frames (ARP…): ACCEPT or DROP. IPv6 neighbour discovery is IP and follows the rules.</summary>
    public string NonIp { get; set; } = "ACCEPT";
}

public sealed class NfqueueOptions
{
    public List<int> Queues { get; set; } = [0];
    /// <summary>Install (and remove on exit) the iptables NFQUEUE rules in these chains.</summary>
    public bool ManageKernelRules { get; set; }
    public List<string> Chains { get; set; } = ["FORWARD"];
    /// <summary>--queue-bypass: accept packets while no daemon listens.</summary>
    public bool QueueBypass { get; set; } = true;
    /// <summary>NFQA_CFG_F_FAIL_OPEN: accept packets when the queue is full.</summary>
    public bool FailOpen { get; set; }
    public int QueueMaxLen { get; set; } = 4096;
    public bool Gso { get; set; } = true;
}

public sealed class TunOptions
{
    public string Name { get; set; } = "fwtun0";
    public bool MultiQueue { get; set; }
}

public sealed class MonitorOptions
{
    public string Interface { get; set; } = "";
    public int BufferSizeMb { get; set; } = 32;
}

public sealed class ReplayDataPathOptions
{
    public string Capture { get; set; } = "";
    public string Chain { get; set; } = "FORWARD";
}
