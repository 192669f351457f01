"""Put the OpenMV app, a model, its labels and a config on a camera: over a Board link or onto its USB drive.

Everything is checked on the host before the first byte is sent: the config (size, encoding and nesting
limits, then the app's own rules from openmv_app/config.py), the model's input (model_check.py: one int8 or
uint8 image input whose channels match the config's pixel format), one inference in TensorFlow Lite Micro
in a child process (a model that crashes it would hard-fault the camera), the model against the board's
memory on the camera's firmware (the same `model_budget` model the emulator enforces), the labels file.
Then, on the camera (each name is also an `on_step` label):

1. probe   ask the firmware version (the budget is checked for it), list the files and hash (on the device)
           those already in place; identical files are not sent.
2. clean   remove temporaries (`<name>.new`) an earlier interrupted flash may have left.
3. space   os.statvfs: the new files must fit BESIDE the old ones (the old ones stay until the commit).
4. stage   write each changed file as `<name>.new`, chunk by chunk;
   verify  hash it on the device and compare with the host's hash (a mismatch stops, temporary removed).
5. commit  one script, run by the device itself, renames every `<name>.new` onto `<name>`: data files
           (labels, model, config) first, then the app's modules, then main.py LAST.
6. restart reset the camera so that the new main.py runs.

Why this order keeps the previous app runnable: until step 5 nothing the old app reads has changed (only
`.new` files, which no script opens and which `import` cannot name), so an interruption during the long part
(transfer and verification) leaves the old app intact, and the next flash removes the temporaries. Step 5 is
a single script executed on the camera, so losing the link (cable pulled, host killed) cannot stop it
half-way; only a power cut during its few milliseconds of renames could, and then main.py, renamed last, is
still the old one: the data files go first because the old main.py reads them generically (any model with
its labels; a config it rejects leaves it on defaults; a label count that does not match the model makes it
stop with a clear message), and the modules go right before main.py so the window in which an old main.py
could import a new module is as short as possible. Unchanged files are skipped, so a model-only update never
touches the code at all. (MicroPython's FAT driver makes os.rename replace an existing file, as POSIX does.)

Low space: the H7's filesystem is 128 KB, so a new ~90 KB model cannot be staged beside an old one. Then
flash refuses (nothing changed) unless `allow_downtime` is given, which deletes the old copies of the
replaced files first: an interruption in that case leaves the app without them until the next flash.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from host_tools.devices.micropython import Board, DeviceExecError, FsSpace, Progress
from host_tools.errors import DeviceError, HostToolsError, Interrupted, RefusedError, UsageError
from host_tools.model_budget import BOARDS, ModelFit, check_model_fits
from host_tools.model_check import check_input, trial_run
from host_tools.model_manifest import load_manifest
from host_tools.openmv_firmware import DEFAULT, EMULATED, Firmware
from host_tools.paths import MASKS_MODEL, OPENMV_APP_DIR
from host_tools.progress import ProgressBar

TEMP_SUFFIX = ".new"
CHUNK = 1024  # bytes per write script
CONFIG_MAX_BYTES = 4096  # the app's own limit (openmv_app/config.py MAX_BYTES), checked before reading
MODEL_NAME, LABELS_NAME, CONFIG_NAME, MAIN_NAME = "model.tflite", "model.txt", "config.json", "main.py"

Step = Callable[[str], None]  # called before every step ("stage model.tflite 3/12", "commit", ...)


@dataclass(frozen=True)
class Upload:
    name: str  # file name on the camera
    source: Path
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class FlashPlan:
    board: str
    uploads: list[Upload]  # in commit order: data files, modules, main.py last
    model_bytes: int
    arena_bytes: int
    model: Path = MASKS_MODEL
    framesize: str = "QVGA"
    pixformat: str = "RGB565"
    fits: dict[str, ModelFit] = field(default_factory=dict)  # firmware version -> verdict

    @property
    def total_bytes(self) -> int:
        return sum(len(u.data) for u in self.uploads)

    def check_firmware(self, version: str) -> ModelFit:
        """RefusedError if the model does not fit the board on this firmware version."""
        fit = self.fits.get(version) or check_model_fits(self.model, self.board, version, self.framesize,
                                                           self.pixformat)
        self.fits[version] = fit
        if not fit.fits:
            raise RefusedError(_not_fit(self.model, self.board, fit))
        self.arena_bytes = fit.arena_bytes
        return fit


def _check_framesize(plan: FlashPlan, fw: Firmware) -> None:
    """The app rejects a frame size the camera's firmware lacks (4.8+'s csi has no B64X64...): refuse now."""
    names = fw.framesizes("csi" if fw.csi == "ng" else "sensor")
    if plan.framesize not in names:
        raise UsageError(f"config: framesize {plan.framesize} is not available on firmware {fw.name} (it has "
                         f"{', '.join(sorted(n for n in names if len(n) <= 8))}); nothing was sent")


def _not_fit(model: Path, board: str, fit: ModelFit) -> str:
    return (f"model {model} does not fit the {board} on firmware {fit.firmware}: {fit.reason} (model file "
            f"{fit.model_bytes} bytes, tensor arena {fit.arena_bytes} bytes; the {board} has {fit.fs_bytes} "
            f"bytes of filesystem and a {fit.heap_block_bytes}-byte largest heap block); nothing was sent")


@dataclass
class FileReport:
    name: str
    bytes: int
    sha256: str
    status: str  # "written" (sent and verified on the device) or "unchanged" (same hash already there)


@dataclass
class FlashReport:
    target: str
    board: str
    files: list[FileReport]
    bytes_sent: int
    seconds: float
    model_bytes: int
    arena_bytes: int
    restarted: bool
    removed_first: list[str] = field(default_factory=list)  # old copies deleted first (--allow-downtime)
    firmware: str = ""
    notes: list[str] = field(default_factory=list)  # things the user should know (an earlier interruption)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def _app_config_module(app_dir: Path):
    """openmv_app/config.py (plain MicroPython that CPython runs too), or None for an app without one."""
    src = app_dir / "config.py"
    if not src.is_file():
        return None
    spec = importlib.util.spec_from_file_location("_openmv_app_config", src)
    if spec is None or spec.loader is None:
        return None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod if hasattr(mod, "parse") else None


def validate_config(path: Path, labels: list[str] | None = None, app_dir: Path = OPENMV_APP_DIR) -> bytes:
    """The config's bytes if the app would accept it; else a specific UsageError (checked on the host).

    The size is checked before the file is read, and the app's own parser (size, UTF-8, nesting, rules)
    decides; messages quote at most a short excerpt of the file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"config not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read config {path}: {exc.strerror}") from None
    if size > CONFIG_MAX_BYTES:
        raise UsageError(f"config {path} is {size} bytes; the app accepts at most {CONFIG_MAX_BYTES} "
                         "(a config is a few hundred bytes)")
    data = _read(path, "config")[: CONFIG_MAX_BYTES + 1]
    app = _app_config_module(app_dir)
    if app is not None:
        errors = list(app.parse(data, labels or [])[1])
    else:
        errors = _plain_json_errors(data)
    if errors:
        raise UsageError(f"config {path} would be rejected by the app: {'; '.join(errors)}")
    return data


