"""The emulated RV1103's NPU: a tensor service that runs the board's model in a real runtime on this host.

rv1103_app's pipe engine (and, later, any C client) sends it the model file and input tensors in the
tensor protocol (tensor_protocol.py) and gets the scores back. Two runtimes:

  onnx       ONNX Runtime on the model's ONNX twin (int8 QDQ for a .rknn), with the model card's
             normalisation done on the CPU, as the NPU would do it with its fused mean/std.
  rknn-sim   the RKNN toolkit's x86 simulator (only inside its own venv, .venv-rknn). It cannot load a .rknn,
             so the int8 rv1103 model is built from the twin's float ONNX when first opened: by the model
             folder's own rknn_sim_server.py when there is one (the bird recipe: the same calibration as the
             board's .rknn), else from --calib tensors.

A .rknn cannot run on x86: the service finds the twin of the model it is sent by content hash, among the
files the model cards under models/ list (see Catalogue). An empty OPEN runs the default model (--model).

Run it as a script (it imports only the standard library, numpy, the runtime and two small modules of this
package, so it also runs in .venv-rknn):
  tensor_server.py --runtime onnx [--model M.onnx] --listen SOCKET   one JSON line on stdout once listening
  tensor_server.py --runtime onnx --model M.onnx                     the protocol on stdin/stdout
Everything else (toolkit chatter included) goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import socket
import socketserver
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import host_tools  # noqa: F401
except ImportError:  # run by path from a source checkout in another venv (.venv-rknn)
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from host_tools.sim.rv1103 import tensor_protocol as tp  # noqa: E402
from host_tools.sim.rv1103.model_twin import ModelTwin, card_twin_onnx, load_twin, read_card  # noqa: E402

RUNTIMES = ("onnx", "rknn-sim")
RECIPE_SIMULATOR = "rknn_sim_server.py"  # a model folder's own simulator build (the bird recipe has one)


@dataclass
class Preproc:
    """How the uint8 NHWC tensor the pipeline wrote becomes the model's float input."""

    mean: tuple[float, float, float]  # on the 0..255 scale, in the tensor's channel order
    std: tuple[float, float, float]


@dataclass
class Served:
    h: int
    w: int
    c: int
    classes: int
    runtime: str
    note: str
    infer: Callable[[np.ndarray], np.ndarray]  # uint8 HxWxC -> float32 scores


def _floats3(text: str, what: str) -> tuple[float, float, float]:
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 3:
        raise ValueError(f"{what} needs three comma-separated numbers, got {text!r}")
    return (float(parts[0]), float(parts[1]), float(parts[2]))


