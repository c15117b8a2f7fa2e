#!/usr/bin/env bash
# Gives a GPU-less Debian 12 machine a WebGPU adapter: Mesa's lavapipe (software Vulkan) from
# bookworm-backports, then a check that Dawn (the `webgpu` package) finds it.
#
# Debian 12's own Mesa (22.3) is too old for Dawn, which refuses its lavapipe; backports has
# Mesa 25. Idempotent: a second run sees Mesa >= MIN_MESA_MAJOR and only re-runs the check.
#
# Usage: .ci/install-lavapipe.sh [--no-verify]
#   The check imports `webgpu` from packages/core, so run it after `pnpm install`, or pass
#   --no-verify to install only.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_MESA_MAJOR=24
SOURCE_FILE=/etc/apt/sources.list.d/bookworm-backports.sources
PACKAGES=(mesa-vulkan-drivers libvulkan1)
verify=1
for arg in "$@"; do
  case "$arg" in
    --no-verify) verify=0 ;;
    *)
      echo "install-lavapipe: unknown argument '$arg' (valid: --no-verify)" >&2
      exit 2
      ;;
  esac
done

started=$SECONDS
log() { echo "install-lavapipe [$((SECONDS - started))s]: $*"; }

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null; then
  as_root() { sudo "$@"; }
else
  echo "install-lavapipe: needs root or sudo to install packages" >&2
  exit 1
fi

mesa_major() {
  { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' mesa-vulkan-drivers 2>/dev/null || true; } |
    awk '$1 == "ii" { split($2, v, "."); sub(/^[0-9]+:/, "", v[1]); print v[1] }'
}

# The mirror this machine already uses for bookworm, in either sources format; deb.debian.org
# when none is found.
debian_mirror() {
  local uri
  uri=$(awk '
    /^URIs:/ { uris = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uris; exit } }
    /^$/ { uris = "" }
  ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 ~ / bookworm / {
      for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit }
    }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != bookworm ]; then
  echo "install-lavapipe: written for Debian 12 (bookworm); this is '${codename:-unknown}'" >&2
  exit 1
fi

installed=$(mesa_major)
if [ -n "$installed" ] && [ "$installed" -ge "$MIN_MESA_MAJOR" ]; then
  log "Mesa $installed already installed"
else
  if [ ! -f "$SOURCE_FILE" ]; then
    mirror=$(debian_mirror)
    log "adding bookworm-backports from $mirror"
    as_root tee "$SOURCE_FILE" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  export DEBIAN_FRONTEND=noninteractive
  if compgen -G '/var/lib/apt/lists/*_dists_bookworm_main_binary-*_Packages*' >/dev/null; then
    # The main lists are there already: fetch only the backports index.
    as_root apt-get update -qq -o Dir::Etc::sourcelist="$SOURCE_FILE" \
      -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
  else
    as_root apt-get update -qq
  fi
  log "apt lists updated; installing ${PACKAGES[*]} from bookworm-backports"
  as_root apt-get install -y -qq --no-install-recommends -t bookworm-backports "${PACKAGES[@]}" >/dev/null
  installed=$(mesa_major)
  if [ -z "$installed" ] || [ "$installed" -lt "$MIN_MESA_MAJOR" ]; then
    echo "install-lavapipe: mesa-vulkan-drivers is at major ${installed:-none}, need >= $MIN_MESA_MAJOR" >&2
    exit 1
  fi
  log "installed $(dpkg-query -W -f='mesa-vulkan-drivers ${Version}' mesa-vulkan-drivers)"
fi

if [ "$verify" -eq 0 ]; then
  log "done (check skipped)"
  exit 0
fi

# Resolves `webgpu` from packages/core, whose devDependency it is.
# shellcheck disable=SC2016 # the single quotes keep JavaScript's template literals from the shell
(cd packages/core && node --input-type=module -e '
  let create;
  try {
    ({ create } = await import("webgpu"));
  } catch (error) {
    console.error(`install-lavapipe: cannot import webgpu (run after pnpm install): ${error.message}`);
    process.exit(1);
  }
  const adapter = await create([]).requestAdapter();
  if (!adapter) {
    console.error("install-lavapipe: Dawn found no WebGPU adapter");
    process.exit(1);
  }
  const { vendor, architecture, device, description } = adapter.info;
  console.log(`WebGPU adapter: ${JSON.stringify({ vendor, architecture, device, description })}`);
  process.exit(0);
')
log "done"