def _plain_json_errors(data: bytes) -> list[str]:
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return [f"not UTF-8 text (byte {exc.start})"]
    except RecursionError:
        return ["nested too deeply"]
    except json.JSONDecodeError as exc:
        return [f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"]
    return [] if isinstance(value, dict) else [f"must be a JSON object ({{...}}), got {type(value).__name__}"]


def config_settings(data: bytes | None) -> tuple[str, str]:
    """(pixformat, framesize) a validated config asks for (the app's defaults where it says nothing)."""
    value = json.loads(data.decode("utf-8")) if data else {}
    return str(value.get("pixformat", "RGB565")), str(value.get("framesize", "QVGA"))


def model_output_count(model: Path) -> int | None:
    """Scores per inference (last dimension of output 0), read with LiteRT; None if it cannot tell."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        shape = Interpreter(model_path=str(model)).get_output_details()[0]["shape"]
    except (ImportError, ValueError, RuntimeError, IndexError):
        return None
    return int(shape[-1]) if len(shape) else None


def plan_flash(
    model: Path = MASKS_MODEL, config: Path | None = None, board: str = "h7", app_dir: Path = OPENMV_APP_DIR,
    firmware: str | None = None,
) -> FlashPlan:
    """Check everything on the host and list the files to send; raises before anything touches the camera.

    firmware: the camera's version if known; else the model must fit at least one supported version and
    flash checks the camera's own version once connected."""
    if board not in BOARDS:
        raise UsageError(f"unknown board {board!r} (known: {', '.join(sorted(BOARDS))})")
    model_data = _read(model, "model")
    manifest = load_manifest(model)
    labels = list(manifest.labels)
    outputs = model_output_count(model)
    if outputs is not None and outputs != len(labels):
        raise UsageError(f"{manifest.source} has {len(labels)} labels but {model.name} gives "
                         f"{outputs} scores (main.py would stop on this); nothing was sent")
    if config is None and (app_dir / CONFIG_NAME).is_file():
        config = app_dir / CONFIG_NAME
    config_data = validate_config(config, labels, app_dir) if config is not None else None
    pixformat, framesize = config_settings(config_data)
    check_input(model, pixformat)
    versions = (firmware,) if firmware else EMULATED
    try:
        fits = {v: check_model_fits(model, board, v, framesize, pixformat) for v in versions}
    except ValueError as exc:  # TFLite Micro cannot load it at all (or crashed doing so)
        raise RefusedError(f"model {model}: {exc}; nothing was sent") from None
    good = [f for f in fits.values() if f.fits]
    if not good:
        worst = fits[firmware or DEFAULT] if (firmware or DEFAULT) in fits else next(iter(fits.values()))
        raise RefusedError(_not_fit(model, board, worst))
    trial_run_cached(model, model_data, good[0].arena_bytes)
    if not (app_dir / MAIN_NAME).is_file():
        raise UsageError(f"app not found: {app_dir / MAIN_NAME}")
    modules = sorted(p for p in app_dir.glob("*.py") if p.name != MAIN_NAME)
    uploads = [Upload(LABELS_NAME, manifest.source, manifest.labels_text())]  # the camera's labels
    uploads.append(Upload(MODEL_NAME, model, model_data))
    if config is not None and config_data is not None:
        uploads.append(Upload(CONFIG_NAME, config, config_data))
    uploads += [Upload(p.name, p, p.read_bytes()) for p in modules]
    uploads.append(Upload(MAIN_NAME, app_dir / MAIN_NAME, (app_dir / MAIN_NAME).read_bytes()))
    fit = fits.get(DEFAULT) or good[0]
    return FlashPlan(board=board, uploads=uploads, model_bytes=fit.model_bytes, arena_bytes=fit.arena_bytes,
                     model=model, framesize=framesize, pixformat=pixformat, fits=fits)


def trial_run_cached(model: Path, data: bytes, arena: int) -> None:
    """model_check.trial_run, remembered per model hash: a model that ran once runs again."""
    from host_tools.model_budget import CACHE_DIR

    mark = CACHE_DIR.parent / "trial" / f"{hashlib.sha256(data).hexdigest()}.ok"
    if mark.is_file():
        return
    trial_run(model, arena)
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(model.name)
    except OSError:
        pass


def _noop(_step: str) -> None:
    pass


class Target(Protocol):
    """Where flash writes: the camera over a Board link, or its USB drive mounted on the host."""

    description: str

    def firmware(self) -> str | None: ...  # the camera's firmware version, None where it cannot be known
    def files(self) -> dict[str, int]: ...  # name -> size, top-level files
    def sha256(self, name: str) -> str: ...  # computed where the file lives (on the camera for a Board)
    def remove(self, name: str) -> None: ...
    def space(self) -> FsSpace | None: ...  # None where it cannot be known
    def write(self, name: str, data: bytes, progress: Progress) -> None: ...
    def commit(self, names: list[str]) -> None: ...  # `<name>.new` -> `<name>`, in this order
    def restart(self) -> bool: ...  # True if the camera was restarted


def commit_script(names: list[str]) -> str:
    """The on-device commit: every `<name>.new` renamed onto `<name>` in the given order (main.py last)."""
    pairs = ",".join(f"({n + TEMP_SUFFIX!r},{n!r})" for n in names)
    return f"import os\nfor a,b in ({pairs},):\n os.rename(a,b)\n"


class BoardTarget:
    def __init__(self, board: Board) -> None:
        self.board = board
        machine = board.machine()
        self.description = f"{machine} via {board.description}" if machine else board.description

    def firmware(self) -> str | None:
        try:
            value = self.board.eval("__import__('omv').version_string()")
        except DeviceError:
            return None
        return value if isinstance(value, str) else None

    def files(self) -> dict[str, int]:
        return {e.name: e.size for e in self.board.ls("") if not e.is_dir}

    def sha256(self, name: str) -> str:
        return self.board.sha256(name)

    def remove(self, name: str) -> None:
        self.board.remove(name)

    def space(self) -> FsSpace | None:
        try:
            return self.board.statvfs(".")
        except DeviceExecError as exc:
            if "AttributeError" not in exc.traceback:
                raise
        print("host_tools: warning: the camera has no os.statvfs; free space not checked", file=sys.stderr)
        return None

    def write(self, name: str, data: bytes, progress: Progress) -> None:
        self.board.write_file(name, data, chunk_size=CHUNK, progress=progress)

    def commit(self, names: list[str]) -> None:
        # One script: it runs to its end on the camera even if the link drops meanwhile.
        self.board.exec(commit_script(names))

    def restart(self) -> bool:
        self.board.reset()
        return True


class DriveTarget:
    """The camera's USB mass-storage drive: fsync'd writes, read back to verify, os.replace to commit."""

    def __init__(self, drive: Path, firmware: str | None = None) -> None:
        if not drive.is_dir():
            raise UsageError(f"drive not found or not a folder: {drive}")
        self.drive = drive
        self.description = f"USB drive {drive}"
        self._firmware = firmware

    def firmware(self) -> str | None:
        return self._firmware

    def files(self) -> dict[str, int]:
        return {p.name: p.stat().st_size for p in self.drive.iterdir() if p.is_file()}

    def sha256(self, name: str) -> str:
        return hashlib.sha256((self.drive / name).read_bytes()).hexdigest()  # read back from the drive

    def remove(self, name: str) -> None:
        (self.drive / name).unlink()

    def space(self) -> FsSpace | None:
        st = os.statvfs(self.drive)
        block = st.f_frsize or st.f_bsize
        return FsSpace(block_size=block, total_blocks=st.f_blocks, free_blocks=st.f_bavail)

    def write(self, name: str, data: bytes, progress: Progress) -> None:
        with open(self.drive / name, "wb") as f:
            for i in range(0, len(data), 64 * 1024):
                f.write(data[i : i + 64 * 1024])
                progress(min(i + 64 * 1024, len(data)), len(data))
            f.flush()
            os.fsync(f.fileno())

    def commit(self, names: list[str]) -> None:
        for n in names:
            os.replace(self.drive / (n + TEMP_SUFFIX), self.drive / n)
        _fsync_dir(self.drive)

    def restart(self) -> bool:
        return False  # the user ejects the drive; the camera runs main.py at its next boot


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the files themselves were fsync'd
    finally:
        os.close(fd)


def _make_room(
    target: Target, space: FsSpace, changed: list[Upload], old_sizes: dict[str, int], allow_downtime: bool
) -> list[str]:
    """Check the new files fit beside the old ones; with allow_downtime, remove old copies until they do.

    Returns the names removed. On the H7 (128 KB filesystem) a new ~90 KB model cannot sit beside the old
    one: the only way is then to delete the old model first, and an interruption leaves the app without it
    until the next flash, hence the explicit opt-in.
    """
    need = sum(space.blocks_for(len(u.data)) for u in changed) + 1  # +1: a directory entry may need a block
    if need <= space.free_blocks:
        return []
    olds = sorted((u.name for u in changed if u.name in old_sizes), key=lambda n: -old_sizes[n])
    reclaimable = space.free_blocks + sum(space.blocks_for(old_sizes[n]) for n in olds)
    if not allow_downtime or need > reclaimable:
        hint = ""
        if olds and need <= reclaimable:
            hint = (f" (--allow-downtime deletes the old {', '.join(olds)} first; the app is then not "
                    "runnable until the flash completes)")
        raise RefusedError(
            f"not enough free space on {target.description}: the new files need {need * space.block_size} "
            f"bytes beside the old ones (replaced only once all are verified), {space.free_bytes} bytes are "
            f"free; nothing was changed{hint}"
        )
    removed, free = [], space.free_blocks
    for n in olds:
        if need <= free:
            break
        target.remove(n)
        removed.append(n)
        free += space.blocks_for(old_sizes[n])
    return removed


def flash(
    target: Target,
    plan: FlashPlan,
    bar: ProgressBar | None = None,
    on_step: Step = _noop,
    restart: bool = True,
    allow_downtime: bool = False,
) -> FlashReport:
    """Probe, clean, check space, stage + verify, commit, restart (the order and why: module docstring).

    If it stops early while the camera still answers (refused, or an error the camera reported), the camera
    is restarted all the same (when `restart`), so that the previous app runs again. On Ctrl-C too, then
    Interrupted (exit 130) says which app the camera runs now.
    """
    stage = {"committing": False, "committed": False}
    try:
        return _flash(target, plan, bar, on_step, restart, allow_downtime, stage)
    except KeyboardInterrupt:
        raise _interrupted(target, restart, stage) from None
    except Exception as exc:
        alive = isinstance(exc, (RefusedError, DeviceExecError, UsageError)) or (
            isinstance(exc, OSError) and not isinstance(exc, HostToolsError))
        if restart and alive:
            try:
                target.restart()
            except (HostToolsError, OSError):
                pass  # the original error is the one to report
        if isinstance(exc, OSError) and not isinstance(exc, HostToolsError):
            name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
            raise DeviceError(f"{target.description} reported {name} ({exc.strerror}) for "
                              f"{exc.filename or 'a file'}; flash stopped") from None
        raise


RESTART_HINT = ("start it with `host_tools stream --port PORT --restart` (or the camera's reset button, or "
                "by unplugging it)")


def _interrupted(target: Target, restart: bool, stage: dict[str, bool]) -> Interrupted:
    """Ctrl-C: restart the camera on whatever app is now complete on it, and say which."""
    if stage["committed"]:
        app = "the new app (every file had been replaced)"
    elif stage["committing"]:
        app = "the new app (the camera finishes the renames it had started on its own)"
    else:
        app = "its previous app (nothing it reads was changed; the next flash removes the .new temporaries)"
    if isinstance(target, DriveTarget):
        return Interrupted(f"interrupted: {app.replace('its previous app', 'the previous app')} is on "
                           f"{target.description}")
    if not restart:
        return Interrupted(f"interrupted (--no-restart): the camera holds {app}, but no app is running; "
                           f"{RESTART_HINT}")
    try:
        target.restart()
    except BaseException:  # noqa: BLE001 - a second Ctrl-C, or the link went away: say so, never hang
        return Interrupted(f"interrupted, and the camera could not be restarted: its app is stopped; it "
                           f"holds {app}; {RESTART_HINT}")
    return Interrupted(f"interrupted: the camera was restarted and runs {app}")


def _flash(
    target: Target, plan: FlashPlan, bar: ProgressBar | None, on_step: Step, restart: bool,
    allow_downtime: bool, stage: dict[str, bool] | None = None,
) -> FlashReport:
    stage = stage if stage is not None else {}
    t0 = time.monotonic()
    names = [u.name for u in plan.uploads]
    on_step("probe")
    version = target.firmware()
    fit = plan.check_firmware(version or DEFAULT)
    _check_framesize(plan, Firmware.of(version or DEFAULT))
    notes = [] if version else [f"the camera's firmware version is unknown: checked against {DEFAULT}"]
    present = target.files()
    old = {n: present[n] for n in names if n in present}
    old_hashes = {n: target.sha256(n) for n in old}
    on_step("clean")
    leftovers = [n + TEMP_SUFFIX for n in names if n + TEMP_SUFFIX in present]
    if leftovers:
        notes.append(f"an earlier flash was interrupted ({', '.join(leftovers)} left behind): the camera's "
                     "app had stayed stopped since; this flash removes them and completes")
    for n in leftovers:
        target.remove(n)
    changed = [u for u in plan.uploads if old_hashes.get(u.name) != u.sha256]
    removed: list[str] = []
    if changed:
        on_step("space")
        space = target.space()
        if space is not None:
            removed = _make_room(target, space, changed, old, allow_downtime)
    sent = 0
    if bar:
        bar.total = sum(len(u.data) for u in changed)
    for u in changed:
        chunks = max(1, -(-len(u.data) // CHUNK))
        base = sent

        def progress(done: int, _total: int, u: Upload = u, base: int = base, chunks: int = chunks) -> None:
            if bar:
                bar.update(base + done, u.name)
            k = -(-done // CHUNK)
            if 0 < k < chunks:
                on_step(f"stage {u.name} {k}/{chunks}")  # between two chunks: a place to inject a failure

        on_step(f"stage {u.name} 0/{chunks}")
        target.write(u.name + TEMP_SUFFIX, u.data, progress)
        sent += len(u.data)
        on_step(f"verify {u.name}")
        got = target.sha256(u.name + TEMP_SUFFIX)
        if got != u.sha256:
            target.remove(u.name + TEMP_SUFFIX)
            raise DeviceError(f"{u.name}: sha256 on {target.description} is {got}, the host's is {u.sha256}; "
                              "the previous files are untouched")
    if changed:
        on_step("commit")
        stage["committing"] = True
        target.commit([u.name for u in changed])
        stage["committed"] = True
        present = target.files()
        wrong = [u.name for u in changed
                 if present.get(u.name) != len(u.data) or u.name + TEMP_SUFFIX in present]
        if wrong:
            raise DeviceError(f"after the commit, {', '.join(wrong)} on {target.description} differ from "
                              "what was sent; run flash again")
    restarted = False
    if restart:
        on_step("restart")
        restarted = target.restart()
    files = [FileReport(u.name, len(u.data), u.sha256, "written" if u in changed else "unchanged")
             for u in plan.uploads]
    return FlashReport(target.description, plan.board, files, sent, round(time.monotonic() - t0, 3),
                       fit.model_bytes, fit.arena_bytes, restarted, removed, fit.firmware, notes)
