#!/usr/bin/env bash
# Installs what the tests need on a bare Debian machine, builds, runs every test project and
# prints the totals last as "N passed, N failed". Needs root for apt and for the namespace tests.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")"

log() { printf '== %s\n' "$*" >&2; }

# ---- system packages (only what is missing) ----
PKGS=(libpcap0.8 libpcap0.8-dev tcpdump iptables conntrack iproute2 ethtool iputils-ping
      python3 python3-scapy socat iperf3 curl netcat-openbsd procps kmod)
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
for proj in tests/Firewall.Core.Tests tests/Firewall.Integration.Tests; do
  [ -d "$proj" ] || continue
  log "test $proj"
  out=$(mktemp)
  dotnet test "$proj" -c Release --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee "$out" | grep -E "^\s+(Failed|Skipped) |Error Message|^\s+at |Passed!|Failed!|Total tests|error" | head -400
  line=$(grep -E "(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+" "$out" | tail -1)
  if [ -z "$line" ]; then
    echo "no result line from $proj"; failed=$((failed+1)); rc=1
  else
    f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line"); p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line"); s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")
    passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
    [ "$f" -eq 0 ] || rc=1
  fi
  rm -f "$out"
done
[ "$skipped" -eq 0 ] || { echo "skipped tests are not allowed ($skipped skipped)"; rc=1; failed=$((failed+skipped)); }
echo "$passed passed, $failed failed"
exit $rc
