#!/usr/bin/env bash
# Data-path benchmark: sudo ./deploy/bench-datapaths.sh   (not part of test.sh; takes about 12 minutes)
#
# Six set-ups (and a userspace floor, below) side by side in network namespaces, all with the same stateful policy
# (ESTABLISHED,RELATED accepted · INVALID dropped · NEW only from the client side · policy DROP):
#   kernel bridge   : Linux bridge + br_netfilter + iptables conntrack rules (physdev for the client port)
#   daemon bridge   : firewall-daemon Bridge mode (libpcap in, AF_PACKET transmit ring out) between two ports
#   bridge poll     : the same with Bridge:BusyPollUs = POLL_US (one reader spins while traffic flows)
#   kernel routing  : plain forwarding + iptables conntrack rules in FORWARD
#   daemon NFQUEUE  : forwarding + firewall-daemon Nfqueue mode (ManageKernelRules, F_GSO, batch verdicts)
#   NFQUEUE poll    : the same with Nfqueue:BusyPollUs = POLL_US
#   userspace floor : deploy/bench-floor-bridge.c between two ports, with the poll set-up's CPU and spin window: two
#                     AF_PACKET rings read by one spinning thread, every frame sent on as it is, no filtering; the
#                     least any userspace bridge adds here (paired round trips at the wire only; needs a C compiler)
# The machine is shared and noisy, so the set-ups are measured in alternation, ROUNDS times each, and the figures
# are medians over rounds (throughput) or taken over all rounds' samples together (latency):
#   - iperf3 TCP for DURATION s (receiver's bit rate)
#   - iperf3 UDP with 64-byte payloads at full speed for DURATION s: packets per second sent by iperf3, forwarded
#     (arrived at the server's NIC) and received (read by the iperf3 server)
#   - ping every 10 ms (PINGS per round, after warm-up), round-trip p50 and p99, once as the machine is and once
#     with /dev/cpu_dma_latency held at 0 for everything measured (what the daemon's CpuDmaLatencyUs does)
#   - paired round trips at the wire (deploy/bench-pinger.py): a daemon set-up and its kernel set-up pinged in turn,
#     5 ms apart, each every 10 ms, timed by the kernel at the client's NIC (request queued → reply received), so
#     noise falls on both alike and the pinger's own speed does not count; as the machine is and with PM QoS
# The clients of the latency measurements run on CLIENT_CPU; the poll set-ups keep their spinning reader on READER_CPU
# (DataPath:ReaderCpus), a CPU of their own while pinged.
# Ratios are daemon / kernel; added latency is daemon − kernel.
# Environment: DURATION (default 3), ROUNDS (default 5), PINGS (per round, default 200), ONLY (bridge or nfqueue),
# BRIDGE_EXTRA (JSON members added to the daemon's Bridge section, e.g. BRIDGE_EXTRA='"TxRing": false'),
# DAEMON_NICE (the daemons' nice value, default 0; what Nice= in the systemd unit sets), POLL_US (the poll set-ups'
# busy-poll window, default 50000 µs: longer than the 10 ms between pings, so their reader never sleeps while pinged;
# 0 leaves the poll set-ups out), PAIRED (paired round trips per set-up and phase, default 2000), CLIENT_CPU (default 0),
# READER_CPU (default the last CPU; both empty on a one-CPU machine: no pinning) and SAMPLES (a directory to keep the
# latency samples in, for pooling several runs with deploy/bench-pool.py).
set -euo pipefail
DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-5}
PINGS=${PINGS:-200}
ONLY=${ONLY:-}
DAEMON_NICE=${DAEMON_NICE:-0}
POLL_US=${POLL_US:-50000}
PAIRED=${PAIRED:-2000}
SAMPLES=${SAMPLES:-}
if [ "$(nproc)" -ge 2 ]; then CLIENT_CPU=${CLIENT_CPU-0}; READER_CPU=${READER_CPU-$(($(nproc) - 1))}; else CLIENT_CPU=${CLIENT_CPU-}; READER_CPU=${READER_CPU-}; fi
ON_CLIENT_CPU=(); [ -n "$CLIENT_CPU" ] && ON_CLIENT_CPU=(taskset -c "$CLIENT_CPU")
# the poll set-ups' readers: NFQUEUE's one on READER_CPU; the bridge's client-side reader (the one that takes the first
# packet of a flow, and so the busy-poll token, and reads both NICs while pinged) there too, the other on CLIENT_CPU
POLL_CPUS=""; [ -n "$READER_CPU" ] && POLL_CPUS=", \"ReaderCpus\": [ $READER_CPU ]"
BRIDGE_POLL_CPUS=$POLL_CPUS; [ -n "$READER_CPU" ] && [ -n "$CLIENT_CPU" ] && BRIDGE_POLL_CPUS=", \"ReaderCpus\": [ $READER_CPU, $CLIENT_CPU ]"
case "$ONLY" in ""|bridge|nfqueue) ;; *) echo "ONLY must be bridge or nfqueue (got '$ONLY')" >&2; exit 1;; esac
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench-datapaths.sh needs root: sudo $0" >&2; exit 1; }
for t in ip iperf3 ping ethtool python3 sysctl taskset; do command -v "$t" >/dev/null || { echo "missing tool: $t (apt-get install iproute2 iperf3 iputils-ping ethtool python3 procps util-linux)" >&2; exit 1; }; done
IPT=$(command -v iptables-legacy || command -v iptables) || { echo "missing iptables" >&2; exit 1; }
DOTNET=$(command -v dotnet || echo /usr/share/dotnet/dotnet)
[ -x "$DOTNET" ] || { echo "dotnet (.NET 10 SDK) not found" >&2; exit 1; }
[ -e /dev/cpu_dma_latency ] || { echo "/dev/cpu_dma_latency missing (kernel without PM QoS)" >&2; exit 1; }

