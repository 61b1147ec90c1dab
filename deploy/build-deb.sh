#!/usr/bin/env bash
# Builds firewall-daemon_VERSION_ARCH.deb (dpkg-deb) from a Release publish.
#   deploy/build-deb.sh [--from DIR] [--version X.Y.Z] [--out DIR] [--dotnet-root DIR]
# The package is framework-dependent: the host needs the .NET 10 runtime (DOTNET_ROOT default /usr/share/dotnet).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
from="" version="0.1.0" out="$FW_REPO" droot=/usr/share/dotnet
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --dotnet-root) droot=$2; shift 2 ;;
    *) fw_die "unknown option $1" ;;
  esac
done
command -v dpkg-deb >/dev/null || fw_die "dpkg-deb is needed"
arch=$(dpkg --print-architecture)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if [ -z "$from" ]; then fw_publish "$work/pub"; from="$work/pub"; fi
root="$work/root"
fw_stage "$root" "$from" "$droot" /lib/systemd/system
install -d -m 0755 "$root$FW_ETC" "$root/DEBIAN"
install -m 0644 "$FW_REPO/deploy/$FW_NAME.appsettings.json" "$root$FW_ETC/appsettings.json"
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CTL
Package: firewall-daemon
Version: $version
Architecture: $arch
Maintainer: Firewall.Daemon maintainers <root@localhost>
Installed-Size: $size
Depends: adduser | passwd, libpcap0.8
Section: net
Priority: optional
Description: stateful firewall daemon with Linux conntrack semantics
 A .NET 10 service (needs the .NET 10 runtime in $droot) that tracks connections like
 netfilter conntrack and filters by state; fwctl lists connections like the conntrack tool.
CTL
echo "$FW_ETC/appsettings.json" > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent group firewall-daemon >/dev/null || groupadd --system firewall-daemon
  getent passwd firewall-daemon >/dev/null || useradd --system --gid firewall-daemon --no-create-home \
    --home-dir /var/lib/firewall-daemon --shell /usr/sbin/nologin firewall-daemon
  chown root:firewall-daemon /etc/firewall-daemon /etc/firewall-daemon/appsettings.json
  chmod 0750 /etc/firewall-daemon; chmod 0640 /etc/firewall-daemon/appsettings.json
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable firewall-daemon >/dev/null 2>&1 || true
    systemctl try-restart firewall-daemon || true
  fi
fi
exit 0
SH
cat > "$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then systemctl disable --now firewall-daemon >/dev/null 2>&1 || true; fi
exit 0
SH
cat > "$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
[ -d /run/systemd/system ] && systemctl daemon-reload || true
if [ "$1" = purge ]; then
  rm -rf /var/lib/firewall-daemon /var/log/firewall-daemon /etc/firewall-daemon
  getent passwd firewall-daemon >/dev/null && userdel firewall-daemon || true
  getent group firewall-daemon >/dev/null && groupdel firewall-daemon || true
fi
exit 0
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/firewall-daemon_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
fw_log "built $deb"
echo "$deb"
