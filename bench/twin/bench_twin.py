"""Times the PyTorch twin of our U-Net, to set beside bench/gpu's WebGPU numbers. JSON on stdout.

    python3 bench/twin/bench_twin.py                 # CUDA: seed preset, batch 8, 64 px
    python3 bench/twin/bench_twin.py --smoke         # a tiny config, a few reps (the default without CUDA)

Measurements, all fp32 with TF32 off:
- forward (no grad), forward+backward (the gradient of the epsilon loss, as bench's unet-suite),
  and a training step (forward, backward and an AdamW step, as core's trainStep);
- sampling: DDIM (eta 0, cosine schedule, leading spacing) with classifier-free guidance, the
  conditional and null rows in one batch of 2B, like UNet.forwardWithGuidance inside `sample`.
FLOPs are counted like bench/src/count-unet-flops.ts (ported below); the backward counts 2x forward.
Peak memory is torch.cuda.max_memory_allocated over each measurement (absent on the CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unet_twin import UNet, UNetConfig, count_parameters, preset, resolve_config  # noqa: E402

SMOKE_CONFIG = preset("small", dim=16, imageEmbedDim=64, normGroups=4, attentionHeadDim=16)


def count_unet_flops(config: UNetConfig, batch: int, size: int, text_tokens: int = 0) -> dict[str, float]:
    """countUNetFlops from bench/src/count-unet-flops.ts: a multiply-add is 2 FLOPs, element-wise work left out."""
    c = config
    w, levels, r = c.widths, len(c.widths), c.numResnetBlocks
    t_dim = 4 * c.dim
    ctx_tokens = c.numImageTokens + text_tokens
    f = {"conv": 0.0, "linear": 0.0, "attentionProjections": 0.0, "attentionScores": 0.0}

    def side(i: int) -> int:
        return size // 2**i

    def conv(out: int, k: int, cin: int, cout: int) -> None:
        f["conv"] += 2 * out * out * k * k * cin * cout

    def linear(rows: int, fin: int, fout: int) -> None:
        f["linear"] += 2 * rows * fin * fout

    def attention(queries: int, keys: int, ch: int, kv_dim: int) -> None:
        f["attentionProjections"] += 2 * queries * ch * ch * 2 + 2 * keys * kv_dim * ch * 2
        f["attentionScores"] += 2 * queries * keys * ch * 2

    def resnet(s: int, cin: int, cout: int) -> None:
        conv(s, 3, cin, cout)
        linear(1, t_dim, 2 * cout)
        conv(s, 3, cout, cout)
        if cin != cout:
            conv(s, 1, cin, cout)

    def attention_block(s: int, ch: int, self_attn: bool, cross_attn: bool) -> None:
        if self_attn:
            attention(s * s, s * s, ch, ch)
        if cross_attn:
            attention(s * s, ctx_tokens, ch, c.contextDim)

    def level_attention(i: int) -> None:
        attention_block(side(i), w[i], c.selfAttention[i], c.crossAttention[i])

    linear(1, c.dim, t_dim)
    linear(1, t_dim, t_dim)
    linear(1, c.imageEmbedDim, t_dim)
    if c.uses_context:
        linear(1, c.imageEmbedDim, c.numImageTokens * c.contextDim)
        if text_tokens > 0 and c.textEmbedDim is not None:
            linear(text_tokens, c.textEmbedDim, c.contextDim)
    conv(size, 3, 2 * c.channels if c.lowresCond else c.channels, w[0])
    for i in range(levels):
        for j in range(r):
            resnet(side(i), w[max(i - 1, 0)] if j == 0 else w[i], w[i])
            level_attention(i)
        if i < levels - 1:
            conv(side(i + 1), 3, w[i], w[i])
    bottom = w[-1]
    resnet(side(levels - 1), bottom, bottom)
    attention_block(side(levels - 1), bottom, c.midAttention, c.midAttention)
    resnet(side(levels - 1), bottom, bottom)
    for i in reversed(range(levels)):
        previous = w[min(i + 1, levels - 1)]
        for j in range(r + 1):
            skip = w[i] if j < r else w[max(i - 1, 0)]
            resnet(side(i), (previous if j == 0 else w[i]) + skip, w[i])
            level_attention(i)
        if i > 0:
            conv(side(i - 1), 3, w[i], w[i])
    conv(size, 3, w[0], 2 * c.channels if c.learnedVariance else c.channels)
    forward = batch * sum(f.values())
    return {**{k: batch * v for k, v in f.items()}, "forward": forward, "backward": 2 * forward, "trainStep": 3 * forward}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_bytes(device: torch.device) -> int | None:
    return torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None


def measure(name: str, fn: Callable[[], Any], device: torch.device, warmup: int, reps: int, flops: float) -> dict[str, Any]:
    """Median wall time of `reps` calls after `warmup`, each call synchronised; peak memory over all of them."""
    reset_peak(device)
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    ms = statistics.median(times)
    result = {
        "name": name,
        "ms": round(ms, 3),
        "msMin": round(min(times), 3),
        "reps": reps,
        "warmup": warmup,
        "flops": flops,
        "tflops": float(f"{flops / ms / 1e9:.4g}"),
        "peakMemoryBytes": peak_bytes(device),
    }
    print(f"{name}: {ms:.2f} ms, {result['tflops']} TFLOP/s", file=sys.stderr)
    return result


def cosine_alphas_cumprod(steps: int = 1000, max_beta: float = 0.999) -> list[float]:
    """squaredcos_cap_v2 (improved DDPM), in float64 like NoiseSchedule."""

    def abar(t: float) -> float:
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    out, prod = [], 1.0
    for i in range(steps):
        prod *= 1 - min(1 - abar((i + 1) / steps) / abar(i / steps), max_beta)
        out.append(prod)
    return out


def ddim_sample(model: UNet, image_embed: Tensor, size: int, steps: int, guidance: float) -> Tensor:
    """Deterministic DDIM (eta 0, set_alpha_to_one, leading spacing) with guidance: one U-Net call of 2B rows a step."""
    abar = cosine_alphas_cumprod()
    stride = len(abar) // steps
    timesteps = [i * stride for i in reversed(range(steps))]
    b, ch = image_embed.shape[0], model.config.channels
    x = torch.randn(b, ch, size, size, device=image_embed.device)
    for i, t in enumerate(timesteps):
        a_t = abar[t]
        a_prev = abar[timesteps[i + 1]] if i + 1 < steps else 1.0
        eps = model.forward_with_guidance(x, torch.full((b,), float(t), device=x.device), image_embed, guidance)[:, :ch]
        x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
    return x



def bench(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device)
    torch.set_float32_matmul_precision("highest")  # no TF32 in matrix products
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False  # nor in convolutions
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    config = resolve_config(json.loads(args.config) if args.config else SMOKE_CONFIG if args.smoke else preset(args.preset))
    model = UNet(config).to(device)
    b, size = args.batch, args.size
    x = torch.randn(b, config.channels, size, size, device=device)
    noise = torch.randn_like(x)
    image_embed = torch.randn(b, config.imageEmbedDim, device=device)
    timesteps = torch.tensor([100.0 + 200 * i for i in range(b)], device=device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    flops = count_unet_flops(config, b, size)

    def forward() -> None:
        with torch.no_grad():
            model(x, timesteps, image_embed)

    def loss() -> Tensor:
        return F.mse_loss(model(x, timesteps, image_embed), noise)

    def forward_backward() -> None:
        model.zero_grad(set_to_none=True)
        loss().backward()

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss().backward()
        optimizer.step()

    label = f"U-Net {args.preset if not (args.config or args.smoke) else 'custom'} {size}px batch {b}"
    w, n = args.warmup, args.reps
    results = [
        measure(f"{label} forward", forward, device, w, n, flops["forward"]),
        measure(f"{label} forward+backward", forward_backward, device, w, n, flops["trainStep"]),
        measure(f"{label} train step (AdamW)", train_step, device, w, n, flops["trainStep"]),
    ]
    del optimizer
    model.zero_grad(set_to_none=True)
    sb = args.sample_batch
    sample_embed = torch.randn(sb, config.imageEmbedDim, device=device)
    step_flops = count_unet_flops(config, 2 * sb, size)["forward"]

    def sample() -> None:
        with torch.no_grad():
            ddim_sample(model, sample_embed, size, args.sample_steps, args.guidance)

    name = f"sample {sb} image(s), {size}px, {args.sample_steps} guided DDIM steps (scale {args.guidance})"
    results.append(measure(name, sample, device, 1, args.sample_reps, args.sample_steps * step_flops))
    return {
        "twin": "bench/twin/unet_twin.py",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "dtype": "float32",
        "tf32": False,
        "cudnnBenchmark": True,
        "config": config.__dict__,
        "parameters": count_parameters(model),
        "batch": b,
        "size": size,
        "flopsNote": "countUNetFlops (bench/src/count-unet-flops.ts); backward = 2x forward; sampling = steps x forward at 2B rows",
        "measurements": results,
    }


def parse_args() -> argparse.Namespace:
    cuda = torch.cuda.is_available()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if cuda else "cpu")
    p.add_argument("--preset", default="seed", choices=["seed", "small"])
    p.add_argument("--config", help="a UNetConfig as JSON, instead of the preset")
    p.add_argument("--smoke", action=argparse.BooleanOptionalAction, default=not cuda, help="tiny config and few reps (default without CUDA)")
    p.add_argument("--batch", type=int)
    p.add_argument("--size", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--reps", type=int)
    p.add_argument("--sample-batch", type=int, default=1)
    p.add_argument("--sample-steps", type=int)
    p.add_argument("--sample-reps", type=int)
    p.add_argument("--guidance", type=float, default=3.0)
    args = p.parse_args()
    defaults = {"batch": 2, "size": 32, "warmup": 1, "reps": 2, "sample_steps": 5, "sample_reps": 1}
    if not args.smoke:
        defaults = {"batch": 8, "size": 64, "warmup": 3, "reps": 10, "sample_steps": 50, "sample_reps": 3}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main() -> None:
    print(json.dumps(bench(parse_args()), indent=2))


if __name__ == "__main__":
    main()
