#!/usr/bin/env bash
# Installs what the tests need on a bare Debian machine, builds, runs every test project and
# prints the totals last as "N passed, N failed". Needs root for apt and for the namespace tests.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")"

log() { printf '== %s\n' "$*" >&2; }

# ---- system packages (only what is missing) ----
PKGS=(libpcap0.8 libpcap0.8-dev tcpdump iptables conntrack iproute2 ethtool iputils-ping
      python3 python3-scapy socat iperf3 curl netcat-openbsd procps kmod
      vsftpd lftp tftpd-hpa tftp-hpa
      systemd-container debootstrap util-linux passwd gcc libc6-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "test.sh: need root to install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || { echo "apt-get update failed" >&2; exit 1; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { echo "apt-get install failed" >&2; exit 1; }
fi

command -v dotnet >/dev/null || { echo "test.sh: dotnet SDK not found on PATH" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log "restore and build"
dotnet restore Firewall.Daemon.sln >/dev/null || { dotnet restore Firewall.Daemon.sln; echo "0 passed, 1 failed"; exit 1; }
if ! dotnet build Firewall.Daemon.sln -c Release --no-restore -nologo -v q >/tmp/fw-build.log 2>&1; then
  grep -E "error" /tmp/fw-build.log | sort -u | head -50
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

passed=0; failed=0; skipped=0; rc=0
results=$(mktemp -d)
for proj in tests/Firewall.Core.Tests tests/Firewall.Daemon.Tests tests/Firewall.Integration.Tests; do
  [ -d "$proj" ] || continue
  name=$(basename "$proj")
  log "test $proj"
  # console shows failures with their messages; the TRX file gives exact counts
  dotnet test "$proj" -c Release --no-build -nologo --results-directory "$results" \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" 2>&1 | grep -vE "^\s*$" | tail -n 300
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "no results from $proj (the test host did not run)"; failed=$((failed+1)); rc=1; continue
  fi
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$counters"; }
  total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted); nx=$(get notExecuted)
  f=$(( ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0} ))
  log "$name: total=${total:-0} passed=${p:-0} failed=$f not-executed=${nx:-0}"
  passed=$((passed + ${p:-0})); failed=$((failed + f)); skipped=$((skipped + ${nx:-0}))
  [ "$f" -eq 0 ] || rc=1
done
rm -rf "$results"
[ "$skipped" -eq 0 ] || { echo "skipped tests are not allowed ($skipped skipped)"; rc=1; failed=$((failed+skipped)); }
echo "$passed passed, $failed failed"
exit $rc
