#!/usr/bin/python3
"""Crafted traffic for the conntrack differential test.

Usage: /usr/bin/python3 diff_scenarios.py CONFIG_JSON SCENARIO
       /usr/bin/python3 diff_scenarios.py --list

Sends the packets of one scenario through the router of the lab, from the client and the server
namespaces, with AF_PACKET sockets opened inside those namespaces (so the endpoints' own netfilter
is bypassed). Packets are "silent" by default: their TTL / hop limit is chosen so that the endpoint
namespaces drop them in raw PREROUTING, and the endpoint kernels never answer crafted traffic.
`loud=True` packets use TTL 64 and reach the endpoint's stack, whose real answer (RST, ICMP error,
echo reply...) then crosses the router too.

Prints one JSON line on stdout at the end: {"sent": N, "expect": M}, where M is the number of
packets that must cross the router's FORWARD chain (crafted packets plus the endpoint kernels'
known answers).
"""
import ctypes
import json
import os
import socket
import struct
import sys
import time

from scapy.layers.inet import IP, TCP, UDP, ICMP, fragment
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrRouting,
                                ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach, ICMPv6PacketTooBig,
                                ICMPv6TimeExceeded, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect,
                                ICMPv6MLQuery, ICMPv6Unknown, fragment6)
from scapy.layers.l2 import Ether, GRE, GRE_PPTP
from scapy.layers.sctp import (SCTP, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkParamStateCookie,
                               SCTPChunkCookieEcho, SCTPChunkCookieAck, SCTPChunkData, SCTPChunkSACK,
                               SCTPChunkShutdown, SCTPChunkShutdownAck, SCTPChunkShutdownComplete,
                               SCTPChunkHeartbeatReq, SCTPChunkHeartbeatAck, SCTPChunkAbort, SCTPChunkError,
                               SCTPChunkParamHeartbeatInfo)
from scapy.packet import Raw

CLONE_NEWNET = 0x40000000
SILENT_TTL = 100  # endpoints drop TTL/hop limit 99 (= 100 after one router hop)
GAP = 0.003        # pause between packets so each is fully processed before the next


def open_l2(ns, ifname):
    """An AF_PACKET socket bound to ifname inside network namespace ns."""
    libc = ctypes.CDLL(None, use_errno=True)
    target = os.open("/run/netns/" + ns, os.O_RDONLY)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns(%s) failed" % ns)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((ifname, 0))
    finally:
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back failed")
        os.close(target)
        os.close(home)
    return s


class Lab:
    def __init__(self, cfg):
        self.cfg = cfg
        self.C4, self.C4B, self.S4 = cfg["clientV4"], cfg["clientV4Alt"], cfg["serverV4"]
        self.C6, self.S6 = cfg["clientV6"], cfg["serverV6"]
        self.R4C, self.R6C = cfg["routerClientV4"], cfg["routerClientV6"]
        # addresses on the client link that no namespace owns (the router has permanent neighbour entries for them)
        self.C4X, self.C6X = cfg["clientV4Spare"], cfg["clientV6Spare"]
        self._c = open_l2(cfg["clientNs"], cfg["clientLink"])
        self._s = open_l2(cfg["serverNs"], cfg["serverLink"])
        self._c_eth = Ether(src=cfg["clientMac"], dst=cfg["routerClientMac"])
        self._s_eth = Ether(src=cfg["serverMac"], dst=cfg["routerServerMac"])
        self.sent = 0
        self.answers = 0

    # -- raw L3 sends -------------------------------------------------------------------------
    def _send(self, sock, eth, l3, gap):
        eth = eth.copy()
        eth.type = 0x86DD if l3.version == 6 else 0x0800
        sock.send(bytes(eth / l3))
        self.sent += 1
        time.sleep(gap)

    def from_client(self, l3, gap=GAP):
        self._send(self._c, self._c_eth, l3, gap)

    def from_server(self, l3, gap=GAP):
        self._send(self._s, self._s_eth, l3, gap)

    # -- convenience: L4 over IPv4/IPv6 from either side ----------------------------------------
    def ip_c(self, v6=False, loud=False, **kw):
        ttl = 64 if loud else SILENT_TTL
        return IPv6(src=self.C6, dst=self.S6, hlim=ttl, **kw) if v6 else IP(src=self.C4, dst=self.S4, ttl=ttl, **kw)

    def ip_s(self, v6=False, loud=False, **kw):
        ttl = 64 if loud else SILENT_TTL
        return IPv6(src=self.S6, dst=self.C6, hlim=ttl, **kw) if v6 else IP(src=self.S4, dst=self.C4, ttl=ttl, **kw)

    def c(self, l4, v6=False, loud=False, gap=GAP, **kw):
        self.from_client(self.ip_c(v6, loud, **kw) / l4, gap)

    def s(self, l4, v6=False, loud=False, gap=GAP, **kw):
        self.from_server(self.ip_s(v6, loud, **kw) / l4, gap)

    def merged(self, fragments):
        """Declares that `fragments` packets just sent reach FORWARD as one reassembled packet."""
        self.answers -= fragments - 1

    def expect_answers(self, n):
        """Declares n packets the endpoint kernels send in answer (they cross the router too)."""
        self.answers += n

    def wait(self, seconds):
        time.sleep(seconds)


class Tcp:
    """One crafted TCP connection; tracks both sides' next sequence numbers."""

    def __init__(self, lab, sport, dport, v6=False, cisn=1000000, sisn=5000000, wscale=7, swscale="same"):
        self.lab, self.sport, self.dport, self.v6 = lab, sport, dport, v6
        self.cisn, self.sisn = cisn, sisn
        self.cseq, self.sseq = cisn, sisn
        self.cwscale = wscale
        self.swscale = wscale if swscale == "same" else swscale

    def _seg(self, from_client, flags, data, seq, ack, win, opts, advance, loud):
        mine = self.cseq if from_client else self.sseq
        peer = self.sseq if from_client else self.cseq
        if seq is None:
            seq = mine
        if ack is None:
            ack = peer if "A" in flags else 0
        if win is None:
            win = 64240 if "S" in flags else 502
        if opts is None and "S" in flags:
            ws = self.cwscale if from_client else self.swscale
            opts = [("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("WScale", ws)] if ws is not None else [("MSS", 1460)]
        sport, dport = (self.sport, self.dport) if from_client else (self.dport, self.sport)
        seg = TCP(sport=sport, dport=dport, flags=flags, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF, window=win, options=opts or [])
        if data:
            seg = seg / Raw(data)
        if advance:
            nxt = seq + len(data) + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
            if from_client:
                self.cseq = max(self.cseq, nxt)
            else:
                self.sseq = max(self.sseq, nxt)
        if from_client:
            self.lab.c(seg, v6=self.v6, loud=loud)
        else:
            self.lab.s(seg, v6=self.v6, loud=loud)

    def c(self, flags, data=b"", seq=None, ack=None, win=None, opts=None, advance=True, loud=False):
        self._seg(True, flags, data, seq, ack, win, opts, advance, loud)

    def s(self, flags, data=b"", seq=None, ack=None, win=None, opts=None, advance=True, loud=False):
        self._seg(False, flags, data, seq, ack, win, opts, advance, loud)

    def handshake(self):
        self.c("S")
        self.s("SA")
        self.c("A")

    def exchange(self, n=100):
        self.c("PA", b"q" * n)
        self.s("PA", b"r" * (2 * n))
        self.c("A")

    def close_client_first(self):
        self.c("FA")
        self.s("A")
        self.s("FA")
        self.c("A")

    def close_server_first(self):
        self.s("FA")
        self.c("A")
        self.c("FA")
        self.s("A")


def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo_v4(src, dst, proto, length):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)


def pseudo_v6(src, dst, proto, length):
    return socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack("!I3xB", length, proto)


def send_udplite(lab, from_client, sport, dport, payload, coverage=0, checksum=None, v6=False, pseudo_proto=136):
    """A UDP-Lite datagram (protocol 136) with the checksum over `coverage` bytes (0 = all), computed with
    `pseudo_proto` in the pseudo-header (RFC 3828 says 136)."""
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, coverage, 0)
    body = hdr + payload
    src, dst = (lab.C6 if from_client else lab.S6, lab.S6 if from_client else lab.C6) if v6 else \
        (lab.C4 if from_client else lab.S4, lab.S4 if from_client else lab.C4)
    if checksum is None:
        covered = body if coverage == 0 else body[:coverage]
        ph = pseudo_v6(src, dst, pseudo_proto, length) if v6 else pseudo_v4(src, dst, pseudo_proto, length)
        checksum = inet_checksum(ph + covered) or 0xFFFF
    body = struct.pack("!HHHH", sport, dport, coverage, checksum) + payload
    ip = (lab.ip_c if from_client else lab.ip_s)(v6, nh=136) if v6 else (lab.ip_c if from_client else lab.ip_s)(v6, proto=136)
    (lab.from_client if from_client else lab.from_server)(ip / Raw(body))


SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


# ================================================================ TCP

@scenario
def tcp_handshake_data_close(lab):
    """Crafted connection with options: handshake, data both ways, client closes first, late ACK in TIME_WAIT."""
    t = Tcp(lab, 40001, 8001)
    t.handshake()
    t.exchange(100)
    t.exchange(600)
    t.close_client_first()
    t.c("A")  # duplicate last ACK in TIME_WAIT
    t2 = Tcp(lab, 40002, 8001, cisn=0xFFFFFF00, sisn=0xFFFFFFF0)  # sequence numbers wrap during the exchange
    t2.handshake()
    t2.exchange(300)
    t2.close_server_first()


@scenario
def tcp_syn_closed_port(lab):
    """A real SYN to a port nobody listens on: the server kernel answers RST+ACK; a second SYN after that."""
    t = Tcp(lab, 40011, 9)
    t.c("S", loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)
    t2 = Tcp(lab, 40011, 9, cisn=2000000)
    t2.c("S", loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)


@scenario
def tcp_syn_retransmit(lab):
    """SYN, retransmitted SYN, SYN-ACK, retransmitted SYN after the SYN-ACK, retransmitted SYN-ACK, ACK, data."""
    t = Tcp(lab, 40021, 8002)
    t.c("S")
    t.c("S", seq=t.cisn, advance=False)
    t.s("SA")
    t.c("S", seq=t.cisn, advance=False)
    t.s("SA", seq=t.sisn, advance=False)
    t.c("A")
    t.exchange(50)
    t.close_client_first()


@scenario
def tcp_rst_answers_syn(lab):
    """SYN answered by a crafted RST+ACK (entry deleted), then the SYN again, then a challenge ACK and a RST (scenario rows 16, 17)."""
    t = Tcp(lab, 40031, 8003)
    t.c("S")
    t.s("RA", seq=0, ack=t.cseq)
    t.c("S", seq=t.cisn, advance=False)
    t.s("A", seq=t.sisn, ack=0x12345678, advance=False)   # challenge ACK while SYN_SENT
    t.c("R", seq=0x12345678, ack=0, advance=False)
    t.c("S", seq=t.cisn + 100000, advance=False)


@scenario
def tcp_ack_pickup(lab):
    """Mid-stream pick-up (tcp_loose=1): ACK without an entry, data both ways, close."""
    t = Tcp(lab, 40041, 8004, cisn=7000000, sisn=9000000)
    t.c("A")
    t.s("A")
    t.c("PA", b"x" * 200)
    t.s("PA", b"y" * 400)
    t.c("A")
    t.close_client_first()
    t2 = Tcp(lab, 40042, 8004)
    t2.c("PA", b"z" * 10)   # data without an entry
    t2.s("A")
    t2.c("A")


@scenario
def tcp_ack_pickup_loose_off(lab):
    """tcp_loose=0: the same pick-up packets are INVALID, a SYN still works."""
    t = Tcp(lab, 40051, 8005, cisn=7000000, sisn=9000000)
    t.c("A")
    t.s("A")
    t.c("PA", b"x" * 20)
    t2 = Tcp(lab, 40052, 8005)
    t2.handshake()
    t2.exchange(10)


@scenario
def tcp_invalid_flags_no_entry(lab):
    """Flag combinations outside the valid list, and valid-but-not-creating kinds, with no entry."""
    port = 40060
    for flags in ["", "FPU", "FS", "F", "SR", "U", "FU", "SAU", "RF", "RU", "FSRPAUEC", "R", "RA", "SA", "FA"]:
        port += 1
        Tcp(lab, port, 8006).c(flags)


@scenario
def tcp_invalid_flags_established(lab):
    """Invalid flag combinations on an established connection, then normal traffic continues."""
    t = Tcp(lab, 40081, 8007)
    t.handshake()
    t.exchange(10)
    for flags in ["", "FPU", "FS", "F", "SR", "U"]:
        t.c(flags, advance=False)
        t.s(flags, advance=False)
    t.exchange(10)
    t.c("SEC", seq=t.cisn + 5, advance=False)  # SYN+ECE+CWR in ESTABLISHED (ignored)
    t.close_server_first()


@scenario
def tcp_synack_without_syn(lab):
    """SYN-ACK with no entry (both directions), then an ACK-pickup of the same ports."""
    t = Tcp(lab, 40091, 8008)
    t.s("SA")
    t.c("SA")
    t.c("A")


@scenario
def tcp_window_violations(lab):
    """After a handshake with window scale 7: data far beyond the window, ACK for unsent data, old data, slight overshoot."""
    t = Tcp(lab, 40101, 8009)
    t.handshake()
    t.exchange(100)
    t.c("PA", b"a" * 100, seq=t.cseq + 10000000, advance=False)     # 10 MB ahead: INVALID
    t.c("A", ack=t.sseq + 500000, advance=False)                      # ACK for 500 KB never sent: INVALID
    t.c("PA", b"b" * 100, seq=t.cseq - 200000, advance=False)       # 200 KB behind: ignored
    t.s("PA", b"c" * 100, seq=t.sseq + 10000000, advance=False)
    t.s("A", ack=t.cseq + 500000, advance=False)
    t.c("PA", b"d" * 1000)
    t.s("A")
    t.c("PA", b"e" * 1400, seq=t.cseq + 64000, advance=False)       # just past the window right edge
    t.c("A", ack=t.sseq - 70000, advance=False)                       # ACK far below (ignored)
    t.exchange(10)


@scenario
def tcp_zero_window_and_probes(lab):
    """Receiver advertises window 0; sender probes; window reopens; keep-alives."""
    t = Tcp(lab, 40111, 8010)
    t.handshake()
    t.c("PA", b"x" * 500)
    t.s("A", win=0)
    t.c("A", b"y", advance=False)               # zero-window probe (1 byte)
    t.s("A", win=0)
    t.s("A", win=502)
    t.c("PA", b"z" * 500)
    t.s("A")
    t.c("A", seq=t.cseq - 1, advance=False)     # keep-alive
    t.s("A")
    t.c("A", b"k", seq=t.cseq - 1, advance=False)
    t.s("A")


