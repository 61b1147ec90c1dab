from netns import *  # noqa: F403 (namespace helpers)
from scapy.layers.sctp import *
import struct
def G(src, dst, raw, v6=False):
    if v6: return IPv6(src=src, dst=dst, nh=47) / Raw(raw)
    return IP(src=src, dst=dst, proto=47) / Raw(raw)
def step(label, ns, pkt, f="gre", v6=False):
    st = xmit(ns, pkt)
    out = ct6(f) if v6 else ct(f)
    print(f"{label:45s} -> {st:12s} | {out.replace(chr(10), ' || ')}")
v0 = struct.pack("!HH", 0x0000, 0x0800) + b"\x45" + b"\x00"*19
def pptp(call, proto=0x880B, flags=0x3001): return struct.pack("!HHHH", flags, proto, 4, call) + struct.pack("!I", 1) + b"abcd"
setup()
try:
    xmit(A, IPv6(src=A6, dst=B6)/Raw(b"")); time.sleep(0.5)  # warm up neighbour discovery
    flush()
    print("=== v6")
    step("v0 v6 a->b", A, G(A6, B6, v0, True), v6=True)
    step("v1 v6 a->b call 0x77", A, G(A6, B6, pptp(0x77), True), v6=True)
    step("v1 v6 non-ppp", A, G(A6, B6, pptp(0x77, proto=0x0800), True), v6=True)
    step("sctp v6 INIT", A, IPv6(src=A6, dst=B6)/SCTP(sport=7, dport=8, tag=0)/SCTPChunkInit(init_tag=5), f="sctp", v6=True)
    step("sctp v6 INIT bad crc", A, IPv6(src=A6, dst=B6)/SCTP(sport=9, dport=8, tag=0, chksum=1)/SCTPChunkInit(init_tag=5), f="sctp", v6=True)
    print(proc())
    print("=== other generic names")
    step("esp a->b", A, IP(src=A4, dst=B4, proto=50)/Raw(b"x"*16), f="")
    step("proto 253", A, IP(src=A4, dst=B4, proto=253)/Raw(b"x"*16), f="")
    print("=== rx checksum on (veth marks CHECKSUM_UNNECESSARY)")
    nsx(R, f"ethtool -K {P}ra rx on", check=False)
    step("sctp INIT bad crc, rx on", A, IP(src=A4, dst=B4)/SCTP(sport=11, dport=8, tag=0, chksum=1)/SCTPChunkInit(init_tag=5), f="sctp")
finally:
    teardown()