echo "== building firewall-daemon (Release)"
"$DOTNET" build "$REPO/src/Firewall.Daemon" -c Release -nologo -v q >/dev/null
DLL="$REPO/src/Firewall.Daemon/bin/Release/net10.0/firewall-daemon.dll"

P="fwb$(printf '%04x' $((RANDOM)))"
WORK=$(mktemp -d /tmp/fw-bench.XXXXXX)
NAMESPACES=()
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
FLOOR=""
if [ "$ONLY" != nfqueue ] && [ "$POLL_US" != 0 ]; then
  if command -v cc >/dev/null; then
    cc -O2 -Wall -o "$WORK/bench-floor-bridge" "$REPO/deploy/bench-floor-bridge.c" && FLOOR="$WORK/bench-floor-bridge"
  else
    echo "== no C compiler (cc, apt-get install gcc): the userspace floor is left out" >&2
  fi
fi
ON_READER_CPU=(); [ -n "$READER_CPU" ] && ON_READER_CPU=(taskset -c "$READER_CPU")
nx() { ip netns exec "$@"; }
addns() { for ns in "$@"; do ip netns add "$ns"; NAMESPACES+=("$ns"); ip -n "$ns" link set lo up; done; }

# ---------------------------------------------------------------- topologies
# bridge X: client 198.18.N.1 — [Xba | Xbb] — server 198.18.N.2 (one subnet); hosts tx/tso/gso off, ports gro/lro/tso/gso off
bridge_topology() { # bridge_topology X N
  local x=$1 n=$2
  addns "${P}${x}c" "${P}${x}b" "${P}${x}s"
  ip link add "${P}${x}c0" netns "${P}${x}c" type veth peer name "${P}${x}ba" netns "${P}${x}b"
  ip link add "${P}${x}s0" netns "${P}${x}s" type veth peer name "${P}${x}bb" netns "${P}${x}b"
  ip -n "${P}${x}c" addr add "198.18.$n.1/24" dev "${P}${x}c0"; ip -n "${P}${x}s" addr add "198.18.$n.2/24" dev "${P}${x}s0"
  for l in "${P}${x}c:${P}${x}c0" "${P}${x}s:${P}${x}s0" "${P}${x}b:${P}${x}ba" "${P}${x}b:${P}${x}bb"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
  nx "${P}${x}c" ethtool -K "${P}${x}c0" tx off tso off gso off >/dev/null 2>&1 || true
  nx "${P}${x}s" ethtool -K "${P}${x}s0" tx off tso off gso off >/dev/null 2>&1 || true
  for l in "${P}${x}ba" "${P}${x}bb"; do for f in gro lro tso gso; do nx "${P}${x}b" ethtool -K "$l" "$f" off >/dev/null 2>&1 || true; done; done
}
# routed X: client 198.18.N.2 — router (.N.1 | 198.18.M.1) — server 198.18.M.2 (default offloads)
routed_topology() { # routed_topology X N M
  local x=$1 n=$2 m=$3
  addns "${P}${x}c" "${P}${x}r" "${P}${x}s"
  ip link add "${P}${x}c0" netns "${P}${x}c" type veth peer name "${P}${x}r0" netns "${P}${x}r"
  ip link add "${P}${x}s0" netns "${P}${x}s" type veth peer name "${P}${x}r1" netns "${P}${x}r"
  ip -n "${P}${x}c" addr add "198.18.$n.2/24" dev "${P}${x}c0"; ip -n "${P}${x}r" addr add "198.18.$n.1/24" dev "${P}${x}r0"
  ip -n "${P}${x}s" addr add "198.18.$m.2/24" dev "${P}${x}s0"; ip -n "${P}${x}r" addr add "198.18.$m.1/24" dev "${P}${x}r1"
  for l in "${P}${x}c:${P}${x}c0" "${P}${x}s:${P}${x}s0" "${P}${x}r:${P}${x}r0" "${P}${x}r:${P}${x}r1"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
  ip -n "${P}${x}c" route add default via "198.18.$n.1"; ip -n "${P}${x}s" route add default via "198.18.$m.1"
  nx "${P}${x}r" sysctl -qw net.ipv4.ip_forward=1
}
state_rules() { # state_rules NS INSIDE_MATCH...
  local ns=$1; shift
  nx "$ns" "$IPT" -P FORWARD DROP
  nx "$ns" "$IPT" -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  nx "$ns" "$IPT" -A FORWARD -m conntrack --ctstate INVALID -j DROP
  nx "$ns" "$IPT" -A FORWARD "$@" -m conntrack --ctstate NEW -j ACCEPT
}
daemon_config() { # daemon_config NAME DATAPATH_JSON INSIDE_MATCH
  cat >"$WORK/$1.json" <<EOF
{ "Firewall": { "DataPath": $2,
    "Control": { "SocketPath": "$WORK/$1.sock" }, "State": { "Directory": "$WORK/$1.state" },
    "Rules": { "Filter": { "Forward": { "Policy": "DROP", "Rules": [
      { "Iptables": "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT" },
      { "Iptables": "-m conntrack --ctstate INVALID -j DROP" },
      { "Iptables": "$3 -m conntrack --ctstate NEW -j ACCEPT" } ] } } } },
  "Serilog": { "Using": [ "Serilog.Sinks.Console" ], "MinimumLevel": { "Default": "Warning" },
    "WriteTo": [ { "Name": "Console", "Args": { "formatter": "Serilog.Formatting.Json.JsonFormatter, Serilog" } } ] } }
EOF
}
start_daemon() { # start_daemon NAME NS
  ip netns exec "$2" nice -n "$DAEMON_NICE" "$DOTNET" "$DLL" --config "$WORK/$1.json" >"$WORK/$1.log" 2>&1 & local pid=$!; PIDS+=($pid)
  sleep 4
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/$1.log"; echo "daemon $1 failed to start" >&2; exit 1; }
}

