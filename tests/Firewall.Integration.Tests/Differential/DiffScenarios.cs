using System.Globalization;
using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.Differential;

/// <summary>The scenario catalogue. Crafted scenarios must match the functions in diff_scenarios.py (checked by a test).</summary>
public static class DiffScenarios
{
    private static readonly IReadOnlyDictionary<string, int> Defaults = new Dictionary<string, int>();

    private static DiffScenario Crafted(string name, string description, params (string Key, int Value)[] sysctls) =>
        new(name, description, sysctls.ToDictionary(s => s.Key, s => s.Value));

    private static DiffScenario Real(string name, string description, Func<DiffLab, ScenarioCapture> drive) =>
        new(name, description, Defaults, drive);

    private static readonly RawRule[] FtpTftpHelpers = [RawRule.FtpHelper, RawRule.TftpHelper];

    /// <summary>A crafted scenario run with the kernel's FTP, TFTP and IRC helpers assigned in the router's raw table
    /// (and the same raw rules in the engine); the kernel must log at least <paramref name="minRelated"/> RELATED packets.</summary>
    private static DiffScenario CraftedWithHelpers(string name, string description, int minRelated) =>
        new(name, description, Defaults, RawRules: [.. FtpTftpHelpers, RawRule.IrcHelper], MinKernelRelated: minRelated);

    private static DiffScenario RealWithHelpers(string name, string description, int minRelated, Func<DiffLab, ScenarioCapture> drive) =>
        new(name, description, Defaults, drive, FtpTftpHelpers, minRelated);

