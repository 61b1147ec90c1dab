using Firewall.Core.Conntrack.Sctp;

namespace Firewall.Core.Conntrack;

/// <summary>
/// Tracking tunables, named after the kernel's net.netfilter.nf_conntrack_* sysctls, with the
/// defaults of the reference kernel (6.18.44). Mutable for configuration binding; the engine runs
/// on an immutable <see cref="ConntrackSettings"/> built from it.
/// </summary>
public sealed class ConntrackOptions
{
    /// <summary>nf_conntrack_max: entries (confirmed and unconfirmed) the table may hold.</summary>
    public int Max { get; set; } = 262144;
    /// <summary>nf_conntrack_expect_max (0 = 4 × max(1, Max/256), the kernel's default formula).</summary>
    public int ExpectMax { get; set; }
    /// <summary>nf_conntrack_checksum: verify IPv4 header and L4 checksums of received packets.</summary>
    public bool Checksum { get; set; } = true;
    /// <summary>nf_conntrack_tcp_loose: pick up connections from ACK-class packets.</summary>
    public bool TcpLoose { get; set; } = true;
    /// <summary>nf_conntrack_tcp_be_liberal: window checks never make a packet INVALID.</summary>
    public bool TcpBeLiberal { get; set; }
    /// <summary>nf_conntrack_tcp_ignore_invalid_rst: do not mark RSTs below the peer's highest ACK INVALID.</summary>
    public bool TcpIgnoreInvalidRst { get; set; }
    /// <summary>nf_conntrack_tcp_max_retrans.</summary>
    public int TcpMaxRetrans { get; set; } = 3;
    /// <summary>
    /// Timeout for an in-window RST that leaves a connection ESTABLISHED: false = the running 6.18.44 kernel
    /// (timeout_close, 10 s); true = 6.12.117 and later ("use UNACK timeout for non-closing RST packets", 300 s).
    /// </summary>
    public bool TcpRstUnackTimeout { get; set; }
    /// <summary>Connections with a helper (FTP/IRC/TFTP control connections) whose helper state is kept at once
    /// (0 = ExpectMax / 4, at least 256). A helper-assisted connection beyond it is tracked without its helper.</summary>
    public int HelperConnections { get; set; }
    /// <summary>The FTP helper's module parameter <c>loose</c>: accept PORT/227 addresses that differ from the sender's (FTP bounce: off).</summary>
    public bool FtpLoose { get; set; }
    /// <summary>Per-thread event ring capacity (conntrack -E); 0 disables events.</summary>
    public int EventRingSize { get; set; } = 4096;
    /// <summary>Zone given to packets that carry none (the kernel's default zone 0).</summary>
    public ushort DefaultZone { get; set; }

    public ConntrackTimeouts Timeouts { get; set; } = new();

    /// <summary>Largest timeout accepted, in seconds (20 days): deadlines are kept as wrap-safe 32-bit millisecond counters.</summary>
    public const int MaxTimeoutSeconds = 20 * 24 * 3600;
    /// <summary>Largest table size accepted.</summary>
    public const int MaxEntries = 8_000_000;

    /// <summary>Every problem, each naming its key (as in appsettings: Firewall:Conntrack:…); empty when valid.</summary>
    public List<string> Validate(string prefix = "Conntrack")
    {
        var errors = new List<string>();
        if (Max < 1 || Max > MaxEntries) errors.Add($"{prefix}:Max must be between 1 and {MaxEntries} (got {Max}).");
        if (HelperConnections < 0 || HelperConnections > 1_000_000) errors.Add($"{prefix}:HelperConnections must be between 0 and 1000000 (got {HelperConnections}).");
        if (ExpectMax < 0 || ExpectMax > 1_000_000) errors.Add($"{prefix}:ExpectMax must be between 0 and 1000000 (got {ExpectMax}).");
        if (TcpMaxRetrans < 0 || TcpMaxRetrans > 255) errors.Add($"{prefix}:TcpMaxRetrans must be between 0 and 255 (got {TcpMaxRetrans}).");
        if (EventRingSize < 0 || EventRingSize > 1 << 20) errors.Add($"{prefix}:EventRingSize must be between 0 and 1048576 (got {EventRingSize}).");
        if (Timeouts is null) errors.Add($"{prefix}:Timeouts must not be null.");
        else Timeouts.Validate($"{prefix}:Timeouts", errors);
        return errors;
    }
}

/// <summary>Timeouts in seconds, one per kernel sysctl (net.netfilter.nf_conntrack_*_timeout*), kernel defaults.</summary>
public sealed class ConntrackTimeouts
{
    public int TcpSynSent { get; set; } = 120;
    public int TcpSynRecv { get; set; } = 60;
    public int TcpEstablished { get; set; } = 432000;
    public int TcpFinWait { get; set; } = 120;
    public int TcpCloseWait { get; set; } = 60;
    public int TcpLastAck { get; set; } = 30;
    public int TcpTimeWait { get; set; } = 120;
    public int TcpClose { get; set; } = 10;
    public int TcpSynSent2 { get; set; } = 120;
    public int TcpMaxRetrans { get; set; } = 300;
    public int TcpUnacknowledged { get; set; } = 300;
    public int Udp { get; set; } = 30;
    public int UdpStream { get; set; } = 120;
    public int Icmp { get; set; } = 30;
    public int Icmpv6 { get; set; } = 30;
    public int Generic { get; set; } = 600;
    public int Gre { get; set; } = 30;
    public int GreStream { get; set; } = 180;
    public int SctpClosed { get; set; } = 10;
    public int SctpCookieWait { get; set; } = 3;
    public int SctpCookieEchoed { get; set; } = 3;
    public int SctpEstablished { get; set; } = 210;
    public int SctpShutdownSent { get; set; } = 3;
    public int SctpShutdownRecd { get; set; } = 3;
    public int SctpShutdownAckSent { get; set; } = 3;
    public int SctpHeartbeatSent { get; set; } = 30;

