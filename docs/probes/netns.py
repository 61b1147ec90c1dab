"""Namespace pair with a router; per-packet FORWARD ctstate (iptables counters) and conntrack -L on the router."""
import os, subprocess, time, sys, random
from scapy.all import conf, send, IP, IPv6, Raw
conf.verb = 0
P = os.environ.get("PFX", "sp%d" % (os.getpid() % 10000))
A, R, B = P + "a", P + "r", P + "b"
STATES = ["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"]

def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stderr}")
    return r.stdout

def nsx(ns, cmd, check=True):
    return sh(f"ip netns exec {ns} {cmd}", check)

def setup():
    for n in (A, R, B):
        sh(f"ip netns add {n}")
    sh(f"ip link add {P}ar type veth peer name {P}ra")
    sh(f"ip link add {P}br type veth peer name {P}rb")
    sh(f"ip link set {P}ar netns {A}"); sh(f"ip link set {P}ra netns {R}")
    sh(f"ip link set {P}br netns {B}"); sh(f"ip link set {P}rb netns {R}")
    for ns, dev, addr, addr6 in ((A, P+"ar", "198.18.1.2/24", "2001:db8:1::2/64"), (R, P+"ra", "198.18.1.1/24", "2001:db8:1::1/64"),
                          (R, P+"rb", "198.18.2.1/24", "2001:db8:2::1/64"), (B, P+"br", "198.18.2.2/24", "2001:db8:2::2/64")):
        nsx(ns, f"ip addr add {addr} dev {dev}"); nsx(ns, f"ip -6 addr add {addr6} dev {dev} nodad")
        nsx(ns, f"ip link set {dev} up"); nsx(ns, "ip link set lo up")
        nsx(ns, f"ethtool -K {dev} rx off tx off", check=False)
    nsx(A, "ip route add default via 198.18.1.1"); nsx(B, "ip route add default via 198.18.2.1")
    nsx(A, "ip -6 route add default via 2001:db8:1::1"); nsx(B, "ip -6 route add default via 2001:db8:2::1")
    nsx(R, "sysctl -qw net.ipv4.ip_forward=1"); nsx(R, "sysctl -qw net.ipv6.conf.all.forwarding=1")
    for ns in (A, B):  # end hosts never answer: every packet is crafted
        nsx(ns, "iptables -A INPUT -j DROP"); nsx(ns, "ip6tables -A INPUT -p icmpv6 --icmpv6-type neighbour-solicitation -j ACCEPT"); nsx(ns, "ip6tables -A INPUT -p icmpv6 --icmpv6-type neighbour-advertisement -j ACCEPT"); nsx(ns, "ip6tables -A INPUT -j DROP")
    for tool in ("iptables", "ip6tables"):
        for s in STATES:
            nsx(R, f"{tool} -A FORWARD -m conntrack --ctstate {s} -j NFLOG --nflog-prefix {s} --nflog-group 7")
        nsx(R, f"{tool} -A FORWARD -j ACCEPT")
    time.sleep(0.3)

def teardown():
    for n in (A, R, B):
        sh(f"ip netns del {n}", check=False)

def counters():
    out = {}
    for tool in ("iptables", "ip6tables"):
        for line in nsx(R, f"{tool} -nvxL FORWARD").splitlines():
            f = line.split()
            if len(f) > 2 and f[2] == "NFLOG":
                pfx = line.split("nflog-prefix")[1].split()[0]
                out[pfx] = out.get(pfx, 0) + int(f[0])
    return out

import ctypes
_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")
_fds = {}
def _enter(ns):
    if ns not in _fds:
        _fds[ns] = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    _setns(_fds[ns])

_home = os.open("/proc/self/ns/net", os.O_RDONLY)

def xmit(ns, pkt):
    """Send pkt from namespace ns; return the ctstate the router's FORWARD chain saw."""
    before = counters()
    _enter(ns)
    try:
        import socket
        raw = bytes(pkt)
        if raw[0] >> 4 == 4:
            so = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            so.sendto(raw, (pkt[IP].dst, 0))
        else:
            so = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
            so.sendto(raw, (pkt[IPv6].dst, 0))
        so.close()
    finally:
        _setns(_home)
    time.sleep(0.05)
    after = counters()
    hit = [s for s in STATES if after.get(s, 0) != before.get(s, 0)]
    return ",".join(hit) if hit else "DROPPED?"

def ct(proto=None):
    arg = f"-p {proto}" if proto else ""
    out = nsx(R, f"conntrack -L {arg}", check=False).strip()
    return out

def ct6(proto=None):
    arg = f"-p {proto}" if proto else ""
    return nsx(R, f"conntrack -L -f ipv6 {arg}", check=False).strip()

def proc():
    return nsx(R, "cat /proc/net/nf_conntrack", check=False).strip()

def flush():
    nsx(R, "conntrack -F", check=False)

A4, B4 = "198.18.1.2", "198.18.2.2"
A6, B6 = "2001:db8:1::2", "2001:db8:2::2"
