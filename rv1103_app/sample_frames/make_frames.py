"""Compose the RV1103 sample frames: 640x480 bird-feeder-like scenes, with and without a bird.

Run from the repository root: `.venv/bin/python rv1103_app/sample_frames/make_frames.py [--data DIR]`.
A drawn garden (sky, foliage, a wooden feeder on a pole) is the background; the bird frames paste a CIFAR-10
bird from ../shared/data/birds/val/bird, upscaled to 360x360 (bicubic) and blended in through a soft oval,
on the feeder. The frames without a bird show the empty feeder, or a CIFAR-10 image of another class
(birds/val/not_bird) in the same place. The images were picked among the first 40 of each folder for clear
crop votes (checked with hysteresis off), so that the sample shows decisions, not borderline cases.
The output is deterministic (fixed files, fixed seed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
W, H = 640, 480
SIDE = 360  # the pasted image's side: it fills most of each 480x480 crop, as a bird on a feeder camera does
# A short visit, in order: the empty feeder, another animal, then a bird that stays (its position shifts a
# little between frames, as a bird moves on the tray). With the deploy config's hysteresis of 3 the decision
# turns to "bird" on the third frame in a row that votes bird.
# (output name, class folder or None for the empty feeder, index in the sorted folder, x of the image centre)
SCENES = [
    ("01_empty_feeder.jpg", None, 0, 0),
    ("02_not_bird.jpg", "not_bird", 14, 320),
    ("03_bird.jpg", "bird", 2, 300),
    ("04_bird.jpg", "bird", 2, 340),
    ("05_bird.jpg", "bird", 21, 320),
    ("06_bird.jpg", "bird", 21, 300),
]


def garden(rng: np.random.Generator) -> Image.Image:
    y = np.linspace(0.0, 1.0, H)[:, None, None]
    sky = np.array([150, 190, 230]) * (1 - y) + np.array([120, 160, 110]) * y
    img = Image.fromarray(np.broadcast_to(sky, (H, W, 3)).astype(np.uint8))
    leaves = ImageDraw.Draw(img)
    for _ in range(90):
        cx, cy = rng.integers(0, W), rng.integers(0, H)
        r = int(rng.integers(15, 60))
        g = int(rng.integers(90, 160))
        leaves.ellipse([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=(40, g, 40))
    img = img.filter(ImageFilter.GaussianBlur(6))  # foliage out of focus behind the feeder
    feeder = ImageDraw.Draw(img)
    feeder.rectangle([305, 400, 335, H], fill=(95, 70, 45))  # pole
    feeder.rectangle([150, 385, 490, 410], fill=(120, 85, 50))  # tray
    feeder.polygon([(140, 385), (500, 385), (480, 370), (160, 370)], fill=(140, 100, 60))
    return img


def oval_mask() -> Image.Image:
    mask = Image.new("L", (SIDE, SIDE), 0)
    ImageDraw.Draw(mask).ellipse([10, 10, SIDE - 10, SIDE - 10], fill=255)
    return mask.filter(ImageFilter.GaussianBlur(18))


def compose(data: Path, out: Path) -> list[Path]:
    rng = np.random.default_rng(1103)
    mask = oval_mask()
    written = []
    for name, cls, index, cx in SCENES:
        img = garden(rng)
        if cls is not None:
            src = sorted((data / "birds" / "val" / cls).glob("*.jpg"))[index]
            with Image.open(src) as im:
                tile = im.convert("RGB").resize((SIDE, SIDE), Image.BICUBIC)
            img.paste(tile, (cx - SIDE // 2, 390 - SIDE), mask)  # standing on the tray
        path = out / name
        img.save(path, quality=90)
        written.append(path)
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    p.add_argument("--out", type=Path, default=HERE)
    args = p.parse_args()
    for path in compose(args.data, args.out):
        print(path)


if __name__ == "__main__":
    main()
