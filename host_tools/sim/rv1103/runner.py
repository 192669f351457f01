"""The emulated RV1103's main loop: the board program's loop, with camrt's C++ pipeline and config watcher.

Per frame, as rv1103_app does: poll the ConfigWatcher (file change or SIGHUP), take a frame, run
camrt.Pipeline.process (plan crops, fused crop/resize/colour into the engine's input, run, softmax, vote)
and write camrt's JSON line. Only the frame source (host files instead of V4L2) and the engine (a host
runtime instead of the NPU) differ from the board.
"""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from host_tools import console
from host_tools.errors import HostToolsError, UsageError
from host_tools.sim.rv1103.engines import SimEngine, onnx_engine, rknn_sim_engine
from host_tools.sim.rv1103.frames import list_images, open_frames
from host_tools.sim.rv1103.model_twin import ModelTwin, load_twin
from host_tools.sim.rv1103.tcp_out import TcpLines

BANNER = ("EMULATED RV1103 (Luckfox Pico): the board's C++ pipeline (camrt) on this host; the model runs on "
          "{engine}. Timings are host CPU figures, not from a board.")


@dataclass
class SimOptions:
    frames: Path
    config: Path
    model: Path | None = None
    engine: str = "onnx"  # "onnx" | "rknn-sim"
    count: int | None = None
    json: bool = False
    fps: float | None = None  # None: the config's max_fps; 0: as fast as possible
    port: int | None = None  # TCP output port (0: any free port), None: off
    bind: str = "127.0.0.1"
    calib: Path | None = None
    loop: bool = False
    w_stride_pad: int = 0  # extra pixels per input row, as RKNN pads them on the board


def _make_engine(opts: SimOptions, twin: ModelTwin) -> SimEngine:
    if opts.engine == "onnx":
        return onnx_engine(twin, opts.w_stride_pad)
    if opts.engine == "rknn-sim":
        # No --calib with the bird model: its recipe's own server builds it (same calibration as the .rknn).
        calib = list_images(opts.calib)[:50] if opts.calib else []
        return rknn_sim_engine(twin, calib, opts.w_stride_pad)
    raise UsageError(f"--engine must be onnx or rknn-sim, got {opts.engine!r}")


def readable(res, labels: list[str], name: str) -> str:
    def lab(i: int) -> str:
        return labels[i] if 0 <= i < len(labels) else "-"

    crops = " | ".join(
        f"{lab(c.vote)}:" + "/".join(f"{s:.2f}" for s in c.scores) for c in res.crops
    )
    return (f"frame {res.frame:5d} {name[:28]:28s} -> {lab(res.decision):>10s} {res.score:.3f}  "
            f"[{len(res.crops)} crop{'s' if len(res.crops) != 1 else ''}: {crops}]  "
            f"{res.ms.total:.1f} ms (pre {res.ms.preprocess:.2f}, inf {res.ms.inference:.2f})")


def run_sim(opts: SimOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    try:
        import camrt
    except ImportError as exc:
        raise HostToolsError("the camrt extension (the board's C++ pipeline) is not built: run `make setup` "
                             "or `pip install -e .`") from exc

    out = out or sys.stdout  # looked up now, so a replaced sys.stdout (tests, redirection) is honoured
    err = err or sys.stderr

    def log(msg: str) -> None:  # status lines: hidden by -q
        if not console.quiet():
            print(f"sim rv1103: {msg}", file=err, flush=True)

    if opts.count is not None and opts.count < 1:
        raise UsageError(f"--count must be at least 1, got {opts.count}")
    if opts.fps is not None and not 0 <= opts.fps <= 1000:
        raise UsageError(f"--fps must be in 0..1000, got {opts.fps}")
    if not Path(opts.config).is_file():
        raise UsageError(f"--config {opts.config}: no such file")
    frames = open_frames(opts.frames, opts.loop)
    twin = load_twin(opts.model)
    sim = _make_engine(opts, twin)
    try:
        try:
            watcher = camrt.ConfigWatcher(str(opts.config), sim.classes, lambda m: log(f"config: {m}"))
        except ValueError as exc:  # camrt.ConfigError: nothing good to keep yet
            raise UsageError(str(exc)) from exc
        cfg = watcher.config
        if twin.labels is not None and list(cfg.labels) != twin.labels:
            raise UsageError(f"config labels {list(cfg.labels)} differ from the model's {twin.labels} "
                             f"({twin.onnx.with_suffix('.txt').name}); scores would be misnamed")
        if cfg.color_order != twin.colour_order:
            log(f"warning: config color_order {cfg.color_order} but the model card says {twin.colour_order}")
        pipeline = camrt.Pipeline(sim.engine, cfg)
        banner = BANNER.format(engine=sim.description)
        if not console.quiet():
            print(banner, file=err if opts.json else out, flush=True)
        try:
            tcp = TcpLines(opts.bind, opts.port) if opts.port is not None else None
        except OSError as exc:  # an address this machine does not have, a port in use
            raise UsageError(f"cannot serve on {opts.bind}:{opts.port}: {exc.strerror or exc}") from None
        if tcp:
            log(f"listening on {opts.bind}:{tcp.port} (JSON lines)")
        return _loop(opts, pipeline, watcher, frames, tcp, out, log)
    finally:
        sim.close()


def _loop(opts, pipeline, watcher, frames, tcp, out, log) -> int:
    import camrt

    stop = {"sig": 0}

    def on_stop(signum, _frame):
        stop["sig"] = signum

    camrt.install_sighup_handler()  # SIGHUP raises camrt's reload flag, as on the board
    old_term = signal.signal(signal.SIGTERM, on_stop)
    index = 0  # frames read
    emitted = 0  # frames classified
    skipped: list[str] = []
    next_slot = time.monotonic()
    try:
        while not stop["sig"]:
            if watcher.poll():
                try:
                    pipeline.set_config(watcher.config)
                except ValueError as exc:
                    log(f"config: rejected by the pipeline, keeping the last good one: {exc}")
            t0 = time.monotonic()
            frame = next(frames, None)
            if frame is None:
                log("end of frames")
                break
            capture_ms = (time.monotonic() - t0) * 1000.0
            this = index
            index += 1
            try:
                res = pipeline.process(frame.rgb, "RGB888", this, capture_ms)
            except ValueError as exc:  # FrameTooSmall and other per-frame input problems: skip the frame
                log(f"frame {this} ({frame.name}) skipped: {exc}")
                skipped.append(str(exc))
                if opts.count is not None and index >= opts.count:
                    break
                continue
            except RuntimeError as exc:  # the runtime behind the engine failed: nothing more to emulate
                raise HostToolsError(f"engine failed on frame {this}: {exc}") from exc
            line = pipeline.json_line(res)
            if opts.json:
                out.write(line + "\n")
            else:
                out.write(readable(res, list(pipeline.config.labels), frame.name) + "\n")
            out.flush()
            if tcp:
                tcp.send_line(line)
            emitted += 1
            if opts.count is not None and index >= opts.count:  # --count counts frames read
                break
            fps = opts.fps if opts.fps is not None else pipeline.config.max_fps
            if fps > 0:
                next_slot += 1.0 / fps
                delay = next_slot - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_slot = time.monotonic()
    finally:
        signal.signal(signal.SIGTERM, old_term)
        if tcp:
            tcp.close()
    log(f"stopped{' by signal ' + str(stop['sig']) if stop['sig'] else ''} after {index} frames")
    if emitted == 0 and not stop["sig"]:
        why = f"all {index} frames read were skipped ({skipped[0]})" if skipped else "no frame was read"
        raise HostToolsError(f"no frame was classified: {why}")
    return 0
