#!/usr/bin/env bash
# Installs Tether from this bundle on a Debian or Ubuntu host: users, Node.js, app in /opt/tether, env files, units, first pairing code.
# Written by `tether setup` for target {{TARGET}}. Run as root from anywhere: sudo bash install.sh
# Running it again is safe: it replaces the app and the units and keeps the state in /var/lib/tether
# (the runtime's) and /var/lib/tether-<bridge> (each bridge's).
set -euo pipefail

BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE_VERSION="{{NODE_VERSION}}"
ENV_FILES=({{ENV_FILES}})
UNITS=({{UNITS}})
BRIDGES=({{BRIDGES}})
BRIDGE_UNITS=({{BRIDGE_UNITS}})
PAIR_PLATFORM="{{PAIR_PLATFORM}}"
RUNTIME_HEALTH_URL="{{RUNTIME_HEALTH_URL}}"

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run me as root: sudo bash $0"
command -v apt-get >/dev/null || die "this installer is for Debian or Ubuntu (apt-get was not found)"
[ -d /run/systemd/system ] || die "systemd is not running on this host; see docs/deploy.md for containers instead"
[ -d "$BUNDLE/app" ] || die "$BUNDLE/app is missing: copy the whole bundle directory, not only this script"

node_is_recent() {
  command -v node >/dev/null && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)'
}

say "packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q ca-certificates curl xz-utils >/dev/null

if ! node_is_recent; then
  say "Node.js v$NODE_VERSION (the official build, checked against its SHA-256)"
  case "$(dpkg --print-architecture)" in
    amd64) arch=x64 ;;
    arm64) arch=arm64 ;;
    *) die "no Node.js build for $(dpkg --print-architecture); install Node.js 20.18 or newer yourself and run me again" ;;
  esac
  tarball="node-v$NODE_VERSION-linux-$arch.tar.xz"
  work="$(mktemp -d)"
  curl -fsSL -o "$work/$tarball" "https://nodejs.org/dist/v$NODE_VERSION/$tarball"
  curl -fsSL -o "$work/SHASUMS256.txt" "https://nodejs.org/dist/v$NODE_VERSION/SHASUMS256.txt"
  (cd "$work" && grep " $tarball\$" SHASUMS256.txt | sha256sum -c --quiet -) || die "the Node.js download does not match its checksum"
  tar -xJf "$work/$tarball" -C /usr/local --strip-components=1 --no-same-owner
  rm -rf "$work"
fi
# The units start /usr/bin/node.
[ -x /usr/bin/node ] || ln -s "$(command -v node)" /usr/bin/node
# A distribution's Node.js may come without npm (Debian packages it apart).
command -v npm >/dev/null || apt-get install -y -q npm >/dev/null

say "users: tether (the runtime and the agent's tools), one per bridge"
id -u tether >/dev/null 2>&1 || useradd --system --home-dir /var/lib/tether --shell /usr/sbin/nologin tether
# A bridge under the runtime's user would let the agent's shell read its /proc/<pid>/environ (the
# bot credentials): each bridge runs as tether-<bridge>, its state in /var/lib/tether-<bridge>.
for b in "${BRIDGES[@]}"; do
  id -u "tether-$b" >/dev/null 2>&1 || useradd --system --home-dir "/var/lib/tether-$b" --shell /usr/sbin/nologin "tether-$b"
  install -d -m 0700 -o "tether-$b" -g "tether-$b" "/var/lib/tether-$b"
  # An older install kept the bridge's state in the runtime's dir: move it (pairings, inbox,
  # delivery ledger, event cursor) once, with the bridge stopped, so nothing is lost or sent twice.
  if [ -f "/var/lib/tether/$b.db" ] && [ ! -e "/var/lib/tether-$b/$b.db" ]; then
    say "moving the $b bridge's state to /var/lib/tether-$b"
    systemctl stop "tether-$b.service" 2>/dev/null || true
    for f in "/var/lib/tether/$b.db" "/var/lib/tether/$b.db-wal" "/var/lib/tether/$b.db-shm" "/var/lib/tether/$b.health.json" "/var/lib/tether/$b"-*.lock; do
      if [ -e "$f" ]; then mv "$f" "/var/lib/tether-$b/"; fi
    done
    chown -R "tether-$b:tether-$b" "/var/lib/tether-$b"
  fi
