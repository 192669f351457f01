"""Bird / not_bird image loading shared by training, export checks, quantization and the RKNN build.

One resize function for every consumer: PIL bilinear from the 32x32 JPEGs to the model input, RGB uint8 HWC.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

LABELS = ("bird", "not_bird")  # output order of the model
INPUT_SIZE = 64  # birds_mnv3s's input side, the scripts' default (rebuild.sh gives birds_lite0 its 96)
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "birds"


def list_split(root: Path) -> list[tuple[Path, int]]:
    """(path, label index) for every JPEG under root/<label>/, sorted for determinism."""
    items: list[tuple[Path, int]] = []
    for idx, label in enumerate(LABELS):
        folder = root / label
        if not folder.is_dir():
            raise SystemExit(f"missing class folder {folder}")
        items += [(p, idx) for p in sorted(folder.glob("*.jpg"))]
    if not items:
        raise SystemExit(f"no images under {root}")
    return items


def load_rgb(path: Path, size: int | None) -> np.ndarray:
    """RGB uint8 HWC, resized with PIL bilinear to size x size when size is given."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


def load_split(root: Path, size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """All images of a split as uint8 NHWC RGB and their int64 labels."""
    items = list_split(root)
    x = np.stack([load_rgb(p, size) for p, _ in items])
    y = np.array([label for _, label in items], dtype=np.int64)
    return x, y
