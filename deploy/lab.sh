#!/usr/bin/env bash
# The firewall lab: sudo ./deploy/lab.sh
#
# Builds the daemon, creates three network namespaces (an inside host .104, an outside host .77 and a bridge
# between them), starts firewall-daemon inline in the bridge namespace (Bridge mode, libpcap) with the seed ruleset
# and tells the seed's story with real programs. Everything it creates carries a random prefix and is removed on
# exit, also on Ctrl-C; it ends only processes it started itself (by PID).
#
#   ESTABLISHED,RELATED accepted · INVALID dropped · NEW accepted only from the inside NIC · policy DROP
#   raw table: the ftp helper for tcp/21, the tftp helper for udp/69 (their data connections become RELATED)
#
# Options: --keep  leave the lab running until Enter is pressed (to try things by hand; commands are printed)
set -euo pipefail

KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BOLD=$'\e[1m'; GREEN=$'\e[32m'; RED=$'\e[31m'; DIM=$'\e[2m'; RESET=$'\e[0m'
[ -t 1 ] || { BOLD=; GREEN=; RED=; DIM=; RESET=; }

say()  { printf '\n%s== %s%s\n' "$BOLD" "$*" "$RESET"; }
info() { printf '   %s\n' "$*"; }
ok()   { printf '   %s[ok]%s %s\n' "$GREEN" "$RESET" "$*"; }
bad()  { printf '   %s[unexpected]%s %s\n' "$RED" "$RESET" "$*"; FAILURES=$((FAILURES+1)); }
FAILURES=0

if [ "$(id -u)" -ne 0 ]; then
  echo "lab.sh needs root (network namespaces, packet capture): sudo $0" >&2
  exit 1
fi