    public static readonly IReadOnlyList<DiffScenario> All =
    [
        // ---- TCP, crafted
        Crafted("tcp_handshake_data_close", "handshake with options, data both ways, client closes first; sequence wrap; server closes first"),
        Crafted("tcp_syn_closed_port", "SYN to a closed port, RST+ACK from the server kernel, SYN again"),
        Crafted("tcp_syn_retransmit", "retransmitted SYN before and after the SYN-ACK, retransmitted SYN-ACK"),
        Crafted("tcp_rst_answers_syn", "RST+ACK answering a SYN deletes the entry; challenge ACK in SYN_SENT then RST"),
        Crafted("tcp_ack_pickup", "mid-stream pick-up from an ACK and from data (tcp_loose=1)"),
        Crafted("tcp_ack_pickup_loose_off", "the same pick-up packets with tcp_loose=0", ("nf_conntrack_tcp_loose", 0)),
        Crafted("tcp_invalid_flags_no_entry", "NULL, XMAS, SYN+FIN, FIN alone and other flag sets without an entry"),
        Crafted("tcp_invalid_flags_established", "invalid flag sets on an established connection, SYN+ECE+CWR"),
        Crafted("tcp_synack_without_syn", "SYN-ACK without an entry (both directions), then an ACK pick-up"),
        Crafted("tcp_window_violations", "data far beyond the window, ACK for unsent data, old data, overshoot"),
        Crafted("tcp_zero_window_and_probes", "zero window, window probes, keep-alives"),
        Crafted("tcp_rst_variants", "RST exact / in window / beyond / below maxack / with ack 0 / in FIN_WAIT"),
        Crafted("tcp_ignore_invalid_rst", "RST below maxack with tcp_ignore_invalid_rst=1", ("nf_conntrack_tcp_ignore_invalid_rst", 1)),
        Crafted("tcp_syn_in_established", "SYN and SYN-ACK from either side in ESTABLISHED"),
        Crafted("tcp_reuse_after_time_wait", "new SYN after TIME_WAIT, after an own RST, after the peer's RST; reply SYN in TIME_WAIT"),
        Crafted("tcp_simultaneous_open", "both sides SYN, then both SYN-ACK"),
        Crafted("tcp_bad_checksum", "TCP segments with wrong checksums (nf_conntrack_checksum=1)"),
        Crafted("tcp_checksum_off", "the same with nf_conntrack_checksum=0", ("nf_conntrack_checksum", 0)),
        Crafted("tcp_truncated_headers", "TCP header < 20 bytes, data offset beyond the segment or < 20"),
        Crafted("tcp_be_liberal", "window violations with tcp_be_liberal=1", ("nf_conntrack_tcp_be_liberal", 1)),
        Crafted("tcp_fin_variants", "simultaneous close, FIN retransmission, data after FIN, SYN and challenge ACK in LAST_ACK"),
        Crafted("tcp_urgent_and_push", "URG, PSH, ECE, CWR on valid flag sets"),
        Crafted("tcp_odd_segments", "SYN with data, wrong SYN-ACK ack, FIN/RST with data, SACK blocks, timestamps, no / huge window scaling"),
        Crafted("tcp_resync", "restarted client: ignored SYN on an established tuple, SYN-ACK resynchronises"),
        Crafted("timeouts_short", "every kind of entry expires with 2-s timeouts; a refreshed one survives",
            ("nf_conntrack_tcp_timeout_syn_sent", 2), ("nf_conntrack_tcp_timeout_established", 2), ("nf_conntrack_tcp_timeout_close", 2),
            ("nf_conntrack_tcp_timeout_time_wait", 2), ("nf_conntrack_icmp_timeout", 2), ("nf_conntrack_icmpv6_timeout", 2),
            ("nf_conntrack_generic_timeout", 2), ("nf_conntrack_udp_timeout", 2)),
        Crafted("tcp_handshake_anomalies", "SYN / SYN-ACK with new ISNs, wrong-direction packets in SYN_SENT / SYN_RECV, dup ACKs, server-side pick-up"),
        Crafted("tcp_v6", "IPv6 TCP: handshake, data, invalid flags, out of window, closed port, pick-up"),
        Crafted("tcp_v6_extension_headers", "IPv6 TCP/UDP behind hop-by-hop, destination-options, routing headers; atomic fragment"),
        // ---- UDP, crafted
        Crafted("udp_request_reply", "UDP request/reply over IPv4 and IPv6, server speaks first"),
        Crafted("udp_unreplied_burst", "five unanswered datagrams, then an answer"),
        Crafted("udp_stream_after_2s", "reply seen and a packet after > 2 s: stream timeout keeps the flow past udp_timeout",
            ("nf_conntrack_udp_timeout", 3), ("nf_conntrack_udp_timeout_stream", 10)),
        Crafted("udp_expiry", "flows expire after udp_timeout=3", ("nf_conntrack_udp_timeout", 3)),
        Crafted("udp_checksums", "bad checksum, checksum 0, IPv6 variants"),
        Crafted("udp_bad_lengths", "UDP length field too large, < 8, truncated header, shorter than the payload"),
        Crafted("udp_fragmented", "IPv4 and IPv6 fragmented datagrams (reassembled by the router before conntrack)"),
        Crafted("udp_closed_port_icmp_error", "UDP to a closed port: the server kernel's port unreachable is RELATED (v4, v6)"),
        Crafted("udplite", "UDP-Lite coverage and checksum cases, RFC pseudo-header (136) and UDP's (17)"),
        // ---- ICMP / ICMPv6, crafted
        Crafted("icmp_echo", "echo request/reply, unanswered repeats, another code with the same id, server pings"),
        Crafted("icmp_unsolicited_replies", "echo, timestamp, information and address-mask replies without a request"),
        Crafted("icmp_timestamp_info_mask", "timestamp answered by the server kernel; information and address-mask request/reply"),
        Crafted("icmp_echo_loud", "echo requests answered by the server kernel"),
        Crafted("icmp_errors_related", "ICMP errors (3, 4, 5, 11, 12) quoting UDP, TCP and echo flows in both directions"),
        Crafted("icmp_errors_invalid", "errors about unknown flows, errors, wrong outer destination, short quotes, bad checksum"),
        Crafted("icmp_errors_edge", "errors quoting IP options, fragments, reply-direction TCP / echo, generic, SCTP, IPv6 extension headers; third-party and wrong-destination ICMPv6"),
        Crafted("icmp_odd_types", "ICMP types 9, 10, 19, 30, 42, 255, truncated ICMP, bad checksum"),
        Crafted("icmp_wrong_family", "ICMP inside IPv6 and ICMPv6 inside IPv4"),
        Crafted("icmpv6_crafted", "ICMPv6 echo, unsolicited reply, node information, odd types, errors"),
        Crafted("icmpv6_untracked", "forwarded neighbour discovery, MLD and redirect messages"),
        Crafted("icmpv6_echo_loud", "ICMPv6 echo requests answered by the server kernel"),
        // ---- other protocols, crafted
        Crafted("generic_protocols", "protocol 253 (v4, v6) and ESP"),
        Crafted("gre", "GRE version 0 (v4, v6, with key) and version 1 (PPTP call ids)"),
        Crafted("sctp_association", "SCTP association setup, data, heartbeat, shutdown; wrong vtag; bad CRC"),
        Crafted("sctp_full_association", "SCTP packet by packet with retransmitted INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK, SHUTDOWN, SHUTDOWN-ACK; DATA after close; restart; IPv6 server-first close"),
        Crafted("sctp_retransmissions", "SCTP retransmissions at each stage: INIT-ACK with a new tag, COOKIE-ECHO after COOKIE-ACK, SHUTDOWN-ACK after SHUTDOWN-COMPLETE, crossing SHUTDOWNs"),
        Crafted("sctp_bad_vtag_crc", "SCTP wrong verification tags per chunk kind, SHUTDOWN-ACK with any tag, SHUTDOWN+ABORT with a wrong tag, bad CRC32c (v4, v6)"),
        Crafted("sctp_invalid_chunks", "SCTP INIT/INIT-ACK/SHUTDOWN-COMPLETE bundled, COOKIE-ECHO/COOKIE-ACK not first, zero-length chunks, no chunks, short header"),
        Crafted("sctp_no_entry", "SCTP chunks without an entry (v4, v6): which are INVALID, which create an entry, and what follows"),
        Crafted("sctp_abort_t_flag", "SCTP ABORT and SHUTDOWN-COMPLETE with and without the T flag, ABORT answering an INIT"),
        Crafted("sctp_init_collision", "SCTP INIT collision, colliding INIT-ACK with another tag, restarts while ESTABLISHED"),
        Crafted("sctp_heartbeat_paths", "SCTP heartbeat-only secondary paths (v4, v6), unknown-tag HEARTBEAT let through once, HEARTBEAT-ACK re-tagging"),
        Crafted("sctp_gre_expiry", "real waits with the default timeouts: SCTP 3-s, 10-s and 30-s states expire, ESTABLISHED survives; GRE unreplied (30 s) expires, stream (180 s) survives"),
        Crafted("gre_versions", "GRE version 0 with/without key (v4, v6), other versions, short headers, PPTP call ids both ways, version 1 non-PPP INVALID"),
        Crafted("ip_options_and_tos", "IPv4 options and TOS/ECN bits"),
        // ---- real programs
        Real("real_http_v4", "python3 -m http.server and curl over IPv4: small and 200 KB downloads, server closes first", lab => RealTraffic.Http(lab, v6: false)),
        Real("real_http_v6", "python3 -m http.server and curl over IPv6", lab => RealTraffic.Http(lab, v6: true)),
        Real("real_socat_tcp", "socat echo over TCP, client half-closes first (v4 and v6)", RealTraffic.SocatTcp),
        Real("real_socat_udp", "socat echo over UDP (v4 and v6)", RealTraffic.SocatUdp),
        Real("real_ping", "ping and ping -6, three echoes each", RealTraffic.Ping),
        Real("real_http_lossy", "curl downloads over IPv4 and IPv6 while the client and server namespaces drop some segments and ACKs (retransmissions, SACK)", RealTraffic.LossyHttp),
        Real("real_closed_ports", "curl and socat to closed TCP and UDP ports (RST, port unreachable)", RealTraffic.ClosedPorts),
        // ---- helpers (RELATED), crafted: the router's raw table assigns the kernel's ftp/tftp/irc helpers
        CraftedWithHelpers("ftp_helper_v4", "PORT, PASV, EPRT, EPSV, lowercase, 227 without parentheses, eviction, FTP bounce", 7),
        CraftedWithHelpers("ftp_helper_v6", "EPRT |2| and EPSV, other spellings, PORT/227/EPRT |1| on IPv6, foreign address", 4),
        CraftedWithHelpers("ftp_helper_line_tracking", "commands parsed only at a remembered line start; partial matches dropped", 3),
        CraftedWithHelpers("ftp_helper_expectation_lifecycle", "expectation consumed once, ACK pick-up, two masters clash, removed with a reopened master", 5),
        CraftedWithHelpers("helper_invalid_first_packet", "an INVALID packet matching an expectation (bad checksum, flags, RST) before the valid one", 0),
        CraftedWithHelpers("tftp_helper", "RRQ (v4), WRQ (v6), wrong port/address, other opcodes, retransmitted RRQ", 4),
        CraftedWithHelpers("helper_icmp_errors", "ICMP errors about helper-created connections (TFTP answer, FTP data SYN) and about a pending expectation", 5),
        CraftedWithHelpers("irc_helper", "DCC SEND and CHAT (any source), forged address, RESUME, unknown type, server-side DCC, eviction of the 9th", 4),
        // ---- helpers (RELATED), real programs
        RealWithHelpers("real_ftp_v4", "vsftpd; curl PASV, EPSV, PORT, EPRT and lftp passive/active over IPv4, ftp helper assigned",
            HelperTraffic.FtpTransfers(v6: false), lab => HelperTraffic.Ftp(lab, v6: false)),
        RealWithHelpers("real_ftp_v6", "vsftpd; curl EPSV, EPRT and lftp passive/active over IPv6, ftp helper assigned",
            HelperTraffic.FtpTransfers(v6: true), lab => HelperTraffic.Ftp(lab, v6: true)),
        RealWithHelpers("real_tftp", "tftpd-hpa; tftp-hpa get (v4, v6) and put (v4), curl get (v4), tftp helper assigned",
            HelperTraffic.TftpTransfers, HelperTraffic.Tftp),
    ];

    /// <summary>
    /// Crafted scenarios where the engine intentionally goes beyond the kernel (documented in the helper's code): they
    /// are not kernel-agreement scenarios; their own tests assert what the kernel does and what the engine does.
    /// </summary>
    public static readonly IReadOnlyList<DiffScenario> EngineOnly =
    [
        CraftedWithHelpers("ftp_split_command", "PORT and EPRT split across two segments: the kernel drops/ignores them, the engine joins them", 0),
    ];

    public static DiffScenario Get(string name) =>
        All.Concat(EngineOnly).FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"No differential scenario named '{name}'.", nameof(name));

    public static string Describe(DiffScenario s) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.Name} ({(s.IsCrafted ? "crafted" : "real programs")}, {DiffScenario.FormatSysctls(s.RouterSysctls)}{RawRulesText(s)}): {s.Description}");

    private static string RawRulesText(DiffScenario s) =>
        s.RouterRawRules.Count == 0 ? "" : "; raw PREROUTING: " + string.Join(" / ", s.RouterRawRules);
}
