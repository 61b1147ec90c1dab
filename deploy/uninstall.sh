#!/usr/bin/env bash
# Removes firewall-daemon: stops and disables the unit, removes /opt/firewall-daemon, /usr/bin/fwctl and the unit.
# Keeps /etc/firewall-daemon, the saved state and the user unless --purge is given.
#   deploy/uninstall.sh [--purge]
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
purge=0
[ "${1:-}" = "--purge" ] && purge=1
[ "$(id -u)" -eq 0 ] || fw_die "run as root"

if fw_have_systemd; then
  systemctl disable --now "$FW_NAME" >/dev/null 2>&1 || true
fi
rm -rf "$FW_PREFIX" "$FW_UNIT_DIR/$FW_NAME.service" "$FW_UNIT_DIR/$FW_NAME.service.d" /usr/bin/fwctl
fw_have_systemd && systemctl daemon-reload || true
if [ $purge -eq 1 ]; then
  rm -rf "$FW_ETC" /var/lib/$FW_NAME /var/log/$FW_NAME /run/$FW_NAME
  getent passwd "$FW_NAME" >/dev/null && userdel "$FW_NAME" || true
  getent group "$FW_NAME" >/dev/null && groupdel "$FW_NAME" || true
  fw_log "removed everything, configuration, state and the user included"
else
  fw_log "removed; kept $FW_ETC, /var/lib/$FW_NAME and the $FW_NAME user (--purge removes them)"
fi
