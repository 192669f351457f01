"""`host_tools flash` and `host_tools rollback` for an RV1103 board: the command side of host_tools/deploy."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
from pathlib import Path

from host_tools.devices.names import DeviceName
from host_tools.errors import DeviceError, UsageError
from host_tools.paths import REPO_ROOT

BOARD_BUILD = REPO_ROOT / "build" / "rv1103" / "deploy"  # what rv1103_app/build_board.sh makes


def default_model() -> Path:
    from host_tools.sim.rv1103.model_twin import card_board_model, default_card

    model = card_board_model(default_card())
    if model is None:
        raise UsageError("no default .rknn model here (an installed package has none): give --model M.rknn")
    return model


def _check_numbers(args: argparse.Namespace) -> None:
    if args.keep < 1:
        raise UsageError(f"--keep must be at least 1 (the running release), got {args.keep}")
    if args.health_lines < 1:
        raise UsageError(f"--health-lines must be at least 1, got {args.health_lines}")
    if not 0 < args.health_timeout <= 3600:
        raise UsageError(f"--health-timeout must be in (0, 3600] seconds, got {args.health_timeout}")


def _program_source(args: argparse.Namespace, device) -> tuple[str | None, Path | None]:
    """(arch, build): the board program to send, from the options or what the board is."""
    if args.build is not None or args.arch is not None:
        return args.arch, args.build
    if device.emulated:
        env = device.fs.run(["cat", "/etc/default/classifier"], check=False).output
        return ("armv7" if "qemu-arm" in env else "host"), None
    if (BOARD_BUILD / "bin" / "rv1103_app").is_file():
        return None, BOARD_BUILD
    raise UsageError(f"no board build to send: build one with rv1103_app/build_board.sh (it makes "
                     f"{BOARD_BUILD}) and give --build DIR, or --arch armv7 for the static ARMv7 build "
                     "without the RKNN engine")


@contextlib.contextmanager
def board_lock(device):
    """One flash or rollback per board from this machine at a time: a second one is refused at once (two
    would race for `current`). A lock file per board in the user state folder, released when the process
    ends, however it ends."""
    import fcntl

    from host_tools.paths import state_dir

    folder = state_dir("deploy-locks")
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(device.link.description.encode()).hexdigest()[:16]
    with open(folder / f"{key}.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeviceError(f"another flash or rollback to {device.link.description} is running on this "
                              "machine; wait for it to finish") from None
        yield


def _step_printer():
    from host_tools import console

    return lambda step: console.detail(f"flash: {step}")


def flash_linux(args: argparse.Namespace, name: DeviceName) -> int:
    from host_tools import console
    from host_tools.deploy.flash import DeploymentFailed, deploy
    from host_tools.deploy.rknn import check_board_model
    from host_tools.devices.connect import open_device
    from host_tools.progress import ProgressBar

    _check_numbers(args)
    if args.drive is not None:
        raise UsageError("--drive is for OpenMV cameras")
    model = args.model or default_model()
    check_board_model(model)  # the cheap refusals, before connecting
    device = open_device(name)
    try:
        arch, build = _program_source(args, device)
        plan, kept = _plan(device, model, args.config, arch, build)
        bar = ProgressBar(plan.total_bytes, enabled=not console.quiet())
        try:
            with board_lock(device):
                report = deploy(device, plan, keep=args.keep, lines=args.health_lines,
                                timeout=args.health_timeout, bar=bar, step=_step_printer())
        except DeploymentFailed as exc:
            return _failed(args, exc)
        finally:
            bar.close()
    finally:
        device.close()
    if kept:
        print(f"host_tools: note: {kept}", file=sys.stderr)
    for note in report.cleaned:
        print(f"host_tools: note: removed what an interrupted flash left: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"ok": True, **json.loads(report.to_json())}))
        return 0
    for f in report.files:
        print(f"verified  {f['path']:22s} {f['bytes']:9d} B  sha256 {f['sha256'][:16]}")
    h = report.health
    board = f"{'EMULATED ' if report.emulated else ''}RV1103"
    print(f"flashed {report.device} ({board}): release {report.release} "
          f"({report.bytes_sent} B sent and verified on the board) replaces {report.previous or 'nothing'}; "
          f"healthy: {h['lines']} result lines in {h['seconds']:.1f} s; total {report.seconds:.1f} s")
    if report.removed:
        print(f"removed old releases: {', '.join(report.removed)}")
    return 0


def _plan(device, model: Path, config: Path | None, arch: str | None, build: Path | None):
    """The release to send, and a note on the config. Without --config the board's own config is kept
    (thresholds a technician tuned survive a new model or program) when it suits the new model; otherwise
    the default config, saying why."""
    import tempfile

    from host_tools.deploy.plan import plan_release
    from host_tools.errors import DeviceError, RefusedError

    if config is not None:
        return plan_release(model, config, arch, build), ""
    try:
        running = device.read_config()
    except DeviceError:
        return plan_release(model, None, arch, build), ""  # nothing installed yet: the default config
    with tempfile.TemporaryDirectory(prefix="flash-") as tmp:
        path = Path(tmp) / "config.json"
        path.write_bytes(running)
        try:
            return plan_release(model, path, arch, build), f"kept the board's config ({device.config_path()})"
        except RefusedError as exc:
            why = str(exc).replace(str(path), "the board's config")
    return plan_release(model, None, arch, build), f"the default config is sent: {why}"


def _failed(args: argparse.Namespace, exc) -> int:
    """An unhealthy release, put back: with --json the report too, as one object; the message on stderr."""
    if not args.json:
        raise exc
    error = {"message": str(exc), "exit_code": exc.exit_code, "type": type(exc).__name__}
    print(json.dumps({"ok": False, "error": error, **json.loads(exc.report.to_json())}))
    print(f"host_tools: error: {exc}", file=sys.stderr)
    return exc.exit_code


def rollback_linux(args: argparse.Namespace, name: DeviceName) -> int:
    from host_tools.deploy.flash import DeploymentFailed, rollback
    from host_tools.devices.connect import open_device

    device = open_device(name)
    try:
        try:
            with board_lock(device):
                report = rollback(device, args.health_lines, args.health_timeout, step=_step_printer())
        except DeploymentFailed as exc:
            return _failed(args, exc)
    finally:
        device.close()
    if args.json:
        print(json.dumps({"ok": True, **json.loads(report.to_json())}))
    else:
        h = report.health
        print(f"rolled back {report.device}: release {report.release} runs again (was {report.previous}); "
              f"healthy: {h['lines']} result lines in {h['seconds']:.1f} s")
    return 0