@scenario
def tcp_rst_variants(lab):
    """RST with the exact sequence, in the window but not exact, far beyond, below maxack; RST+ACK from the server."""
    a = Tcp(lab, 40121, 8011)
    a.handshake()
    a.exchange(100)
    a.c("R", advance=False)                            # exact: CLOSE
    a.c("A")
    b = Tcp(lab, 40122, 8011)
    b.handshake()
    b.exchange(100)
    b.c("R", seq=b.cseq + 1000, advance=False)         # in window, not exact
    b.s("A")                                           # challenge ACK
    b.c("PA", b"after", advance=True)
    b.s("A")
    c = Tcp(lab, 40123, 8011)
    c.handshake()
    c.exchange(100)
    c.c("R", seq=c.cseq + 300000000, advance=False)    # far beyond
    c.s("R", seq=c.sseq - 50, advance=False)           # below the peer's maxack
    c.s("RA", advance=False)                           # exact, from the server
    c.c("A")
    d = Tcp(lab, 40124, 8011)
    d.handshake()
    d.s("RA", ack=0, advance=False)                    # RST+ACK with ack 0
    e = Tcp(lab, 40125, 8011)
    e.handshake()
    e.c("FA")
    e.s("R", seq=e.sseq + 5000, advance=False)         # RST while FIN_WAIT: accepted without checks
    e.c("A")


@scenario
def tcp_ignore_invalid_rst(lab):
    """nf_conntrack_tcp_ignore_invalid_rst=1: a RST below the peer's maxack is not INVALID."""
    c = Tcp(lab, 40131, 8012)
    c.handshake()
    c.exchange(100)
    c.s("R", seq=c.sseq - 50, advance=False)
    c.c("PA", b"more")
    c.s("R", advance=False)


@scenario
def tcp_syn_in_established(lab):
    """SYN and SYN-ACK in the wrong places of an established connection (scenario rows 10-12)."""
    t = Tcp(lab, 40141, 8013)
    t.handshake()
    t.exchange(10)
    t.c("S", seq=t.cseq + 777777, advance=False)   # original-direction SYN, new ISN: ignored
    t.s("A")                                      # challenge ACK
    t.s("S", seq=t.sseq + 4444, advance=False)     # reply-direction SYN: INVALID
    t.c("SA", advance=False)                       # original-direction SYN-ACK: INVALID
    t.s("SA", seq=t.sisn, advance=False)           # reply-direction SYN-ACK: ignored
    t.exchange(10)
    t.close_client_first()


@scenario
def tcp_reuse_after_time_wait(lab):
    """A full close then a new SYN on the same ports (TIME_WAIT reuse), and reuse after a RST (CLOSE)."""
    t = Tcp(lab, 40151, 8014)
    t.handshake()
    t.exchange(10)
    t.close_client_first()
    t2 = Tcp(lab, 40151, 8014, cisn=3000000, sisn=6000000)
    t2.handshake()
    t2.exchange(10)
    t2.c("R", advance=False)
    t3 = Tcp(lab, 40151, 8014, cisn=4000000, sisn=8000000)
    t3.handshake()
    t3.s("R", advance=False)
    t3.c("S", seq=4500000, advance=False)         # SYN after the *other* side's RST: ignored, not a reopen
    t4 = Tcp(lab, 40152, 8014)
    t4.handshake()
    t4.close_server_first()
    t4.s("S", seq=9000000, advance=False)         # reply-direction SYN in TIME_WAIT


@scenario
def tcp_simultaneous_open(lab):
    """Both sides send SYN, then SYN-ACKs, then ACKs."""
    t = Tcp(lab, 40161, 40162)
    t.c("S")
    t.s("S")
    t.c("SA", seq=t.cisn, advance=False)
    t.s("SA", seq=t.sisn, advance=False)
    t.c("A")
    t.s("A")
    t.exchange(20)
    t.close_client_first()


@scenario
def tcp_bad_checksum(lab):
    """TCP with a wrong checksum (INVALID at PREROUTING), then the correct one."""
    lab.c(TCP(sport=40171, dport=8015, flags="S", seq=1, chksum=0x1234))
    lab.c(TCP(sport=40171, dport=8015, flags="S", seq=1))
    lab.s(TCP(sport=8015, dport=40171, flags="SA", seq=99, ack=2, chksum=0xBEEF))
    lab.s(TCP(sport=8015, dport=40171, flags="SA", seq=99, ack=2))
    lab.c(TCP(sport=40171, dport=8015, flags="A", seq=2, ack=100, chksum=1))
    lab.c(TCP(sport=40171, dport=8015, flags="A", seq=2, ack=100))


@scenario
def tcp_checksum_off(lab):
    """nf_conntrack_checksum=0: the same bad checksums are not checked."""
    tcp_bad_checksum(lab)
    lab.c(UDP(sport=40172, dport=8015, chksum=0x4321) / Raw(b"udp"))


@scenario
def tcp_truncated_headers(lab):
    """TCP headers shorter than 20 bytes or with a data offset beyond the segment."""
    hdr = bytes(TCP(sport=40181, dport=8016, flags="S", seq=1))
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=6) / Raw(hdr[:12]))
    bad_off = bytearray(hdr)
    bad_off[12] = 0xF0  # data offset 60 bytes, segment has 20
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=6) / Raw(bytes(bad_off)))
    small_off = bytearray(hdr)
    small_off[12] = 0x40  # data offset 16 bytes
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=6) / Raw(bytes(small_off)))
    lab.c(TCP(sport=40181, dport=8016, flags="S", seq=1))


@scenario
def tcp_be_liberal(lab):
    """nf_conntrack_tcp_be_liberal=1: out-of-window data and ACKs are accepted."""
    tcp_window_violations(lab)


@scenario
def tcp_fin_variants(lab):
    """Both sides FIN at once, FIN retransmissions, data after FIN, ACK in LAST_ACK, SYN in LAST_ACK."""
    t = Tcp(lab, 40191, 8017)
    t.handshake()
    t.exchange(10)
    t.c("FA")
    t.s("FA")
    t.c("FA", seq=t.cseq - 1, advance=False)   # retransmitted FIN
    t.c("A")
    t.s("A")
    u = Tcp(lab, 40192, 8017)
    u.handshake()
    u.c("FA")
    u.s("PA", b"late data")
    u.c("A")
    u.s("FA")
    u.c("S", seq=u.cseq + 100000, advance=False)   # SYN in LAST_ACK: ignored, challenge ACK expected
    u.s("A")                                        # the challenge ACK
    u.c("A")


@scenario
def tcp_urgent_and_push(lab):
    """URG and PSH/ECE/CWR flags on valid kinds."""
    t = Tcp(lab, 40201, 8018)
    t.c("SEC")
    t.s("SAE")
    t.c("A")
    t.c("PAU", b"urgent")
    t.s("AU")
    t.c("PAC", b"cwr")
    t.s("FAU")
    t.c("FAU")
    t.s("A")


@scenario
def tcp_odd_segments(lab):
    """SYN with data, SYN-ACK with a wrong ACK, FIN and RST with data, SACK blocks, timestamps, one side without window scaling, window scale 15."""
    t = Tcp(lab, 40231, 8021)
    t.c("S", b"syn-data")
    t.s("SA", ack=t.cseq + 1000, seq=t.sisn, advance=False)       # acknowledges more than the SYN carried
    t.s("SA")
    t.c("A")
    t.c("PA", b"x" * 300)
    t.s("A", ack=t.cseq - 300, opts=[("NOP", None), ("NOP", None), ("SAck", (t.cseq - 200, t.cseq))])   # SACK of sent data
    t.s("A", ack=t.cseq - 300, opts=[("NOP", None), ("NOP", None), ("SAck", (t.cseq + 100, t.cseq + 5000))])  # SACK of unsent data
    t.s("A")
    t.c("FPA", b"bye with data")
    t.s("RA", b"rst with data")
    ts = Tcp(lab, 40232, 8021)
    opts = [("NOP", None), ("NOP", None), ("Timestamp", (1000, 0))]
    ts.c("S", opts=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)])
    ts.s("SA", opts=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (5000, 1000)), ("NOP", None), ("WScale", 7)])
    ts.c("A", opts=opts)
    ts.c("PA", b"t" * 200, opts=opts)
    ts.s("PA", b"u" * 200, opts=opts)
    ts.c("A", opts=opts)
    ns = Tcp(lab, 40233, 8021, wscale=7, swscale=None)            # server offers no window scaling: scaling off
    ns.handshake()
    ns.c("PA", b"n" * 1000)
    ns.c("PA", b"n" * 1400, seq=ns.cseq + 64000, advance=False)
    ns.s("A")
    ns.c("PA", b"n" * 1400, seq=ns.cseq + 66000, advance=False)
    big = Tcp(lab, 40234, 8021, wscale=15)                         # capped at 14
    big.handshake()
    big.c("PA", b"b" * 1000, seq=big.cseq + 5000000, advance=False)
    big.c("PA", b"b" * 100)
    big.s("A")


@scenario
def tcp_resync(lab):
    """A client restarts with a new ISN on an established tuple; the server's SYN-ACK to it resynchronises conntrack."""
    t = Tcp(lab, 40241, 8022)
    t.handshake()
    t.exchange(10)
    t.c("S", seq=9000000, advance=False)                         # ignored, remembered
    t.s("SA", seq=7000000, ack=9000001, advance=False)           # answers that SYN: resynchronise
    t.c("A", seq=9000001, ack=7000001, advance=False)
    t.c("PA", b"new life", seq=9000001, ack=7000001, advance=False)
    t.s("A", seq=7000001, ack=9000009, advance=False)
    t.s("PA", b"old life", seq=t.sseq, ack=t.cseq, advance=False)   # the old sequence space


@scenario
def timeouts_short(lab):
    """All timeouts 2 s: entries of each kind expire; a refreshed one survives."""
    a = Tcp(lab, 40251, 8023)
    a.c("S")
    b = Tcp(lab, 40252, 8023)
    b.handshake()
    b.exchange(10)
    c = Tcp(lab, 40253, 8023)
    c.handshake()
    c.c("R", advance=False)
    d = Tcp(lab, 40254, 8023)
    d.handshake()
    d.close_client_first()
    lab.c(ICMP(type=8, id=0x7777))
    lab.c(ICMPv6EchoRequest(id=0x7777), v6=True)
    lab.c(Raw(b"g"), proto=253)
    lab.c(UDP(sport=41251, dport=5451) / Raw(b"u"))
    lab.s(UDP(sport=5451, dport=41251) / Raw(b"u"))
    e = Tcp(lab, 40255, 8023)
    e.handshake()
    lab.wait(1.2)
    e.exchange(5)
    lab.wait(1.3)
    a.s("SA")                                   # SYN_SENT entry expired
    b.c("PA", b"late")                          # ESTABLISHED entry expired: pick-up
    c.c("A")
    d.c("A")
    lab.s(ICMP(type=0, id=0x7777))
    lab.s(ICMPv6EchoReply(id=0x7777), v6=True)
    lab.s(Raw(b"g2"), proto=253)
    lab.s(UDP(sport=5451, dport=41251) / Raw(b"u2"))
    e.exchange(5)                               # refreshed at 1.2 s: still alive


@scenario
def tcp_handshake_anomalies(lab):
    """SYN/SYN-ACK re-sent with new ISNs, wrong-direction packets during the handshake, dup ACKs, server-first pick-up."""
    a = Tcp(lab, 40261, 8024)
    a.c("S")
    a.s("SA")
    a.s("SA", seq=5500000, advance=False)           # SYN-ACK again with another ISN
    a.c("A", ack=5500001, advance=False)
    a.c("A")
    b = Tcp(lab, 40262, 8024)
    b.c("S")
    b.c("S", seq=1200000, advance=False)            # SYN again with a later ISN
    b.s("SA", ack=1200001, advance=False)
    b.c("A", seq=1200001, advance=False)
    c = Tcp(lab, 40263, 8024)
    c.c("S")
    c.c("A", ack=12345, advance=False)              # client ACK in SYN_SENT
    c.s("FA", advance=False)                        # server FIN in SYN_SENT
    c.s("A")                                        # server pure ACK in SYN_SENT
    c.c("S", seq=c.cisn, advance=False)
    d = Tcp(lab, 40264, 8024)
    d.c("S")
    d.s("SA")
    d.s("PA", b"early")                             # server data before the handshake's ACK
    d.c("A")
    d.c("R", advance=False)                         # client RST in ESTABLISHED (exact)
    e = Tcp(lab, 40265, 8024)
    e.c("S")
    e.s("SA")
    e.c("R", advance=False)                         # client RST in SYN_RECV
    e.c("S", seq=e.cisn + 50000, advance=False)
    f = Tcp(lab, 40266, 8024)
    f.handshake()
    f.c("PA", b"d" * 100)
    for _ in range(5):
        f.s("A", ack=f.cseq - 100, advance=False)   # duplicate ACKs
    f.c("PA", b"d" * 100, seq=f.cseq - 100, advance=False)   # retransmission
    f.s("A")
    g = Tcp(lab, 40267, 8024, cisn=3300000, sisn=4400000)
    g.s("A")                                        # pick-up from the server side
    g.c("PA", b"client speaks")
    g.s("A")
    g.s("FA")
    g.c("FA")
    g.s("A")


