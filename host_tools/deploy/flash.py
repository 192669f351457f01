"""Deploy a release to a Linux board (RV1103) and switch to it only once it is verified and healthy.

Steps (each name is also an `on_step` label; -v prints them):
  check    host side, before connecting (plan.py): model header, config through camrt, labels vs outputs
  probe    the board: its CPU against the program's, the releases there, free space (df) for a second
           release beside the running one; what an interrupted flash left is removed
  upload   every file into releases/<id>.partial/ (progress bar)
  verify   sha256sum computed on the board for every file; the folder is renamed releases/<id>
  switch   init script installed (verified, renamed into place); `previous` -> the running release,
           `pending` = <id>, `current` -> releases/<id>, each an atomic rename
  restart  the init script's restart
  health   N result lines within T seconds on the program's TCP port (health.py)
  confirm  `pending` removed; releases beyond the newest K removed
On a failed health check: `current` back to the previous release, restart, and DeploymentFailed with the
board log's last lines. Killed at any point (SIGKILL, cable pulled), the board keeps a runnable release:
before `switch` nothing the init script reads has changed; after it, `pending` makes the next boot go back
(board.py). Ctrl-C after the switch switches back before leaving.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from host_tools.deploy import board, health
from host_tools.deploy.plan import INIT_SCRIPT_NAME, ReleasePlan
from host_tools.devices.linux import LinuxDevice
from host_tools.errors import DeviceError, HostToolsError, Interrupted, RefusedError
from host_tools.progress import ProgressBar

Step = Callable[[str], None]
SPACE_MARGIN = 256 * 1024  # left free beside the new release: logs and the config's atomic rewrite
# For the interruption tests: pause this many seconds after the named step (e.g. "verify:30"), so that a
# test can SIGKILL the host at a known point. Unset in normal use.
PAUSE_ENV = "HOST_TOOLS_DEPLOY_PAUSE"


class DeploymentFailed(HostToolsError):
    """The new release did not become healthy; the previous one was put back."""

    exit_code = 1

    def __init__(self, message: str, report: DeployReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class DeployReport:
    device: str
    emulated: bool
    release: str
    previous: str | None
    files: list[dict]
    bytes_sent: int
    seconds: float
    health: dict
    removed: list[str] = field(default_factory=list)  # old releases pruned
    cleaned: list[str] = field(default_factory=list)  # left by an interrupted flash
    rolled_back: bool = False
    log_tail: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _pause(step: str) -> None:
    spec = os.environ.get(PAUSE_ENV, "")
    name, _, seconds = spec.partition(":")
    if name == step:
        print(f"host_tools: paused at {step} ({PAUSE_ENV})", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 30))


def _noop(_step: str) -> None:
    pass


def release_id(plan: ReleasePlan) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + plan.digest


def _board_machine(device: LinuxDevice) -> str:
    out = device.fs.run(["uname", "-m"]).output.strip()
    return "arm" if out.startswith("arm") else out


def _check_program(device: LinuxDevice, plan: ReleasePlan) -> None:
    machine = _board_machine(device)
    if plan.program_machine == machine:
        return
    if plan.program_machine == "arm" and device.fs.exists("/usr/bin/qemu-arm-static"):
        # an emulated board that runs ARM programs under qemu-user (its /etc/default/classifier says how)
        return
    raise RefusedError(f"the board program is built for {plan.program_machine} but the board is {machine}: "
                       "give --arch (host or armv7, for an emulated board) or --build DIR (the deploy "
                       "folder build_board.sh makes, for a Luckfox); nothing was sent")


def _check_runtime(device: LinuxDevice, plan: ReleasePlan) -> None:
    """A model newer than the board's RKNN runtime is refused before it is sent, when the board's log says
    which runtime it has (the board program logs it at each start on the NPU)."""
    from host_tools.rknn_check import check_runtime, runtime_from_log

    runtime = runtime_from_log(board.log_tail(device.fs, lines=400))
    if runtime is not None:
        check_runtime(plan.model, runtime, built=plan.model_info.toolkit or None)


def _check_space(device: LinuxDevice, plan: ReleasePlan) -> None:
    device.fs.mkdir(board.RELEASES)
    space = device.fs.free_space(board.RELEASES)
    need = plan.total_bytes + SPACE_MARGIN
    if space.free_bytes < need:
        raise RefusedError(f"the board has {space.free_bytes // 1024} KB free on /userdata; the new release "
                           f"needs {need // 1024} KB beside the running one (remove old releases or files "
                           "there); nothing was sent")


def _activate(device: LinuxDevice, new: str, old: str | None, port: int, lines: int, timeout: float,
              step: Step) -> tuple[health.Health, list[str]]:
    """Switch to `new` on trial, restart, health-check; back to `old` (restarted) when it fails. Returns the
    check and, when it failed, the board log's last lines as `new` left them (before the old release's
    restart adds its own start-up lines)."""
    switched = False
    try:
        step("switch")
        board.switch(device.fs, new, old, trial=old is not None)
        switched = True
        _pause("switch")
        step("restart")
        board.restart(device.fs)
        step("health")
        _pause("health")
        result = health.check(device.link, port, lines, timeout)
    except KeyboardInterrupt:
        if switched and old is not None:
            board.switch(device.fs, old, None, trial=False)
            board.restart(device.fs)
            raise Interrupted(f"interrupted: switched back to release {old}, which was restarted") from None
        raise Interrupted("interrupted before the switch: the board runs its previous release") from None
    if result.ok:
        step("confirm")
        board.confirm(device.fs)
        return result, []
    tail = board.log_tail(device.fs)
    if old is not None:
        step("switch back")
        board.switch(device.fs, old, None, trial=False)
        board.restart(device.fs)
    return result, tail


def deploy(device: LinuxDevice, plan: ReleasePlan, keep: int = 3, lines: int = 3, timeout: float = 30.0,
           bar: ProgressBar | None = None, step: Step = _noop) -> DeployReport:
    start = time.monotonic()
    step("probe")
    _check_program(device, plan)
    state = board.read_state(device.fs)
    cleaned = board.clean_partial(device.fs, state)
    if state.pending and state.current not in (None, board.LEGACY) and state.previous:
        # a flash was interrupted after its switch: go back to the release it replaced, as a boot would
        board.switch(device.fs, state.previous, None, trial=False)
        board.restart(device.fs)
        cleaned.append(f"unconfirmed release {state.pending} (switched back to {state.previous})")
        state = board.read_state(device.fs)
    _check_runtime(device, plan)
    _check_space(device, plan)
    try:
        return _install(device, plan, state, cleaned, keep, lines, timeout, bar, step, start)
    except KeyboardInterrupt:  # Ctrl-C before the switch (_activate handles it after): nothing was switched
        raise Interrupted(f"interrupted before the switch: the board runs its previous release "
                          f"({state.current or 'none'}); the next flash removes the partial upload") from None


def _install(device: LinuxDevice, plan: ReleasePlan, state: board.BoardReleases, cleaned: list[str],
             keep: int, lines: int, timeout: float, bar: ProgressBar | None, step: Step,
             start: float) -> DeployReport:
    new = release_id(plan)
    folder = f"{board.RELEASES}/{new}"
    partial = folder + ".partial"
    step("upload")
    fs = device.fs
    dirs = sorted({f"{partial}/{f.path}".rsplit("/", 1)[0] for f in plan.files})
    fs.run(["mkdir", "-p", "--", *dirs])
    done = 0
    half = [plan.total_bytes // 2]
    for f in plan.files:
        def progress(n: int, _total: int, base: int = done, name: str = f.path) -> None:
            if bar is not None:
                bar.update(base + n, name)
            if half and base + n >= half[0]:  # mid-transfer, for the interruption tests
                half.clear()
                _pause("upload")

        fs.write_file(f"{partial}/{f.path}", f.data, progress)
        done += len(f.data)
    step("verify")
    board.verify(fs, partial, {f.path: f.sha256 for f in plan.files})
    executables = [f"{partial}/{f.path}" for f in plan.files if f.mode & 0o111]
    if executables:
        fs.run(["chmod", "755", "--", *executables])
    fs.rename(partial, folder)
    _pause("verify")
    device.put_verified(board.INIT_SCRIPT, plan.file(INIT_SCRIPT_NAME).data)
    fs.run(["chmod", "755", "--", board.INIT_SCRIPT])
    old = state.current
    result, tail = _activate(device, new, old, plan.output_port, lines, timeout, step)
    report = DeployReport(str(device.name), device.emulated, new, old,
                          [{"path": f.path, "bytes": len(f.data), "sha256": f.sha256} for f in plan.files],
                          plan.total_bytes, 0.0, asdict(result), cleaned=cleaned)
    if not result.ok:
        report.rolled_back = old is not None
        report.log_tail = tail
        if old is not None:  # a release that never ran healthy is not one to go back to
            fs.run(["rm", "-rf", "--", folder])
        report.seconds = time.monotonic() - start
        raise DeploymentFailed(_failure(new, old, result, report.log_tail), report)
    state = board.read_state(fs)
    report.removed = board.prune(fs, state, keep, {new, old})
    report.seconds = time.monotonic() - start
    return report


def _failure(new: str, old: str | None, result: health.Health, tail: list[str], removed: bool = True) -> str:
    gone = " (the new release was removed)" if removed else ""
    back = (f"switched back to {old} and restarted it{gone}" if old is not None
            else "no earlier release to go back to")
    log = "\n  ".join(tail[-8:]) or "(empty)"
    return (f"release {new} did not become healthy ({result.why}); {back}. Last lines of the board's "
            f"{board.LOG}:\n  {log}")


def _release_port(device: LinuxDevice, release: str) -> int:
    """The TCP port in a release's config.json (7070 where it says nothing or cannot be read)."""
    try:
        config = json.loads(device.fs.read_file(f"{board.release_dir(release)}/config.json"))
        port = config.get("output_port", 7070)
    except (DeviceError, ValueError, AttributeError):
        return 7070
    return port if isinstance(port, int) and 0 < port < 65536 else 7070


def rollback(device: LinuxDevice, lines: int = 3, timeout: float = 30.0, step: Step = _noop) -> DeployReport:
    """Go back one release (the one installed before the current one)."""
    start = time.monotonic()
    step("probe")
    state = board.read_state(device.fs)
    board.clean_partial(device.fs, state)
    target = state.before(state.current)
    if state.current is None:
        raise RefusedError("nothing is installed on this board (no release, no program in "
                           f"{board.BASE}); nothing was changed")
    if target is None:
        running = ("the program installed by hand in " + board.BASE if state.current == board.LEGACY
                   else f"release {state.current}, the oldest on the board")
        raise RefusedError(f"the board runs {running}: there is no earlier release to go back to; nothing "
                           "was changed")
    port = _release_port(device, target)
    result, tail = _activate(device, target, state.current, port, lines, timeout, step)
    report = DeployReport(str(device.name), device.emulated, target, state.current, [], 0, 0.0,
                          asdict(result))
    report.seconds = time.monotonic() - start
    if not result.ok:
        report.rolled_back = True
        report.log_tail = tail
        raise DeploymentFailed(_failure(target, state.current, result, report.log_tail, False), report)
    return report
