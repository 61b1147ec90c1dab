#!/usr/bin/env bash
# Data-path benchmark: sudo ./deploy/bench-datapaths.sh   (not part of test.sh; takes about 2 minutes)
#
# One run, two small topologies in network namespaces, four set-ups with the same stateful policy
# (ESTABLISHED,RELATED accepted · INVALID dropped · NEW only from the client side · policy DROP):
#   kernel bridge   : Linux bridge + br_netfilter + iptables conntrack rules (physdev for the client port)
#   daemon bridge   : firewall-daemon Bridge mode (libpcap) on the same two ports
#   kernel routing  : plain forwarding + iptables conntrack rules in FORWARD
#   daemon NFQUEUE  : forwarding + firewall-daemon Nfqueue mode (ManageKernelRules, F_GSO, batch verdicts)
# Each is measured with iperf3 TCP (DURATION s), iperf3 UDP with 64-byte payloads at full speed (packets sent,
# forwarded = arrived at the server's NIC, and received by iperf3, per second), and ping at light load (100/s) for the
# round-trip time p50/p99, once as the machine is and once with /dev/cpu_dma_latency held at 0 (for the daemon through
# its CpuDmaLatencyUs option); the daemon figures are printed as ratios to the kernel's and as added latency.
# BRIDGE_EXTRA adds JSON members to the daemon's Bridge section (e.g. BRIDGE_EXTRA='"TxRing": false'). Environment: DURATION (default 5), PINGS (default 500), ONLY (bridge or nfqueue:
# measure one path and its kernel baseline only).
set -euo pipefail
DURATION=${DURATION:-5}
PINGS=${PINGS:-500}
ONLY=${ONLY:-}
case "$ONLY" in ""|bridge|nfqueue) ;; *) echo "ONLY must be bridge or nfqueue (got '$ONLY')" >&2; exit 1;; esac
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench-datapaths.sh needs root: sudo $0" >&2; exit 1; }
for t in ip iperf3 ping ethtool python3 sysctl; do command -v "$t" >/dev/null || { echo "missing tool: $t (apt-get install iproute2 iperf3 iputils-ping ethtool python3 procps)" >&2; exit 1; }; done
IPT=$(command -v iptables-legacy || command -v iptables) || { echo "missing iptables" >&2; exit 1; }
DOTNET=$(command -v dotnet || echo /usr/share/dotnet/dotnet)
[ -x "$DOTNET" ] || { echo "dotnet (.NET 10 SDK) not found" >&2; exit 1; }

echo "== building firewall-daemon (Release)"
"$DOTNET" build "$REPO/src/Firewall.Daemon" -c Release -nologo -v q >/dev/null
DLL="$REPO/src/Firewall.Daemon/bin/Release/net10.0/firewall-daemon.dll"

P="fwb$(printf '%04x' $((RANDOM)))"
WORK=$(mktemp -d /tmp/fw-bench.XXXXXX)
NAMESPACES=("${P}c" "${P}b" "${P}s" "${P}rc" "${P}r" "${P}rs")
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nx() { ip netns exec "$@"; }

