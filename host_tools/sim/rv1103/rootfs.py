"""The emulated Luckfox Pico's filesystem: a device root folder laid out like the board's.

  /bin, /sbin, /usr/...   BusyBox (Debian's static busybox, the shell the Luckfox images use) and its applets
  /etc/inittab, init.d/   BusyBox init runs /etc/init.d/rcS at boot (every S??* script, with "start") and
                          rcK at shutdown (the same scripts, in reverse order, with "stop")
  /etc/default/classifier the emulated board's own settings for the classifier's init script (camera, NPU,
                          launcher): written by the emulator at every start, never part of a deploy
  /userdata/classifier    where the board program lives (the deploy layout of rv1103_app)
  /var/log, /var/run      logs and pid files
  /proc                   the board's processes (a proc mount of its PID namespace) with the emulated CPU and
                          memory figures (procfs.py writes them into /run/emulated-proc) bound over the host's
  /dev                    null, zero, random, urandom; the emulated camera (a FIFO) and NPU (a unix socket)
  /root/.ssh              authorized_keys for the SSH server (key authentication only)

Layout is idempotent: an existing root (`--root DIR`) keeps what was put on it, like a board keeps its flash.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
from pathlib import Path

from host_tools.errors import HostToolsError

HOSTNAME = "luckfox"
APP_DIR = "/userdata/classifier"
INIT_SCRIPT = "S99classifier"
CAMERA = "/dev/emulated-camera"  # FIFO: frames from the emulated camera
NPU_SOCKET = "/dev/emulated-npu.sock"  # unix socket: the tensor service standing in for the NPU
BOARD_ENV = "/etc/default/classifier"
DEVICES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}

INITTAB = """\
# BusyBox init of the emulated Luckfox Pico: no console, no getty
::sysinit:/etc/init.d/rcS
::shutdown:/etc/init.d/rcK
"""
RCS = """\
#!/bin/sh
# Boot: the board's own start scripts, in order.
hostname -F /etc/hostname
ifconfig lo 127.0.0.1 up
# /proc: the board's own processes, with the emulated board's CPU and memory figures over the host's.
# Where proc cannot be mounted, /proc stays a folder of links to those figures.
if mount -t proc proc /proc 2>/dev/null; then
	for f in /run/emulated-proc/*; do
		mount --bind "$f" "/proc/${f##*/}" 2>/dev/null
	done
fi
for s in /etc/init.d/S??*; do
	[ -x "$s" ] && "$s" start
done
touch /var/run/booted
"""
RCK = """\
#!/bin/sh
# Shutdown: the start scripts in reverse order, with "stop".
rm -f /var/run/booted
for s in $(ls -r /etc/init.d/S??* 2>/dev/null); do
	[ -x "$s" ] && "$s" stop
done
"""
PROFILE = """\
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
PS1='[root@luckfox]# '
"""
OS_RELEASE = """\
NAME=Buildroot
ID=buildroot
PRETTY_NAME="Luckfox Pico (emulated RV1103 on a host: BusyBox, the board program, emulated camera and NPU)"
"""


def is_static_elf(path: Path) -> bool:
    """True for an ELF program without a dynamic loader (PT_INTERP): it runs without host libraries."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF":
            return False
        is64, little = head[4] == 2, head[5] == 1
        end = "<" if little else ">"
        if is64:
            phoff, = struct.unpack_from(end + "Q", head, 32)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
        else:
            phoff, = struct.unpack_from(end + "I", head, 28)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, = struct.unpack(end + "I", f.read(4))
            if p_type == 3:  # PT_INTERP
                return False
    return True


def find_busybox() -> Path:
    found = shutil.which("busybox") or "/bin/busybox"
    path = Path(found).resolve()
    if not path.is_file():
        raise HostToolsError("the emulated RV1103 needs BusyBox (Debian: apt-get install busybox-static)")
    if not is_static_elf(path):
        raise HostToolsError(f"{path} is a dynamically linked BusyBox; the emulated board needs the static "
                             "one (Debian: apt-get install busybox-static)")
    return path


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _install_busybox(root: Path) -> None:
    busybox = find_busybox()
    dst = root / "bin" / "busybox"
    if not dst.is_file() or dst.stat().st_size != busybox.stat().st_size:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(busybox, dst)
    applets = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True)
    for rel in applets.stdout.split():
        link = root / rel
        if rel == "bin/busybox" or link.is_symlink() or link.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(dst, link.parent))


