#!/usr/bin/env bash
# Installs firewall-daemon on this host: builds (or takes a published build), installs under /opt/firewall-daemon,
# fwctl as /usr/bin/fwctl, configuration under /etc/firewall-daemon (kept if present), creates the firewall-daemon
# user and group, installs and enables the systemd unit.
#   deploy/install.sh [--from DIR] [--no-enable] [--start]
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

from="" enable=1 start=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --no-enable) enable=0; shift ;;
    --start) start=1; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) fw_die "unknown option $1" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || fw_die "run as root"

droot=$(fw_dotnet_root) || fw_die "no .NET runtime found (install the .NET 10 runtime, or set DOTNET_ROOT)"
tmp=""
if [ -z "$from" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  fw_publish "$tmp/pub"; from="$tmp/pub"
fi
[ -x "$from/firewall-daemon" ] || fw_die "$from has no firewall-daemon executable"

fw_create_user
if fw_have_systemd && systemctl is-active --quiet "$FW_NAME"; then was_active=1; else was_active=0; fi
rm -rf "$FW_PREFIX"
fw_stage / "$from" "$droot" "$FW_UNIT_DIR"
fw_install_config /
chown root:"$FW_NAME" "$FW_ETC" "$FW_ETC/appsettings.json"
chmod 0750 "$FW_ETC"; chmod 0640 "$FW_ETC/appsettings.json"
fw_log "installed to $FW_PREFIX (runtime $droot)"

if fw_have_systemd; then
  systemctl daemon-reload
  [ $enable -eq 1 ] && systemctl enable "$FW_NAME" >/dev/null 2>&1 && fw_log "enabled $FW_NAME.service"
  if [ $was_active -eq 1 ]; then systemctl restart "$FW_NAME"; fw_log "restarted (connections are restored from the saved state)"
  elif [ $start -eq 1 ]; then systemctl start "$FW_NAME"; fw_log "started"; fi
else
  fw_log "systemd is not running here: unit installed, not enabled"
fi
