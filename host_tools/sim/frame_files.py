"""Which files an emulated camera replays, and what it does with a bad one: one rule for both boards.

The rule is the board program's own (rv1103_app/src/source_files.cpp and image_io.cpp), so that a folder
of frames gives the same sequence to the emulated OpenMV camera, the emulated RV1103 camera and
`rv1103_app --frames FOLDER` on a board:
  - a folder's frames are its files with one of IMAGE_EXTS (any letter case), hidden files (a name starting
    with ".") left out, sorted by name (byte order: "B.png" before "a.png");
  - a file that does not decode (corrupt, truncated, not a JPEG, PNG, BMP or binary PPM/PGM), is bigger than
    MAX_FILE_BYTES or would decode to more than MAX_PIXELS (a decompression bomb) is reported, naming the
    file and why, and skipped; the replay goes on with the next file;
  - a folder in which no file decodes ends the replay (also when it loops, which would spin forever);
  - a single image file is a one-frame source; anything else is a video (host: any format OpenCV reads;
    board program: .y4m).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

IMAGE_EXTS = (".bmp", ".jpeg", ".jpg", ".pgm", ".png", ".pnm", ".ppm")  # image_io.cpp's image_extensions()
MAX_PIXELS = 4096 * 4096  # image_io.hpp kMaxImagePixels
MAX_FILE_BYTES = 64 << 20  # image_io.hpp kMaxImageFileBytes
# What the board decodes (stb_image built with JPEG, PNG, BMP and PNM, whose PNM reader takes the binary
# P5/P6 only): a file Pillow could read but the board could not is skipped here too.
FORMATS = ("JPEG", "PNG", "BMP", "PPM")
BINARY_PNM = (b"P5", b"P6")


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTS and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """The folder's frames, in replay order (may be empty)."""
    return sorted((p for p in Path(folder).iterdir() if is_image_name(p)),
                  key=lambda p: p.name.encode("utf-8", "surrogateescape"))


def _magic(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(2)


def read_image(path: Path) -> np.ndarray:
    """RGB888 pixels (H, W, 3) of an image file; ValueError saying why when it is to be skipped."""
    from PIL import Image

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror or exc})") from None
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file of {size} bytes, above the limit of {MAX_FILE_BYTES}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.format not in FORMATS or (im.format == "PPM" and _magic(path) not in BINARY_PNM):
                    raise ValueError("not a JPEG, PNG, BMP or binary PPM/PGM image")
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise ValueError(f"{w}x{h} pixels, above the limit of {MAX_PIXELS} "
                                     "(a decompression bomb?)")
                return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
    except ValueError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"a decompression bomb ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files (OSError, SyntaxError...)
        raise ValueError(f"not a readable image ({type(exc).__name__}: {str(exc)[:120]})") from None