@scenario
def icmp_errors_edge(lab):
    """ICMP errors quoting packets with IP options, fragments, extension headers, reply-direction packets, other protocols."""
    # UDP flow; error quoting it with IP options in the inner header
    lab.c(UDP(sport=41151, dport=5451) / Raw(b"x"))
    from scapy.layers.inet import IPOption_NOP
    inner = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1, options=[IPOption_NOP()] * 4) / UDP(sport=41151, dport=5451) / Raw(b"x")
    lab.s(ICMP(type=3, code=3) / Raw(bytes(inner)))
    # quoting a first fragment (MF set, offset 0) and a later fragment
    first = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1, flags="MF", frag=0) / UDP(sport=41151, dport=5451, len=2000) / Raw(b"y" * 24)
    lab.s(ICMP(type=11, code=1) / Raw(bytes(first)))
    later = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1, flags=0, frag=185, proto=17) / Raw(b"z" * 24)
    lab.s(ICMP(type=11, code=1) / Raw(bytes(later)))
    # TCP handshake; errors about the SYN-ACK (reply direction) and about a RST
    t = Tcp(lab, 40271, 8025)
    t.c("S")
    t.s("SA")
    synack = IP(src=lab.S4, dst=lab.C4, ttl=SILENT_TTL - 1) / TCP(sport=8025, dport=40271, flags="SA", seq=t.sisn, ack=t.cisn + 1)
    lab.c(ICMP(type=3, code=13) / Raw(bytes(synack)))
    rst = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1) / TCP(sport=40271, dport=8025, flags="R", seq=t.cseq)
    lab.s(ICMP(type=3, code=10) / Raw(bytes(rst)))
    # echo reply quoted (reply direction of an echo flow)
    lab.c(ICMP(type=8, id=0x6101, seq=1))
    lab.s(ICMP(type=0, id=0x6101, seq=1))
    reply = IP(src=lab.S4, dst=lab.C4, ttl=SILENT_TTL - 1) / ICMP(type=0, id=0x6101, seq=1)
    lab.c(ICMP(type=3, code=1) / Raw(bytes(reply)))
    # generic protocol 253 flow quoted
    lab.c(Raw(b"gen"), proto=253)
    gen = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1, proto=253) / Raw(b"gen")
    lab.s(ICMP(type=3, code=2) / Raw(bytes(gen)))
    # errors quoting an SCTP INIT and a UDP-Lite datagram that were tracked
    lab.c(SCTP(sport=41152, dport=5452, tag=0) / SCTPChunkInit(init_tag=0x1234, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1))
    sctp_in = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1) / SCTP(sport=41152, dport=5452, tag=0) / SCTPChunkInit(init_tag=0x1234, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)
    lab.s(ICMP(type=3, code=3) / Raw(bytes(sctp_in)[:28]))
    # ICMPv6 error quoting a packet with a hop-by-hop header
    lab.c(IPv6ExtHdrHopByHop() / UDP(sport=41153, dport=5453) / Raw(b"h"), v6=True)
    inner6 = IPv6(src=lab.C6, dst=lab.S6, hlim=SILENT_TTL - 1) / IPv6ExtHdrHopByHop() / UDP(sport=41153, dport=5453) / Raw(b"h")
    lab.s(ICMPv6DestUnreach(code=1) / Raw(bytes(inner6)), v6=True)
    # ICMPv6 error from a third address, and one to the wrong destination
    lab.from_server(IPv6(src="2001:db8:2::77", dst=lab.C6, hlim=SILENT_TTL) / ICMPv6TimeExceeded() / Raw(bytes(inner6)))
    lab.from_server(IPv6(src=lab.S6, dst="2001:db8:1::99", hlim=SILENT_TTL) / ICMPv6DestUnreach(code=1) / Raw(bytes(inner6)))


@scenario
def tcp_v6(lab):
    """IPv6: handshake, data, close; invalid flags; closed-port SYN answered by the server kernel."""
    t = Tcp(lab, 40211, 8019, v6=True)
    t.handshake()
    t.exchange(500)
    t.c("", advance=False)
    t.c("PA", b"x", seq=t.cseq + 10000000, advance=False)
    t.close_server_first()
    u = Tcp(lab, 40212, 9, v6=True)
    u.c("S", loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)
    p = Tcp(lab, 40213, 8019, v6=True)
    p.c("A")
    p.s("A")


@scenario
def tcp_v6_extension_headers(lab):
    """IPv6 TCP behind hop-by-hop and destination-options headers."""
    sport = 40221
    lab.c(IPv6ExtHdrHopByHop() / TCP(sport=sport, dport=8020, flags="S", seq=10), v6=True)
    lab.s(IPv6ExtHdrDestOpt() / TCP(sport=8020, dport=sport, flags="SA", seq=50, ack=11), v6=True)
    lab.c(IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / TCP(sport=sport, dport=8020, flags="A", seq=11, ack=51), v6=True)
    lab.c(IPv6ExtHdrDestOpt() / UDP(sport=sport, dport=8020) / Raw(b"udp"), v6=True)
    lab.c(IPv6ExtHdrRouting(addresses=[], segleft=0) / UDP(sport=sport + 1, dport=8020) / Raw(b"rh"), v6=True)
    lab.c(IPv6ExtHdrFragment(offset=0, m=0, id=99) / UDP(sport=sport + 2, dport=8020) / Raw(b"atomic fragment"), v6=True)
    lab.s(UDP(sport=8020, dport=sport + 2) / Raw(b"answer"), v6=True)


# ================================================================ UDP

@scenario
def udp_request_reply(lab):
    """UDP request/reply both families; several exchanges."""
    for v6 in (False, True):
        for i in range(3):
            lab.c(UDP(sport=41001, dport=5301) / Raw(b"q%d" % i), v6=v6)
            lab.s(UDP(sport=5301, dport=41001) / Raw(b"r%d" % i), v6=v6)
    lab.s(UDP(sport=5302, dport=41002) / Raw(b"server first"))
    lab.c(UDP(sport=41002, dport=5302) / Raw(b"client answers"))
    lab.c(UDP(sport=0, dport=5303) / Raw(b"source port 0"))
    lab.s(UDP(sport=5303, dport=0) / Raw(b"to port 0"))
    lab.c(UDP(sport=41003, dport=0) / Raw(b"destination port 0"))
    lab.c(UDP(sport=41004, dport=5304))         # empty payload


@scenario
def udp_unreplied_burst(lab):
    """Five datagrams of one flow with no answer, then the first answer."""
    for i in range(5):
        lab.c(UDP(sport=41011, dport=5311) / Raw(b"x" * (i + 1)))
    lab.s(UDP(sport=5311, dport=41011) / Raw(b"finally"))
    lab.c(UDP(sport=41011, dport=5311) / Raw(b"again"))


@scenario
def udp_stream_after_2s(lab):
    """udp_timeout=3, udp_timeout_stream=10: a packet after >2 s with a reply seen makes the flow a stream, so it outlives 3 s."""
    lab.c(UDP(sport=41021, dport=5321) / Raw(b"a"))
    lab.s(UDP(sport=5321, dport=41021) / Raw(b"b"))
    lab.c(UDP(sport=41022, dport=5322) / Raw(b"a"))     # control flow: never gets a packet after 2 s
    lab.s(UDP(sport=5322, dport=41022) / Raw(b"b"))
    lab.wait(2.6)
    lab.c(UDP(sport=41021, dport=5321) / Raw(b"c"))     # > 2 s, SEEN_REPLY: ASSURED, stream timeout
    lab.wait(2.4)                                         # 5.0 s after start: plain 3-s entries are gone
    lab.c(UDP(sport=41021, dport=5321) / Raw(b"d"))
    lab.c(UDP(sport=41022, dport=5322) / Raw(b"d"))
    lab.s(UDP(sport=5322, dport=41022) / Raw(b"e"))


@scenario
def udp_expiry(lab):
    """udp_timeout=3: after 4 s without packets the flow is NEW again; an answer to the expired flow's old direction."""
    lab.c(UDP(sport=41031, dport=5331) / Raw(b"a"))
    lab.s(UDP(sport=5331, dport=41031) / Raw(b"b"))
    lab.c(UDP(sport=41032, dport=5332) / Raw(b"a"))     # unreplied
    lab.wait(1.5)
    lab.c(UDP(sport=41031, dport=5331) / Raw(b"refresh"))  # refreshes only flow 1
    lab.wait(2.5)                                           # flow 2 expired (4 s), flow 1 alive (2.5 s)
    lab.s(UDP(sport=5332, dport=41032) / Raw(b"late answer"))
    lab.s(UDP(sport=5331, dport=41031) / Raw(b"in time"))
    lab.wait(3.5)
    lab.s(UDP(sport=5331, dport=41031) / Raw(b"too late"))


@scenario
def udp_checksums(lab):
    """Bad UDP checksum (INVALID), checksum 0 (accepted), 0xFFFF, and the IPv6 variants."""
    lab.c(UDP(sport=41041, dport=5341, chksum=0x1234) / Raw(b"bad"))
    lab.c(UDP(sport=41042, dport=5341, chksum=0) / Raw(b"zero"))
    lab.s(UDP(sport=5341, dport=41042, chksum=0) / Raw(b"zero back"))
    lab.c(UDP(sport=41043, dport=5341) / Raw(b"good"))
    lab.c(UDP(sport=41044, dport=5341, chksum=0x1234) / Raw(b"bad6"), v6=True)
    lab.c(UDP(sport=41045, dport=5341, chksum=0) / Raw(b"zero6"), v6=True)
    lab.c(UDP(sport=41046, dport=5341) / Raw(b"good6"), v6=True)


@scenario
def udp_bad_lengths(lab):
    """UDP length field larger than the datagram, smaller than 8, truncated header."""
    good = bytes(UDP(sport=41051, dport=5351) / Raw(b"abcdefgh"))
    longer = bytearray(good)
    longer[4:6] = struct.pack("!H", 40)
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=17) / Raw(bytes(longer)))
    short = bytearray(good)
    short[4:6] = struct.pack("!H", 4)
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=17) / Raw(bytes(short)))
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=17) / Raw(good[:6]))
    shorter_ok = bytearray(good)           # length field smaller than the IP payload but >= 8: trailing bytes
    shorter_ok[4:6] = struct.pack("!H", 12)
    shorter_ok[6:8] = b"\0\0"
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=17) / Raw(bytes(shorter_ok)))
    lab.c(UDP(sport=41051, dport=5351) / Raw(b"abcdefgh"))


@scenario
def udp_fragmented(lab):
    """A 3000-byte datagram in IPv4 fragments and an IPv6 one: the router reassembles before conntrack."""
    big = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, id=4242) / UDP(sport=41061, dport=5361) / Raw(b"F" * 3000)
    frags = fragment(big, fragsize=1400)
    for frag in frags:
        lab.from_client(frag)
    lab.merged(len(frags))
    lab.s(UDP(sport=5361, dport=41061) / Raw(b"ok"))
    big6 = IPv6(src=lab.C6, dst=lab.S6, hlim=SILENT_TTL) / IPv6ExtHdrFragment(id=777) / UDP(sport=41062, dport=5362) / Raw(b"G" * 3000)
    frags6 = fragment6(big6, 1400)
    for frag in frags6:
        lab.from_client(frag)
    lab.merged(len(frags6))
    lab.s(UDP(sport=5362, dport=41062) / Raw(b"ok6"), v6=True)


@scenario
def udp_closed_port_icmp_error(lab):
    """UDP to a closed port on the real server: its kernel answers port unreachable (RELATED); IPv4 and IPv6."""
    lab.c(UDP(sport=41071, dport=9) / Raw(b"anyone?"), loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)
    lab.c(UDP(sport=41072, dport=9) / Raw(b"anyone6?"), v6=True, loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)


@scenario
def udplite(lab):
    """UDP-Lite (136): full coverage, partial coverage, zero checksum (INVALID), bad coverage, bad checksum."""
    send_udplite(lab, True, 41081, 5381, b"lite")
    send_udplite(lab, False, 5381, 41081, b"lite back")
    send_udplite(lab, True, 41082, 5381, b"partial coverage", coverage=8)
    send_udplite(lab, True, 41083, 5381, b"zero", checksum=0)
    send_udplite(lab, True, 41084, 5381, b"cov", coverage=4)
    send_udplite(lab, True, 41085, 5381, b"cov", coverage=200)
    send_udplite(lab, True, 41086, 5381, b"bad", checksum=0x1234)
    send_udplite(lab, True, 41087, 5381, b"lite6", v6=True)
    send_udplite(lab, False, 5381, 41087, b"lite6 back", v6=True)
    # the same with the checksum computed as for UDP (pseudo-header protocol 17)
    send_udplite(lab, True, 41088, 5381, b"lite17", pseudo_proto=17)
    send_udplite(lab, False, 5381, 41088, b"lite17 back", pseudo_proto=17)
    send_udplite(lab, True, 41088, 5381, b"lite17 partial", coverage=8, pseudo_proto=17)
    send_udplite(lab, True, 41089, 5381, b"lite17 v6", v6=True, pseudo_proto=17)
    send_udplite(lab, False, 5381, 41089, b"lite17 v6 back", v6=True, pseudo_proto=17)


# ================================================================ ICMP

@scenario
def icmp_echo(lab):
    """Echo request/reply, repeated unanswered requests, same id with another code, sequence changes."""
    lab.c(ICMP(type=8, id=0x1001, seq=1) / Raw(b"ping"))
    lab.s(ICMP(type=0, id=0x1001, seq=1) / Raw(b"ping"))
    lab.c(ICMP(type=8, id=0x1001, seq=2))
    lab.s(ICMP(type=0, id=0x1001, seq=2))
    lab.c(ICMP(type=8, id=9, seq=1))
    lab.c(ICMP(type=8, id=9, seq=2))
    lab.c(ICMP(type=8, code=1, id=0x1001, seq=3))
    lab.s(ICMP(type=0, code=1, id=0x1001, seq=3))
    lab.s(ICMP(type=8, id=0x2002, seq=1))              # server pings the client
    lab.c(ICMP(type=0, id=0x2002, seq=1))


@scenario
def icmp_unsolicited_replies(lab):
    """Reply types with no request: echo reply, timestamp reply, information reply, address-mask reply."""
    lab.s(ICMP(type=0, id=0x3003, seq=1))
    lab.s(ICMP(type=14, id=0x3004))
    lab.s(ICMP(type=16, id=0x3005))
    lab.s(ICMP(type=18, id=0x3006) / Raw(b"\0\0\0\0"))
    lab.c(ICMP(type=0, id=0x3007))


@scenario
def icmp_timestamp_info_mask(lab):
    """Timestamp request answered by the real server kernel; crafted information and address-mask request/reply."""
    lab.c(ICMP(type=13, id=0x4001, seq=1) / Raw(b"\0" * 12), loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)
    lab.c(ICMP(type=15, id=0x4002))
    lab.s(ICMP(type=16, id=0x4002))
    lab.c(ICMP(type=17, id=0x4003) / Raw(b"\0\0\0\0"))
    lab.s(ICMP(type=18, id=0x4003) / Raw(b"\xff\xff\xff\0"))


@scenario
def icmp_echo_loud(lab):
    """Crafted echo requests answered by the real server kernel."""
    for i in range(3):
        lab.c(ICMP(type=8, id=0x5001, seq=i) / Raw(b"hello"), loud=True)
        lab.expect_answers(1)
        lab.wait(0.02)


