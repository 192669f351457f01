"""`tune record`: frames and the device's raw scores, in order, into a session folder.

RV1103: each result line's per-crop scores (before voting) with the crop rectangles; the pictures come
from the board program's snapshots (its init script starts it with --snapshot-dir SNAPSHOT_DIR: while
SNAPSHOT_DIR/on exists it writes each frame as <frame>.jpg), fetched after the recording and then removed.
A board program without snapshots gives a recording of scores only.
OpenMV: each line's raw_scores (before smoothing); over Protocol V2 the frame buffer is read right after
each line, so frames/NNNNNN.jpg is the picture the app has just classified (the camera keeps no history:
with a slow link a frame may be a later one; the scores are always the line's own).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from host_tools import console
from host_tools.devices.connect import open_device
from host_tools.devices.live import Frame as LiveFrame
from host_tools.devices.live import TextLine
from host_tools.devices.names import DeviceName
from host_tools.errors import DeviceError, UsageError
from host_tools.tune import scores

FIRST_LINE_TIMEOUT = 20.0
DEFAULT_FRAMES = 100
SNAPSHOT_DIR = "/tmp/classifier-snapshots"  # rv1103_app/deploy/S99classifier passes it to the program


def result_scores(rec, labels: list[str]) -> tuple[list[list[float]], list[tuple]] | None:
    """(per-crop or per-frame raw scores, crop rectangles) of a parsed result (host_tools.results);
    None when the line carries no raw per-class scores."""
    try:
        if rec.board == "rv1103":
            if not rec.crops:
                return None
            return ([[float(c.scores[lab]) for lab in labels] for c in rec.crops],
                    [(c.x, c.y, c.w, c.h) for c in rec.crops])
        if rec.smoothing is None or rec.smoothing.raw_scores is None:
            return None
        return [[float(rec.smoothing.raw_scores[lab]) for lab in labels]], []
    except KeyError:
        return None


def line_scores(line: str, board: str,
                labels: list[str]) -> tuple[list[list[float]], list[tuple], int] | None:
    """The same for a line as the board printed it, with the board's frame number; None for lines that
    are not results."""
    from host_tools.results import SchemaError, parse_result

    try:
        rec = parse_result(line)
    except SchemaError as exc:
        raise DeviceError(f"the device printed a result this tool cannot read: {exc}") from None
    if rec is None:
        return None
    if rec.board != board:
        raise DeviceError(f"a {rec.board} result line from a {board} device")
    got = result_scores(rec, labels)
    if got is None:
        raise DeviceError("the app on the device prints no raw per-class scores (per crop on the RV1103, "
                          "smoothing.raw_scores on OpenMV): flash the current app and record again")
    return got[0], got[1], rec.frame


def _labels_and_config(dev) -> tuple[list[str], dict]:
    raw = dev.read_config()
    try:
        cfg = json.loads(raw) if raw else {}
    except ValueError:
        cfg = {}
    if dev.board == "rv1103":
        from host_tools.tune.apply import LinuxOps

        return LinuxOps(dev).labels(), cfg if isinstance(cfg, dict) else {}
    text = dev.files().read_file("model.txt").decode("utf-8", "replace")
    return [ln.strip() for ln in text.split("\n") if ln.strip()], cfg if isinstance(cfg, dict) else {}


def record(name: DeviceName, label: str, frames: int | None, seconds: float | None, out: Path,
           protocol: str = "auto") -> dict:
    if frames is not None and frames < 1:
        raise UsageError("--frames must be at least 1")
    if seconds is not None and not seconds > 0:
        raise UsageError("--seconds must be more than 0")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: exists and is not an empty folder (a session is never overwritten)")
    want = frames if frames is not None else (None if seconds is not None else DEFAULT_FRAMES)
    with open_device(name, protocol) as dev:
        labels, cfg = _labels_and_config(dev)
        if label not in labels:
            raise UsageError(f"--label {label!r} is not one of the model's labels: {', '.join(labels)}")
        console.info(f"recording {label!r} from {dev.description} "
                     f"({f'{want} frames' if want else f'{seconds:g} s'}); Ctrl-C stops early and keeps them")
        if dev.board == "rv1103":
            _snapshots(dev, True)
        src = dev.open_stream(frames=dev.board == "openmv", frame_interval=0.0, restart=dev.board == "openmv")
        got: list[scores.Frame] = []
        numbers: list[int] = []
        images: dict[int, bytes] = {}
        start = time.monotonic()
        deadline_first = start + FIRST_LINE_TIMEOUT
        try:
            for ev in src.events:
                now = time.monotonic()
                if isinstance(ev, TextLine):
                    parsed = line_scores(ev.text, dev.board, labels)
                    if parsed is not None:
                        got.append(scores.Frame(label, parsed[0], None, parsed[1], 0, round(now - start, 3)))
                        numbers.append(parsed[2])
                elif isinstance(ev, LiveFrame) and got and len(got) - 1 not in images:
                    images[len(got) - 1] = ev.jpeg
                pictured = dev.board != "openmv" or len(got) - 1 in images
                if want is not None and len(got) >= want and pictured:
                    break
                if seconds is not None and now - start >= seconds:
                    break
                if not got and now > deadline_first:
                    raise DeviceError(f"no result line from {dev.description} within "
                                      f"{FIRST_LINE_TIMEOUT:g} s: is the app running?")
        except KeyboardInterrupt:
            console.info(f"stopped: keeping the {len(got)} frames recorded")
        finally:
            src.close()
            if dev.board == "rv1103":
                if want is not None:
                    got, numbers = got[:want], numbers[:want]
                images.update(_fetch_snapshots(dev, numbers))
    if not got:
        raise DeviceError("nothing was recorded")
    if want is not None:
        got = got[:want]
    (out / "frames").mkdir(parents=True, exist_ok=True)
    for i, fr in enumerate(got):
        if i in images:
            path = out / "frames" / f"{i:06d}.jpg"
            path.write_bytes(images[i])
            fr.image = path
    session = scores.Session(dev.board, labels, got, cfg, str(cfg.get("model", "model.tflite")), str(name),
                             dev.emulated, True, f"recorded from {dev.description}")
    scores.save(session, out)
    return {"frames": len(got), "images": len(images), "label": label, "device": dev.description,
            "out": str(out), "board": dev.board}


def _snapshots(dev, on: bool) -> None:
    """Ask the board program for pictures of its frames (or stop asking and clear them)."""
    fs = dev.fs
    fs.run(["rm", "-rf", "--", SNAPSHOT_DIR], check=False)
    if on:
        fs.mkdir(SNAPSHOT_DIR)
        fs.run(["touch", "--", f"{SNAPSHOT_DIR}/on"])


def _fetch_snapshots(dev, numbers: list[int]) -> dict[int, bytes]:
    """{index in the recording: JPEG} for the recorded frames the board program pictured; then cleared."""
    fs = dev.fs
    out: dict[int, bytes] = {}
    try:
        fs.remove(f"{SNAPSHOT_DIR}/on")
        listing = fs.run(["ls", "-1", SNAPSHOT_DIR], check=False)
        present = set(listing.output.split()) if listing.status == 0 else set()
        for i, n in enumerate(numbers):
            if f"{n}.jpg" in present:
                out[i] = fs.read_file(f"{SNAPSHOT_DIR}/{n}.jpg")
    except DeviceError as exc:
        console.info(f"the frames' pictures could not be fetched ({exc}); the scores are kept")
    finally:
        try:
            _snapshots(dev, False)
        except DeviceError:
            pass
    if not out:
        console.info("the board program sent no pictures (an older program without --snapshot-dir?): "
                     "the recording holds scores only")
    return out
