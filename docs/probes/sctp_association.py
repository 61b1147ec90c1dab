import sys
from netns import *  # noqa: F403 (namespace helpers)
from scapy.layers.sctp import *
def S(src, dst, sp, dp, vtag, *chunks, chksum=None):
    s = SCTP(sport=sp, dport=dp, tag=vtag)
    if chksum is not None: s.chksum = chksum
    p = IP(src=src, dst=dst) / s
    for c in chunks: p = p / c
    return p
def step(label, ns, pkt, proto="sctp"):
    st = xmit(ns, pkt)
    print(f"{label:45s} -> {st:12s} | {ct(proto).replace(chr(10),' || ')}")
setup()
try:
    TA, TB = 0x11111111, 0x22222222
    print("=== full association")
    step("INIT a->b vtag0", A, S(A4, B4, 1000, 2000, 0, SCTPChunkInit(init_tag=TA, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)))
    step("INIT retransmit", A, S(A4, B4, 1000, 2000, 0, SCTPChunkInit(init_tag=TA, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)))
    step("INIT_ACK b->a vtag TA", B, S(B4, A4, 2000, 1000, TA, SCTPChunkInitAck(init_tag=TB, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)))
    step("COOKIE_ECHO a->b vtag TB", A, S(A4, B4, 1000, 2000, TB, SCTPChunkCookieEcho(cookie=b"c"*8)))
    step("COOKIE_ACK b->a vtag TA", B, S(B4, A4, 2000, 1000, TA, SCTPChunkCookieAck()))
    step("DATA a->b vtag TB", A, S(A4, B4, 1000, 2000, TB, SCTPChunkData(tsn=1, data=b"x")))
    step("SACK b->a vtag TA", B, S(B4, A4, 2000, 1000, TA, SCTPChunkSACK(cumul_tsn_ack=1, a_rwnd=65535)))
    step("DATA a->b BAD vtag", A, S(A4, B4, 1000, 2000, 0x999, SCTPChunkData(tsn=2, data=b"x")))
    step("DATA a->b bad crc", A, S(A4, B4, 1000, 2000, TB, SCTPChunkData(tsn=2, data=b"x"), chksum=0x1234))
    step("HEARTBEAT b->a", B, S(B4, A4, 2000, 1000, TA, SCTPChunkHeartbeatReq()))
    step("HEARTBEAT_ACK a->b", A, S(A4, B4, 1000, 2000, TB, SCTPChunkHeartbeatAck()))
    step("SHUTDOWN a->b", A, S(A4, B4, 1000, 2000, TB, SCTPChunkShutdown(cumul_tsn_ack=1)))
    step("SHUTDOWN_ACK b->a", B, S(B4, A4, 2000, 1000, TA, SCTPChunkShutdownAck()))
    step("SHUTDOWN_COMPLETE a->b", A, S(A4, B4, 1000, 2000, TB, SCTPChunkShutdownComplete()))
    step("DATA a->b after close", A, S(A4, B4, 1000, 2000, TB, SCTPChunkData(tsn=3, data=b"x")))
    print(proc())
    flush()
    print("=== new-entry rules")
    for label, pkt in [
        ("INIT vtag!=0", S(A4, B4, 1001, 2000, 5, SCTPChunkInit(init_tag=TA))),
        ("DATA only (no entry)", S(A4, B4, 1002, 2000, 5, SCTPChunkData(tsn=1, data=b"x"))),
        ("ABORT (no entry)", S(A4, B4, 1003, 2000, 5, SCTPChunkAbort())),
        ("COOKIE_ACK (no entry)", S(A4, B4, 1004, 2000, 5, SCTPChunkCookieAck())),
        ("SHUTDOWN_COMPLETE (no entry)", S(A4, B4, 1005, 2000, 5, SCTPChunkShutdownComplete())),
        ("COOKIE_ECHO vtag5 (no entry)", S(A4, B4, 1006, 2000, 5, SCTPChunkCookieEcho(cookie=b"c"*8))),
        ("COOKIE_ECHO vtag0 (no entry)", S(A4, B4, 1007, 2000, 0, SCTPChunkCookieEcho(cookie=b"c"*8))),
        ("INIT_ACK vtag5 (no entry)", S(A4, B4, 1008, 2000, 5, SCTPChunkInitAck(init_tag=TA))),
        ("INIT_ACK vtag0 (no entry)", S(A4, B4, 1009, 2000, 0, SCTPChunkInitAck(init_tag=TA))),
        ("SHUTDOWN_ACK vtag5 (no entry)", S(A4, B4, 1010, 2000, 5, SCTPChunkShutdownAck())),
        ("HEARTBEAT vtag5 (no entry)", S(A4, B4, 1011, 2000, 5, SCTPChunkHeartbeatReq())),
        ("SHUTDOWN vtag0 (no entry)", S(A4, B4, 1012, 2000, 0, SCTPChunkShutdown())),
        ("ERROR vtag0 (no entry)", S(A4, B4, 1013, 2000, 0, SCTPChunkError())),
        ("INIT + DATA bundled", S(A4, B4, 1014, 2000, 0, SCTPChunkInit(init_tag=TA), SCTPChunkData(tsn=1, data=b"x"))),
        ("no chunks", S(A4, B4, 1015, 2000, 0)),
        ("INIT bad crc", S(A4, B4, 1016, 2000, 0, SCTPChunkInit(init_tag=TA), chksum=0xdead)),
        ("HEARTBEAT_ACK vtag5 (no entry)", S(A4, B4, 1017, 2000, 5, SCTPChunkHeartbeatAck())),
    ]:
        step(label, A, pkt)
finally:
    teardown()