# ---------------------------------------------------------------- topologies
for ns in "${NAMESPACES[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
# bridge: client 198.18.90.1 — [ba | bb] — server 198.18.90.2 (one subnet)
ip link add "${P}c0" netns "${P}c" type veth peer name "${P}ba" netns "${P}b"
ip link add "${P}s0" netns "${P}s" type veth peer name "${P}bb" netns "${P}b"
ip -n "${P}c" addr add 198.18.90.1/24 dev "${P}c0"; ip -n "${P}s" addr add 198.18.90.2/24 dev "${P}s0"
for l in "${P}c:${P}c0" "${P}s:${P}s0" "${P}b:${P}ba" "${P}b:${P}bb"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
nx "${P}c" ethtool -K "${P}c0" tx off tso off gso off >/dev/null 2>&1 || true
nx "${P}s" ethtool -K "${P}s0" tx off tso off gso off >/dev/null 2>&1 || true
for l in "${P}ba" "${P}bb"; do for f in gro lro tso gso; do nx "${P}b" ethtool -K "$l" "$f" off >/dev/null 2>&1 || true; done; done
# routed: client 198.18.91.2 — router (.91.1 | 198.18.92.1) — server 198.18.92.2 (default offloads)
ip link add "${P}rc0" netns "${P}rc" type veth peer name "${P}r0" netns "${P}r"
ip link add "${P}rs0" netns "${P}rs" type veth peer name "${P}r1" netns "${P}r"
ip -n "${P}rc" addr add 198.18.91.2/24 dev "${P}rc0"; ip -n "${P}r" addr add 198.18.91.1/24 dev "${P}r0"
ip -n "${P}rs" addr add 198.18.92.2/24 dev "${P}rs0"; ip -n "${P}r" addr add 198.18.92.1/24 dev "${P}r1"
for l in "${P}rc:${P}rc0" "${P}rs:${P}rs0" "${P}r:${P}r0" "${P}r:${P}r1"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
ip -n "${P}rc" route add default via 198.18.91.1; ip -n "${P}rs" route add default via 198.18.92.1
nx "${P}r" sysctl -qw net.ipv4.ip_forward=1
sleep 1