# SETUPS: key → "title|client ns|server ns|server address|server NIC"
declare -A SETUP
ORDER=()
if [ "$ONLY" != nfqueue ]; then
  bridge_topology k 90
  ip -n "${P}kb" link add "${P}kbr" type bridge
  ip -n "${P}kb" link set "${P}kba" master "${P}kbr"; ip -n "${P}kb" link set "${P}kbb" master "${P}kbr"; ip -n "${P}kb" link set "${P}kbr" up
  nx "${P}kb" sysctl -qw net.bridge.bridge-nf-call-iptables=1
  state_rules "${P}kb" -m physdev --physdev-in "${P}kba"
  SETUP[kbridge]="kernel bridge|${P}kc|${P}ks|198.18.90.2|${P}ks0"
  bridge_topology d 93
  daemon_config bridge "{ \"Mode\": \"Bridge\", \"Bridge\": { \"Interfaces\": [ \"${P}dba\", \"${P}dbb\" ], \"BufferSizeMb\": 32${BRIDGE_EXTRA:+, $BRIDGE_EXTRA} } }" "-i ${P}dba"
  start_daemon bridge "${P}db"
  SETUP[dbridge]="daemon bridge|${P}dc|${P}ds|198.18.93.2|${P}ds0"
  ORDER+=(kbridge dbridge)
  if [ "$POLL_US" != 0 ]; then
    bridge_topology p 96
    daemon_config bridgep "{ \"Mode\": \"Bridge\"$BRIDGE_POLL_CPUS, \"Bridge\": { \"Interfaces\": [ \"${P}pba\", \"${P}pbb\" ], \"BufferSizeMb\": 32, \"BusyPollUs\": $POLL_US${BRIDGE_EXTRA:+, $BRIDGE_EXTRA} } }" "-i ${P}pba"
    start_daemon bridgep "${P}pb"
    SETUP[dbridgep]="bridge poll|${P}pc|${P}ps|198.18.96.2|${P}ps0"
    ORDER+=(dbridgep)
    if [ -n "$FLOOR" ]; then
      bridge_topology f 99
      ip netns exec "${P}fb" "${ON_READER_CPU[@]}" "$FLOOR" "${P}fba" "${P}fbb" "$POLL_US" >"$WORK/floor.log" 2>&1 & PIDS+=($!)
      SETUP[floor]="userspace floor|${P}fc|${P}fs|198.18.99.2|${P}fs0"
    fi
  fi