done

say "app in /opt/tether"
rm -rf /opt/tether.new
cp -R "$BUNDLE/app" /opt/tether.new
chown -R root:root /opt/tether.new
chmod -R u=rwX,go=rX /opt/tether.new
# Scripts off: the compiled CLI is in the bundle (its build tools are dev dependencies); only
# better-sqlite3 needs its install step, which fetches a prebuilt binary or compiles one.
(cd /opt/tether.new && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
if ! (cd /opt/tether.new && npm rebuild better-sqlite3 --loglevel=error >/dev/null 2>&1); then
  say "compiling better-sqlite3 (no prebuilt binary for this host)"
  apt-get install -y -q python3 make g++ >/dev/null
  (cd /opt/tether.new && npm rebuild better-sqlite3 --loglevel=error)
fi
rm -rf /opt/tether.old
if [ -d /opt/tether ]; then mv /opt/tether /opt/tether.old; fi
mv /opt/tether.new /opt/tether
rm -rf /opt/tether.old

say "env files in /etc/tether (root only, 0600)"
install -d -m 0700 -o root -g root /etc/tether
for f in "${ENV_FILES[@]}"; do
  if [ -f "$BUNDLE/$f" ]; then
    install -m 0600 -o root -g root "$BUNDLE/$f" "/etc/tether/$f"
  elif [ ! -f "/etc/tether/$f" ]; then
    die "/etc/tether/$f is missing and the bundle has no $f"
  fi
done

say "units"
for u in "${UNITS[@]}"; do
  install -m 0644 -o root -g root "$BUNDLE/units/$u" "/etc/systemd/system/$u"
done
systemctl daemon-reload
systemctl enable --now tether-runtime.service
for u in "${BRIDGE_UNITS[@]}"; do
  systemctl enable --now "$u"
done

say "waiting for the runtime"
for _ in $(seq 1 30); do
  if curl -fsS "$RUNTIME_HEALTH_URL" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "$RUNTIME_HEALTH_URL" >/dev/null || die "the runtime does not answer at $RUNTIME_HEALTH_URL: journalctl -u tether-runtime -n 50"

say "command: tether (sudo tether doctor checks this deployment)"
{
  printf '%s\n' '#!/bin/sh' "# The tether command of this host's deployment (/opt/tether); state and env files as the units use them." "BRIDGES=\"${BRIDGES[*]}\""
  cat <<'WRAPPER'
# As root, a command runs as the user whose state it touches (a file root made in a state dir would
# lock its service out): `pair … <bridge>` as tether-<bridge> in /var/lib/tether-<bridge>, where that
# bridge keeps its pairings; everything else but doctor as tether in /var/lib/tether.
if [ "${1:-}" = pair ] && [ "${2:-}" = list ] && [ -z "${3:-}" ]; then
  status=0
  for b in $BRIDGES; do "$0" pair list "$b" || status=1; done
  exit "$status"
fi
user=tether
state=/var/lib/tether
if [ "${1:-}" = pair ] && [ -n "${3:-}" ]; then
  user="tether-$3"
  state="/var/lib/tether-$3"
fi
if [ "$(id -u)" = 0 ] && [ "${1:-}" != doctor ]; then
  id -u "$user" >/dev/null 2>&1 || { echo "tether: no user $user on this host: bridges installed here: ${BRIDGES:-none}" >&2; exit 1; }
  exec runuser -u "$user" -- env TETHER_STATE_DIR="$state" "$0" "$@"
fi
export TETHER_STATE_DIR="${TETHER_STATE_DIR:-$state}"
cd /
exec /usr/bin/node /opt/tether/bin/tether.js "$@"
WRAPPER
} >/usr/local/bin/tether
chmod 0755 /usr/local/bin/tether

if [ -n "$PAIR_PLATFORM" ]; then
  printf '\nFirst pairing:\n'
  /usr/local/bin/tether pair code "$PAIR_PLATFORM"
fi
say "installed; next: RUNBOOK.md"