    internal void Validate(string prefix, List<string> errors)
    {
        foreach (var p in typeof(ConntrackTimeouts).GetProperties())
        {
            int v = (int)p.GetValue(this)!;
            if (v < 1 || v > ConntrackOptions.MaxTimeoutSeconds)
                errors.Add($"{prefix}:{p.Name} must be between 1 and {ConntrackOptions.MaxTimeoutSeconds} seconds (got {v}).");
        }
    }
}

/// <summary>
/// The immutable, precomputed form of <see cref="ConntrackOptions"/> the packet path reads.
/// All timeouts in milliseconds (the engine's clock unit).
/// </summary>
public sealed class ConntrackSettings
{
    public readonly int Max;
    public readonly int ExpectMax;
    public readonly int HelperConnections;
    public readonly bool Checksum;
    public readonly bool TcpLoose;
    public readonly bool TcpBeLiberal;
    public readonly bool TcpIgnoreInvalidRst;
    public readonly int TcpMaxRetrans;
    public readonly bool TcpRstUnackTimeout;
    public readonly bool FtpLoose;
    public readonly int EventRingSize;
    public readonly ushort DefaultZone;

    /// <summary>Indexed by <see cref="TcpState"/> (None … SynSent2, then Retrans=12, Unack=13).</summary>
    public readonly uint[] TcpTimeoutMs = new uint[14];
    public readonly uint UdpMs, UdpStreamMs, IcmpMs, Icmpv6Ms, GenericMs, GreMs, GreStreamMs;
    /// <summary>Indexed by <see cref="SctpState"/> (None … HeartbeatSent; None = the CLOSED timeout, index 9 unused).</summary>
    public readonly uint[] SctpTimeoutMs = new uint[10];

    public ConntrackSettings(ConntrackOptions o)
    {
        var errors = o.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors));
        Max = o.Max;
        ExpectMax = o.ExpectMax > 0 ? o.ExpectMax : 4 * Math.Max(1, o.Max / 256);
        HelperConnections = o.HelperConnections > 0 ? o.HelperConnections : Math.Max(256, ExpectMax / 4);
        Checksum = o.Checksum;
        TcpLoose = o.TcpLoose;
        TcpBeLiberal = o.TcpBeLiberal;
        TcpIgnoreInvalidRst = o.TcpIgnoreInvalidRst;
        TcpMaxRetrans = o.TcpMaxRetrans;
        TcpRstUnackTimeout = o.TcpRstUnackTimeout;
        FtpLoose = o.FtpLoose;
        EventRingSize = o.EventRingSize;
        DefaultZone = o.DefaultZone;
        var t = o.Timeouts;
        static uint Ms(int s) => (uint)s * 1000u;
        TcpTimeoutMs[(int)TcpState.SynSent] = Ms(t.TcpSynSent);
        TcpTimeoutMs[(int)TcpState.SynRecv] = Ms(t.TcpSynRecv);
        TcpTimeoutMs[(int)TcpState.Established] = Ms(t.TcpEstablished);
        TcpTimeoutMs[(int)TcpState.FinWait] = Ms(t.TcpFinWait);
        TcpTimeoutMs[(int)TcpState.CloseWait] = Ms(t.TcpCloseWait);
        TcpTimeoutMs[(int)TcpState.LastAck] = Ms(t.TcpLastAck);
        TcpTimeoutMs[(int)TcpState.TimeWait] = Ms(t.TcpTimeWait);
        TcpTimeoutMs[(int)TcpState.Close] = Ms(t.TcpClose);
        TcpTimeoutMs[(int)TcpState.SynSent2] = Ms(t.TcpSynSent2);
        TcpTimeoutMs[(int)TcpState.Retrans] = Ms(t.TcpMaxRetrans);
        TcpTimeoutMs[(int)TcpState.Unack] = Ms(t.TcpUnacknowledged);
        UdpMs = Ms(t.Udp); UdpStreamMs = Ms(t.UdpStream);
        IcmpMs = Ms(t.Icmp); Icmpv6Ms = Ms(t.Icmpv6); GenericMs = Ms(t.Generic);
        GreMs = Ms(t.Gre); GreStreamMs = Ms(t.GreStream);
        // indexed by SctpState; NONE (0) uses CLOSED's timeout like the kernel's timeouts[0]
        SctpTimeoutMs[(int)SctpState.None] = Ms(t.SctpClosed);
        SctpTimeoutMs[(int)SctpState.Closed] = Ms(t.SctpClosed);
        SctpTimeoutMs[(int)SctpState.CookieWait] = Ms(t.SctpCookieWait);
        SctpTimeoutMs[(int)SctpState.CookieEchoed] = Ms(t.SctpCookieEchoed);
        SctpTimeoutMs[(int)SctpState.Established] = Ms(t.SctpEstablished);
        SctpTimeoutMs[(int)SctpState.ShutdownSent] = Ms(t.SctpShutdownSent);
        SctpTimeoutMs[(int)SctpState.ShutdownRecd] = Ms(t.SctpShutdownRecd);
        SctpTimeoutMs[(int)SctpState.ShutdownAckSent] = Ms(t.SctpShutdownAckSent);
        SctpTimeoutMs[(int)SctpState.HeartbeatSent] = Ms(t.SctpHeartbeatSent);
    }

    public static readonly ConntrackSettings Default = new(new ConntrackOptions());
}
