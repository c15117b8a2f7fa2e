"""A minimal safetensors reader (numpy only), for machines without the `safetensors` package."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def _bfloat16_to_float32(raw: np.ndarray) -> np.ndarray:
    return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)


def read_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """-> (name -> array, metadata). BF16 is widened to float32."""
    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + header_len :]
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = info["dtype"]
        if dtype == "BF16":
            array = _bfloat16_to_float32(np.frombuffer(body[start:end], dtype="<u2"))
        elif dtype in DTYPES:
            array = np.frombuffer(body[start:end], dtype=DTYPES[dtype])
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}; supported: BF16, {', '.join(DTYPES)}")
        tensors[name] = array.reshape(info["shape"]).copy()
    return tensors, metadata
