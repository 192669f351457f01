"""The emulated Luckfox Pico's processes: BusyBox init as PID 1 of the board, confined to its device root.

The board gets its own PID, mount, network, UTS and IPC namespaces (util-linux `unshare`), and its init is
chrooted into the device root. Every command sent to the board (adb shell, ssh exec, the daemons' port
forwarding) enters those namespaces and that root with `nsenter`, so it sees the board's files, the board's
processes and the board's own loopback network: the board program's port 7070 is the board's, not the
host's, and several emulated boards (and test runs) coexist on one machine.

How it is confined depends on who runs it:
  root    as root (CI runs as root): the namespaces directly, chroot into the root; device nodes by mknod.
  userns  as a normal user: the same inside a user namespace (`unshare --user --map-root-user`), where the
          user is root of the board only; the host's /dev/null etc. are bound into the root.
  auto    root when run as root, else userns (which needs unprivileged user namespaces:
          sysctl kernel.unprivileged_userns_clone=1, and on Ubuntu 24.04 an AppArmor rule for unshare).
The init process gets SIGKILL when this process dies (setpriv --pdeathsig), and with it every process of the
board (the PID namespace ends with its init): an emulator killed at any moment leaves nothing running.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from host_tools.errors import HostToolsError

MODES = ("auto", "root", "userns")
BOARD_ENV = {"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "HOME": "/root", "USER": "root", "LOGNAME": "root",
             "SHELL": "/bin/sh"}
# A user namespace cannot mknod: the host's nodes are bound over placeholder files before the chroot.
_USERNS_SETUP = ('for d in null zero random urandom; do mount --bind /dev/$d "$1/dev/$d" || exit 1; done; '
                 'exec chroot "$1" /sbin/init')


def pick_mode(mode: str) -> str:
    if mode not in MODES:
        raise HostToolsError(f"confinement must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "auto":
        return "root" if os.geteuid() == 0 else "userns"
    if mode == "root" and os.geteuid() != 0:
        raise HostToolsError("--confine root needs root; use --confine userns (a user namespace)")
    return mode


def check_tools() -> None:
    missing = [t for t in ("unshare", "nsenter", "setpriv", "chroot") if not shutil.which(t)]
    if missing:
        raise HostToolsError(f"the emulated RV1103 needs {', '.join(missing)} (Debian: util-linux, "
                             "coreutils)")


NAMESPACES = ["--fork", "--pid", "--mount", "--net", "--uts", "--ipc"]


def namespaces_unavailable(mode: str) -> str | None:
    """Why the board's namespaces cannot be made here (None: they can): tried with `unshare ... true`."""
    argv = ["unshare", *NAMESPACES, *(["--user", "--map-root-user"] if mode == "userns" else []), "true"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`unshare` failed to run: {exc}"
    if r.returncode == 0:
        return None
    hint = ("as root, the namespaces need CAP_SYS_ADMIN (a container started without it cannot make them)"
            if mode == "root" else "unprivileged user namespaces are disabled (sysctl "
            "kernel.unprivileged_userns_clone, or AppArmor's restriction on Ubuntu 24.04)")
    return f"{' '.join(argv[:-1])} failed ({r.stderr.strip() or r.returncode}): {hint}"


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Machine:
    def __init__(self, root: Path, mode: str = "auto", console_log: Path | None = None) -> None:
        check_tools()
        self.root = Path(root).resolve()
        self.mode = pick_mode(mode)
        self.console_log = console_log
        self.holder: subprocess.Popen | None = None  # `unshare`, on the host side
        self.init_pid = 0  # the board's PID 1, as the host numbers it

    # -- life cycle ---------------------------------------------------------------------------------------
    def boot(self, timeout: float = 30.0) -> None:
        """Start BusyBox init; returns once /etc/init.d/rcS has run (the board's start scripts included)."""
        why = namespaces_unavailable(self.mode)
        if why:
            raise HostToolsError(f"the emulated board cannot get its own namespaces: {why}")
        unshare = ["setpriv", "--pdeathsig", "KILL", "unshare", "--kill-child", *NAMESPACES]
        if self.mode == "userns":
            argv = [*unshare, "--user", "--map-root-user", "/bin/sh", "-c", _USERNS_SETUP, "sh",
                    str(self.root)]
        else:
            argv = [*unshare, "chroot", str(self.root), "/sbin/init"]
        self.init_pid = 0  # (a reboot: the last init is gone)
        (self.root / "var" / "run" / "booted").unlink(missing_ok=True)
        log = open(self.console_log, "ab") if self.console_log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.holder = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                           start_new_session=True)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.holder.poll() is not None:
                raise HostToolsError(f"the emulated board did not boot: `{' '.join(argv[3:8])} ...` exited "
                                     f"with {self.holder.returncode} (user namespaces disabled? see "
                                     f"{self.console_log})")
            if not self.init_pid:
                kids = _children(self.holder.pid)
                if kids and self._is_init(kids[0]):
                    self.init_pid = kids[0]
            if self.init_pid and (self.root / "var" / "run" / "booted").exists():
                return
            time.sleep(0.02)
        self.shutdown()
        raise HostToolsError(f"the emulated board did not finish booting within {timeout:.0f} s "
                             f"(console: {self.console_log})")

    def _is_init(self, pid: int) -> bool:
        """The child runs init, chrooted into the device root (not yet `chroot` or the setup shell)."""
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip() == "init"
        except OSError:
            return False

    def running(self) -> bool:
        return self.holder is not None and self.holder.poll() is None

    def shutdown(self, timeout: float = 15.0) -> None:
        """A clean shutdown: init runs /etc/init.d/rcK (the start scripts with "stop"), stops every process
        and ends; SIGKILL for whatever is left after `timeout`."""
        if self.holder is None:
            return
        if self.holder.poll() is None and self.init_pid:
            try:
                os.kill(self.init_pid, signal.SIGTERM)  # BusyBox init: shutdown actions, then reboot
            except ProcessLookupError:
                pass
            try:
                self.holder.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.holder.poll() is None:
            self.holder.kill()  # unshare's --kill-child takes the board's init (and namespace) with it
            self.holder.wait()
        self.init_pid = 0

    # -- entering the board ---------------------------------------------------------------------------------
    def enter(self, argv: list[str]) -> list[str]:
        """The host command that runs `argv` inside the board (its namespaces and root, cwd "/")."""
        if not self.running() or not self.init_pid:
            raise HostToolsError("the emulated board is not running")
        enter = ["nsenter", "-t", str(self.init_pid), "-m", "-u", "-i", "-n", "-p", "--root", "--wd"]
        if self.mode == "userns":
            enter[3:3] = ["-U", "--preserve-credentials"]
        return [*enter, *argv]

    def board_pids(self) -> list[int]:
        """Host PIDs of every process of the board (those in its PID namespace)."""
        if not self.init_pid:
            return []
        try:
            ns = os.readlink(f"/proc/{self.init_pid}/ns/pid")
        except OSError:
            return []
        pids = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if os.readlink(f"/proc/{entry.name}/ns/pid") == ns:
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return pids

    async def start(self, argv: list[str], env: dict[str, str] | None = None,
                    **kw) -> asyncio.subprocess.Process:
        """Start `argv` inside the board (asyncio), in its own process group so that stop() ends all of it
        but what daemonised itself (setsid), as a session's end does on the board."""
        return await asyncio.create_subprocess_exec(*self.enter(argv), env={**BOARD_ENV, **(env or {})},
                                                    start_new_session=True, **kw)

    @staticmethod
    async def stop(proc: asyncio.subprocess.Process, grace: float = 2.0) -> None:
        """SIGHUP to the process group (a closed session), SIGKILL after `grace` seconds."""
        for sig in (signal.SIGHUP, signal.SIGKILL):
            if proc.returncode is not None:
                return
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except asyncio.TimeoutError:
                continue
