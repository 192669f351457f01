"""An image folder laid out by class (DATASET/<label>/*.jpg), scored once by the emulated board.

The images are checked first (readable, not smaller than the model input: the message says how to resize),
then replayed by the emulated board's one-shot form, the board's own code on this host (`host_tools sim
rv1103 --frames` runs the board program; `host_tools sim openmv --frames` runs the unmodified app in the
emulated camera). Its per-frame lines give the scores (RV1103: per crop; OpenMV: raw_scores, before
smoothing), stored as a session in DATASET/.tune-<board>/ and reused while the images, model and config
stay the same: no sweep runs the model again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from host_tools import console
from host_tools.errors import HostToolsError, UsageError
from host_tools.paths import MASKS_MODEL
from host_tools.tune import configs, scores

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp"}
MAX_IMAGES = 100_000
MAX_PIXELS = 40_000_000


def is_dataset(folder: Path) -> bool:
    return folder.is_dir() and not scores.is_session(folder) and any(
        p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())


def list_dataset(folder: Path, labels: list[str]) -> list[tuple[str, Path]]:
    """(label, image) in label order, then name order. Folders named for an unknown label are refused."""
    found: list[tuple[str, Path]] = []
    sub = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = [p.name for p in sub if p.name not in labels]
    if unknown:
        raise UsageError(f"{folder}: folder(s) {', '.join(unknown[:5])} are not labels of the model "
                         f"(labels: {', '.join(labels)}); the layout is DATASET/<label>/*.jpg")
    for p in sub:
        found += [(p.name, f) for f in sorted(p.iterdir())
                  if f.suffix.lower() in IMAGE_EXTS and not f.name.startswith(".")]
    if not found:
        raise UsageError(f"{folder}: no images ({', '.join(sorted(IMAGE_EXTS))}) in DATASET/<label>/")
    if len(found) > MAX_IMAGES:
        raise UsageError(f"{folder}: {len(found)} images, at most {MAX_IMAGES}")
    return found


def model_input(board: str, model: Path) -> tuple[int, int]:
    """(width, height) of the model's input."""
    if board == "rv1103":
        import onnxruntime

        sess = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        shape = sess.get_inputs()[0].shape
        return int(shape[3]), int(shape[2])  # NCHW
    from ai_edge_litert.interpreter import Interpreter

    shape = Interpreter(model_path=str(model)).get_input_details()[0]["shape"]
    return int(shape[2]), int(shape[1])  # NHWC


def check_images(images: list[tuple[str, Path]], need: tuple[int, int], board: str, folder: Path) -> None:
    from PIL import Image

    small, bad = [], []
    for _, path in images:
        try:
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    bad.append(f"{path} ({w}x{h} pixels is too many)")
                    continue
                im.load()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            bad.append(f"{path} ({str(exc)[:80]})")
            continue
        fits = (min(w, h) >= max(need)) if board == "rv1103" else (w >= need[0] and h >= need[1])
        if not fits:
            small.append((path, w, h))
    if bad:
        raise UsageError(f"{len(bad)} image(s) cannot be read: " + "; ".join(bad[:3])
                         + " (remove or replace them)")
    if small:
        mw, mh = need
        side = ("the short side of each image must be at least " if board == "rv1103"
                else "images must be at least ")
        p, w, h = small[0]
        raise UsageError(
            f"{len(small)} image(s) are smaller than the model's {mw}x{mh} input, e.g. {p} ({w}x{h}); "
            f"{side}{max(mw, mh) if board == 'rv1103' else f'{mw}x{mh}'} pixels. Resize them first, e.g. "
            f"`mogrify -resize '{mw}x{mh}^<' {folder}/*/*.jpg` (ImageMagick; upscaling only), or better, use "
            "frames captured by the board's camera (`host_tools tune record`): upscaled images do not look "
            "like camera frames")


def default_model(board: str) -> Path:
    if board == "openmv":
        return MASKS_MODEL
    from host_tools.sim.rv1103.model_twin import load_twin

    return load_twin(None).onnx


def _labels_of(board: str, model: Path, base: dict):
    """The model's labels and, on the RV1103, the manifest the board would read beside it (None for a model
    brought without one: its config names the labels)."""
    from host_tools import rv1103_config
    from host_tools.model_manifest import load_manifest

    if board != "rv1103":
        return list(load_manifest(model).labels), None  # the model's card owns its labels
    manifest = rv1103_config.manifest_of(model)
    if manifest is None:
        return list(base.get("labels") or []), None
    return list(manifest.labels), rv1103_config.board_manifest(manifest)


