"""Checks the PyTorch twin against our U-Net on the cases export-parity-case.mjs wrote.

    node bench/twin/export-parity-case.mjs /tmp/twin-parity
    python3 bench/twin/check_parity.py /tmp/twin-parity

For each case: the state dict must have exactly the twin's keys and shapes, then the twin's outputs
(conditional, guided, and without text where present) are compared with ours. Also checks the seed
preset's parameter count. Exits 1 when anything is off.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from safetensors_io import read_safetensors
from unet_twin import UNet, count_parameters, preset

SEED_PARAMETERS = 276_428_931  # countUNetParameters(unetPreset('seed')) in @dalle2js/unet
TOLERANCE = 1e-4  # on the relative error: max |ours - twin| / max |ours|


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()


def nhwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(0, 2, 3, 1).detach().cpu().numpy()


def load_twin(weights: Path, config: dict, device: torch.device) -> UNet:
    """Builds the twin and loads our weights, after checking that keys and shapes match exactly."""
    model = UNet(config)
    state, _ = read_safetensors(weights)
    ours = {k: tuple(v.shape) for k, v in state.items()}
    twin = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing, extra = sorted(twin.keys() - ours.keys()), sorted(ours.keys() - twin.keys())
    wrong = sorted(k for k in ours.keys() & twin.keys() if ours[k] != twin[k])
    if missing or extra or wrong:
        raise SystemExit(f"{weights}: state dicts differ: missing {missing}, extra {extra}, shapes {wrong}")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    return model.to(device).eval()


def compare(name: str, ours: np.ndarray, twin: np.ndarray) -> tuple[float, float]:
    if ours.shape != twin.shape:
        raise SystemExit(f"{name}: shape {twin.shape}, expected {ours.shape}")
    abs_err = float(np.max(np.abs(ours.astype(np.float64) - twin.astype(np.float64))))
    rel_err = abs_err / max(float(np.max(np.abs(ours))), 1e-30)
    print(f"  {name:<12} max |ours| {np.max(np.abs(ours)):9.4f}  max abs err {abs_err:.3e}  rel err {rel_err:.3e}")
    return abs_err, rel_err


def check_case(directory: Path, name: str, device: torch.device = torch.device("cpu")) -> bool:
    data, metadata = read_safetensors(directory / f"{name}.case.safetensors")
    config = json.loads(metadata["config"])
    model = load_twin(directory / f"{name}.weights.safetensors", config, device)
    ok = count_parameters(model) == int(metadata["parameters"])
    print(f"{name}: {count_parameters(model)} parameters (ours {metadata['parameters']})")
    x, t = nchw(data["x"]).to(device), torch.from_numpy(data["timesteps"]).to(device)
    image = torch.from_numpy(data["image_embed"]).to(device)
    text = torch.from_numpy(data["text_encodings"]).to(device) if "text_encodings" in data else None
    mask = torch.from_numpy(data["text_mask"]).to(device) if "text_mask" in data else None
    lowres = nchw(data["lowres_image"]).to(device) if "lowres_image" in data else None
    with torch.no_grad():
        outputs = {
            "out": model(x, t, image, text, mask, lowres),
            "out_guided": model.forward_with_guidance(x, t, image, float(metadata["guidance"]), text, mask, lowres),
        }
        if text is not None:
            outputs["out_no_text"] = model(x, t, image, lowres_image=lowres)
    for key, value in outputs.items():
        _, rel = compare(key, data[key], nhwc(value))
        ok = ok and rel < TOLERANCE
    return ok


def seed_parameter_count() -> int:
    """Counted on the meta device where this PyTorch has one as a context manager (2.0+), else on the CPU."""
    if hasattr(torch.device("meta"), "__enter__"):
        with torch.device("meta"):
            return count_parameters(UNet(preset("seed")))
    return count_parameters(UNet(preset("seed")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="the folder export-parity-case.mjs wrote")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (TF32 off)")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    device = torch.device(args.device)
    print(f"torch {torch.__version__} on {device}")
    names = sorted(p.name.removesuffix(".case.safetensors") for p in args.directory.glob("*.case.safetensors"))
    if not names:
        raise SystemExit(f"no *.case.safetensors in {args.directory}")
    ok = all([check_case(args.directory, name, device) for name in names])
    seed = seed_parameter_count()
    print(f"seed preset: {seed:,} parameters (expected {SEED_PARAMETERS:,})")
    ok = ok and seed == SEED_PARAMETERS
    print("parity OK" if ok else "parity FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