@scenario
def icmp_errors_related(lab):
    """ICMP errors quoting tracked flows (UDP, TCP, echo) in both directions: RELATED."""
    orig = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1) / UDP(sport=41101, dport=5401) / Raw(b"data")
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL) / UDP(sport=41101, dport=5401) / Raw(b"data"))
    lab.s(ICMP(type=3, code=3) / Raw(bytes(orig)))                      # port unreachable
    lab.s(ICMP(type=3, code=4, nexthopmtu=1200) / Raw(bytes(orig)[:28]))  # frag needed, minimal quote
    lab.s(ICMP(type=4) / Raw(bytes(orig)))                              # source quench
    lab.s(ICMP(type=5, code=1, gw=lab.S4) / Raw(bytes(orig)))           # redirect
    lab.s(ICMP(type=11) / Raw(bytes(orig)))                             # time exceeded
    lab.s(ICMP(type=12, ptr=4) / Raw(bytes(orig)))                      # parameter problem
    lab.c(UDP(sport=41101, dport=5401) / Raw(b"more"))                  # still NEW: errors do not set SEEN_REPLY
    # error about the reply direction, sent by the client
    lab.s(UDP(sport=5401, dport=41101) / Raw(b"reply"))
    rep = IP(src=lab.S4, dst=lab.C4, ttl=SILENT_TTL - 1) / UDP(sport=5401, dport=41101) / Raw(b"reply")
    lab.c(ICMP(type=3, code=3) / Raw(bytes(rep)))
    # TCP SYN quoted in a time-exceeded
    syn = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1) / TCP(sport=41102, dport=5402, flags="S", seq=77)
    lab.c(TCP(sport=41102, dport=5402, flags="S", seq=77))
    lab.s(ICMP(type=11, code=0) / Raw(bytes(syn)))
    # echo request quoted in an unreachable
    ping = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1) / ICMP(type=8, id=0x6001, seq=1)
    lab.c(ICMP(type=8, id=0x6001, seq=1))
    lab.s(ICMP(type=3, code=1) / Raw(bytes(ping)))
    # an error from a third address (a router on the way) is RELATED too: only the outer destination is checked
    lab.from_server(IP(src="198.18.2.77", dst=lab.C4, ttl=SILENT_TTL) / ICMP(type=11) / Raw(bytes(orig)))


@scenario
def icmp_errors_invalid(lab):
    """ICMP errors about unknown flows, about ICMP errors, to the wrong address, truncated quotes, bad checksum."""
    unknown = IP(src=lab.C4, dst=lab.S4) / UDP(sport=41111, dport=5411) / Raw(b"nobody")
    lab.s(ICMP(type=3, code=3) / Raw(bytes(unknown)))
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL) / UDP(sport=41112, dport=5412) / Raw(b"x"))
    known = IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL - 1) / UDP(sport=41112, dport=5412) / Raw(b"x")
    lab.from_server(IP(src=lab.S4, dst=lab.C4B, ttl=SILENT_TTL) / ICMP(type=3, code=3) / Raw(bytes(known)))   # outer dst mismatch
    lab.s(ICMP(type=3, code=3) / Raw(bytes(known)[:24]))                 # quote too short for the ports
    lab.s(ICMP(type=3, code=3) / Raw(bytes(known)[:20]))                 # only the inner IP header
    err = IP(src=lab.S4, dst=lab.C4) / ICMP(type=3, code=3) / Raw(bytes(known))
    lab.c(ICMP(type=11) / Raw(bytes(err)))                              # error about an error
    lab.s(ICMP(type=3, code=3, chksum=0x1111) / Raw(bytes(known)))      # bad checksum
    lab.s(ICMP(type=3, code=3) / Raw(bytes(known)))                     # correct one: RELATED


@scenario
def icmp_odd_types(lab):
    """ICMP types 9, 10 (not invertible), 19 and higher, truncated ICMP, bad echo checksum."""
    lab.s(ICMP(type=9) / Raw(b"\0" * 8))
    lab.c(ICMP(type=10))
    lab.c(ICMP(type=19))
    lab.c(ICMP(type=30))
    lab.c(ICMP(type=42, id=5))
    lab.c(ICMP(type=255))
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=1) / Raw(bytes(ICMP(type=8, id=7))[:4]))
    lab.c(ICMP(type=8, id=0x7001, chksum=0x0BAD))
    lab.c(ICMP(type=8, id=0x7001))


@scenario
def icmp_wrong_family(lab):
    """ICMP (proto 1) inside IPv6 and ICMPv6 (58) inside IPv4."""
    lab.from_client(IPv6(src=lab.C6, dst=lab.S6, hlim=SILENT_TTL, nh=1) / Raw(bytes(ICMP(type=8, id=1))))
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, proto=58) / Raw(bytes(ICMPv6EchoRequest(id=1))))


@scenario
def icmpv6_crafted(lab):
    """ICMPv6 echo, unsolicited reply, node information, odd types, errors about tracked and unknown flows."""
    lab.c(ICMPv6EchoRequest(id=0x1001, seq=1), v6=True)
    lab.s(ICMPv6EchoReply(id=0x1001, seq=1), v6=True)
    lab.c(ICMPv6EchoRequest(id=0x1001, seq=2), v6=True)
    lab.s(ICMPv6EchoReply(id=0x2002, seq=1), v6=True)            # unsolicited
    lab.c(ICMPv6Unknown(type=139, code=0, msgbody=b"\0\x02" + b"\0" * 12), v6=True)   # node information query
    lab.s(ICMPv6Unknown(type=140, code=0, msgbody=b"\0\x02" + b"\0" * 12), v6=True)
    lab.c(ICMPv6Unknown(type=138, code=0, msgbody=b"\0" * 8), v6=True)
    lab.c(ICMPv6Unknown(type=200, code=0, msgbody=b"\0" * 8), v6=True)
    lab.c(ICMPv6Unknown(type=141, code=0, msgbody=b"\0" * 8), v6=True)
    lab.c(UDP(sport=41121, dport=5421) / Raw(b"data6"), v6=True)
    orig = IPv6(src=lab.C6, dst=lab.S6, hlim=SILENT_TTL - 1) / UDP(sport=41121, dport=5421) / Raw(b"data6")
    lab.s(ICMPv6DestUnreach(code=4) / Raw(bytes(orig)), v6=True)
    lab.s(ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(orig)), v6=True)
    lab.s(ICMPv6TimeExceeded() / Raw(bytes(orig)), v6=True)
    lab.s(ICMPv6Unknown(type=100, code=0, msgbody=b"\0" * 4 + bytes(orig)), v6=True)   # unassigned error type < 128
    unknown = IPv6(src=lab.C6, dst=lab.S6) / UDP(sport=41122, dport=5422) / Raw(b"?")
    lab.s(ICMPv6DestUnreach(code=4) / Raw(bytes(unknown)), v6=True)
    lab.s(ICMPv6DestUnreach(code=4, cksum=0x1234) / Raw(bytes(orig)), v6=True)


@scenario
def icmpv6_untracked(lab):
    """Forwarded neighbour discovery and MLD messages with global addresses: UNTRACKED."""
    lab.c(ICMPv6ND_NS(tgt=lab.S6), v6=True)
    lab.c(ICMPv6MLQuery(), v6=True)
    lab.s(ICMPv6ND_RA(), v6=True)
    lab.c(ICMPv6Unknown(type=143, code=0, msgbody=b"\0" * 4), v6=True)
    lab.c(ICMPv6ND_Redirect(tgt=lab.S6, dst=lab.S6), v6=True)


@scenario
def icmpv6_echo_loud(lab):
    """Crafted ICMPv6 echo requests answered by the real server kernel."""
    for i in range(3):
        lab.c(ICMPv6EchoRequest(id=0x5001, seq=i, data=b"hello6"), v6=True, loud=True)
        lab.expect_answers(1)
        lab.wait(0.02)


# ================================================================ other protocols

@scenario
def generic_protocols(lab):
    """Protocol 253 both ways, ESP and AH (generic), both families."""
    for v6 in (False, True):
        kw = {"nh": 253} if v6 else {"proto": 253}
        lab.c(Raw(b"experimental"), v6=v6, **kw)
        lab.c(Raw(b"experimental again"), v6=v6, **kw)
        lab.s(Raw(b"answer"), v6=v6, **kw)
        lab.c(Raw(b"after answer"), v6=v6, **kw)
    lab.c(Raw(b""), v6=True, nh=59)                       # IPv6 "no next header"
    lab.s(Raw(b""), v6=True, nh=59)
    lab.c(Raw(struct.pack("!II", 0x1000, 1) + b"esp payload"), proto=50)
    lab.s(Raw(struct.pack("!II", 0x2000, 1) + b"esp payload"), proto=50)


@scenario
def gre(lab):
    """GRE version 0 both ways, with and without a key; GRE version 1 (PPTP) with call ids."""
    inner = IP(src="198.18.100.1", dst="198.18.100.2") / ICMP(type=8, id=1)
    lab.c(GRE(proto=0x0800) / inner, proto=47)
    lab.s(GRE(proto=0x0800) / inner, proto=47)
    lab.c(GRE(proto=0x0800) / inner, proto=47)
    lab.c(GRE(proto=0x0800, key_present=1, key=0x1234) / inner, nh=47, v6=True)
    lab.s(GRE(proto=0x0800, key_present=1, key=0x1234) / inner, nh=47, v6=True)
    lab.c(GRE_PPTP(call_id=0x1111, seqnum_present=1, seqence_number=1, payload_len=4) / Raw(b"\xff\x03\0\x21"), proto=47)
    lab.s(GRE_PPTP(call_id=0x2222, seqnum_present=1, seqence_number=1, payload_len=4) / Raw(b"\xff\x03\0\x21"), proto=47)


@scenario
def sctp_association(lab):
    """SCTP: INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK, DATA/SACK, HEARTBEAT, SHUTDOWN sequence; bad CRC; wrong vtag."""
    sp, dp, ctag, stag = 41131, 5431, 0x11111111, 0x22222222
    lab.c(SCTP(sport=sp, dport=dp, tag=0) / SCTPChunkInit(init_tag=ctag, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=100))
    lab.s(SCTP(sport=dp, dport=sp, tag=ctag) / SCTPChunkInitAck(init_tag=stag, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=500,
                                                             params=[SCTPChunkParamStateCookie(cookie=b"C" * 16)]))
    lab.c(SCTP(sport=sp, dport=dp, tag=stag) / SCTPChunkCookieEcho(cookie=b"C" * 16))
    lab.s(SCTP(sport=dp, dport=sp, tag=ctag) / SCTPChunkCookieAck())
    lab.c(SCTP(sport=sp, dport=dp, tag=stag) / SCTPChunkData(tsn=100, stream_id=0, stream_seq=0, proto_id=0, data=b"hello"))
    lab.s(SCTP(sport=dp, dport=sp, tag=ctag) / SCTPChunkSACK(cumul_tsn_ack=100, a_rwnd=65535))
    lab.c(SCTP(sport=sp, dport=dp, tag=0xDEADBEEF) / SCTPChunkData(tsn=101, stream_id=0, stream_seq=1, proto_id=0, data=b"bad tag"))
    lab.c(SCTP(sport=sp, dport=dp, tag=stag, chksum=0x12345678) / SCTPChunkData(tsn=101, stream_id=0, stream_seq=1, proto_id=0, data=b"bad crc"))
    lab.s(SCTP(sport=dp, dport=sp, tag=ctag) / SCTPChunkHeartbeatReq())
    lab.c(SCTP(sport=sp, dport=dp, tag=stag) / SCTPChunkShutdown(cumul_tsn_ack=500))
    lab.s(SCTP(sport=dp, dport=sp, tag=ctag) / SCTPChunkShutdownAck())
    lab.c(SCTP(sport=sp, dport=dp, tag=stag) / SCTPChunkShutdownComplete())
    lab.c(SCTP(sport=41132, dport=dp, tag=stag) / SCTPChunkData(tsn=1, data=b"no init"))


# ================================================================ SCTP and GRE (issue 7), kernel default timeouts
# Chunk-level notes: "T" is the chunk flag bit 0 (ABORT / SHUTDOWN COMPLETE: the sender reflects the peer's tag).

def sctp_raw_chunk(ctype, flags=0, body=b"", length=None):
    """A raw SCTP chunk: type, flags, length (default: header + body, unpadded), body padded to 4 bytes."""
    if length is None:
        length = 4 + len(body)
    pad = (-len(body)) % 4
    return struct.pack("!BBH", ctype, flags, length) + body + b"\0" * pad


class Sctp:
    """One crafted SCTP association client:sport <-> server:dport. ctag is the client's initiate tag (the server's
    packets carry it), stag the server's (the client's packets carry it)."""

    def __init__(self, lab, sport, dport, ctag, stag, v6=False, client=None):
        self.lab, self.sport, self.dport, self.ctag, self.stag, self.v6 = lab, sport, dport, ctag, stag, v6
        self.client = client  # another client source address (a second path)
        self.ctsn, self.stsn = 1000, 9000

    def _send(self, from_client, chunks, tag, chksum):
        sport, dport = (self.sport, self.dport) if from_client else (self.dport, self.sport)
        pkt = SCTP(sport=sport, dport=dport, tag=tag)
        if chksum is not None:
            pkt.chksum = chksum
        for ch in chunks:
            pkt = pkt / (Raw(ch) if isinstance(ch, bytes) else ch)
        if self.client is None:
            (self.lab.c if from_client else self.lab.s)(pkt, v6=self.v6)
            return
        server = self.lab.S6 if self.v6 else self.lab.S4
        src, dst = (self.client, server) if from_client else (server, self.client)
        ip = IPv6(src=src, dst=dst, hlim=SILENT_TTL) if self.v6 else IP(src=src, dst=dst, ttl=SILENT_TTL)
        (self.lab.from_client if from_client else self.lab.from_server)(ip / pkt)

    def c(self, *chunks, tag=None, chksum=None):
        """Client to server; the tag defaults to the server's (stag)."""
        self._send(True, chunks, self.stag if tag is None else tag, chksum)

    def s(self, *chunks, tag=None, chksum=None):
        """Server to client; the tag defaults to the client's (ctag)."""
        self._send(False, chunks, self.ctag if tag is None else tag, chksum)

    # chunks
    def init_chunk(self, tag):
        return SCTPChunkInit(init_tag=tag, a_rwnd=65535, n_out_streams=2, n_in_streams=2, init_tsn=1000)

    def init_ack_chunk(self, tag):
        return SCTPChunkInitAck(init_tag=tag, a_rwnd=65535, n_out_streams=2, n_in_streams=2, init_tsn=9000,
                                params=[SCTPChunkParamStateCookie(cookie=b"K" * 20)])

    def data_c(self, payload=b"client data", tsn=None):
        if tsn is None:
            tsn, self.ctsn = self.ctsn, self.ctsn + 1
        return SCTPChunkData(tsn=tsn, stream_id=0, stream_seq=0, proto_id=0, data=payload)

    def data_s(self, payload=b"server data", tsn=None):
        if tsn is None:
            tsn, self.stsn = self.stsn, self.stsn + 1
        return SCTPChunkData(tsn=tsn, stream_id=0, stream_seq=0, proto_id=0, data=payload)

    @staticmethod
    def heartbeat():
        return SCTPChunkHeartbeatReq(params=[SCTPChunkParamHeartbeatInfo(data=b"hbinfo00")])

    @staticmethod
    def heartbeat_ack():
        return SCTPChunkHeartbeatAck(params=[SCTPChunkParamHeartbeatInfo(data=b"hbinfo00")])

    # steps
    def init(self):
        self.c(self.init_chunk(self.ctag), tag=0)

    def init_ack(self):
        self.s(self.init_ack_chunk(self.stag))

    def cookie_echo(self):
        self.c(SCTPChunkCookieEcho(cookie=b"K" * 20))

    def cookie_ack(self):
        self.s(SCTPChunkCookieAck())

    def setup(self):
        self.init()
        self.init_ack()
        self.cookie_echo()
        self.cookie_ack()

    def exchange(self):
        self.c(self.data_c())
        self.s(SCTPChunkSACK(cumul_tsn_ack=self.ctsn - 1, a_rwnd=65535))

    def shutdown_client_first(self):
        self.c(SCTPChunkShutdown(cumul_tsn_ack=self.stsn - 1))
        self.s(SCTPChunkShutdownAck())
        self.c(SCTPChunkShutdownComplete())


