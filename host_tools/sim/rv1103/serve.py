"""`host_tools sim rv1103 --serve`: an emulated Luckfox Pico that the real adb client and SSH clients reach.

What runs, and where it differs from a board:
  board filesystem   a device root folder (rootfs.py): BusyBox, /etc/init.d, /userdata, /var/log, /proc
  processes          BusyBox init and everything it starts, in the board's own namespaces (machine.py)
  board program      the real rv1103_app (host build, or the ARMv7 build under qemu-arm-static), started by
                     its init script at boot, exactly as on a board
  camera             emulated: the frame folder, delivered through a FIFO (camera.py)
  NPU                emulated: the tensor service on a unix socket (npu.py), running the ONNX twin of the
                     deployed .rknn (found by content hash through the model cards) or the RKNN simulator
  adb                adbd.py on 127.0.0.1 (the USB link of a real board)
  ssh                sshd.py on 127.0.0.1 (the network link), key authentication only
  /proc figures      a single-core 64 MB board's view of the board processes' use of this host (procfs.py)
The board's differences (camera, NPU, qemu) are told to the classifier's init script by the board's own
/etc/default/classifier, never by the files a deploy pushes.

It prints ONE JSON line on stdout once the board has booted and both daemons listen, registers itself for
`host_tools devices`, and serves until SIGTERM or Ctrl-C, then shuts the board down cleanly (init runs the
stop scripts).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from host_tools import rv1103_config
from host_tools.devices import registry
from host_tools.errors import HostToolsError, UsageError
from host_tools.model_manifest import board_manifest_json
from host_tools.paths import BUNDLE_ROOT, MODELS_DIR, RV1103_CONFIG, RV1103_SAMPLE_FRAMES
from host_tools.sim.rv1103 import rootfs
from host_tools.sim.rv1103.app_binary import find_app
from host_tools.sim.rv1103.camera import Camera
from host_tools.sim.rv1103.frames import list_images, open_frames
from host_tools.sim.rv1103.keys import board_keys, write_known_hosts
from host_tools.sim.rv1103.machine import Machine
from host_tools.sim.rv1103.model_twin import ModelTwin, card_board_model, default_card
from host_tools.sim.rv1103.npu import start_npu
from host_tools.sim.rv1103.procfs import ProcFigures
from host_tools.sim.rv1103.tensor_server import Catalogue, sha256_file

DEVICE = "sim:rv1103"
INIT_SCRIPT = BUNDLE_ROOT / "rv1103_app" / "deploy" / "S99classifier"


@dataclass
class ServeOptions:
    root: Path | None = None  # None: a temporary one, removed at the end
    frames: Path | None = None  # None: rv1103_app/sample_frames
    model: Path | None = None  # the .rknn to install; None: the default model card's
    models_dir: Path = MODELS_DIR
    config: Path = RV1103_CONFIG
    engine: str = "onnx"
    calib: Path | None = None
    arch: str = "host"
    bind: str = "127.0.0.1"
    adb_port: int = 0
    ssh_port: int = 0
    confine: str = "auto"
    bare: bool = False  # no board program installed (a fresh board for flash)
    preview: float = 1.0  # seconds between the board program's JPEG previews (0: none)
    fps: float | None = None  # the camera's frame rate (None: as fast as the program reads)


def board_model(model: Path | None, models_dir: Path) -> tuple[Path, ModelTwin]:
    """The .rknn for the board and its ONNX twin (the card that lists it names the twin)."""
    if model is None:
        model = card_board_model(default_card())
        if model is None:
            raise UsageError(f"the default model card {default_card()} lists no .rknn that exists here (an "
                             "installed package carries no board model); give --model M.rknn")
    if not model.is_file():
        raise UsageError(f"--model {model}: no such file")
    hit = Catalogue(models_dir).find(sha256_file(model), model.stat().st_size)
    if hit is None:
        raise UsageError(f"--model {model}: no model card under {models_dir} lists this file, so the "
                         "emulated NPU cannot find its ONNX twin (a .rknn cannot run on this host)")
    return model, hit[1]


def _log(msg: str) -> None:
    print(f"sim rv1103: {msg}", file=sys.stderr, flush=True)


def _terminate(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _board_manifest(config: Path, twin: ModelTwin) -> bytes | None:
    """The manifest installed beside the board's model (as a deploy writes it). A config that contradicts it
    is refused before the board starts, in the board program's words."""
    manifest = rv1103_config.manifest_of(twin.onnx)
    why = rv1103_config.contradiction(config, manifest)
    if why:
        raise UsageError(f"--config {config}: {why}")
    return board_manifest_json(manifest) if manifest is not None else None


UNIX_PATH_MAX = 107  # Linux: sun_path holds 108 bytes, the last one the terminating NUL