def open_onnx(model: Path, pre: Preproc, threads: int = 1) -> Served:
    """ONNX Runtime on the ONNX twin; the input may be NCHW or NHWC float (or uint8 for a fused model)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = list(inp.shape)
    if len(shape) != 4:
        raise ValueError(f"{model.name}: input {inp.name} has shape {shape}, expected 4-D NCHW or NHWC")
    nchw = shape[1] in (1, 3)
    h, w, c = (shape[2], shape[3], shape[1]) if nchw else (shape[1], shape[2], shape[3])
    if not all(isinstance(v, int) and v > 0 for v in (h, w, c)):
        raise ValueError(f"{model.name}: input shape {shape} must have fixed H, W, C")
    out = sess.get_outputs()[0]
    n_cls = int(np.prod([d for d in out.shape if isinstance(d, int)]))
    is_float = "float" in inp.type
    mean = np.asarray(pre.mean[:c], np.float32)
    inv_std = 1.0 / np.asarray(pre.std[:c], np.float32)

    def infer(x: np.ndarray) -> np.ndarray:
        t = (x.astype(np.float32) - mean) * inv_std if is_float else x
        t = np.transpose(t, (2, 0, 1)) if nchw else t
        y = sess.run([out.name], {inp.name: t[None]})[0]
        return np.asarray(y, np.float32).reshape(-1)

    note = f"ONNX Runtime CPU on {model.name}"
    return Served(h, w, c, n_cls, f"onnxruntime {ort.__version__}", note, infer)


def _toolkit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rknn-toolkit2")
    except PackageNotFoundError:
        return "?"


def open_rknn_sim(model: Path, pre: Preproc, calib: list[Path], h: int, w: int) -> Served:
    """Build an int8 rv1103 .rknn from the ONNX model now and run it on the toolkit's x86 simulator."""
    from rknn.api import RKNN  # only inside the optional .venv-rknn

    if not 1 <= len(calib) <= 200:
        raise ValueError(f"rknn-sim needs 1..200 calibration tensors (--calib), got {len(calib)}")
    rk = RKNN(verbose=False)
    rk.config(mean_values=[list(pre.mean)], std_values=[list(pre.std)], target_platform="rv1103",
              quantized_algorithm="mmse")
    if rk.load_onnx(model=str(model)) != 0:
        raise RuntimeError(f"rknn load_onnx failed for {model}")
    with tempfile.TemporaryDirectory(prefix="rknn-sim-") as tmp:
        # Calibration as .npy tensors already in the model's colour order: no decoder guesses the order.
        lines = []
        for i, p in enumerate(calib):
            arr = np.load(p) if p.suffix == ".npy" else None
            if arr is None or arr.shape != (h, w, 3) or arr.dtype != np.uint8:
                raise ValueError(f"calibration tensor {p} must be a uint8 {h}x{w}x3 .npy")
            dst = Path(tmp) / f"c{i:03d}.npy"
            # The toolkit wants calibration arrays in the ONNX model's own layout: 1x3xHxW, raw 0..255.
            np.save(dst, np.ascontiguousarray(arr.transpose(2, 0, 1)[None]).astype(np.float32))
            lines.append(str(dst))
        listing = Path(tmp) / "dataset.txt"
        listing.write_text("\n".join(lines) + "\n")
        if rk.build(do_quantization=True, dataset=str(listing)) != 0:
            raise RuntimeError("rknn build (int8, mmse, rv1103) failed")
    if rk.init_runtime() != 0:
        raise RuntimeError("rknn init_runtime (x86 simulator) failed")
    probe = rk.inference(inputs=[np.zeros((1, h, w, 3), np.uint8)], data_format="nhwc")
    n_cls = int(np.asarray(probe[0]).size)

    def infer(x: np.ndarray) -> np.ndarray:
        y = rk.inference(inputs=[x[None]], data_format="nhwc")[0]
        return np.asarray(y, np.float32).reshape(-1)

    v = _toolkit_version()
    note = (f"RKNN toolkit {v} x86 simulator, int8 rv1103 model built from {model.name} at start-up "
            f"({len(calib)} calibration images)")
    return Served(h, w, 3, n_cls, f"rknn-toolkit2 {v} simulator", note, infer)


def open_recipe_simulator(recipe: Path, float_onnx: Path, work: Path) -> Served:
    """The model folder's own simulator build: `rknn_simulator(onnx, work)` -> (side, infer, note)."""
    sys.path.insert(0, str(recipe.parent))  # the recipe imports its sibling modules
    spec = importlib.util.spec_from_file_location(f"_recipe_{recipe.parent.name}", recipe)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {recipe}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    side, infer, note = mod.rknn_simulator(float_onnx, work / f"{recipe.parent.name}-rknn-sim")
    probe = np.asarray(infer(np.zeros((side, side, 3), np.uint8)))
    runtime = f"rknn-toolkit2 {_toolkit_version()} simulator"
    return Served(side, side, 3, int(probe.size), runtime, note, infer)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Catalogue:
    """Models by content hash: every .rknn and ONNX file a model card lists, mapped to its ONNX twin.

    A card is `<name>.json` in a folder under `models_dir` that lists its files in "files_bytes"; its twin
    is `<name>_int8.onnx` (else `<name>.onnx`) beside it, with the card's labels and normalisation.
    Hashes are computed on first use and cached by (path, size, mtime).
    """

    def __init__(self, models_dir: Path | None, extra: list[ModelTwin] = ()) -> None:
        self.entries: list[tuple[Path, ModelTwin]] = []  # (a file that stands for the model, its twin)
        for twin in extra:
            self._add(twin.onnx, twin)
        if models_dir is not None and models_dir.is_dir():
            for card_path in sorted(models_dir.glob("*/*.json")):
                self._add_card(card_path)
        self._hashes: dict[tuple[Path, int, int], str] = {}
        self._lock = threading.Lock()

    def _add(self, path: Path, twin: ModelTwin) -> None:
        if path.is_file() and all(p != path for p, _ in self.entries):
            self.entries.append((path, twin))

    def _add_card(self, card_path: Path) -> None:
        try:
            card = read_card(card_path)
        except Exception:  # not a card (or unreadable): nothing to add
            return
        files = card.get("files_bytes")
        if not isinstance(files, dict):
            return
        onnx = card_twin_onnx(card_path)
        if not onnx.is_file():
            return
        try:
            twin = load_twin(onnx)
        except Exception:
            return
        for fname in files:
            if fname.endswith((".rknn", ".onnx")):
                self._add(card_path.parent / fname, twin)

    def _hash(self, path: Path) -> str:
        st = path.stat()
        key = (path, st.st_size, st.st_mtime_ns)
        with self._lock:
            if key not in self._hashes:
                self._hashes[key] = sha256_file(path)
            return self._hashes[key]

    def find(self, sha256: str, size: int) -> tuple[Path, ModelTwin] | None:
        for path, twin in self.entries:
            try:
                if path.stat().st_size == size and self._hash(path) == sha256:
                    return path, twin
            except OSError:
                continue
        return None


