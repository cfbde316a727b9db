#!/usr/bin/env bash
# Installs what the build, the tests and `make run` need, and nothing that is already there.
# Debian 12; run as root (or with sudo available). Safe to run again and again.
set -euo pipefail

# The package lists live in scripts/packages/ (build.txt is also what deploy/Dockerfile builds
# with): one name per line, `#` starts a comment.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mapfile -t PACKAGES < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$HERE/packages/build.txt" \
  "$HERE/packages/test.txt" | grep -v '^$')

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Services are started by the tests on their own ports; stop the distribution's copies.
  for svc in mariadb redis-server nginx prometheus prometheus-node-exporter; do
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  done
else
  echo "setup: system packages present"
fi

# The web toolchain needs Node.js >= 20.19. Debian 12's own nodejs is 18: then take Node 20
# from the npm registry (the `node` package ships the binary inside a registry package).
node_ok() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  echo "setup: Node.js $(node --version) is too old for the web build; installing node@20 from npm"
  npm install -g --no-audit --no-fund node@20
  hash -r
  node_ok || { echo "setup: Node.js >= 20.19 is required (found $(node --version))"; exit 1; }
fi

# npm packages: the web UI and the test suites. `npm ci` only when the lock file changed.
npm_install() {
  local dir=$1
  [ -f "$dir/package-lock.json" ] || return 0
  local stamp="$dir/node_modules/.installed-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    return 0
  fi
  echo "setup: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}
npm_install web
npm_install tests
npm_install tests/e2e
