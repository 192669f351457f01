"""What a release holds, checked on the host before anything is sent to the board.

A release is the board program, its runtime libraries, the model, its manifest and the config, in the deploy
layout of rv1103_app (bin/rv1103_app, lib/*.so, the model where the config's `model` names it with its
manifest beside it: model/model.rknn and model/model.json, config.json) plus the init script. The manifest
(labels, colour order) is written from the model's card (or labels file); a model brought without either
gets none, and its config must name the labels. Refused here (RefusedError, exit 4, nothing sent):
  - a model that is not an RKNN model, or was compiled for another chip (rknn.py reads its header);
  - a config the board program would reject: the same C++ parser, through camrt (parse_config), with the
    manifest the release carries; a config that contradicts it is refused naming both values;
  - a config whose labels do not match the model's outputs (camrt's check_model_classes);
  - a model path in the config that leaves the release folder.
The board's own checks (free space, the program's architecture) are in flash.py, once connected.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from host_tools import rv1103_config
from host_tools.deploy.rknn import RknnInfo, check_board_model
from host_tools.errors import RefusedError, UsageError
from host_tools.model_manifest import Manifest, board_manifest_json
from host_tools.paths import BUNDLE_ROOT, RV1103_CONFIG

PROGRAM = "bin/rv1103_app"
CONFIG = "config.json"
INIT_SCRIPT_NAME = "S99classifier"
INIT_SCRIPT = BUNDLE_ROOT / "rv1103_app" / "deploy" / INIT_SCRIPT_NAME
ARCHES = ("host", "armv7")
MAX_MODEL_BYTES = 64 << 20  # the RV1103's memory (an RV1106 has 128-256 MB; its models are as small)


@dataclass(frozen=True)
class ReleaseFile:
    path: str  # relative to the release folder
    source: str  # where it came from, for the report
    data: bytes = field(repr=False)
    mode: int = 0o644

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ReleasePlan:
    files: list[ReleaseFile]
    model: Path
    model_info: RknnInfo
    labels: list[str]
    output_port: int
    program_machine: str  # "arm", "x86_64", ... (ELF e_machine of the board program)

    @property
    def total_bytes(self) -> int:
        return sum(len(f.data) for f in self.files)

    @property
    def digest(self) -> str:
        """A short hash of the whole release (names, modes and contents)."""
        h = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.path):
            h.update(f"{f.path}\0{f.mode:o}\0{f.sha256}\n".encode())
        return h.hexdigest()[:8]

    def file(self, path: str) -> ReleaseFile:
        return next(f for f in self.files if f.path == path)


_ELF_MACHINES = {40: "arm", 62: "x86_64", 183: "aarch64", 3: "x86"}


def elf_machine(data: bytes) -> str | None:
    """The CPU an ELF program is built for ("arm", "x86_64", ...); None if it is not an ELF program."""
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    little = data[5] == 1
    machine = int.from_bytes(data[18:20], "little" if little else "big")
    return _ELF_MACHINES.get(machine, f"machine {machine}")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a folder") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


def check_config(path: Path, info: RknnInfo, model: Path, manifest: Manifest | None = None):
    """The config as the board program would parse it (camrt, with the model's manifest), checked against
    the model's outputs."""
    import camrt

    if path.is_file() and path.stat().st_size > camrt.MAX_CONFIG_BYTES:
        raise RefusedError(f"config {path} is {path.stat().st_size} bytes; the board program reads at most "
                           f"{camrt.MAX_CONFIG_BYTES}; nothing was sent")
    data = _read(path, "config")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RefusedError(f"config {path} is not UTF-8 text (byte {exc.start}); nothing was sent") from None
    try:
        config = rv1103_config.parse(text, manifest)
    except camrt.ConfigError as exc:
        hint = ""
        if manifest is None and "'labels' is missing" in str(exc):
            labels_file = model.with_suffix(".txt").name
            hint = (f" (model {model.name} came without a card or labels file {labels_file}, so the config "
                    "must name its classes)")
        raise RefusedError(f"config {path} would be rejected by the board program: {exc}{hint}; nothing was "
                           "sent") from None
    if info.outputs is not None:
        try:
            camrt.check_model_classes(config, info.outputs)
        except camrt.ConfigError as exc:
            raise RefusedError(f"config {path} does not match model {model.name}: {exc}; nothing was "
                               "sent") from None
    if config.output_port == 0:
        raise RefusedError(f"config {path}: \"output_port\": 0 turns off the TCP output that the health "
                           "check (and stream, watch) read; nothing was sent")
    rel = posixpath.normpath(config.model)
    if posixpath.isabs(config.model) or rel.startswith("../") or rel in ("..", ".", CONFIG, PROGRAM):
        raise RefusedError(f"config {path}: \"model\": {config.model!r} must be a file inside the release "
                           "folder (a path relative to config.json, e.g. model/model.rknn); nothing was sent")
    return data, config, rel


def _manifest(model: Path) -> Manifest | None:
    try:
        return rv1103_config.manifest_of(model)
    except UsageError as exc:
        raise RefusedError(f"{exc}; nothing was sent") from None


def program_files(arch: str | None, build: Path | None) -> list[ReleaseFile]:
    """The board program and its runtime libraries: from a deploy folder (`build`, as build_board.sh makes
    it: bin/rv1103_app, lib/*.so) or the static build for `arch` that the emulated board runs."""
    if build is not None:
        if not build.is_dir():
            raise UsageError(f"--build {build}: not a folder (expected a deploy folder: bin/, lib/)")
        files = [ReleaseFile(PROGRAM, str(build / PROGRAM), _read(build / PROGRAM, "board program"), 0o755)]
        lib = build / "lib"
        for so in sorted(lib.glob("*.so*")) if lib.is_dir() else []:
            files.append(ReleaseFile(f"lib/{so.name}", str(so), _read(so, "runtime library")))
        return files
    from host_tools.sim.rv1103.app_binary import find_app

    exe = find_app(arch or "host")
    return [ReleaseFile(PROGRAM, str(exe), _read(exe, "board program"), 0o755)]


def plan_release(model: Path, config: Path | None = None, arch: str | None = "host",
                 build: Path | None = None) -> ReleasePlan:
    """Check everything on the host and list the release's files; raises before anything is sent."""
    info = check_board_model(model)
    if model.stat().st_size > MAX_MODEL_BYTES:  # checked before the file is read
        raise RefusedError(f"model {model} is {model.stat().st_size >> 20} MiB: more than the RV1103's "
                           f"whole {MAX_MODEL_BYTES >> 20} MiB of memory, which the NPU loads it into; "
                           "nothing was sent")
    config = config if config is not None else RV1103_CONFIG
    manifest = _manifest(model)
    config_data, parsed, model_rel = check_config(config, info, model, manifest)
    files = program_files(arch, build)
    machine = elf_machine(files[0].data)
    if machine is None:
        raise RefusedError(f"{files[0].source} is not a Linux program (not ELF); nothing was sent")
    files += [ReleaseFile(model_rel, str(model), _read(model, "model")),
              ReleaseFile(CONFIG, str(config), config_data),
              ReleaseFile(INIT_SCRIPT_NAME, str(INIT_SCRIPT), _read(INIT_SCRIPT, "init script"), 0o755)]
    if manifest is not None:
        import camrt

        manifest_rel = camrt.manifest_path_for(model_rel)
        if manifest_rel in ("", *(f.path for f in files)):
            where = manifest_rel or "a .json next to the model"
            raise RefusedError(f"config {config}: \"model\": {parsed.model!r} leaves no room for its "
                               f"manifest beside it (the board reads {where}); name the model e.g. "
                               "model/model.rknn; nothing was sent")
        files.append(ReleaseFile(manifest_rel, str(manifest.source), board_manifest_json(manifest)))
    return ReleasePlan(files, model, info, list(parsed.labels), parsed.output_port, machine)
