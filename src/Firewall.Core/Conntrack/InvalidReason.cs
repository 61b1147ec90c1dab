namespace Firewall.Core.Conntrack;

/// <summary>
/// Why a packet is INVALID (or was dropped by conntrack). Each reason counts into either the
/// <c>invalid</c> or the <c>error</c> counter of <c>conntrack -S</c>, as the kernel does (see <see cref="InvalidReasons.IsError"/>).
/// </summary>
public enum InvalidReason : byte
{
    None = 0,
    // ---- parse / core (invalid) ----
    Malformed,
    Fragment,
    NotInvertible,
    // ---- TCP (invalid) ----
    TcpTruncated,
    TcpBadChecksum,
    TcpBadFlags,
    /// <summary>Would create an entry but is not SYN (nor, with TcpLoose, an ACK-class packet).</summary>
    TcpInvalidNew,
    /// <summary>The transition table says IV.</summary>
    TcpInvalidState,
    TcpSeqOverUpperBound,
    TcpAckOverUpperBound,
    TcpInvalidRst,
    // ---- UDP / UDP-Lite (invalid) ----
    UdpTruncated,
    UdpBadLength,
    UdpBadChecksum,
    UdpLiteBadCoverage,
    UdpLiteZeroChecksum,
    UdpLiteBadChecksum,
    // ---- ICMP tracker (invalid) ----
    IcmpNotRequest,
    IcmpWrongFamily,
    // ---- ICMP error handler (error) ----
    IcmpTruncated,
    IcmpBadChecksum,
    IcmpBadType,
    IcmpErrorNoEntry,
    IcmpErrorBadInner,
    IcmpErrorDestMismatch,
    // ---- SCTP / GRE / other trackers (invalid) ----
    SctpMalformed,
    SctpBadChecksum,
    SctpInvalidChunks,
    SctpBadVtag,
    GreMalformed,
    // ---- conntrack drops (the packet is dropped, not merely INVALID) ----
    TableFull,
    InsertFailed,
    HelperDrop,
}

public static class InvalidReasons
{
    /// <summary>True for reasons counted in <c>error</c> (the ICMP error handler) rather than <c>invalid</c>.</summary>
    public static bool IsError(InvalidReason r) => r is >= InvalidReason.IcmpTruncated and <= InvalidReason.IcmpErrorDestMismatch;

    /// <summary>True for reasons where conntrack itself drops the packet (before or instead of the rules).</summary>
    public static bool IsDrop(InvalidReason r) => r is InvalidReason.TableFull or InvalidReason.InsertFailed or InvalidReason.HelperDrop;

    /// <summary>Stable snake_case name for logs and JSON.</summary>
    public static string Name(InvalidReason r) => r switch
    {
        InvalidReason.None => "none",
        InvalidReason.Malformed => "malformed",
        InvalidReason.Fragment => "fragment",
        InvalidReason.NotInvertible => "not_invertible",
        InvalidReason.TcpTruncated => "tcp_truncated",
        InvalidReason.TcpBadChecksum => "tcp_bad_checksum",
        InvalidReason.TcpBadFlags => "tcp_bad_flags",
        InvalidReason.TcpInvalidNew => "tcp_invalid_new",
        InvalidReason.TcpInvalidState => "tcp_invalid_state",
        InvalidReason.TcpSeqOverUpperBound => "tcp_seq_over_upper_bound",
        InvalidReason.TcpAckOverUpperBound => "tcp_ack_over_upper_bound",
        InvalidReason.TcpInvalidRst => "tcp_invalid_rst",
        InvalidReason.UdpTruncated => "udp_truncated",
        InvalidReason.UdpBadLength => "udp_bad_length",
        InvalidReason.UdpBadChecksum => "udp_bad_checksum",
        InvalidReason.UdpLiteBadCoverage => "udplite_bad_coverage",
        InvalidReason.UdpLiteZeroChecksum => "udplite_zero_checksum",
        InvalidReason.UdpLiteBadChecksum => "udplite_bad_checksum",
        InvalidReason.IcmpNotRequest => "icmp_not_request",
        InvalidReason.IcmpWrongFamily => "icmp_wrong_family",
        InvalidReason.IcmpTruncated => "icmp_truncated",
        InvalidReason.IcmpBadChecksum => "icmp_bad_checksum",
        InvalidReason.IcmpBadType => "icmp_bad_type",
        InvalidReason.IcmpErrorNoEntry => "icmp_error_no_entry",
        InvalidReason.IcmpErrorBadInner => "icmp_error_bad_inner",
        InvalidReason.IcmpErrorDestMismatch => "icmp_error_dest_mismatch",
        InvalidReason.SctpMalformed => "sctp_malformed",
        InvalidReason.SctpBadChecksum => "sctp_bad_checksum",
        InvalidReason.SctpInvalidChunks => "sctp_invalid_chunks",
        InvalidReason.SctpBadVtag => "sctp_bad_vtag",
        InvalidReason.GreMalformed => "gre_malformed",
        InvalidReason.TableFull => "table_full",
        InvalidReason.InsertFailed => "insert_failed",
        InvalidReason.HelperDrop => "helper_drop",
        _ => "unknown",
    };

    public const int Count = (int)InvalidReason.HelperDrop + 1;
}