# ---------------------------------------------------------------- measuring
declare -A TCP UDP FWD SENT P50 P99
# ping every 10 ms (after 100 warm-up pings): prints "p50 p99" in µs
rtt() { # rtt CLIENT_NS ADDR
  nx "$1" ping -c 100 -i 0.01 -W 1 -q "$2" >/dev/null || true
  nx "$1" ping -n -c "$PINGS" -i 0.01 -W 1 "$2" | python3 -c 'import sys,re
v=sorted(float(m.group(1)) for m in (re.search(r"time=([0-9.]+)", l) for l in sys.stdin) if m)
q=lambda p: v[min(len(v)-1, int(p*len(v)))]*1000 if v else float("nan")
print("%.0f %.0f" % (q(0.50), q(0.99)))'
}
rx_packets() { nx "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
measure() { # measure KEY LABEL CLIENT_NS SERVER_NS SERVER_ADDR SERVER_IF
  local label=$1 title=$2 c=$3 s=$4 addr=$5 sif=$6 out r50 r99 rx0 rx1
  nx "$c" ping -c 3 -W 1 -q "$addr" >/dev/null || { echo "   $label: no connectivity" >&2; return 1; }
  # latency first, at light load (before the floods leave backlogs behind)
  read -r r50 r99 < <(rtt "$c" "$addr")
  ip netns exec "$s" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & local srv=$!; PIDS+=($srv); sleep 0.5
  out=$(nx "$c" iperf3 -c "$addr" -p 5201 -t "$DURATION" -J 2>/dev/null || true); wait "$srv" 2>/dev/null || true
  TCP[$label]=$(python3 -c 'import json,sys; d=json.loads(sys.stdin.read() or "{}"); print("%.0f" % (d.get("end",{}).get("sum_received",{}).get("bits_per_second",0)/1e6))' <<<"$out")
  ip netns exec "$s" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!; PIDS+=($srv); sleep 0.5
  rx0=$(rx_packets "$s" "$sif")
  out=$(nx "$c" iperf3 -c "$addr" -p 5201 -u -l 64 -b 0 -t "$DURATION" -J 2>/dev/null || true); wait "$srv" 2>/dev/null || true
  rx1=$(rx_packets "$s" "$sif")
  # sent = what iperf3 sent; forwarded = frames that reached the server's NIC; received = what iperf3 read
  read -r SENT[$label] FWD[$label] UDP[$label] < <(python3 -c 'import json,sys
d=json.loads(sys.stdin.read() or "{}"); s=d.get("end",{}).get("sum",{}); secs=s.get("seconds",0) or 1
print("%.1f %.1f %.1f" % (s.get("packets",0)/secs/1000, (int(sys.argv[2])-int(sys.argv[1]))/secs/1000, (s.get("packets",0)-s.get("lost_packets",0))/secs/1000))' "$rx0" "$rx1" <<<"$out")
  P50[$label]=$r50; P99[$label]=$r99
  printf '   %-15s TCP %6s Mbit/s   UDP-64 sent %6s  forwarded %6s  received %6s kpps   RTT p50 %5s us  p99 %5s us\n' "$title" "${TCP[$label]}" "${SENT[$label]}" "${FWD[$label]}" "${UDP[$label]}" "${P50[$label]}" "${P99[$label]}"
}
# latency only, with every CPU held out of halt through /dev/cpu_dma_latency = 0 (tuned's latency-performance)
measure_lowlat() { # measure_lowlat KEY LABEL CLIENT_NS ADDR [hold]
  local label=$1 title=$2 c=$3 addr=$4 holder="" r50 r99
  if [ "${5:-}" = hold ]; then
    python3 -c 'import os,struct,time; f=os.open("/dev/cpu_dma_latency",os.O_WRONLY); os.write(f,struct.pack("i",0)); time.sleep(3600)' & holder=$!; PIDS+=($holder); sleep 0.3
  fi
  read -r r50 r99 < <(rtt "$c" "$addr")
  [ -z "$holder" ] || { kill "$holder"; wait "$holder" 2>/dev/null || true; }
  P50[$label]=$r50; P99[$label]=$r99
  printf '   %-15s RTT p50 %5s us  p99 %5s us   (cpu_dma_latency 0)\n' "$title" "${P50[$label]}" "${P99[$label]}"
}

daemon_config() { # daemon_config FILE DATAPATH_JSON INSIDE_MATCH
  cat >"$1" <<EOF
{ "Firewall": { "DataPath": $2,
    "Control": { "SocketPath": "$WORK/control.sock" }, "State": { "Directory": "$WORK/state" },
    "Rules": { "Filter": { "Forward": { "Policy": "DROP", "Rules": [
      { "Iptables": "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT" },
      { "Iptables": "-m conntrack --ctstate INVALID -j DROP" },
      { "Iptables": "$3 -m conntrack --ctstate NEW -j ACCEPT" } ] } } } },
  "Serilog": { "Using": [ "Serilog.Sinks.Console" ], "MinimumLevel": { "Default": "Warning" },
    "WriteTo": [ { "Name": "Console", "Args": { "formatter": "Serilog.Formatting.Json.JsonFormatter, Serilog" } } ] } }
EOF
}
start_daemon() { # start_daemon NS CONFIG
  ip netns exec "$1" "$DOTNET" "$DLL" --config "$2" >"$WORK/daemon.log" 2>&1 & DAEMON=$!; PIDS+=($DAEMON)
  sleep 4
  kill -0 "$DAEMON" 2>/dev/null || { cat "$WORK/daemon.log"; echo "daemon failed" >&2; exit 1; }
}
stop_daemon() { kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; }
state_rules() { # state_rules NS INSIDE_MATCH...
  local ns=$1; shift
  nx "$ns" "$IPT" -P FORWARD DROP
  nx "$ns" "$IPT" -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  nx "$ns" "$IPT" -A FORWARD -m conntrack --ctstate INVALID -j DROP
  nx "$ns" "$IPT" -A FORWARD "$@" -m conntrack --ctstate NEW -j ACCEPT
}
flush_rules() { nx "$1" "$IPT" -F FORWARD; nx "$1" "$IPT" -P FORWARD ACCEPT; }

echo "== $(nproc) CPUs, $(uname -r), DURATION=${DURATION}s, PINGS=$PINGS"
if [ "$ONLY" != nfqueue ]; then
echo "== bridge: client 198.18.90.1 — bridge — server 198.18.90.2"
ip -n "${P}b" link add "${P}br" type bridge
ip -n "${P}b" link set "${P}ba" master "${P}br"; ip -n "${P}b" link set "${P}bb" master "${P}br"; ip -n "${P}b" link set "${P}br" up
nx "${P}b" sysctl -qw net.bridge.bridge-nf-call-iptables=1
state_rules "${P}b" -m physdev --physdev-in "${P}ba"
sleep 2
measure kbridge "kernel bridge" "${P}c" "${P}s" 198.18.90.2 "${P}s0"
measure_lowlat kbridge0 "kernel bridge" "${P}c" 198.18.90.2 hold
flush_rules "${P}b"
ip -n "${P}b" link del "${P}br"
for l in "${P}ba" "${P}bb"; do ip -n "${P}b" link set "$l" up; done
BRIDGE="\"Interfaces\": [ \"${P}ba\", \"${P}bb\" ], \"BufferSizeMb\": 32${BRIDGE_EXTRA:+, $BRIDGE_EXTRA}"
daemon_config "$WORK/bridge.json" "{ \"Mode\": \"Bridge\", \"Bridge\": { $BRIDGE } }" "-i ${P}ba"
start_daemon "${P}b" "$WORK/bridge.json"
measure dbridge "daemon bridge" "${P}c" "${P}s" 198.18.90.2 "${P}s0"
stop_daemon
daemon_config "$WORK/bridge.json" "{ \"Mode\": \"Bridge\", \"CpuDmaLatencyUs\": 0, \"Bridge\": { $BRIDGE } }" "-i ${P}ba"
start_daemon "${P}b" "$WORK/bridge.json"
measure_lowlat dbridge0 "daemon bridge" "${P}c" 198.18.90.2
stop_daemon
fi

if [ "$ONLY" != bridge ]; then
echo "== routed: client 198.18.91.2 — router — server 198.18.92.2"
state_rules "${P}r" -i "${P}r0"
measure krouting "kernel routing" "${P}rc" "${P}rs" 198.18.92.2 "${P}rs0"
measure_lowlat krouting0 "kernel routing" "${P}rc" 198.18.92.2 hold
flush_rules "${P}r"
NFQ="\"Queues\": [ 0 ], \"ManageKernelRules\": true, \"QueueBypass\": false, \"Gso\": true, \"Families\": [ \"IPv4\" ]"
daemon_config "$WORK/nfq.json" "{ \"Mode\": \"Nfqueue\", \"Nfqueue\": { $NFQ } }" "-i ${P}r0"
start_daemon "${P}r" "$WORK/nfq.json"
measure dnfq "daemon NFQUEUE" "${P}rc" "${P}rs" 198.18.92.2 "${P}rs0"
stop_daemon
daemon_config "$WORK/nfq.json" "{ \"Mode\": \"Nfqueue\", \"CpuDmaLatencyUs\": 0, \"Nfqueue\": { $NFQ } }" "-i ${P}r0"
start_daemon "${P}r" "$WORK/nfq.json"
measure_lowlat dnfq0 "daemon NFQUEUE" "${P}rc" 198.18.92.2
stop_daemon
fi

echo "== ratios (daemon / kernel) and added latency (daemon - kernel)"
ratio() { python3 -c "a,b=float('$1' or 0),float('$2' or 0); print('%.2f' % (a/b) if b else 'n/a')"; }
diff_us() { python3 -c "print('%+.0f' % (float('$1')-float('$2')))"; }
for pair in "bridge:dbridge:kbridge" "NFQUEUE:dnfq:krouting"; do
  IFS=: read -r name d k <<<"$pair"
  [ -n "${TCP[$d]:-}" ] || continue
  printf '   %-8s TCP %s   UDP-64 forwarded %s  received %s   added RTT p50 %s us  p99 %s us   with cpu_dma_latency 0: p50 %s us  p99 %s us\n' "$name" \
    "$(ratio "${TCP[$d]}" "${TCP[$k]}")" "$(ratio "${FWD[$d]}" "${FWD[$k]}")" "$(ratio "${UDP[$d]}" "${UDP[$k]}")" \
    "$(diff_us "${P50[$d]}" "${P50[$k]}")" "$(diff_us "${P99[$d]}" "${P99[$k]}")" \
    "$(diff_us "${P50[${d}0]}" "${P50[${k}0]}")" "$(diff_us "${P99[${d}0]}" "${P99[${k}0]}")"
done
echo "   (targets: ratios ≥ 0.75, added p99 < 100 us at light load)"