def make_devices(root: Path) -> bool:
    """Character devices in /dev (as root); False where mknod is not permitted (a user namespace binds
    the host's nodes over placeholder files instead, see machine.py)."""
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    ok = True
    for name, (major, minor) in DEVICES.items():
        node = dev / name
        if node.exists() and stat.S_ISCHR(node.stat().st_mode):
            continue
        if node.exists() or node.is_symlink():
            node.unlink()
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
            node.chmod(0o666)
        except PermissionError:
            node.touch()  # a mount point for the bind mount
            ok = False
    return ok


def make_root(root: Path) -> None:
    """Lay out the system part of the device root (idempotent)."""
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "etc/ssh", "etc/default", "dev", "proc",
              "tmp", "var/log", "var/run", "run", "root/.ssh", "userdata", "oem/usr/bin", "mnt", "sys"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "root").chmod(0o700)
    _install_busybox(root)
    if not (root / "etc" / "hostname").is_file():
        _write(root / "etc" / "hostname", HOSTNAME + "\n")
    _write(root / "etc" / "inittab", INITTAB)
    _write(root / "etc" / "init.d" / "rcS", RCS, 0o755)
    _write(root / "etc" / "init.d" / "rcK", RCK, 0o755)
    _write(root / "etc" / "profile", PROFILE)
    _write(root / "etc" / "os-release", OS_RELEASE)
    if not (root / "etc" / "passwd").is_file():
        _write(root / "etc" / "passwd", "root:x:0:0:root:/root:/bin/sh\n")
        _write(root / "etc" / "group", "root:x:0:\n")
    for stale in ("var/run/booted", "var/run/classifier.pid"):
        (root / stale).unlink(missing_ok=True)  # a board powered off without a clean shutdown


def install_app(root: Path, program: Path, config: Path, model: Path | None, init_script: Path,
                manifest: bytes | None = None) -> None:
    """The deploy layout of rv1103_app (as rv1103_app/CMakeLists.txt installs it) on the board, and the init
    script in /etc/init.d: what a user who followed rv1103_app/README.md would have on their Luckfox. The
    model's manifest (labels, colour order) goes beside it as model/model.json."""
    app = root / APP_DIR.lstrip("/")
    (app / "bin").mkdir(parents=True, exist_ok=True)
    (app / "model").mkdir(exist_ok=True)
    shutil.copy2(program, app / "bin" / "rv1103_app")
    shutil.copy2(config, app / "config.json")
    if model is not None:
        shutil.copy2(model, app / "model" / "model.rknn")
    if model is not None and manifest is not None:
        (app / "model" / "model.json").write_bytes(manifest)
    shutil.copy2(init_script, app / INIT_SCRIPT)
    shutil.copy2(init_script, root / "etc" / "init.d" / INIT_SCRIPT)
    for p in (app / "bin" / "rv1103_app", app / INIT_SCRIPT, root / "etc" / "init.d" / INIT_SCRIPT):
        p.chmod(0o755)


def write_board_env(root: Path, launcher: str = "", preview: float = 0.0) -> None:
    """/etc/default/classifier: where the emulated board differs from a real one (camera, NPU, CPU), and
    the live page's JPEG previews (off on a board unless its owner adds --preview here too)."""
    previews = f" --preview {preview:g}" if preview > 0 else ""
    lines = [
        "# Written by the emulated board (host_tools sim rv1103 --serve) at every start; a real Luckfox",
        "# has no such file. The classifier's init script reads it: the emulated camera is a FIFO fed from",
        "# a frame folder, the emulated NPU a tensor service on a unix socket; previews for the live page.",
        f"CLASSIFIER_FRAMES={CAMERA}",
        f'CLASSIFIER_ARGS="--engine-socket {NPU_SOCKET}{previews}"',
        f"NPU_DEV={NPU_SOCKET}  # what the init script waits for at boot instead of /dev/rknpu",
    ]
    if launcher:
        lines.append(f'CLASSIFIER_LAUNCHER="{launcher}"  # the ARMv7 program runs under qemu-user')
    _write(root / BOARD_ENV.lstrip("/"), "\n".join(lines) + "\n")


def install_qemu(root: Path) -> str:
    """qemu-arm-static inside the root, for the ARMv7 build; returns the launcher for the init script."""
    qemu = shutil.which("qemu-arm-static")
    if not qemu or not is_static_elf(Path(qemu)):
        raise HostToolsError("--arch armv7 runs the ARMv7 program under qemu-arm-static (Debian: apt-get "
                             "install qemu-user-static)")
    dst = root / "usr" / "bin" / "qemu-arm-static"
    if not dst.is_file() or dst.stat().st_size != Path(qemu).stat().st_size:
        shutil.copy2(qemu, dst)
    return "/usr/bin/qemu-arm-static -cpu cortex-a7"
