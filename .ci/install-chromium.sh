#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the browser example's Playwright test
# (examples/browser), which drives it with playwright-core: Playwright's own browser downloads
# come from a host CI cannot reach.
#
# Idempotent: when /usr/bin/chromium runs, this only prints its version.
#
# Usage: .ci/install-chromium.sh
set -euo pipefail

started=$SECONDS
log() { echo "install-chromium [$((SECONDS - started))s]: $*"; }

if [ "$#" -gt 0 ]; then
  echo "install-chromium: takes no arguments (got '$*')" >&2
  exit 2
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null; then
  as_root() { sudo "$@"; }
else
  echo "install-chromium: needs root or sudo to install packages" >&2
  exit 1
fi

if ! /usr/bin/chromium --version >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # apt-get install needs package lists; fetch them only where the machine has none yet.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    as_root apt-get update -qq
  fi
  log "installing chromium"
  if ! as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
    # Old lists can name package versions the mirror no longer has.
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  fi
fi

# Debian's launcher script trips over its own memory check on some machines ("[: ...: unexpected
# operator"); that line is noise, so its stderr is dropped here.
log "$(/usr/bin/chromium --version 2>/dev/null)"
