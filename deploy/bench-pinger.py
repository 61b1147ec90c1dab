#!/usr/bin/python3
"""Paired wire-level round trips for deploy/bench-datapaths.sh.

    bench-pinger.py INTERVAL COUNT OUTDIR NAME=NETNS:ADDRESS [NAME=NETNS:ADDRESS ...]

Sends COUNT ICMP echo requests to each target, one target at a time in turn: target k is pinged at
k * INTERVAL / len(targets) into each INTERVAL, so every target gets one request per INTERVAL and the machine's noise
falls on all of them alike. Each round trip is timed by the kernel at the client's NIC: from the request's TX_SCHED
software timestamp (as it is queued to the NIC) to the reply's RX software timestamp (as the NIC hands it up), so the
pinger's own speed does not count. The microseconds are appended to OUTDIR/NAME, one per line.
IPv4 only; needs root (raw sockets, setns).
"""
import ctypes, os, select, socket, struct, sys, time

CLONE_NEWNET = 0x40000000
SO_TIMESTAMPING = 37
# SOF_TIMESTAMPING_TX_SCHED | RX_SOFTWARE | SOFTWARE | OPT_TSONLY
TIMESTAMPING = (1 << 8) | (1 << 3) | (1 << 4) | (1 << 11)
MSG_ERRQUEUE = 0x2000
libc = ctypes.CDLL(None, use_errno=True)


def socket_in(netns):
    """A raw ICMP socket opened inside network namespace NETNS (the thread returns to its own afterwards)."""
    own = os.open('/proc/self/ns/net', os.O_RDONLY)
    target = os.open('/var/run/netns/' + netns, os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), 'setns ' + netns)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), 'setns back')
    finally:
        os.close(own)
        os.close(target)


def checksum(data):
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def stamp(ancillary):
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING:
            sec, nsec = struct.unpack('qq', value[:16])
            return sec * 1_000_000_000 + nsec
    return None


def round_trip(sock, dest, ident, seq, payload):
    """Microseconds between the request's TX and the reply's RX timestamps, or None (no reply within 1 s)."""
    header = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    sock.sendto(struct.pack('!BBHHH', 8, 0, checksum(header + payload), ident, seq) + payload, dest)
    tx = rx = None
    deadline = time.monotonic() + 1.0
    while tx is None or rx is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if tx is None:
            try:
                _, ancillary, _, _ = sock.recvmsg(64, 512, MSG_ERRQUEUE | socket.MSG_DONTWAIT)
                tx = stamp(ancillary)
                continue
            except BlockingIOError:
                pass
        # the TX timestamp is queued without waking select(): poll for it every millisecond until it is there
        if not select.select([sock], [], [], min(left, 0.001) if tx is None else left)[0]:
            continue
        try:
            data, ancillary, _, _ = sock.recvmsg(2048, 512, socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        ihl = (data[0] & 15) * 4
        kind, _, _, rid, rseq = struct.unpack('!BBHHH', data[ihl:ihl + 8])
        if rx is None and kind == 0 and rid == ident and rseq == seq:
            rx = stamp(ancillary)
    return (rx - tx) / 1000.0


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    interval, count, out = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    targets = []
    for i, spec in enumerate(sys.argv[4:]):
        name, rest = spec.split('=', 1)
        netns, address = rest.split(':', 1)
        sock = socket_in(netns)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TIMESTAMPING)
        targets.append((name, sock, (address, 0), (os.getpid() * 7 + 97 * i) & 0xffff, []))
    slot = interval / len(targets)
    payload = b'fw-bench' * 7
    start = time.monotonic() + 0.05
    for seq in range(count):
        for k, (name, sock, dest, ident, rtts) in enumerate(targets):
            wait = start + seq * interval + k * slot - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            rtts.append(round_trip(sock, dest, ident, seq & 0xffff, payload))
    for name, sock, dest, ident, rtts in targets:
        with open(os.path.join(out, name), 'a') as f:
            f.writelines('%.1f\n' % r for r in rtts if r is not None)
        lost = sum(1 for r in rtts if r is None)
        if lost:
            print('%s: %d of %d requests without a reply (or a timestamp)' % (name, lost, len(rtts)), file=sys.stderr)


if __name__ == '__main__':
    main()