def _digest(images: list[tuple[str, Path]], model: Path, cfg: bytes, board: str) -> str:
    h = hashlib.sha256(board.encode() + cfg + hashlib.sha256(model.read_bytes()).digest())
    for label, path in images:
        st = path.stat()
        h.update(f"{label}\0{path.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def score_dataset(folder: Path, board: str, model: Path | None = None, config: Path | None = None,
                  rescore: bool = False) -> scores.Session:
    """The dataset's session: from its cache when images, model and config are unchanged, else scored."""
    model = model or default_model(board)
    base = configs.default_config(board)
    if config is not None:
        try:
            base = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, ValueError) as exc:
            raise UsageError(f"--config {config}: {exc}") from None
    if board == "openmv":
        base["smoothing"] = 1  # scores of each image alone (raw_scores are before smoothing anyway)
    labels, manifest = _labels_of(board, model, base)
    cfg_bytes = configs.render(base)
    configs.validate(board, cfg_bytes, labels or None, manifest)
    images = list_dataset(folder, labels)
    cache = folder / f".tune-{board}"
    digest = _digest(images, model, cfg_bytes, board)
    if not rescore and scores.is_session(cache):
        try:
            cached = scores.load(cache)
            if cached.source == f"{folder.resolve()}#{digest}":
                return cached
        except UsageError:
            pass  # a damaged cache is scored again
    check_images(images, model_input(board, model), board, folder)
    console.info(f"scoring {len(images)} images of {folder} once on the EMULATED {board} board "
                 f"(model {model.name}); the scores are kept in {cache}")
    lines = run_emulated(board, [p for _, p in images], model, cfg_bytes)
    frames = []
    for i, (label, path) in enumerate(images):
        rec = lines.get(i)
        if rec is None:
            raise HostToolsError(f"the emulated board gave no result for {path}")
        frames.append(_frame_of(board, rec, labels, label, path, i))
    session = scores.Session(board, labels, frames, base, model.name, f"sim:{board}", True, False,
                             f"{folder.resolve()}#{digest}")
    scores.save(session, cache)
    return session


def _frame_of(board: str, rec, labels: list[str], truth: str, path: Path, seq: int) -> scores.Frame:
    from host_tools.tune.record import result_scores

    got = result_scores(rec, labels)
    if got is None:
        raise HostToolsError(f"the board's result line for {path} lacks per-class raw scores")
    return scores.Frame(truth, got[0], path, got[1], seq)


def run_emulated(board: str, images: list[Path], model: Path, cfg: bytes) -> dict:
    """The emulated board's result lines for `images` replayed in this order as one camera stream, by
    image index (the board numbers frames in the order it reads them)."""
    with tempfile.TemporaryDirectory(prefix="tune-dataset-") as tmp:
        frames = Path(tmp) / "frames"
        frames.mkdir()
        for i, path in enumerate(images):
            os.symlink(path.resolve(), frames / f"{i:06d}{path.suffix.lower()}")
        cfg_path = Path(tmp) / "config.json"
        cfg_path.write_bytes(cfg)
        if board == "rv1103":
            cmd = ["sim", "rv1103", "--frames", str(frames), "--config", str(cfg_path), "--model", str(model),
                   "--json", "--fps", "0"]
        else:
            cmd = ["sim", "openmv", "--frames", str(frames), "--config", str(cfg_path), "--model", str(model),
                   "--json", "--fps", "1000"]
        r = subprocess.run([sys.executable, "-m", "host_tools", *cmd], capture_output=True, text=True,
                           timeout=60 + 2.0 * len(images), env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if r.returncode != 0:
            last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
            raise HostToolsError(f"the emulated {board} board could not score the images: {last}")
    from host_tools.results import SchemaError, parse_result

    out = {}
    for line in r.stdout.splitlines():
        try:
            rec = parse_result(line)
        except SchemaError as exc:
            raise HostToolsError(f"the emulated {board} board printed a line this tool cannot read: "
                                 f"{exc}") from None
        if rec is not None:
            out[rec.frame - 1] = rec  # both boards count frames from 1
    return out