class TensorService:
    """Opens models (cached by content hash) and serves protocol connections."""

    def __init__(self, runtime: str = "onnx", catalogue: Catalogue | None = None,
                 default: ModelTwin | None = None, calib: list[Path] = (), threads: int = 1,
                 work: Path | None = None) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
        self.runtime = runtime
        self.catalogue = catalogue or Catalogue(None)
        self.default = default
        self.calib = list(calib)
        self.threads = threads
        self.work = work or Path(tempfile.gettempdir()) / "rknn-sim-work"  # the recipe's calibration files
        self._served: dict[Path, Served] = {}  # by twin: a .rknn and its ONNX twin share one runtime
        self._lock = threading.Lock()  # one model build at a time; a simulator run is not re-entrant
        self._run_locks: dict[Path, threading.Lock] = {}

    def _serve_twin(self, twin: ModelTwin) -> Served:
        pre = Preproc(twin.mean, twin.std)
        if self.runtime == "onnx":
            return open_onnx(twin.onnx, pre, self.threads)
        if twin.float_onnx is None:
            raise ValueError(f"the RKNN simulator builds from the float ONNX beside {twin.onnx.name}; "
                             "none found")
        recipe = twin.float_onnx.parent / RECIPE_SIMULATOR
        if not self.calib and recipe.is_file():
            return open_recipe_simulator(recipe, twin.float_onnx, self.work)
        probe = open_onnx(twin.float_onnx, pre)  # the ONNX twin tells the input size
        return open_rknn_sim(twin.float_onnx, pre, self.calib, probe.h, probe.w)

    def open(self, model: bytes) -> tuple[Served, dict, Path]:
        """(served model, description for MODL, key for the run lock) for a model file's bytes."""
        sha = hashlib.sha256(model).hexdigest() if model else ""
        if not model:
            if self.default is None:
                raise LookupError("no model was sent and this tensor service has no default model")
            twin, what = self.default, self.default.onnx.name
        else:
            hit = self.catalogue.find(sha, len(model))
            if hit is None:
                raise LookupError(
                    f"unknown model ({len(model)} bytes, sha256 {sha[:16]}...): no model card under models/ "
                    "lists a file with this content, so its ONNX twin cannot be found (a .rknn cannot "
                    "run on x86; the emulated NPU runs the twin the card names)")
            path, twin = hit
            what = path.name
        key = twin.onnx
        with self._lock:
            if key not in self._served:
                self._served[key] = self._serve_twin(twin)
                self._run_locks[key] = threading.Lock()
            served = self._served[key]
        note = served.note if what == twin.onnx.name else f"{served.note} (twin of {what})"
        about = {"runtime": served.runtime, "note": note, "model": what, "sha256": sha,
                 "twin": twin.onnx.name, "labels": twin.labels}
        return served, about, key

    def handle(self, read_exact: Callable[[int], bytes | None], write: Callable[[bytes], None]) -> None:
        """One connection: OPEN, then RUN requests, until QUIT or the end of the stream."""
        served: Served | None = None
        key = Path()
        while True:
            msg = tp.read_message(read_exact)
            if msg is None or msg[0] == tp.QUIT:
                return
            tag, payload = msg
            if tag == tp.OPEN:
                try:
                    served, about, key = self.open(payload)
                except Exception as exc:  # any start-up failure goes back to the client, which exits
                    write(tp.encode(tp.FAIL, f"{type(exc).__name__}: {exc}".encode()))
                    return
                info = tp.ModelInfo(served.h, served.w, served.c, served.classes, about)
                write(tp.encode(tp.MODL, tp.encode_model_info(info)))
            elif tag == tp.RUN:
                write(self._run(served, key, payload))
            else:
                write(tp.encode(tp.FAIL, f"unexpected {tag.decode()} from a client".encode()))

    def _run(self, served: Served | None, key: Path, payload: bytes) -> bytes:
        if served is None:
            return tp.encode(tp.FAIL, b"RUN before OPEN: open a model first")
        n = served.h * served.w * served.c
        if len(payload) != n:
            msg = (f"input of {len(payload)} bytes, the model takes {n} "
                   f"(uint8 NHWC {served.h}x{served.w}x{served.c})")
            return tp.encode(tp.FAIL, msg.encode())
        x = np.frombuffer(payload, np.uint8).reshape(served.h, served.w, served.c)
        try:
            with self._run_locks[key]:
                scores = np.asarray(served.infer(x), "<f4").reshape(-1)
        except Exception as exc:
            return tp.encode(tp.FAIL, f"inference failed: {type(exc).__name__}: {exc}".encode())
        if scores.size != served.classes:
            return tp.encode(tp.FAIL, f"model gave {scores.size} scores, announced {served.classes}".encode())
        return tp.encode(tp.OUT, scores.tobytes())

    def listen(self, path: Path) -> UnixService:
        """Serve on a unix socket at `path` (replaced if stale), one thread per connection."""
        return UnixService(self, path)