fi
if [ "$ONLY" != bridge ]; then
  routed_topology r 91 92
  state_rules "${P}rr" -i "${P}rr0"
  SETUP[krouting]="kernel routing|${P}rc|${P}rs|198.18.92.2|${P}rs0"
  routed_topology q 94 95
  daemon_config nfq "{ \"Mode\": \"Nfqueue\", \"Nfqueue\": { \"Queues\": [ 0 ], \"ManageKernelRules\": true, \"QueueBypass\": false, \"Gso\": true, \"Families\": [ \"IPv4\" ] } }" "-i ${P}qr0"
  start_daemon nfq "${P}qr"
  SETUP[dnfq]="daemon NFQUEUE|${P}qc|${P}qs|198.18.95.2|${P}qs0"
  ORDER+=(krouting dnfq)
  if [ "$POLL_US" != 0 ]; then
    routed_topology n 97 98
    daemon_config nfqp "{ \"Mode\": \"Nfqueue\"$POLL_CPUS, \"Nfqueue\": { \"Queues\": [ 0 ], \"ManageKernelRules\": true, \"QueueBypass\": false, \"Gso\": true, \"Families\": [ \"IPv4\" ], \"BusyPollUs\": $POLL_US } }" "-i ${P}nr0"
    start_daemon nfqp "${P}nr"
    SETUP[dnfqp]="NFQUEUE poll|${P}nc|${P}ns|198.18.98.2|${P}ns0"
    ORDER+=(dnfqp)
  fi
fi
sleep 1
for k in "${ORDER[@]}" ${SETUP[floor]:+floor}; do
  IFS='|' read -r title c s addr sif <<<"${SETUP[$k]}"
  nx "$c" ping -c 3 -W 1 -q "$addr" >/dev/null || { echo "$title: no connectivity" >&2; exit 1; }
done