# ---------------------------------------------------------------- packages
PKGS=(libpcap0.8 iproute2 iptables ethtool iputils-ping curl socat tcpdump python3 python3-scapy procps vsftpd tftpd-hpa)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- dotnet (sudo drops the user's PATH)
DOTNET=$(command -v dotnet || true)
if [ -z "$DOTNET" ]; then
  for d in "${DOTNET_ROOT:-}" "/home/${SUDO_USER:-nobody}/.dotnet" /root/.dotnet /usr/share/dotnet /usr/lib/dotnet /usr/local/share/dotnet /opt/dotnet; do
    if [ -n "$d" ] && [ -x "$d/dotnet" ]; then DOTNET="$d/dotnet"; break; fi
  done
fi
if [ -z "$DOTNET" ]; then
  echo "lab.sh: the .NET 10 SDK was not found (PATH, ~/.dotnet, /usr/share/dotnet, /usr/lib/dotnet)." >&2
  echo "Install it, e.g.: curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0 --install-dir /usr/share/dotnet" >&2
  exit 1
fi
export DOTNET_ROOT=$(dirname "$(readlink -f "$DOTNET")")
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say "building firewall-daemon (Release)"
if ! "$DOTNET" build "$REPO/src/Firewall.Daemon" -c Release -nologo -v q >/tmp/fw-lab-build.$$.log 2>&1; then
  grep -E "error" /tmp/fw-lab-build.$$.log | sort -u | head -20; rm -f /tmp/fw-lab-build.$$.log
  echo "lab.sh: build failed" >&2; exit 1
fi
rm -f /tmp/fw-lab-build.$$.log
DLL="$REPO/src/Firewall.Daemon/bin/Release/net10.0/firewall-daemon.dll"
[ -f "$DLL" ] || { echo "lab.sh: $DLL missing after the build" >&2; exit 1; }
info "$DLL"

# ---------------------------------------------------------------- names, cleanup
P="fwl$(printf '%04x' $((RANDOM)))"
NS_IN="${P}in"; NS_OUT="${P}out"; NS_BR="${P}br"
L_IN="${P}i0"; L_OUT="${P}o0"; BR_IN="${P}bi"; BR_OUT="${P}bo"
IN4=198.18.77.104; OUT4=198.18.77.77; IN6=2001:db8:77::104; OUT6=2001:db8:77::77
WORK=$(mktemp -d /tmp/fw-lab.XXXXXX)
LOG="$WORK/daemon.log"
PIDS=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for ns in "$NS_IN" "$NS_OUT" "$NS_BR"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
  printf '\n%s== cleaned up (namespaces %s*, processes %s)%s\n' "$DIM" "$P" "${PIDS[*]:-none}" "$RESET"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bg() { # bg NS CMD... : start a background process in a namespace, remember its PID
  local ns=$1; shift
  ip netns exec "$ns" "$@" >>"$WORK/bg.log" 2>&1 &
  PIDS+=($!)
}

# ---------------------------------------------------------------- topology
say "lab $P: inside host $IN4 / $IN6  ──  bridge ($BR_IN | firewall-daemon | $BR_OUT)  ──  outside host $OUT4 / $OUT6"
for ns in "$NS_IN" "$NS_OUT" "$NS_BR"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$L_IN" netns "$NS_IN" type veth peer name "$BR_IN" netns "$NS_BR"
ip link add "$L_OUT" netns "$NS_OUT" type veth peer name "$BR_OUT" netns "$NS_BR"
ip -n "$NS_IN" addr add "$IN4/24" dev "$L_IN"
ip -n "$NS_IN" -6 addr add "$IN6/64" dev "$L_IN" nodad
ip -n "$NS_OUT" addr add "$OUT4/24" dev "$L_OUT"
ip -n "$NS_OUT" -6 addr add "$OUT6/64" dev "$L_OUT" nodad
for l in "$NS_IN:$L_IN" "$NS_OUT:$L_OUT" "$NS_BR:$BR_IN" "$NS_BR:$BR_OUT"; do ip -n "${l%%:*}" link set "${l#*:}" up; done
# The bridge ports carry no IP at all.
ip netns exec "$NS_BR" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
# Offloads (docs: linux-datapath-notes): the hosts' veths send complete checksums, no super-frames; the bridge ports
# neither merge (GRO/LRO) nor expect segmentation (TSO/GSO), so every frame fits the other side's MTU.
ip netns exec "$NS_IN" ethtool -K "$L_IN" tx off tso off gso off >/dev/null 2>&1 || true
ip netns exec "$NS_OUT" ethtool -K "$L_OUT" tx off tso off gso off >/dev/null 2>&1 || true
for l in "$BR_IN" "$BR_OUT"; do
  for f in gro lro tso gso rx-gro-list; do ip netns exec "$NS_BR" ethtool -K "$l" "$f" off >/dev/null 2>&1 || true; done
done
# ethtool -K resets the veths: wait until both bridge ports have a carrier again.
for l in "$BR_IN" "$BR_OUT"; do
  for _ in $(seq 50); do ip -n "$NS_BR" link show "$l" | grep -q 'LOWER_UP' && break; sleep 0.1; done
done
info "namespaces: $NS_IN $NS_BR $NS_OUT"

# ---------------------------------------------------------------- the seed ruleset
cat >"$WORK/appsettings.json" <<EOF
{
  "Firewall": {
    "DataPath": {
      "Mode": "Bridge",
      "LogConntrackAtStop": true,
      "Bridge": { "Interfaces": [ "$BR_IN", "$BR_OUT" ], "BufferSizeMb": 8, "Arp": "ACCEPT", "NonIp": "DROP" }
    },
    "Conntrack": { "Checksum": true, "TcpLoose": true },
    "Control": { "SocketPath": "$WORK/control.sock" },
    "State": { "Directory": "$WORK/state" },
    "Rules": {
      "Filter": {
        "Forward": {
          "Policy": "DROP",
          "Rules": [
            { "State": [ "ESTABLISHED", "RELATED" ], "Action": "ACCEPT", "Comment": "answers and related traffic" },
            { "State": [ "INVALID" ], "Action": "DROP", "Comment": "INVALID" },
            { "Protocol": "icmpv6", "State": [ "UNTRACKED" ], "Action": "ACCEPT", "Comment": "IPv6 neighbour discovery" },
            { "InInterface": "$BR_IN", "State": [ "NEW" ], "Action": "ACCEPT", "Comment": "NEW only from the inside" }
          ]
        }
      },
      "Raw": {
        "Prerouting": {
          "Rules": [
            { "Protocol": "tcp", "DPort": "21", "Action": "CT", "Helper": "ftp", "Comment": "FTP: data connections RELATED" },
            { "Protocol": "udp", "DPort": "69", "Action": "CT", "Helper": "tftp", "Comment": "TFTP: the server's answers RELATED" }
          ]
        }
      }
    }
  },
  "Serilog": {
    "Using": [ "Serilog.Sinks.Console" ],
    "MinimumLevel": { "Default": "Information", "Override": { "Microsoft": "Warning" } },
    "WriteTo": [ { "Name": "Console", "Args": { "formatter": "Serilog.Formatting.Json.JsonFormatter, Serilog" } } ]
  }
}
EOF
say "seed ruleset ($WORK/appsettings.json, FORWARD chain)"
sed -n '/"Forward"/,/^        }/p' "$WORK/appsettings.json" | sed 's/^/   /'
info "raw table (PREROUTING), helpers:"
grep '"Helper"' "$WORK/appsettings.json" | sed 's/^ */     /'

# ---------------------------------------------------------------- daemon
say "starting firewall-daemon in $NS_BR (Bridge mode)"
ip netns exec "$NS_BR" "$DOTNET" "$DLL" --config "$WORK/appsettings.json" >"$LOG" 2>&1 &
DAEMON=$!
PIDS+=($DAEMON)
for _ in $(seq 300); do
  grep -q '"DataPathOpened' "$LOG" 2>/dev/null && break
  kill -0 "$DAEMON" 2>/dev/null || { cat "$LOG"; echo "lab.sh: the daemon exited" >&2; exit 1; }
  sleep 0.1
done
grep -q '"DataPathOpened' "$LOG" || { cat "$LOG"; echo "lab.sh: the daemon did not open the bridge within 30 s" >&2; exit 1; }
info "daemon PID $DAEMON; log: $(grep -m1 '"DataPathOpened' "$LOG" | cut -c1-160)"

# ---------------------------------------------------------------- servers
# outside: an SSH-like banner on 22 and a web server on 80; inside: the same, to show they are not reachable.
for ns in "$NS_OUT" "$NS_IN"; do
  bg "$ns" socat TCP6-LISTEN:22,fork,reuseaddr,ipv6only=0 SYSTEM:'echo SSH-2.0-lab-banner-from-$(hostname)'
  bg "$ns" python3 -m http.server 80 --bind :: --directory "$WORK"
done
for ns in "$NS_OUT" "$NS_IN"; do
  for _ in $(seq 100); do
    ip netns exec "$ns" ss -Hltn 'sport = :80' | grep -q . && ip netns exec "$ns" ss -Hltn 'sport = :22' | grep -q . && break
    sleep 0.1
  done
done
echo "hello from the outside web server" >"$WORK/index.html"

tcp22() { # tcp22 NS ADDR -> prints the banner or nothing
  ip netns exec "$1" timeout 4 socat -T3 - "TCP:$2:22,connect-timeout=3" </dev/null 2>/dev/null | head -1 || true
}
http80() { # http80 NS URL -> prints the HTTP status (000 when no answer)
  ip netns exec "$1" curl -s -m 4 -o /dev/null -w '%{http_code}' "$2" 2>/dev/null || true
}

# ---------------------------------------------------------------- the story
say "1. the inside host opens TCP 22 and 80 to the outside and gets answers"
for a in "$OUT4" "[$OUT6]"; do
  addr=${a#[}; addr=${addr%]}
  banner=$(tcp22 "$NS_IN" "$a")
  [ -n "$banner" ] && ok "inside → $addr:22 answered: $banner" || bad "inside → $addr:22 got no answer"
  code=$(http80 "$NS_IN" "http://$a/")
  [ "$code" = 200 ] && ok "inside → http://$a/ answered HTTP $code" || bad "inside → http://$a/ got HTTP $code"
done

say "2. the outside host cannot open a connection to the inside"
for a in "$IN4" "[$IN6]"; do
  addr=${a#[}; addr=${addr%]}
  banner=$(tcp22 "$NS_OUT" "$a")
  [ -z "$banner" ] && ok "outside → $addr:22 no answer (SYN is NEW from the outside: dropped)" || bad "outside → $addr:22 answered: $banner"
  code=$(http80 "$NS_OUT" "http://$a/")
  [ "$code" = 000 ] && ok "outside → http://$a/ no answer" || bad "outside → http://$a/ got HTTP $code"
done

say "3. ping out works, ping in does not"
if ip netns exec "$NS_IN" ping -c 2 -i 0.2 -W 1 "$OUT4" >/dev/null 2>&1; then ok "inside → ping $OUT4: replies"; else bad "inside → ping $OUT4: no reply"; fi
if ip netns exec "$NS_IN" ping -6 -c 2 -i 0.2 -W 1 "$OUT6" >/dev/null 2>&1; then ok "inside → ping $OUT6: replies"; else bad "inside → ping $OUT6: no reply"; fi
if ip netns exec "$NS_OUT" ping -c 2 -i 0.2 -W 1 "$IN4" >/dev/null 2>&1; then bad "outside → ping $IN4: replies"; else ok "outside → ping $IN4: no reply"; fi
if ip netns exec "$NS_OUT" ping -6 -c 2 -i 0.2 -W 1 "$IN6" >/dev/null 2>&1; then bad "outside → ping $IN6: replies"; else ok "outside → ping $IN6: no reply"; fi

say "4. a crafted bare ACK from the outside (scapy) is NEW and dropped"
IN_MAC=$(ip -n "$NS_IN" -j link show "$L_IN" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ip netns exec "$NS_IN" timeout 4 tcpdump -l -n -i "$L_IN" -c 1 'tcp port 40404' >"$WORK/ack.cap" 2>/dev/null &
TCPDUMP=$!; PIDS+=($TCPDUMP)
sleep 1
before=$(grep -c . "$LOG" || true)
ip netns exec "$NS_OUT" /usr/bin/python3 - "$L_OUT" "$IN_MAC" "$OUT4" "$IN4" <<'PY' 2>/dev/null
import sys
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
iface, mac, src, dst = sys.argv[1:5]
sendp(Ether(dst=mac)/IP(src=src, dst=dst)/TCP(sport=40404, dport=22, flags="A", seq=1000, ack=2000), iface=iface, count=3, inter=0.1)
print("   sent 3 × TCP ACK %s:40404 → %s:22 (no connection exists)" % (src, dst))
PY
wait "$TCPDUMP" 2>/dev/null || true
if grep -q 40404 "$WORK/ack.cap"; then bad "the ACK reached the inside host: $(cat "$WORK/ack.cap")"; else ok "the inside host saw nothing (tcpdump on $L_IN captured no packet of it)"; fi

# ---------------------------------------------------------------- FTP and TFTP: RELATED
say "5. FTP and TFTP through the DROP policy: the helpers make the servers' data connections RELATED"
mkdir -p "$WORK/ftp/root" "$WORK/ftp/empty" "$WORK/tftp"
chmod 755 "$WORK" "$WORK/ftp" "$WORK/ftp/root" "$WORK/ftp/empty" "$WORK/tftp"
echo "a file served by vsftpd on the outside host" >"$WORK/ftp/root/file.txt"
echo "a file served by tftpd-hpa on the outside host" >"$WORK/tftp/boot.txt"
chmod 644 "$WORK/ftp/root/file.txt" "$WORK/tftp/boot.txt"
printf '%s\n' listen=NO listen_ipv6=YES background=NO anonymous_enable=YES no_anon_password=YES "anon_root=$WORK/ftp/root" \
  local_enable=NO write_enable=NO connect_from_port_20=YES "secure_chroot_dir=$WORK/ftp/empty" seccomp_sandbox=NO \
  isolate_network=NO isolate=NO syslog_enable=NO >"$WORK/ftp/vsftpd.conf"
bg "$NS_OUT" vsftpd "$WORK/ftp/vsftpd.conf"
bg "$NS_OUT" in.tftpd -L -u tftp -s "$WORK/tftp" -a '[::]:69'
for _ in $(seq 100); do
  ip netns exec "$NS_OUT" ss -Hltn 'sport = :21' | grep -q . && ip netns exec "$NS_OUT" ss -Hlun 'sport = :69' | grep -q . && break
  sleep 0.1
done
fetch() { # fetch LABEL EXPECTED CURL-ARGS... : a transfer from the inside host
  local label=$1 want=$2; shift 2
  local got
  got=$(ip netns exec "$NS_IN" curl -g -s -m 5 "$@" 2>/dev/null || true)
  if [ "$got" = "$want" ]; then ok "$label: transferred"; else bad "$label: nothing arrived"; fi
}
FTP_FILE="a file served by vsftpd on the outside host"
info "active FTP: the server opens the data connection inward (from port 20): NEW from the outside, dropped by the"
info "policy unless the ftp helper read the client's PORT / EPRT and made that connection RELATED"
fetch "inside → ftp://$OUT4 active (PORT)" "$FTP_FILE" --ftp-port - --disable-eprt "ftp://$OUT4/file.txt"
fetch "inside → ftp://[$OUT6] active (EPRT)" "$FTP_FILE" --ftp-port - "ftp://[$OUT6]/file.txt"
fetch "inside → ftp://$OUT4 passive (PASV)" "$FTP_FILE" --ftp-pasv --disable-epsv "ftp://$OUT4/file.txt"
info "TFTP: the server answers from a new port, which only the tftp helper's expectation makes RELATED"
fetch "inside → tftp://$OUT4/boot.txt" "a file served by tftpd-hpa on the outside host" "tftp://$OUT4/boot.txt"
fetch "inside → tftp://[$OUT6]/boot.txt" "a file served by tftpd-hpa on the outside host" "tftp://[$OUT6]/boot.txt"

# ---------------------------------------------------------------- conntrack table and counters
say "6. the conntrack table"
if "$DOTNET" "$REPO/src/Firewall.Cli/bin/Release/net10.0/fwctl.dll" conntrack --help >/dev/null 2>&1; then
  ip netns exec "$NS_BR" "$DOTNET" "$REPO/src/Firewall.Cli/bin/Release/net10.0/fwctl.dll" --socket "$WORK/control.sock" conntrack -L | sed 's/^/   /' || true
else
  info "(fwctl conntrack is not in this build: the daemon logs its table at stop, shown below)"
fi

if [ "$KEEP" = 1 ]; then
  say "the lab stays up; press Enter to stop the daemon and clean up"
  info "ip netns exec $NS_IN bash    # a shell on the inside host ($IN4)"
  info "ip netns exec $NS_OUT bash   # a shell on the outside host ($OUT4)"
  read -r _
fi

say "7. stopping the daemon (SIGTERM) and showing its log lines"
kill -TERM "$DAEMON"
for _ in $(seq 50); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
python3 - "$LOG" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line: continue
    try:
        e = json.loads(line)
    except ValueError:
        print("   " + line); continue
    msg = e.get("RenderedMessage") or e.get("MessageTemplate", "")
    props = e.get("Properties", {})
    if not e.get("RenderedMessage"):
        for k, v in props.items():
            msg = msg.replace("{%s}" % k, str(v))
    print("   %s %-5s %s" % (e.get("Timestamp", "")[11:23], e.get("Level", "Information")[:5], msg))
PY

say "done: $([ $FAILURES -eq 0 ] && echo "${GREEN}the story went as the seed says${RESET}" || echo "${RED}$FAILURES unexpected result(s)${RESET}")"
[ $FAILURES -eq 0 ]