class UnixService:
    def __init__(self, service: TensorService, path: Path) -> None:
        self.path = Path(path)
        with_service = service

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                try:
                    with_service.handle(tp.recv_exact(sock), sock.sendall)
                except (OSError, tp.ProtocolError) as exc:
                    print(f"tensor service: client dropped: {exc}", file=sys.stderr, flush=True)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        if self.path.is_socket():
            self.path.unlink()
        self.server = Server(str(self.path), Handler)
        os.chmod(self.path, 0o666)  # the board's processes may run as another user (user namespace)
        self.thread = threading.Thread(target=self.server.serve_forever, name="tensor-service", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        try:
            self.path.unlink()
        except OSError:
            pass


def _take_stdout() -> Callable[[bytes], None]:
    """The real stdout, for the protocol or the ready line; fd 1 itself then points at stderr, so whatever
    a library prints (the RKNN toolkit prints a lot) cannot mix with it."""
    tx = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def write(data: bytes) -> None:
        tx.write(data)
        tx.flush()

    return write


def _stdin_reader() -> Callable[[int], bytes | None]:
    rx = sys.stdin.buffer

    def read(n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            chunk = rx.read(n - len(buf))
            if not chunk:
                return bytes(buf) if buf else None
            buf += chunk
        return bytes(buf)

    return read


def _default_models_dir() -> Path:
    try:
        from host_tools.paths import MODELS_DIR  # needs platformdirs, which the RKNN venv may lack
    except ImportError:
        return Path(__file__).resolve().parents[3] / "models"
    return MODELS_DIR


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtime", choices=RUNTIMES, default="onnx")
    ap.add_argument("--model", type=Path, help="default model: an ONNX twin (with its card beside it)")
    ap.add_argument("--models-dir", type=Path, default=_default_models_dir(),
                    help="where the model cards live (default: the package's models/)")
    ap.add_argument("--work", type=Path, help="rknn-sim: a folder for the recipe's calibration files")
    ap.add_argument("--mean", help="per-channel mean on the 0..255 scale (default: the model card's)")
    ap.add_argument("--std", help="per-channel std on the 0..255 scale (default: the model card's)")
    ap.add_argument("--calib", type=Path, nargs="*", default=[], help="rknn-sim: uint8 HxWx3 .npy tensors")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--listen", type=Path, help="unix socket to serve on (default: stdin/stdout)")
    ap.add_argument("--preload", action="store_true", help="open the default model before serving")
    args = ap.parse_args(argv)
    write, read = _take_stdout(), _stdin_reader()
    try:
        default = load_twin(args.model) if args.model else None
        if default is not None and (args.mean or args.std):
            default.mean = _floats3(args.mean, "--mean") if args.mean else default.mean
            default.std = _floats3(args.std, "--std") if args.std else default.std
        service = TensorService(args.runtime, Catalogue(args.models_dir, [default] if default else []),
                                default, args.calib, args.threads, args.work)
        about = service.open(b"")[1] if args.preload and default else {}
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        print(f"tensor service: {error}", file=sys.stderr, flush=True)
        if args.listen is not None:
            write((json.dumps({"ready": False, "error": error}) + "\n").encode())
        else:  # the client speaks first: its OPEN gets the reason
            try:
                if tp.read_message(read) is not None:
                    write(tp.encode(tp.FAIL, error.encode()))
            except (OSError, tp.ProtocolError):
                pass
        return 1
    if args.listen is None:
        try:
            service.handle(read, write)
        except (BrokenPipeError, tp.ProtocolError) as exc:
            print(f"tensor service: client gone: {exc}", file=sys.stderr)
        return 0
    unix = service.listen(args.listen)
    write((json.dumps({"ready": True, "socket": str(args.listen), **about}) + "\n").encode())
    try:  # serve until stdin closes (the parent went away) or a signal
        sys.stdin.buffer.read()
    except KeyboardInterrupt:
        pass
    finally:
        unix.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
