#!/usr/bin/env bash
# On the GPU machine, from the repository root, with the prepared .gpu/ carried (see README.md):
#   bash bench/gpu/run-on-gpu.sh
# Runs, one after the other, each under its own time limit so that one cannot eat the other's:
#   1. check_parity.py on CUDA (PARITY_DEVICE) against the parity cases in .gpu/parity (if they were prepared);
#   2. the PyTorch twin: bench/twin/bench_twin.py (seed preset, batch 8, 64 px) -> twin.json;
#   3. our U-Net on WebGPU: .gpu/run.sh (bench/gpu/webgpu-bench.mjs, bundled) -> webgpu.json.
# Everything goes under $OUT (the device tool's folder that comes back; ./out/gpu elsewhere), at
# most 8 files: gpu.txt, parity.log, twin.json, twin.log, webgpu.json, webgpu.log.
# Limits in seconds: TWIN_LIMIT (default 150), WEBGPU_LIMIT (default 330); extra arguments for the
# WebGPU entry in WEBGPU_ARGS (e.g. "--reps 5" or "--only sample,generate"); TWIN_ARGS likewise.
# Locally, without a GPU: PYTHON=/usr/bin/python3 PARITY_DEVICE=cpu WEBGPU=0 bash bench/gpu/run-on-gpu.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${OUT:-$root/out/gpu}
mkdir -p "$out"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
py=${PYTHON:-python3} # the one with PyTorch (plain python3 on the device machine)

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' 2>&1
} > "$out/gpu.txt"

if [ -d .gpu/parity ]; then
  echo "== parity" >&2
  timeout 60 "$py" bench/twin/check_parity.py .gpu/parity --device "${PARITY_DEVICE:-cuda}" > "$out/parity.log" 2>&1
  echo "parity exit $?" >> "$out/parity.log"
fi

echo "== twin" >&2
# shellcheck disable=SC2086 # TWIN_ARGS is a list of words
timeout "${TWIN_LIMIT:-150}" "$py" bench/twin/bench_twin.py ${TWIN_ARGS:-} > "$out/twin.json" 2> "$out/twin.log"
echo "twin exit $?" >> "$out/twin.log"

# WEBGPU=0 skips our side: .gpu/run.sh unpacks the Vulkan loader into /, which is for the device machine only.
if [ "${WEBGPU:-1}" != 0 ]; then
  echo "== webgpu" >&2
  # shellcheck disable=SC2086 # WEBGPU_ARGS is a list of words
  timeout "${WEBGPU_LIMIT:-330}" bash .gpu/run.sh --out "$out/webgpu.json" ${WEBGPU_ARGS:-} > /dev/null 2> "$out/webgpu.log"
  echo "webgpu exit $?" >> "$out/webgpu.log"
fi

tail -n 4 "$out"/parity.log "$out/twin.log" "$out/webgpu.log" 2> /dev/null
ls -la "$out"