def serve(opts: ServeOptions) -> int:
    for value, what in ((opts.adb_port, "--adb-port"), (opts.ssh_port, "--ssh-port")):
        if not 0 <= value <= 65535:
            raise UsageError(f"{what} must be in 0..65535, got {value}")
    frames_path = opts.frames or RV1103_SAMPLE_FRAMES
    frames = open_frames(frames_path, loop=True)
    model, twin = board_model(opts.model, opts.models_dir)
    if not opts.config.is_file():
        raise UsageError(f"--config {opts.config}: no such file")
    manifest = _board_manifest(opts.config, twin)
    calib = list_images(opts.calib)[:50] if opts.calib else []
    rootfs.find_busybox()
    program = None if opts.bare else find_app(opts.arch)
    temp = None
    if opts.root is None:
        temp = Path(tempfile.mkdtemp(prefix="luckfox-"))
        root, host_dir = temp / "root", temp / "host"
    else:
        root = opts.root.resolve()
        host_dir = Path(str(root) + ".host")
        npu_socket = root / rootfs.NPU_SOCKET.lstrip("/")
        if len(bytes(npu_socket)) > UNIX_PATH_MAX:  # checked before anything is made under the root
            raise UsageError(f"--root {opts.root}: too long for an emulated board: its NPU socket "
                             f"{npu_socket} would be {len(bytes(npu_socket))} bytes, and a unix socket's "
                             f"path may have at most {UNIX_PATH_MAX}; choose a shorter --root")
    for folder in (root, host_dir):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--root {opts.root}: {folder} exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
    lock = open(host_dir / "lock", "w")  # noqa: SIM115 - held while the board runs
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise UsageError(f"--root {root} is in use by another emulated board") from None
    cleanup: list = [lock.close]
    # SIGTERM while starting up: unwind through the cleanup below (asyncio takes it over once serving).
    previous = signal.signal(signal.SIGTERM, _terminate)
    cleanup.append(lambda: signal.signal(signal.SIGTERM, previous))
    try:
        rootfs.make_root(root)
        rootfs.make_devices(root)
        app_dir = root / rootfs.APP_DIR.lstrip("/")
        if program is not None and not (app_dir / "bin" / "rv1103_app").exists():
            rootfs.install_app(root, program, opts.config, model, INIT_SCRIPT, manifest)
        rootfs.write_board_env(root, rootfs.install_qemu(root) if opts.arch == "armv7" else "", opts.preview)
        host_key, client_key = board_keys(root, host_dir)
        camera = Camera(frames, root / rootfs.CAMERA.lstrip("/"), fps=opts.fps).start()
        cleanup.append(camera.stop)
        deployed = app_dir / "model" / "model.rknn"
        socket_path = root / rootfs.NPU_SOCKET.lstrip("/")
        try:  # the deployed model is opened now, so that the board program does not wait for it
            model_bytes = deployed.read_bytes() if deployed.is_file() else None
            npu = start_npu(socket_path, opts.engine, twin, model_bytes, opts.models_dir, calib)
        except UsageError as exc:  # a model nobody knows: the board boots, its program will fail to open it
            _log(f"warning: the board's {deployed.relative_to(root)}: {exc}")
            npu = start_npu(socket_path, opts.engine, twin, None, opts.models_dir, calib)
        cleanup.append(npu.close)
        machine = Machine(root, opts.confine, console_log=host_dir / "console.log")
        figures = ProcFigures(root, machine.board_pids).start()
        cleanup.append(figures.stop)
        machine.boot()
        cleanup.append(machine.shutdown)
        about = {"frames": str(frames_path), "model": model.name, "engine": npu.description,
                 "arch": opts.arch, "confine": machine.mode}
        return asyncio.run(_serve(machine, figures, host_key, client_key, root, host_dir, opts, about))
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception as exc:  # keep shutting the rest down
                _log(f"shutdown: {type(exc).__name__}: {exc}")
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


async def _serve(machine: Machine, figures: ProcFigures, host_key, client_key: Path, root: Path,
                 host_dir: Path, opts: ServeOptions, about: dict) -> int:
    from host_tools.sim.rv1103.adbd import AdbDaemon
    from host_tools.sim.rv1103.sshd import BoardSSH

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    adbd, sshd = AdbDaemon(machine), BoardSSH(machine, host_key)
    try:
        adb_port = await adbd.start(opts.bind, opts.adb_port)
        ssh_port = await sshd.start(opts.bind, opts.ssh_port)
    except OSError as exc:
        raise HostToolsError(f"cannot listen on {opts.bind}: {exc.strerror or exc}") from None
    known_hosts = write_known_hosts(host_dir, opts.bind, ssh_port, host_key)
    info = {"adb": f"{opts.bind}:{adb_port}", "ssh": f"root@{opts.bind}:{ssh_port}",
            "ssh_key": str(client_key), "ssh_known_hosts": str(known_hosts), "root": str(root),
            "device": DEVICE, "emulated": True, **about}
    entry = registry.register(info)
    try:
        print(json.dumps(info), flush=True)
        _log(f"EMULATED Luckfox Pico (RV1103) up: adb connect {info['adb']}  |  ssh -i {client_key} "
             f"-p {ssh_port} root@{opts.bind}  |  device root {root}. The board program runs with an "
             f"emulated camera ({about['frames']}) and NPU ({about['engine']}); figures are this host's, "
             "not a board's.")
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except asyncio.TimeoutError:
                pass
            if not stop.is_set() and not machine.running():  # `reboot` on the board: power it up again
                _log("the board went down (reboot); booting it again")
                figures.boot = time.monotonic()  # a new uptime
                await loop.run_in_executor(None, machine.boot)
        _log("stopping: shutting the board down")
    finally:
        registry.unregister(entry)
        await adbd.close()
        await sshd.close()
    return 0
