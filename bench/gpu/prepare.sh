#!/usr/bin/env bash
# Here (a machine with Node and the workspace installed), before the device call:
#   bash bench/gpu/prepare.sh [path/to/prepare-gpu-carry.sh]   (default: ../shared/device/prepare-gpu-carry.sh)
# Builds the packages if needed, bundles bench/gpu/webgpu-bench.mjs into .gpu/ with Node, Dawn and the
# Vulkan loader (prepare-gpu-carry.sh), and writes the parity cases into .gpu/parity. Then carry [".gpu"].
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
carry=${1:-$root/../shared/device/prepare-gpu-carry.sh}
for p in core unet diffusion prior clip dalle2; do
  [ -f "packages/$p/dist/index.js" ] || { echo "packages/$p/dist is missing: running pnpm build" >&2; pnpm build; break; }
done
bash "$carry" bench/gpu/webgpu-bench.mjs
rm -rf .gpu/parity
node bench/twin/export-parity-case.mjs .gpu/parity
du -sh .gpu
