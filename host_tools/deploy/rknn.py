"""What a .rknn file says about itself, read from its header and metadata without the RKNN runtime.

Layout of an RKNN model file (rknn-toolkit2 2.x, as the files under models/ are laid out):
  0   "RKNN"            magic
  16  u64 little end.   length of the compiled model data, which starts at byte 64
  64+length  u64        length of the JSON metadata that ends the file
  then the JSON         {"target_platform": ["rv1103"], "norm_tensor": [...], "graph": [...], ...}
The JSON names the platforms the model was compiled for and the shapes of its input and output tensors:
enough to refuse a model for another chip, or whose scores do not match the config's labels, before it is
sent to a board.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import RefusedError, UsageError

MAGIC = b"RKNN"
DATA_OFFSET = 64
BOARD_PLATFORMS = ("rv1103", "rv1106", "rv1103b", "rv1106b")  # one NPU family: what a Luckfox Pico runs
MAX_METADATA = 16 << 20


@dataclass(frozen=True)
class RknnInfo:
    platforms: tuple[str, ...]
    outputs: int | None  # scores per inference (last dimension of output 0); None if the metadata lacks it
    toolkit: str  # the toolkit version that compiled it


def _outputs(meta: dict) -> int | None:
    tensors = {t.get("tensor_id"): t for t in meta.get("norm_tensor", []) if isinstance(t, dict)}
    for edge in meta.get("graph", []):
        if isinstance(edge, dict) and edge.get("left") == "output" and edge.get("left_tensor_id") == 0:
            size = tensors.get(edge.get("right_tensor_id"), {}).get("size")
            if isinstance(size, list) and size and isinstance(size[-1], int):
                return size[-1]
    return None


def read_rknn(path: Path) -> RknnInfo:
    """The model's platforms and output count; RefusedError (exit 4) for a file that is not an RKNN model."""
    try:
        with open(path, "rb") as f:
            head = f.read(DATA_OFFSET)
            size = f.seek(0, 2)
            if len(head) < DATA_OFFSET or head[:4] != MAGIC:
                raise RefusedError(f"model {path} is not an RKNN model (it does not start with 'RKNN'; the "
                                   "RV1103 runs .rknn files made by rknn-toolkit2); nothing was sent")
            (data_len,) = struct.unpack_from("<Q", head, 16)
            meta_at = DATA_OFFSET + data_len
            if meta_at + 8 > size:
                raise RefusedError(f"model {path}: truncated RKNN file (its header announces {data_len} "
                                   f"bytes of model data, the file has {size}); nothing was sent")
            f.seek(meta_at)
            (meta_len,) = struct.unpack("<Q", f.read(8))
            if meta_len > MAX_METADATA or meta_at + 8 + meta_len != size:
                raise RefusedError(f"model {path}: damaged RKNN file (its metadata length does not match the "
                                   "file size); nothing was sent")
            raw = f.read(meta_len)
    except FileNotFoundError:
        raise UsageError(f"model not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"model {path} is a folder, not a .rknn file") from None
    except OSError as exc:
        raise UsageError(f"cannot read model {path}: {exc.strerror}") from None
    try:
        meta = json.loads(raw.decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError
    except (UnicodeDecodeError, ValueError):
        raise RefusedError(f"model {path}: damaged RKNN file (unreadable metadata); nothing sent") from None
    platforms = meta.get("target_platform", [])
    if isinstance(platforms, str):
        platforms = [platforms]
    return RknnInfo(tuple(str(p).lower() for p in platforms), _outputs(meta), str(meta.get("version", "?")))


def check_board_model(path: Path) -> RknnInfo:
    """read_rknn, and RefusedError unless the model was compiled for the RV1103/RV1106 NPU."""
    info = read_rknn(path)
    if not any(p in BOARD_PLATFORMS for p in info.platforms):
        built = ", ".join(info.platforms) or "no platform"
        raise RefusedError(f"model {path} was compiled for {built}, not the RV1103/RV1106 of a Luckfox Pico "
                           "(rknn-toolkit2: target_platform='rv1103'); nothing was sent")
    return info