@scenario
def sctp_full_association(lab):
    """Packet by packet: INIT, INIT retransmitted, INIT-ACK (and again), COOKIE-ECHO (and again), COOKIE-ACK (and
    again), DATA both ways, SACK, bundles, HEARTBEAT, SHUTDOWN (and again), SHUTDOWN-ACK (and again),
    SHUTDOWN-COMPLETE, DATA after close both ways, a restart on the closed entry; an IPv6 association closed by the server."""
    a = Sctp(lab, 41161, 5461, 0x0A0A0A0A, 0x0B0B0B0B)
    a.init()                                                          # NEW, CLOSED
    a.init()                                                          # retransmitted INIT: CLOSED, timer untouched
    a.init_ack()                                                      # COOKIE_WAIT
    a.init_ack()
    a.init()                                                          # INIT again after the INIT-ACK (lost)
    a.cookie_echo()                                                   # COOKIE_ECHOED
    a.cookie_echo()
    a.cookie_ack()                                                    # ESTABLISHED, ASSURED
    a.cookie_ack()
    a.c(a.data_c(b"first"))
    a.s(SCTPChunkSACK(cumul_tsn_ack=1000, a_rwnd=65535))
    a.s(a.data_s(b"answer"))
    a.c(SCTPChunkSACK(cumul_tsn_ack=9000, a_rwnd=65535), a.data_c(b"bundled"))   # SACK + DATA
    a.c(a.data_c(b"bundled", tsn=1001))                               # retransmitted DATA
    a.c(a.data_c(b"two"), a.data_c(b"three"))                         # two DATA chunks
    a.c(a.heartbeat())
    a.s(a.heartbeat_ack())
    a.s(a.heartbeat())
    a.c(a.heartbeat_ack())
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000))                        # SHUTDOWN_SENT
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000))
    a.s(a.data_s(b"pending"))                                         # the peer may still send
    a.c(SCTPChunkSACK(cumul_tsn_ack=9001, a_rwnd=65535), SCTPChunkShutdown(cumul_tsn_ack=9001))
    a.s(SCTPChunkShutdownAck())                                       # SHUTDOWN_ACK_SENT
    a.s(SCTPChunkShutdownAck())
    a.c(SCTPChunkShutdownComplete())                                  # CLOSED
    a.c(a.data_c(b"after close"))                                     # entry still there (CLOSED, 10 s)
    a.s(a.data_s(b"after close"))
    a.c(SCTPChunkShutdownComplete())
    # restart on the closed entry: new tags
    a.ctag, a.stag = 0x0C0C0C0C, 0x0D0D0D0D
    a.init()
    a.init_ack()
    a.cookie_echo()
    a.cookie_ack()
    a.exchange()
    # IPv6, server closes first
    b = Sctp(lab, 41162, 5462, 0x16161616, 0x26262626, v6=True)
    b.setup()
    b.exchange()
    b.s(b.data_s())
    b.s(SCTPChunkShutdown(cumul_tsn_ack=1000))                        # SHUTDOWN_RECD
    b.s(SCTPChunkShutdown(cumul_tsn_ack=1000))
    b.c(SCTPChunkShutdownAck())                                       # SHUTDOWN_ACK_SENT
    b.c(SCTPChunkShutdownAck())
    b.s(SCTPChunkShutdownComplete())                                  # CLOSED
    b.c(b.data_c(b"after close"))
    b.s(SCTPChunkShutdownComplete())


@scenario
def sctp_retransmissions(lab):
    """Retransmissions at each stage: INIT-ACK with a new tag (the next COOKIE-ECHO must carry it), COOKIE-ECHO
    after the COOKIE-ACK, SHUTDOWN-ACK after SHUTDOWN-COMPLETE, SHUTDOWN repeated in SHUTDOWN_ACK_SENT, INIT-ACK
    with another tag in ESTABLISHED, INIT (same tag) in ESTABLISHED; DATA after each."""
    a = Sctp(lab, 41171, 5471, 0x31313131, 0x41414141)
    a.init()
    a.init_ack()
    a.stag = 0x42424242
    a.init_ack()                                                      # the server restarted: new tag replaces the old
    a.c(SCTPChunkCookieEcho(cookie=b"K" * 20), tag=0x41414141)        # old tag: INVALID
    a.cookie_echo()                                                   # new tag
    a.cookie_ack()
    a.cookie_echo()                                                   # COOKIE-ECHO again after the COOKIE-ACK
    a.cookie_ack()
    a.exchange()
    a.init()                                                          # INIT with the same tag in ESTABLISHED
    a.s(a.init_ack_chunk(0x43434343))                                 # INIT-ACK with another tag
    a.s(a.init_ack_chunk(0x42424242))
    a.exchange()
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000))
    a.s(SCTPChunkShutdownAck())
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000))                        # SHUTDOWN repeated in SHUTDOWN_ACK_SENT
    a.s(SCTPChunkShutdownAck())
    a.c(SCTPChunkShutdownComplete())
    a.s(SCTPChunkShutdownAck())                                       # SHUTDOWN-ACK after SHUTDOWN-COMPLETE
    a.c(SCTPChunkShutdownComplete())
    # COOKIE-ECHO retransmitted before the COOKIE-ACK, INIT retransmitted in COOKIE_ECHOED
    b = Sctp(lab, 41172, 5472, 0x51515151, 0x61616161)
    b.init()
    b.init_ack()
    b.cookie_echo()
    b.init()                                                          # INIT in COOKIE_ECHOED
    b.cookie_echo()
    b.s(b.init_ack_chunk(0x61616161))                                 # INIT-ACK in COOKIE_ECHOED
    b.cookie_ack()
    b.exchange()
    # SHUTDOWN crossing: both sides send SHUTDOWN
    b.c(SCTPChunkShutdown(cumul_tsn_ack=9000))
    b.s(SCTPChunkShutdown(cumul_tsn_ack=1000))
    b.s(SCTPChunkShutdownAck())
    b.c(SCTPChunkShutdownAck())
    b.c(SCTPChunkShutdownComplete())
    b.s(SCTPChunkShutdownComplete())


@scenario
def sctp_bad_vtag_crc(lab):
    """Established association: wrong verification tags on DATA, SACK, SHUTDOWN, COOKIE-ECHO, HEARTBEAT-ACK, ABORT,
    INIT with a tag, SHUTDOWN-ACK with any tag; SHUTDOWN + ABORT with a wrong tag; bad CRC32c (v4 and v6, with and
    without an entry, CRC 0)."""
    a = Sctp(lab, 41181, 5481, 0x71717171, 0x81818181)
    a.setup()
    a.exchange()
    a.c(a.data_c(), tag=0xDEADBEEF)                                   # wrong tag: INVALID
    a.c(a.data_c(), tag=0)
    a.c(a.data_c(), tag=a.ctag)                                       # the peer's tag
    a.s(a.data_s(), tag=a.stag)
    a.s(SCTPChunkSACK(cumul_tsn_ack=1000, a_rwnd=65535), tag=0x12345678)
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000), tag=0x12345678)
    a.c(SCTPChunkCookieEcho(cookie=b"K" * 20), tag=0x12345678)
    a.s(a.heartbeat_ack(), tag=0x12345678)                            # no failed HEARTBEAT before: INVALID
    a.c(SCTPChunkAbort(), tag=0x12345678)
    a.c(a.init_chunk(a.ctag), tag=a.stag)                             # INIT must carry tag 0
    a.c(SCTPChunkError(), tag=0x12345678)
    a.exchange()                                                      # still ESTABLISHED
    a.s(SCTPChunkShutdownAck(), tag=0x12345678)                       # SHUTDOWN-ACK: no tag rule at all
    a.exchange()
    a.c(a.data_c(), chksum=0x12345678)                                # bad CRC
    a.c(a.data_c(), chksum=0)
    a.s(a.data_s(), chksum=0xFFFFFFFF)
    a.exchange()
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000), SCTPChunkAbort(), tag=0x12345678)   # SHUTDOWN kept, ABORT refused
    a.s(SCTPChunkShutdownAck())
    a.c(SCTPChunkShutdownComplete())
    # bad CRC without an entry, IPv6
    b = Sctp(lab, 41182, 5482, 0x91919191, 0xA1A1A1A1, v6=True)
    b.c(b.init_chunk(b.ctag), tag=0, chksum=0x0BADC0DE)               # INVALID, no entry
    b.s(b.init_ack_chunk(b.stag))                                     # no entry: INIT-ACK with a tag is INVALID
    b.setup()
    b.c(b.data_c(), chksum=0x0BADC0DE)
    b.c(b.data_c(), tag=0x0BADC0DE)
    b.exchange()


@scenario
def sctp_invalid_chunks(lab):
    """Chunk combinations the kernel rejects: INIT / INIT-ACK / SHUTDOWN-COMPLETE bundled, COOKIE-ECHO / COOKIE-ACK
    not first, zero-length chunks, no chunk at all, a header shorter than 12 bytes, a truncated INIT; trailing bytes."""
    a = Sctp(lab, 41191, 5491, 0x13131313, 0x14141414)
    a.c(a.init_chunk(a.ctag), a.data_c(), tag=0)                      # INIT + DATA: INVALID, no entry
    a.c(a.data_c(), a.init_chunk(a.ctag), tag=0)                      # DATA + INIT
    a.c(sctp_raw_chunk(1, body=struct.pack("!IIHHI", a.ctag, 65535, 1, 1, 1)[:8]), tag=0)   # INIT cut after 8 bytes
    a.c(tag=0)                                                        # common header only: no chunk
    a.c(sctp_raw_chunk(0, length=0), tag=0)                           # zero-length chunk
    a.init()
    a.s(a.init_ack_chunk(a.stag), a.data_s())                         # INIT-ACK + DATA: INVALID
    a.init_ack()
    a.c(a.data_c(), SCTPChunkCookieEcho(cookie=b"K" * 20))            # COOKIE-ECHO not first
    a.cookie_echo()
    a.s(a.data_s(), SCTPChunkCookieAck())                             # COOKIE-ACK not first
    a.s(SCTPChunkCookieAck(), a.data_s())                             # COOKIE-ACK first, then DATA: fine
    a.exchange()
    a.c(a.data_c(), sctp_raw_chunk(0, length=0))                      # zero-length chunk after a DATA
    a.c(sctp_raw_chunk(0x3F, length=0))                               # zero-length unknown chunk
    a.c(a.data_c(), b"\x00\x00")                                      # 2 trailing bytes: ignored
    a.c(sctp_raw_chunk(0x3F, body=b"unknown"))                        # unknown chunk type: no row, state kept
    a.c(sctp_raw_chunk(0xC0, body=b"\0\0\0\0"))                       # FORWARD-TSN
    a.c(a.data_c(), SCTPChunkShutdownComplete())                      # SHUTDOWN-COMPLETE bundled
    a.c(SCTPChunkShutdown(cumul_tsn_ack=9000))
    a.s(SCTPChunkShutdownAck())
    a.c(SCTPChunkShutdownComplete(), a.data_c())                      # SHUTDOWN-COMPLETE not alone
    a.c(SCTPChunkShutdownComplete())
    # header shorter than 12 bytes, v4 and v6
    lab.c(Raw(struct.pack("!HHI", 41192, 5492, 0)), proto=132)
    lab.c(Raw(struct.pack("!HH", 41192, 5492)), v6=True, nh=132)


@scenario
def sctp_no_entry(lab):
    """Packets that find no entry: DATA, SACK, ABORT (T or not), COOKIE-ACK, SHUTDOWN-COMPLETE, unknown chunks are
    INVALID; HEARTBEAT, HEARTBEAT-ACK, SHUTDOWN-ACK, SHUTDOWN / ERROR / COOKIE-ECHO / INIT-ACK with tag 0 create
    one; the same with a tag, INIT with a tag are INVALID; what follows on the entries created (v4 and v6)."""
    port = [41200]

    def fresh(v6=False):
        port[0] += 1
        return Sctp(lab, port[0], 5500, 0x1F1F1F1F, 0x2F2F2F2F, v6=v6)

    for v6 in (False, True):
        fresh(v6).c(SCTPChunkData(tsn=1, data=b"no entry"))
        fresh(v6).c(SCTPChunkSACK(cumul_tsn_ack=1, a_rwnd=1))
        fresh(v6).c(SCTPChunkAbort())
        fresh(v6).c(SCTPChunkAbort(TCB=1))
        fresh(v6).c(SCTPChunkAbort(), tag=0)
        fresh(v6).c(SCTPChunkCookieAck())
        fresh(v6).c(SCTPChunkShutdownComplete())
        fresh(v6).c(SCTPChunkShutdownComplete(TCB=1), tag=0)
        fresh(v6).c(sctp_raw_chunk(0x3F, body=b"odd!"), tag=0)
        fresh(v6).c(fresh(v6).init_chunk(5), tag=7)                   # INIT with a tag
        fresh(v6).c(SCTPChunkCookieEcho(cookie=b"K" * 20))            # COOKIE-ECHO with a tag
        fresh(v6).c(SCTPChunkShutdown(cumul_tsn_ack=1))               # SHUTDOWN with a tag
        fresh(v6).c(SCTPChunkError())                                 # ERROR with a tag
        fresh(v6).c(fresh(v6).init_ack_chunk(0x2F2F2F2F))             # INIT-ACK with a tag
        # entries created without an INIT, and the answers
        hb = fresh(v6)
        hb.c(hb.heartbeat())                                          # HEARTBEAT_SENT
        hb.c(hb.heartbeat())
        hb.s(hb.heartbeat_ack())                                      # ESTABLISHED
        hb.c(hb.data_c())
        hb.s(hb.data_s())
        hba = fresh(v6)
        hba.c(hba.heartbeat_ack())                                    # HEARTBEAT-ACK with a tag: CLOSED
        hba.s(hba.heartbeat())
        hba.c(hba.data_c())
        hbt = fresh(v6)
        hbt.c(hbt.heartbeat_ack())                                    # which tag does the reply direction get?
        hbt.s(hbt.data_s(), tag=0x2F2F2F2F)                           # the packet's tag
        hbt.s(hbt.data_s(), tag=0)                                    # none
        hbt.s(hbt.data_s())
        sat = fresh(v6)
        sat.c(SCTPChunkShutdownAck())                                 # SHUTDOWN-ACK: the reply direction gets its tag
        sat.s(sat.data_s(), tag=0x2F2F2F2F)
        sat.s(sat.data_s(), tag=0)
        sa = fresh(v6)
        sa.c(SCTPChunkShutdownAck())                                  # SHUTDOWN_ACK_SENT (any tag)
        sa.s(SCTPChunkShutdownComplete())                             # answers with the same tag (T bit clear)
        sa.c(sa.data_c())
        sd = fresh(v6)
        sd.c(SCTPChunkShutdown(cumul_tsn_ack=1), tag=0)               # tag 0: CLOSED
        sd.s(SCTPChunkAbort(), tag=0)
        er = fresh(v6)
        er.c(SCTPChunkError(), tag=0)
        er.s(SCTPChunkError(), tag=0)
        ce = fresh(v6)
        ce.c(SCTPChunkCookieEcho(cookie=b"K" * 20), tag=0)
        ce.s(SCTPChunkCookieAck(), tag=0)
        ia = fresh(v6)
        ia.c(ia.init_ack_chunk(0x2F2F2F2F), tag=0)                    # INIT-ACK with tag 0 creates an entry
        ia.s(SCTPChunkCookieEcho(cookie=b"K" * 20), tag=0x2F2F2F2F)
        ia.c(SCTPChunkCookieAck(), tag=0)


