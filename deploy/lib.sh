# Shared by install.sh, uninstall.sh and build-deb.sh (sourced, not run).
FW_NAME=firewall-daemon
FW_PREFIX=/opt/firewall-daemon
FW_ETC=/etc/firewall-daemon
FW_UNIT_DIR=/etc/systemd/system
FW_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

fw_log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
fw_die() { fw_log "error: $*"; exit 1; }

# The .NET runtime the service uses (framework-dependent build): DOTNET_ROOT, else where `dotnet` lives.
fw_dotnet_root() {
  if [ -n "${DOTNET_ROOT:-}" ] && [ -x "$DOTNET_ROOT/dotnet" ]; then echo "$DOTNET_ROOT"; return; fi
  local d; d=$(command -v dotnet 2>/dev/null) || true
  [ -n "$d" ] && { dirname "$(readlink -f "$d")"; return; }
  [ -x /usr/share/dotnet/dotnet ] && { echo /usr/share/dotnet; return; }
  [ -x /usr/lib/dotnet/dotnet ] && { echo /usr/lib/dotnet; return; }
  return 1
}

# fw_publish OUT: framework-dependent Release builds of the daemon (OUT) and fwctl (OUT/cli).
fw_publish() {
  local out=$1
  command -v dotnet >/dev/null || fw_die "the .NET SDK (dotnet) is needed to build; or pass --from DIR with a published build"
  fw_log "publishing the daemon and fwctl (Release)"
  dotnet publish "$FW_REPO/src/Firewall.Daemon" -c Release -o "$out" --nologo -v q -p:UseAppHost=true >/dev/null \
    || fw_die "dotnet publish of the daemon failed"
  dotnet publish "$FW_REPO/src/Firewall.Cli" -c Release -o "$out/cli" --nologo -v q -p:UseAppHost=true >/dev/null \
    || fw_die "dotnet publish of fwctl failed"
  cp "$FW_REPO/README.md" "$out/README.md"
  mkdir -p "$out/examples" && cp "$FW_REPO"/deploy/examples/* "$out/examples/"
}

# fw_stage ROOT PUBLISHED DOTNET_ROOT UNIT_DIR: lays the files out under ROOT (/ for a host, a staging dir for a package).
fw_stage() {
  local root=$1 pub=$2 droot=$3 unitdir=$4
  install -d -m 0755 "$root$FW_PREFIX" "$root$FW_ETC" "$root$unitdir" "$root/usr/bin"
  cp -a "$pub/." "$root$FW_PREFIX/"
  chmod -R u=rwX,go=rX "$root$FW_PREFIX"
  install -m 0644 "$FW_REPO/systemd/$FW_NAME.service" "$root$unitdir/$FW_NAME.service"
  # where the runtime is (the apphost looks in a fixed place otherwise)
  install -d -m 0755 "$root$unitdir/$FW_NAME.service.d"
  printf '[Service]\nEnvironment=DOTNET_ROOT=%s\n' "$droot" > "$root$unitdir/$FW_NAME.service.d/dotnet.conf"
  chmod 0644 "$root$unitdir/$FW_NAME.service.d/dotnet.conf"
  cat > "$root/usr/bin/fwctl" <<WRAP
#!/bin/sh
# fwctl of firewall-daemon (talks to /run/firewall-daemon/control.sock; root or group firewall-daemon)
DOTNET_ROOT=\${DOTNET_ROOT:-$droot} exec $FW_PREFIX/cli/fwctl "\$@"
WRAP
  chmod 0755 "$root/usr/bin/fwctl"
}

# The administrator's configuration: installed once, never overwritten.
fw_install_config() {
  local root=$1
  if [ ! -e "$root$FW_ETC/appsettings.json" ]; then
    install -m 0644 "$FW_REPO/deploy/$FW_NAME.appsettings.json" "$root$FW_ETC/appsettings.json"
    fw_log "installed $FW_ETC/appsettings.json (edit the data path before starting)"
  else
    fw_log "kept the existing $FW_ETC/appsettings.json"
  fi
}

fw_create_user() {
  getent group "$FW_NAME" >/dev/null || groupadd --system "$FW_NAME"
  getent passwd "$FW_NAME" >/dev/null || useradd --system --gid "$FW_NAME" --no-create-home --home-dir /var/lib/$FW_NAME \
    --shell /usr/sbin/nologin --comment "firewall-daemon service" "$FW_NAME"
}

fw_have_systemd() { [ -d /run/systemd/system ]; }