# ---------------------------------------------------------------- measuring
rtt_round() { # rtt_round KEY FILE: PINGS pings every 10 ms, the RTTs in µs appended to FILE
  IFS='|' read -r _ c _ addr _ <<<"${SETUP[$1]}"
  sleep 0.2 # the previous set-up's busy-poll window (POLL_US) has ended: it does not take a CPU from this one
  "${ON_CLIENT_CPU[@]}" ip netns exec "$c" ping -n -c "$PINGS" -i 0.01 -W 1 "$addr" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' >>"$2"
}
PAIRS=()
for pair in "kbridge dbridge" "kbridge dbridgep" "kbridge floor" "krouting dnfq" "krouting dnfqp"; do
  [ -n "${SETUP[${pair#* }]:-}" ] && PAIRS+=("$pair")
done
paired_rounds() { # paired_rounds PREFIX: PAIRED round trips per set-up of each pair, over ROUNDS rounds, into PREFIX.DAEMON.{k,d}
  local r pair k d kc ka dc da
  for r in $(seq "$ROUNDS"); do
    for pair in "${PAIRS[@]}"; do
      k=${pair% *}; d=${pair#* }
      IFS='|' read -r _ kc _ ka _ <<<"${SETUP[$k]}"; IFS='|' read -r _ dc _ da _ <<<"${SETUP[$d]}"
      sleep 0.2 # as in rtt_round: the previous pair's busy-poll window has ended
      "${ON_CLIENT_CPU[@]}" python3 "$REPO/deploy/bench-pinger.py" 0.01 $((PAIRED / ROUNDS)) "$WORK" "$1.$d.k=$kc:$ka" "$1.$d.d=$dc:$da"
    done
  done
}
tcp_round() { # tcp_round KEY: Mbit/s
  local out srv
  IFS='|' read -r _ c s addr _ <<<"${SETUP[$1]}"
  ip netns exec "$s" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!; PIDS+=($srv); sleep 0.5
  out=$(nx "$c" iperf3 -c "$addr" -p 5201 -t "$DURATION" -J 2>/dev/null || true); wait "$srv" 2>/dev/null || true
  python3 -c 'import json,sys; d=json.loads(sys.stdin.read() or "{}"); print("%.0f" % (d.get("end",{}).get("sum_received",{}).get("bits_per_second",0)/1e6))' <<<"$out"
}
udp_round() { # udp_round KEY: "sent forwarded received" kpps
  local out srv rx0 rx1
  IFS='|' read -r _ c s addr sif <<<"${SETUP[$1]}"
  ip netns exec "$s" iperf3 -s -1 -p 5201 >/dev/null 2>&1 & srv=$!; PIDS+=($srv); sleep 0.5
  rx0=$(nx "$s" cat "/sys/class/net/$sif/statistics/rx_packets")
  out=$(nx "$c" iperf3 -c "$addr" -p 5201 -u -l 64 -b 0 -t "$DURATION" -J 2>/dev/null || true); wait "$srv" 2>/dev/null || true
  rx1=$(nx "$s" cat "/sys/class/net/$sif/statistics/rx_packets")
  python3 -c 'import json,sys
d=json.loads(sys.stdin.read() or "{}"); s=d.get("end",{}).get("sum",{}); secs=s.get("seconds",0) or 1
print("%.1f %.1f %.1f" % (s.get("packets",0)/secs/1000, (int(sys.argv[2])-int(sys.argv[1]))/secs/1000, (s.get("packets",0)-s.get("lost_packets",0))/secs/1000))' "$rx0" "$rx1" <<<"$out"
}
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(("%.0f" if statistics.median(v) >= 1000 else "%.1f") % statistics.median(v) if v else "nan")' "$@"; }
quantiles() { python3 -c 'import sys
v=sorted(float(l) * (float(sys.argv[2]) if len(sys.argv) > 2 else 1000) for l in open(sys.argv[1]) if l.strip())
q=lambda p: v[min(len(v)-1, int(p*len(v)))] if v else float("nan")
print("%.0f %.0f %d" % (q(0.50), q(0.99), len(v)))' "$@"; }
diff_us() { python3 -c "print('%+.0f' % (float('$1')-float('$2')))"; }

echo "== $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); DURATION=${DURATION}s ROUNDS=$ROUNDS PINGS=$PINGS per round, daemons at nice $DAEMON_NICE"
for k in "${ORDER[@]}"; do rtt_round "$k" /dev/null; done   # warm-up (neighbours, JIT, conntrack entries)
declare -A P50 P99 P50L P99L TCPV UDPS UDPF UDPR
echo "== latency at light load (ping every 10 ms), rounds in alternation"
for r in $(seq "$ROUNDS"); do for k in "${ORDER[@]}"; do rtt_round "$k" "$WORK/rtt.$k"; done; done
paired_rounds wire
python3 -c 'import os,struct,time; f=os.open("/dev/cpu_dma_latency",os.O_WRONLY); os.write(f,struct.pack("i",0)); time.sleep(3600)' & HOLDER=$!; PIDS+=($HOLDER)
sleep 0.5
for r in $(seq "$ROUNDS"); do for k in "${ORDER[@]}"; do rtt_round "$k" "$WORK/rttl.$k"; done; done
paired_rounds wirel
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
for k in "${ORDER[@]}"; do
  read -r P50[$k] P99[$k] n < <(quantiles "$WORK/rtt.$k")
  read -r P50L[$k] P99L[$k] nl < <(quantiles "$WORK/rttl.$k")
  printf '   %-15s RTT p50 %4s us  p99 %5s us (%d pings)   with cpu_dma_latency 0: p50 %4s us  p99 %5s us (%d pings)\n' \
    "${SETUP[$k]%%|*}" "${P50[$k]}" "${P99[$k]}" "$n" "${P50L[$k]}" "${P99L[$k]}" "$nl"
done
echo "== paired round trips at the wire (kernel timestamps at the client's NIC; each pair pinged in turn, 5 ms apart)"
declare -A WADD WADDL
for pair in "${PAIRS[@]}"; do
  k=${pair% *}; d=${pair#* }
  read -r kp50 kp99 kn < <(quantiles "$WORK/wire.$d.k" 1); read -r dp50 dp99 dn < <(quantiles "$WORK/wire.$d.d" 1)
  read -r kp50l kp99l knl < <(quantiles "$WORK/wirel.$d.k" 1); read -r dp50l dp99l dnl < <(quantiles "$WORK/wirel.$d.d" 1)
  WADD[$d]="p50 $(diff_us "$dp50" "$kp50") us  p99 $(diff_us "$dp99" "$kp99") us"
  WADDL[$d]="p50 $(diff_us "$dp50l" "$kp50l") us  p99 $(diff_us "$dp99l" "$kp99l") us"
  printf '   %-15s p50 %4s p99 %4s us, %-14s p50 %4s p99 %4s us (%d/%d)   with cpu_dma_latency 0: %4s %4s us, %4s %4s us (%d/%d)\n' \
    "${SETUP[$d]%%|*}" "$dp50" "$dp99" "${SETUP[$k]%%|*}" "$kp50" "$kp99" "$dn" "$kn" "$dp50l" "$dp99l" "$kp50l" "$kp99l" "$dnl" "$knl"
done
echo "== throughput, rounds in alternation (medians)"
declare -A TCPL UDPSL UDPFL UDPRL
for r in $(seq "$ROUNDS"); do
  for k in "${ORDER[@]}"; do
    TCPL[$k]="${TCPL[$k]:-} $(tcp_round "$k")"
    read -r s f rcv < <(udp_round "$k")
    UDPSL[$k]="${UDPSL[$k]:-} $s"; UDPFL[$k]="${UDPFL[$k]:-} $f"; UDPRL[$k]="${UDPRL[$k]:-} $rcv"
  done
done
for k in "${ORDER[@]}"; do
  # shellcheck disable=SC2086
  { TCPV[$k]=$(median ${TCPL[$k]}); UDPS[$k]=$(median ${UDPSL[$k]}); UDPF[$k]=$(median ${UDPFL[$k]}); UDPR[$k]=$(median ${UDPRL[$k]}); }
  printf '   %-15s TCP %7s Mbit/s [%s ]   UDP-64 sent %6s  forwarded %6s [%s ]  received %6s kpps [%s ]\n' "${SETUP[$k]%%|*}" \
    "${TCPV[$k]}" "${TCPL[$k]}" "${UDPS[$k]}" "${UDPF[$k]}" "${UDPFL[$k]}" "${UDPR[$k]}" "${UDPRL[$k]}"
done

echo "== ratios (daemon / kernel) and added latency (daemon − kernel)"
ratio() { python3 -c "a,b=float('$1' or 0),float('$2' or 0); print('%.2f' % (a/b) if b else 'n/a')"; }
for pair in "bridge:dbridge:kbridge" "bridge poll:dbridgep:kbridge" "NFQUEUE:dnfq:krouting" "NFQUEUE poll:dnfqp:krouting"; do
  IFS=: read -r name d k <<<"$pair"
  [ -n "${TCPV[$d]:-}" ] || continue
  printf '   %-12s TCP %s   UDP-64 forwarded %s  received %s   added RTT p50 %s us  p99 %s us   with cpu_dma_latency 0: p50 %s us  p99 %s us\n' "$name" \
    "$(ratio "${TCPV[$d]}" "${TCPV[$k]}")" "$(ratio "${UDPF[$d]}" "${UDPF[$k]}")" "$(ratio "${UDPR[$d]}" "${UDPR[$k]}")" \
    "$(diff_us "${P50[$d]}" "${P50[$k]}")" "$(diff_us "${P99[$d]}" "${P99[$k]}")" \
    "$(diff_us "${P50L[$d]}" "${P50L[$k]}")" "$(diff_us "${P99L[$d]}" "${P99L[$k]}")"
  [ -n "${WADD[$d]:-}" ] && printf '   %-12s added at the wire (paired): %s   with cpu_dma_latency 0: %s\n' "" "${WADD[$d]}" "${WADDL[$d]}"
done
[ -n "${WADD[floor]:-}" ] && printf '   %-12s added at the wire (paired): %s   with cpu_dma_latency 0: %s\n' "floor" "${WADD[floor]}" "${WADDL[floor]}"
echo "   (targets: ratios ≥ 0.75, added p99 < 100 us at light load)"
if [ -n "$SAMPLES" ]; then
  # microseconds, one per line: ping.KEY and ping-pmqos.KEY (ping's RTTs), wire.DAEMON.{kernel,daemon} and wire-pmqos.…
  mkdir -p "$SAMPLES"
  ms_to_us() { python3 -c 'import sys; [print("%.0f" % (float(l) * 1000)) for l in open(sys.argv[1]) if l.strip()]' "$1" >"$2"; }
  for k in "${ORDER[@]}"; do
    ms_to_us "$WORK/rtt.$k" "$SAMPLES/ping.$k"
    ms_to_us "$WORK/rttl.$k" "$SAMPLES/ping-pmqos.$k"
  done
  for pair in "${PAIRS[@]}"; do
    d=${pair#* }
    cp "$WORK/wire.$d.k" "$SAMPLES/wire.$d.kernel"; cp "$WORK/wire.$d.d" "$SAMPLES/wire.$d.daemon"
    cp "$WORK/wirel.$d.k" "$SAMPLES/wire-pmqos.$d.kernel"; cp "$WORK/wirel.$d.d" "$SAMPLES/wire-pmqos.$d.daemon"
  done
  echo "$(date -u +%FT%TZ) $(nproc) CPUs $(uname -r) ROUNDS=$ROUNDS PINGS=$PINGS PAIRED=$PAIRED POLL_US=$POLL_US CLIENT_CPU=$CLIENT_CPU READER_CPU=$READER_CPU" >"$SAMPLES/info"
  echo "== latency samples kept in $SAMPLES (pool runs: deploy/bench-pool.py DIR...)"
fi