@scenario
def sctp_abort_t_flag(lab):
    """ABORT and SHUTDOWN-COMPLETE with and without the T flag: own tag without T, the peer's tag with T; the
    other combinations are INVALID; ABORT answering an INIT; DATA after the ABORT."""
    def assoc(sport):
        a = Sctp(lab, sport, 5511, 0x33330000 + sport, 0x44440000 + sport)
        a.setup()
        a.exchange()
        return a

    a = assoc(41211)
    a.c(SCTPChunkAbort(TCB=1))                                        # T with the own tag: INVALID
    a.c(SCTPChunkAbort(), tag=a.ctag)                                 # no T with the peer's tag: INVALID
    a.c(SCTPChunkAbort())                                             # own tag, no T: CLOSED
    a.c(a.data_c())
    a.s(a.data_s())
    b = assoc(41212)
    b.c(SCTPChunkAbort(TCB=1), tag=b.ctag)                            # T with the peer's tag: CLOSED
    b.s(b.data_s())
    c = assoc(41213)
    c.s(SCTPChunkAbort(TCB=1))                                        # server: T with its own tag: INVALID
    c.s(SCTPChunkAbort(TCB=1), tag=c.stag)                            # server: T with the peer's tag: CLOSED
    c.c(c.data_c())
    d = assoc(41214)
    d.c(SCTPChunkShutdown(cumul_tsn_ack=9000))
    d.s(SCTPChunkShutdownAck())
    d.c(SCTPChunkShutdownComplete(TCB=1))                             # T with the own tag: INVALID
    d.c(SCTPChunkShutdownComplete(), tag=d.ctag)                      # no T, peer's tag: INVALID
    d.c(SCTPChunkShutdownComplete(TCB=1), tag=d.ctag)                 # T, peer's tag: CLOSED
    d.c(d.data_c())
    e = assoc(41215)
    e.s(SCTPChunkShutdown(cumul_tsn_ack=1000))
    e.c(SCTPChunkShutdownAck())
    e.s(SCTPChunkShutdownComplete(TCB=1), tag=e.stag)                 # server, T with the peer's tag: CLOSED
    e.s(SCTPChunkShutdownComplete())
    # ABORT answering an INIT (the server refuses): tag = the INIT's initiate tag, T clear
    f = Sctp(lab, 41216, 5511, 0x55550001, 0x66660001)
    f.init()
    f.s(SCTPChunkAbort(), tag=0x12121212)                             # wrong tag: INVALID
    f.s(SCTPChunkAbort())
    f.init()
    # ABORT with the T bit answering an INIT with tag 0 (no tag known for the server side)
    g = Sctp(lab, 41217, 5511, 0x55550002, 0x66660002)
    g.init()
    g.s(SCTPChunkAbort(TCB=1), tag=0)
    g.c(SCTPChunkAbort(TCB=1), tag=0)
    # ABORT bundled after DATA
    h = assoc(41218)
    h.c(h.data_c(), SCTPChunkAbort())
    h.s(h.data_s())


@scenario
def sctp_init_collision(lab):
    """Both sides send INIT (collision), INIT-ACKs cross; a colliding INIT-ACK with another tag is INVALID; an
    INIT-ACK with an unexpected tag; the server's INIT without the client's; peers restarting while ESTABLISHED."""
    a = Sctp(lab, 41221, 5521, 0x77770001, 0x88880001)
    a.init()
    a.s(a.init_chunk(a.stag), tag=0)                                  # server's INIT crosses the client's
    a.c(a.init_ack_chunk(a.ctag), tag=a.stag)                         # client answers with INIT-ACK
    a.s(a.init_ack_chunk(a.stag))                                     # server answers with INIT-ACK
    a.cookie_echo()
    a.cookie_ack()
    a.exchange()
    b = Sctp(lab, 41222, 5521, 0x77770002, 0x88880002)
    b.init()
    b.s(b.init_chunk(b.stag), tag=0)
    b.s(b.init_ack_chunk(0x99990002))                                 # collision, another tag: INVALID
    b.c(b.init_ack_chunk(0x99990003), tag=b.stag)                     # the same from the client
    b.init_ack()
    b.cookie_echo()
    b.cookie_ack()
    b.exchange()
    c = Sctp(lab, 41223, 5521, 0x77770003, 0x88880003)
    c.init()
    c.init_ack()
    c.s(c.init_ack_chunk(0x99990004))                                 # another tag after an INIT-ACK: replaces
    c.s(c.init_chunk(c.stag), tag=0)                                  # server INIT in COOKIE_WAIT
    c.s(c.init_ack_chunk(0x99990005))                                 # now both sent INIT: must keep the tag
    c.stag = 0x88880003
    c.cookie_echo()
    c.stag = 0x99990004
    c.cookie_echo()
    c.cookie_ack()
    c.exchange()
    # restart of the server while ESTABLISHED (INIT from the reply side), then of the client
    c.s(c.init_chunk(0x88880033), tag=0)
    c.c(c.init_ack_chunk(0x77770033), tag=0x88880033)
    c.s(SCTPChunkCookieEcho(cookie=b"K" * 20), tag=0x77770033)
    c.c(SCTPChunkCookieAck(), tag=0x88880033)
    c.ctag, c.stag = 0x77770033, 0x88880033
    c.exchange()


@scenario
def sctp_heartbeat_paths(lab):
    """A heartbeat-only secondary path (second client address: HEARTBEAT creates HEARTBEAT_SENT, the answer makes
    it ESTABLISHED, DATA follows), a HEARTBEAT-ACK never answered; on the primary: a HEARTBEAT with an unknown tag
    let through once, HEARTBEAT-ACK re-tagging the entry, the stale side learning its tag again, HEARTBEAT + DATA
    with an unknown tag, HEARTBEAT-ACK from the wrong side."""
    a = Sctp(lab, 41231, 5531, 0xAAAA0001, 0xBBBB0001)
    a.setup()
    a.exchange()
    p2 = Sctp(lab, 41231, 5531, a.ctag, a.stag, client=lab.C4B)       # same association, second client address
    p2.c(p2.heartbeat())                                              # NEW, HEARTBEAT_SENT
    p2.c(p2.heartbeat())
    p2.s(p2.heartbeat_ack())                                          # ESTABLISHED (ASSURED)
    p2.c(p2.data_c())                                                 # primary failed over: data on the second path
    p2.s(SCTPChunkSACK(cumul_tsn_ack=1000, a_rwnd=65535))
    p2.s(p2.heartbeat())
    p2.c(p2.heartbeat_ack())
    p2.c(p2.data_c(), tag=0x12345678)                                 # wrong tag on the second path
    # server-side secondary path heartbeat (v6): the server's HEARTBEAT first
    q = Sctp(lab, 41232, 5532, 0xAAAA0002, 0xBBBB0002, v6=True)
    q.s(q.heartbeat())                                                # NEW from the server side
    q.c(q.heartbeat_ack())
    q.s(q.data_s())
    q.c(q.heartbeat_ack(), tag=0x01020304)                            # HEARTBEAT-ACK, unknown tag, no failed HB
    # unknown-tag HEARTBEAT on the primary (a restarted peer behind the same tuple)
    a.c(a.heartbeat(), tag=0xCCCC0001)                                # let through, timer untouched
    a.c(a.heartbeat(), tag=0xCCCC0001)
    a.c(a.heartbeat_ack(), tag=0xCCCC0002)                            # same side answers: INVALID
    a.c(a.heartbeat(), a.data_c(), tag=0xCCCC0001)                    # HEARTBEAT + DATA, unknown tag: INVALID
    a.s(a.heartbeat_ack(), tag=0xDDDD0001)                            # answer: re-tags (reply tag new, original 0)
    a.c(a.data_c())                                                   # original side's tag is now 0: INVALID
    a.s(a.data_s(), tag=0xDDDD0001)
    a.c(a.heartbeat(), tag=0xCCCC0001)                                # learns the original side's tag
    a.c(a.data_c(), tag=0xCCCC0001)
    a.s(a.data_s(), tag=0xDDDD0001)
    a.s(a.data_s())                                                   # old tag: INVALID


@scenario
def sctp_gre_expiry(lab):
    """Real waits with the kernel's default timeouts: entries are probed 0.7 s after their timeout ran out (counted
    from their last packet) or well before it: SCTP COOKIE_WAIT (3 s), SHUTDOWN_SENT (3 s), SHUTDOWN_ACK_SENT (3 s),
    CLOSED after an unanswered INIT (10 s; an INIT retransmitted at 6 s does not refresh it), CLOSED after
    SHUTDOWN-COMPLETE (10 s), HEARTBEAT_SENT (30 s) expire; ESTABLISHED (210 s) and a CLOSED entry refreshed by
    DATA survive. GRE: an unreplied flow (30 s) and a flow whose last packet was the reply (30 s) expire, a replied
    stream (180 s) and an unreplied flow refreshed at 10 s survive. The suite's only long wait (about 31 s)."""
    def until(t):
        left = t - time.monotonic()
        if left > 0:
            time.sleep(left)

    def now():
        return time.monotonic()

    inner = IP(src="198.18.100.1", dst="198.18.100.2") / ICMP(type=8, id=2)
    gre = GRE(proto=0x0800) / inner
    # ---- the 30-s entries first
    hs = Sctp(lab, 41248, 5541, 0xE0000008, 0xF0000008, v6=True)
    hs.c(hs.heartbeat())                                              # HEARTBEAT_SENT, 30 s
    lab.c(gre, nh=47, v6=True)                                        # GRE v6: unreplied, 30 s
    lab.from_client(IP(src=lab.C4X, dst=lab.S4, ttl=SILENT_TTL, proto=47) / gre)
    lab.from_server(IP(src=lab.S4, dst=lab.C4X, ttl=SILENT_TTL, proto=47) / gre)   # the reply arms 30 s, no more
    lab.c(gre, proto=47)
    lab.s(gre, proto=47)
    lab.c(gre, proto=47)                                              # stream: 180 s, ASSURED
    lab.from_client(IP(src=lab.C4B, dst=lab.S4, ttl=SILENT_TTL, proto=47) / gre)   # unreplied, refreshed at 10 s
    t30 = now()
    # ---- the 3-s and 10-s entries
    cw = Sctp(lab, 41241, 5541, 0xE0000001, 0xF0000001)
    cw.init()
    cw.init_ack()                                                     # COOKIE_WAIT, 3 s
    ss = Sctp(lab, 41242, 5541, 0xE0000002, 0xF0000002)
    ss.setup()
    ss.c(SCTPChunkShutdown(cumul_tsn_ack=9000))                       # SHUTDOWN_SENT, 3 s
    sa = Sctp(lab, 41243, 5541, 0xE0000003, 0xF0000003)
    sa.setup()
    sa.c(SCTPChunkShutdown(cumul_tsn_ack=9000))
    sa.s(SCTPChunkShutdownAck())                                      # SHUTDOWN_ACK_SENT, 3 s
    cl = Sctp(lab, 41245, 5541, 0xE0000005, 0xF0000005)
    cl.init()                                                         # CLOSED (INIT unanswered), 10 s
    done = Sctp(lab, 41246, 5541, 0xE0000006, 0xF0000006)
    done.setup()
    done.shutdown_client_first()                                      # CLOSED after SHUTDOWN-COMPLETE, 10 s
    kept = Sctp(lab, 41247, 5541, 0xE0000007, 0xF0000007)
    kept.setup()
    kept.shutdown_client_first()                                      # CLOSED, refreshed by DATA at 6 s
    es = Sctp(lab, 41244, 5541, 0xE0000004, 0xF0000004, v6=True)
    es.setup()
    es.exchange()                                                     # ESTABLISHED, 210 s
    t10 = now()
    # ---- 3.7 s: the 3-s states are gone
    until(t10 + 3.7)
    cw.cookie_echo()                                                  # no entry: COOKIE-ECHO with a tag is INVALID
    cw.init()                                                         # a new entry: NEW
    ss.s(SCTPChunkShutdownAck())                                      # no entry: SHUTDOWN-ACK creates one (NEW)
    sa.c(SCTPChunkShutdownComplete())                                 # no entry: SHUTDOWN-COMPLETE is INVALID
    es.s(es.data_s())                                                 # ESTABLISHED survives
    # ---- 6 s: an INIT retransmitted into the CLOSED entry (timer untouched); DATA refreshes another CLOSED entry
    until(t10 + 6)
    cl.init()
    kept.c(kept.data_c())
    # ---- 10.7 s: CLOSED entries expired; the refreshed one lives until 16 s
    until(t10 + 10.7)
    cl.init_ack()                                                     # no entry: INIT-ACK with a tag is INVALID
    done.c(done.data_c())                                             # no entry: DATA is INVALID
    kept.s(kept.data_s())                                             # ESTABLISHED
    lab.from_client(IP(src=lab.C4B, dst=lab.S4, ttl=SILENT_TTL, proto=47) / gre)   # GRE refresh (still unreplied)
    # ---- 30.7 s: the 30-s ones are gone
    until(t30 + 30.7)
    hs.s(hs.heartbeat_ack())                                          # no entry: HEARTBEAT-ACK creates one (NEW)
    lab.s(gre, nh=47, v6=True)                                        # unreplied GRE expired: NEW
    lab.from_client(IP(src=lab.C4X, dst=lab.S4, ttl=SILENT_TTL, proto=47) / gre)   # reply armed 30 s: NEW
    lab.c(gre, proto=47)                                              # stream survives: ESTABLISHED
    lab.from_server(IP(src=lab.S4, dst=lab.C4B, ttl=SILENT_TTL, proto=47) / gre)   # refreshed at 10.7 s: ESTABLISHED
    es.c(es.data_c())                                                 # ESTABLISHED


def gre_v1(call_id, proto=0x880B, seq=None, ack=None, payload=b"\xff\x03\x00\x21"):
    """An enhanced GRE (version 1, PPTP) header: K bit, optional S / A, call id, payload length."""
    flags = 0x2001 | (0x1000 if seq is not None else 0) | (0x0080 if ack is not None else 0)
    hdr = struct.pack("!HHHH", flags, proto, len(payload), call_id)
    if seq is not None:
        hdr += struct.pack("!I", seq)
    if ack is not None:
        hdr += struct.pack("!I", ack)
    return Raw(hdr + payload)


@scenario
def gre_versions(lab):
    """GRE version 0 with and without key (v4, v6): NEW, NEW, reply ESTABLISHED, ESTABLISHED (ASSURED stream); keys
    are not part of a version-0 tuple, nor of other versions or short headers (0-3 bytes, version 1 under 8 bytes);
    version 1 (PPTP) call ids in both directions (separate entries; call id 0 meets the key-0 entry); version 1
    with a protocol other than PPP is INVALID (v4, v6), but only with 8 header bytes or more."""
    inner = IP(src="198.18.100.1", dst="198.18.100.2") / ICMP(type=8, id=3)
    for v6 in (False, True):
        kw = {"nh": 47, "v6": True} if v6 else {"proto": 47}
        lab.c(GRE(proto=0x0800) / inner, **kw)                        # NEW
        lab.c(GRE(proto=0x0800, key_present=1, key=0x1234) / inner, **kw)   # same entry (key ignored): NEW
        lab.s(GRE(proto=0x0800, key_present=1, key=0x5678) / inner, **kw)   # reply: ESTABLISHED
        lab.c(GRE(proto=0x0800) / inner, **kw)                        # ESTABLISHED, stream
        lab.s(GRE(proto=0x0800, chksum_present=1, seqnum_present=1, sequence_number=7) / inner, **kw)
        lab.c(GRE(proto=0x86DD, version=2) / Raw(b"v2"), **kw)        # other versions: keys 0
        lab.c(GRE(proto=0x0800, version=7) / inner, **kw)
        lab.c(Raw(b""), **kw)                                         # no GRE header at all
        lab.c(Raw(b"\x00\x01\x08"), **kw)                             # 3 bytes
        lab.c(Raw(struct.pack("!HH", 0x2001, 0x880B)), **kw)         # version 1, 4 bytes: keys 0
        lab.c(Raw(struct.pack("!HHH", 0x2001, 0x0800, 4)), **kw)     # version 1, not PPP, 6 bytes: keys 0
        lab.c(gre_v1(0x1111, seq=1), **kw)                            # PPTP call 0x1111: NEW
        lab.c(gre_v1(0x1111, seq=2), **kw)                            # NEW (unreplied)
        lab.s(gre_v1(0x2222, seq=1), **kw)                            # the peer's call id: its own entry, NEW
        lab.s(gre_v1(0x2222, seq=2, ack=1, payload=b""), **kw)
        lab.c(gre_v1(0x1111, ack=2, payload=b""), **kw)               # acknowledgement only
        lab.s(gre_v1(0x1111, seq=3), **kw)                            # server sends to call 0x1111: another tuple
        lab.c(gre_v1(0x1111, proto=0x0800, seq=3), **kw)              # version 1, not PPP: INVALID
        lab.s(gre_v1(0x2222, proto=0x6558), **kw)
        lab.c(Raw(struct.pack("!HHHH", 0x2001, 0x0800, 0, 0x1111)), **kw)   # exactly 8 bytes, not PPP: INVALID
        lab.c(Raw(struct.pack("!HHHH", 0x2001, 0x880B, 0, 0x3333)), **kw)   # exactly 8 bytes, PPP: NEW
    # call id 0 (second client address): the key-0 tuple, so a version-0 packet continues it
    lab.from_client(IP(src=lab.C4B, dst=lab.S4, ttl=SILENT_TTL, proto=47) / gre_v1(0, seq=1))
    lab.from_server(IP(src=lab.S4, dst=lab.C4B, ttl=SILENT_TTL, proto=47) / gre_v1(0, seq=1))
    lab.from_client(IP(src=lab.C4B, dst=lab.S4, ttl=SILENT_TTL, proto=47) / GRE(proto=0x0800) / inner)
    lab.from_server(IP(src=lab.S4, dst=lab.C4B, ttl=SILENT_TTL, proto=47) / gre_v1(0x4444))


@scenario
def ip_options_and_tos(lab):
    """IPv4 headers with options (NOP padding) and TOS/ECN bits carrying TCP and UDP."""
    from scapy.layers.inet import IPOption_NOP
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, options=[IPOption_NOP()] * 4, tos=0x02) /
                    TCP(sport=41141, dport=5441, flags="S", seq=1))
    lab.from_server(IP(src=lab.S4, dst=lab.C4, ttl=SILENT_TTL, options=[IPOption_NOP()] * 8, tos=0xB8) /
                    TCP(sport=5441, dport=41141, flags="SA", seq=9, ack=2))
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL, options=[IPOption_NOP()] * 4) /
                    UDP(sport=41142, dport=5441) / Raw(b"opt"))


# ================================================================ helpers (RELATED): FTP, TFTP, IRC
# These run with the router's raw table assigning the kernel's helpers (-j CT --helper ftp / tftp / irc, see
# DiffScenarios.cs); the engine replays them with the same raw rules.

def ftp_addr(addr):
    """198.18.1.2 -> b"198,18,1,2" (the PORT / 227 form)."""
    return addr.replace(".", ",").encode()


def hi_lo(port):
    return b"%d,%d" % (port >> 8, port & 0xFF)


class Ftp:
    """A crafted FTP control connection client:sport -> server:21: handshake, then the 220 greeting, USER and 331,
    so each direction has seen one complete line (the helper never parses a direction's first segment)."""

    def __init__(self, lab, sport, v6=False, greet=True):
        self.lab, self.v6 = lab, v6
        self.t = Tcp(lab, sport, 21, v6=v6)
        self.t.handshake()
        if greet:
            self.reply(b"220 (vsFTPd 3.0.3)\r\n")
            self.cmd(b"USER anonymous\r\n")
            self.reply(b"331 Please specify the password.\r\n")

    def cmd(self, data, **kw):
        self.t.c("PA", data, **kw)

    def reply(self, data, **kw):
        self.t.s("PA", data, **kw)


def data_active(lab, cport, v6=False, sport=20, full=True):
    """Active-mode data connection: server:20 -> client:cport. Only the SYN when not full."""
    d = Tcp(lab, cport, sport, v6=v6, cisn=7000000, sisn=8000000)
    d.s("S")
    if full:
        d.c("SA")
        d.s("A")
        d.s("PA", b"file contents\n")
        d.c("A")
        d.s("FA")
        d.c("FA")
        d.s("A")
    return d


def data_passive(lab, cport, sport, v6=False, full=True):
    """Passive-mode data connection: client:cport -> server:sport."""
    d = Tcp(lab, cport, sport, v6=v6, cisn=9000000, sisn=9500000)
    d.c("S")
    if full:
        d.s("SA")
        d.c("A")
        d.s("PA", b"file contents\n")
        d.c("A")
        d.s("FA")
        d.c("FA")
        d.s("A")
    return d


@scenario
def ftp_helper_v4(lab):
    """FTP over IPv4 with the ftp helper: PORT, PASV (227), EPRT, EPSV (229) -> RELATED data connections; lowercase
    port, 227 without parentheses; a second PORT evicts the first expectation (max_expected 1); FTP bounce refused."""
    c4 = ftp_addr(lab.C4)
    f = Ftp(lab, 41300)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51300) + b"\r\n")
    f.reply(b"200 PORT command successful. Consider using PASV.\r\n")
    f.cmd(b"RETR a.txt\r\n")
    data_active(lab, 51300)
    f.reply(b"150 Opening BINARY mode data connection for a.txt (14 bytes).\r\n")
    f.reply(b"226 Transfer complete.\r\n")
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode (" + ftp_addr(lab.S4) + b"," + hi_lo(40100) + b").\r\n")
    data_passive(lab, 41301, 40100)
    f.cmd(b"EPRT |1|" + lab.C4.encode() + b"|51301|\r\n")
    f.reply(b"200 EPRT command successful. Consider using EPSV.\r\n")
    data_active(lab, 51301)
    f.cmd(b"EPSV\r\n")
    f.reply(b"229 Entering Extended Passive Mode (|||40101|)\r\n")
    data_passive(lab, 41302, 40101)
    # keyword matched case-insensitively; RFC 1123 227 without parentheses
    f.cmd(b"port " + c4 + b"," + hi_lo(51302) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    data_active(lab, 51302, full=False)
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode " + ftp_addr(lab.S4) + b"," + hi_lo(40102) + b"\r\n")
    data_passive(lab, 41303, 40102, full=False)
    # max_expected = 1: the second PORT evicts the first one's expectation
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51303) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51304) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    data_active(lab, 51303, full=False)  # NEW
    data_active(lab, 51304, full=False)  # RELATED
    # FTP bounce: an address other than the sender's creates nothing (to the other client address, to the server)
    f.cmd(b"PORT " + ftp_addr(lab.C4B) + b"," + hi_lo(51305) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    lab.from_server(IP(src=lab.S4, dst=lab.C4B, ttl=SILENT_TTL) / TCP(sport=20, dport=51305, flags="S", seq=1))
    f.cmd(b"PORT " + ftp_addr(lab.S4) + b"," + hi_lo(51306) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    lab.from_client(IP(src=lab.C4, dst=lab.S4, ttl=SILENT_TTL) / TCP(sport=41304, dport=51306, flags="S", seq=1))
    # a 227 naming another server address creates nothing either
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode (198,18,2,9," + hi_lo(40103) + b").\r\n")
    lab.from_client(IP(src=lab.C4, dst="198.18.2.9", ttl=SILENT_TTL) / TCP(sport=41305, dport=40103, flags="S", seq=1))
    data_passive(lab, 41306, 40103, full=False)
    f.cmd(b"QUIT\r\n")
    f.reply(b"221 Goodbye.\r\n")
    f.t.close_server_first()


@scenario
def ftp_helper_v6(lab):
    """FTP over IPv6 with the ftp helper: EPRT |2|...| and EPSV -> RELATED; the address in other spellings; PORT and 227
    on an IPv6 control connection, EPRT |1| (family mismatch: dropped) and a foreign EPRT address create nothing."""
    f = Ftp(lab, 41310, v6=True)
    f.cmd(b"EPRT |2|" + lab.C6.encode() + b"|51310|\r\n")
    f.reply(b"200 EPRT command successful. Consider using EPSV.\r\n")
    data_active(lab, 51310, v6=True)
    f.cmd(b"EPSV\r\n")
    f.reply(b"229 Entering Extended Passive Mode (|||40110|)\r\n")
    data_passive(lab, 41311, 40110, v6=True)
    # the same address written out in full with upper-case hex, and another delimiter
    f.cmd(b"EPRT !2!2001:DB8:1:0:0:0:0:2!51311!\r\n")
    f.reply(b"200 EPRT command successful.\r\n")
    data_active(lab, 51311, v6=True, full=False)
    # PORT / 227 on IPv6: the announced IPv4 address only replaces 4 bytes of the sender's: differs, nothing
    f.cmd(b"PORT 198,18,1,2," + hi_lo(51312) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    data_active(lab, 51312, v6=True, full=False)
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode (198,18,2,2," + hi_lo(40111) + b").\r\n")
    data_passive(lab, 41312, 40111, v6=True, full=False)
    # EPRT for another host: nothing
    f.cmd(b"EPRT |2|2001:db8:1::99|51313|\r\n")
    f.reply(b"200 EPRT command successful.\r\n")
    data_active(lab, 51313, v6=True, full=False)
    # EPRT |1| on an IPv6 control connection: partial match, the segment is dropped (line tracking not updated):
    # the next command is not parsed, the one after it is
    f.cmd(b"EPRT |1|198.18.1.2|51314|\r\n")
    f.cmd(b"EPRT |2|" + lab.C6.encode() + b"|51315|\r\n")
    f.reply(b"200 EPRT command successful.\r\n")
    data_active(lab, 51315, v6=True, full=False)  # NEW
    f.cmd(b"EPRT |2|" + lab.C6.encode() + b"|51316|\r\n")
    f.reply(b"200 EPRT command successful.\r\n")
    data_active(lab, 51316, v6=True, full=False)  # RELATED
    f.t.close_client_first()


@scenario
def ftp_helper_line_tracking(lab):
    """The ftp helper parses only segments that start a line after a complete line of the same direction: the first
    segment, a command after another line in one segment, a segment after one not ending in a newline are not
    parsed; partial matches (bad syntax, keyword prefix, no space, 227 without numbers, 229 port 0 or bad
    delimiters) are dropped and leave the tracking alone, so the next line is not parsed either."""
    c4 = ftp_addr(lab.C4)

    def port(p):
        return b"PORT " + c4 + b"," + hi_lo(p) + b"\r\n"

    f = Ftp(lab, 41320, greet=False)
    f.reply(b"220 ready\r\n")
    f.cmd(port(51320))                          # first client segment: not parsed
    f.reply(b"200 ok\r\n")
    data_active(lab, 51320, full=False)         # NEW
    f.cmd(b"NOOP\r\n" + port(51321))            # PORT not at the segment start
    f.reply(b"200 ok\r\n200 ok\r\n")
    data_active(lab, 51321, full=False)         # NEW
    f.cmd(b"NOO")                               # no newline: does not seed the next line start
    f.cmd(b"P\r\n")                             # not at a line start, but ends one
    f.cmd(port(51322))                          # parsed
    f.reply(b"200 ok\r\n200 ok\r\n")
    data_active(lab, 51322, full=False)         # RELATED
    f.cmd(b"PORT 198,18,1,2,200\r\n")           # five numbers: partial -> dropped
    f.cmd(port(51323))                          # not at a remembered line start
    f.cmd(port(51324))                          # parsed
    f.reply(b"500 no\r\n200 ok\r\n200 ok\r\n")
    data_active(lab, 51323, full=False)         # NEW
    data_active(lab, 51324, full=False)         # RELATED
    f.cmd(b"PO")                                # a prefix of the keyword: partial -> dropped
    f.cmd(b"RT\r\n")
    f.cmd(b"PORT\r\n")                          # no space before the end: partial -> dropped
    f.cmd(b"NOOP\r\n")
    f.cmd(port(51325))                          # parsed
    f.reply(b"200 ok\r\n")
    data_active(lab, 51325, full=False)         # RELATED
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode\r\n")   # no number at all: partial -> dropped
    f.reply(b"227 Entering Passive Mode (" + ftp_addr(lab.S4) + b"," + hi_lo(40120) + b")\r\n")  # not parsed
    data_passive(lab, 41321, 40120, full=False)  # NEW
    f.reply(b"229 Entering Extended Passive Mode (|||0|)\r\n")   # port 0: partial -> dropped
    f.reply(b"200 ok\r\n")
    f.reply(b"229 Entering Extended Passive Mode (|!|40121|)\r\n")  # mixed delimiters: partial -> dropped
    f.reply(b"200 ok\r\n")
    f.reply(b"229 Entering Extended Passive Mode (|||40122|)\r\n")  # parsed
    data_passive(lab, 41322, 40122, full=False)  # RELATED
    f.reply(b"227-multi-line reply (198,18,2,2,156,64)\r\n")      # "227-" is not "227 "
    data_passive(lab, 41323, 156 * 256 + 64, full=False)  # NEW
    f.t.close_client_first()


@scenario
def ftp_helper_expectation_lifecycle(lab):
    """An expectation is consumed by the first matching connection (a second one is NEW); an ACK can open the
    expected connection (loose pick-up); two masters expecting the same connection clash; when the master is
    replaced (SYN reopening a closed control connection) its pending expectation goes with it."""
    c4 = ftp_addr(lab.C4)
    f = Ftp(lab, 41330)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51330) + b"\r\n")
    f.reply(b"200 ok\r\n")
    data_active(lab, 51330)                            # RELATED
    data_active(lab, 51330, sport=2020, full=False)    # consumed: NEW
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode (" + ftp_addr(lab.S4) + b"," + hi_lo(40130) + b").\r\n")
    data_passive(lab, 41331, 40130, full=False)        # RELATED
    data_passive(lab, 41332, 40130, full=False)        # NEW
    # an ACK picks up the expected connection (nf_conntrack_tcp_loose=1)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51331) + b"\r\n")
    f.reply(b"200 ok\r\n")
    lab.s(TCP(sport=20, dport=51331, flags="A", seq=5, ack=7, window=502))
    lab.c(TCP(sport=51331, dport=20, flags="A", seq=7, ack=5, window=502))
    # another master announcing the same passive port to the same client: the expectations clash (-EBUSY) and that
    # helper drops its 227, but the line still counts as complete, so its next 227 is parsed
    f2 = Ftp(lab, 41333)
    f.cmd(b"PASV\r\n")
    f.reply(b"227 Entering Passive Mode (" + ftp_addr(lab.S4) + b"," + hi_lo(40131) + b").\r\n")
    f2.cmd(b"PASV\r\n")
    f2.reply(b"227 Entering Passive Mode (" + ftp_addr(lab.S4) + b"," + hi_lo(40131) + b").\r\n")  # dropped
    data_passive(lab, 41334, 40131, full=False)        # RELATED (first master's)
    f2.reply(b"227 Entering Passive Mode (" + ftp_addr(lab.S4) + b"," + hi_lo(40131) + b").\r\n")
    data_passive(lab, 41335, 40131, full=False)        # RELATED (second master's)
    f2.t.close_client_first()
    # the master dies: RST, then a SYN on the same ports reopens it (the old entry and its expectation are deleted)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51332) + b"\r\n")
    f.reply(b"200 ok\r\n")
    f.t.c("R")
    g = Tcp(lab, 41330, 21, cisn=3000000, sisn=4000000)
    g.handshake()
    data_active(lab, 51332, full=False)                # NEW: the expectation went with its master
    g.close_client_first()


@scenario
def helper_invalid_first_packet(lab):
    """A packet that matches an expectation but is INVALID (bad checksum, bad TCP flags, RST): is the expectation
    consumed? Then the valid packet."""
    c4 = ftp_addr(lab.C4)
    f = Ftp(lab, 41340)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51340) + b"\r\n")
    f.reply(b"200 ok\r\n")
    lab.s(TCP(sport=20, dport=51340, flags="S", seq=1, chksum=0x1234))
    data_active(lab, 51340, full=False)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51341) + b"\r\n")
    f.reply(b"200 ok\r\n")
    lab.s(TCP(sport=20, dport=51341, flags="SF", seq=1))
    data_active(lab, 51341, full=False)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51342) + b"\r\n")
    f.reply(b"200 ok\r\n")
    lab.s(TCP(sport=20, dport=51342, flags="R", seq=1))
    data_active(lab, 51342, full=False)
    lab.c(UDP(sport=41341, dport=69) / Raw(b"\x00\x01a.txt\x00octet\x00"))
    lab.s(UDP(sport=50340, dport=41341, chksum=0x1234) / Raw(b"\x00\x03\x00\x01data"))
    lab.s(UDP(sport=50340, dport=41341) / Raw(b"\x00\x03\x00\x01data"))
    f.t.close_client_first()


def tftp_req(opcode, name=b"boot.txt", mode=b"octet"):
    return struct.pack("!H", opcode) + name + b"\x00" + mode + b"\x00"


@scenario
def tftp_helper(lab):
    """TFTP with the tftp helper: RRQ (v4) and WRQ (v6) -> the server's answer from a new port is RELATED, the
    client's reply ESTABLISHED; answers to another client port or from another address, other opcodes to port 69,
    a one-byte payload and a retransmitted RRQ."""
    lab.c(UDP(sport=41350, dport=69) / Raw(tftp_req(1)))
    lab.s(UDP(sport=50350, dport=41350) / Raw(b"\x00\x03\x00\x01" + b"d" * 512))   # RELATED
    lab.c(UDP(sport=41350, dport=50350) / Raw(b"\x00\x04\x00\x01"))               # ESTABLISHED
    lab.s(UDP(sport=50350, dport=41350) / Raw(b"\x00\x03\x00\x02" + b"d" * 10))
    lab.c(UDP(sport=41350, dport=50350) / Raw(b"\x00\x04\x00\x02"))
    lab.c(UDP(sport=41351, dport=69) / Raw(tftp_req(2)), v6=True)
    lab.s(UDP(sport=50351, dport=41351) / Raw(b"\x00\x04\x00\x00"), v6=True)      # RELATED
    lab.c(UDP(sport=41351, dport=50351) / Raw(b"\x00\x03\x00\x01up"), v6=True)
    # wrong client port; another server address
    lab.c(UDP(sport=41352, dport=69) / Raw(tftp_req(1)))
    lab.s(UDP(sport=50352, dport=41353) / Raw(b"\x00\x03\x00\x01x"))              # NEW
    lab.from_server(IP(src="198.18.2.9", dst=lab.C4, ttl=SILENT_TTL) / UDP(sport=50353, dport=41352) / Raw(b"\x00\x03\x00\x01x"))  # NEW
    lab.s(UDP(sport=50354, dport=41352) / Raw(b"\x00\x05\x00\x01not found\x00"))  # RELATED (ERROR from the server)
    # other opcodes to port 69 and a one-byte payload create nothing
    lab.c(UDP(sport=41354, dport=69) / Raw(b"\x00\x03\x00\x01x"))
    lab.s(UDP(sport=50355, dport=41354) / Raw(b"\x00\x04\x00\x01"))               # NEW
    lab.c(UDP(sport=41355, dport=69) / Raw(b"\x01"))
    lab.s(UDP(sport=50356, dport=41355) / Raw(b"\x00\x04\x00\x01"))               # NEW
    # retransmitted RRQ: the same expectation again, still one answer RELATED
    lab.c(UDP(sport=41356, dport=69) / Raw(tftp_req(1)), v6=True)
    lab.c(UDP(sport=41356, dport=69) / Raw(tftp_req(1)), v6=True)
    lab.s(UDP(sport=50357, dport=41356) / Raw(b"\x00\x03\x00\x01y"), v6=True)     # RELATED
    lab.s(UDP(sport=50358, dport=41356) / Raw(b"\x00\x03\x00\x01y"), v6=True)     # NEW (consumed)


@scenario
def helper_icmp_errors(lab):
    """ICMP errors about helper-created connections: the client kernel's port unreachable for a TFTP answer
    (v4, v6) and a crafted error quoting an active-mode FTP data SYN are RELATED; an error quoting a connection
    that is only expected (no entry yet) is INVALID."""
    lab.c(UDP(sport=41360, dport=69) / Raw(tftp_req(1)))
    lab.s(UDP(sport=50360, dport=41360) / Raw(b"\x00\x03\x00\x01data"), loud=True)  # RELATED, reaches the client
    lab.expect_answers(1)                                                        # its port unreachable: RELATED
    lab.wait(0.05)
    lab.c(UDP(sport=41361, dport=69) / Raw(tftp_req(1)), v6=True)
    lab.s(UDP(sport=50361, dport=41361) / Raw(b"\x00\x03\x00\x01data"), v6=True, loud=True)
    lab.expect_answers(1)
    lab.wait(0.05)
    c4 = ftp_addr(lab.C4)
    f = Ftp(lab, 41362)
    f.cmd(b"PORT " + c4 + b"," + hi_lo(51360) + b"\r\n")
    f.reply(b"200 ok\r\n")
    syn = IP(src=lab.S4, dst=lab.C4, ttl=SILENT_TTL - 1) / TCP(sport=20, dport=51360, flags="S", seq=11)
    lab.c(ICMP(type=3, code=13) / Raw(bytes(syn)))                     # INVALID: only an expectation
    lab.s(TCP(sport=20, dport=51360, flags="S", seq=11))               # RELATED
    lab.c(ICMP(type=3, code=13) / Raw(bytes(syn)))                     # RELATED: about the data connection
    f.t.close_client_first()


@scenario
def irc_helper(lab):
    """IRC DCC with the irc helper (IPv4): SEND and CHAT announce a port any host may connect to (RELATED); a forged
    address, RESUME, a server->client DCC and an unknown DCC type create nothing; the 9th pending DCC evicts the 1st."""
    ip = struct.unpack("!I", socket.inet_aton(lab.C4))[0]
    t = Tcp(lab, 41370, 6667)
    t.handshake()
    t.s("PA", b":irc.example NOTICE * :hello\r\n")
    t.c("PA", b"NICK alice\r\nUSER alice 0 * :Alice\r\n")
    t.c("PA", b"PRIVMSG bob :\x01DCC SEND file.txt %d 5370 1024\x01\r\n" % ip)
    lab.s(TCP(sport=41999, dport=5370, flags="S", seq=1))                # RELATED
    t.c("PA", b"PRIVMSG bob :\x01DCC CHAT chat %d 5371\x01\r\n" % ip)
    lab.from_server(IP(src="198.18.2.9", dst=lab.C4, ttl=SILENT_TTL) / TCP(sport=41998, dport=5371, flags="S", seq=1))  # RELATED: any source
    t.c("PA", b"PRIVMSG bob :\x01DCC SEND file.txt %d 5372 1024\x01\r\n" % (ip + 1))  # forged
    lab.s(TCP(sport=41997, dport=5372, flags="S", seq=1))                # NEW
    t.c("PA", b"PRIVMSG bob :\x01DCC RESUME file.txt 5373 512\x01\r\n")
    lab.s(TCP(sport=41996, dport=5373, flags="S", seq=1))                # NEW
    t.c("PA", b"PRIVMSG bob :\x01DCC XMIT file.txt %d 5374\x01\r\n" % ip)
    lab.s(TCP(sport=41995, dport=5374, flags="S", seq=1))                # NEW
    # at most 8 pending DCC expectations per master: the 9th evicts the oldest
    for i in range(9):
        t.c("PA", b"PRIVMSG bob :\x01DCC SEND f%d.txt %d %d 10\x01\r\n" % (i, ip, 5380 + i))
    lab.s(TCP(sport=41993, dport=5380, flags="S", seq=1))                # NEW: evicted
    lab.s(TCP(sport=41992, dport=5381, flags="S", seq=1))                # RELATED
    lab.s(TCP(sport=41991, dport=5388, flags="S", seq=1))                # RELATED
    t.s("PA", b":bob!b@h PRIVMSG alice :\x01DCC SEND f %d 5375 1\x01\r\n" % struct.unpack("!I", socket.inet_aton(lab.S4))[0])
    lab.c(TCP(sport=41994, dport=5375, flags="S", seq=1))                # NEW: only the client's messages count
    t.close_client_first()


@scenario
def ftp_split_command(lab):
    """(Engine-only expectation, not a kernel-agreement scenario.) A PORT command split across two segments,
    "PORT h1,h2,h3,h4," then "p1,p2\r\n": the kernel's helper sees a partial match in the first and drops it,
    and does not parse the second (not at a line start), so the data connection is NEW; our helper joins the
    two and makes it RELATED. Then the same for EPRT over IPv6."""
    c4 = ftp_addr(lab.C4)
    f = Ftp(lab, 41380)
    f.cmd(b"PORT " + c4 + b",")
    f.cmd(hi_lo(51380) + b"\r\n")
    f.reply(b"200 PORT command successful.\r\n")
    data_active(lab, 51380, full=False)
    f.t.close_client_first()
    g = Ftp(lab, 41381, v6=True)
    g.cmd(b"EPRT |2|" + lab.C6.encode()[:6])
    g.cmd(lab.C6.encode()[6:] + b"|51381|\r\n")
    g.reply(b"200 EPRT command successful.\r\n")
    data_active(lab, 51381, v6=True, full=False)
    g.t.close_client_first()


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        for name in SCENARIOS:
            print(name)
        return 0
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    cfg = json.loads(sys.argv[1])
    name = sys.argv[2]
    if name not in SCENARIOS:
        print("unknown scenario %r" % name, file=sys.stderr)
        return 2
    lab = Lab(cfg)
    SCENARIOS[name](lab)
    print(json.dumps({"sent": lab.sent, "expect": lab.sent + lab.answers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
