"""The camera's flash filesystem: a host directory seen as /flash, with the board's size limit on writes.

Paths outside /flash cannot be reached (like the board: there is nothing else). A write that would take
the files' total size over the filesystem size fails with OSError(ENOSPC), as a full FAT flash does.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import stat as stat_mod
from pathlib import Path

from host_tools.sim.openmv.state import BoardState

MOUNT = "/flash"


def to_host(state: BoardState, path: str) -> Path:
    """MicroPython path (absolute or relative to cwd) -> host path under fs_root; OSError(ENOENT) outside."""
    if not isinstance(path, str):
        raise TypeError("can't convert to str implicitly")
    full = posixpath.normpath(posixpath.join(state.cwd, path))
    if full == MOUNT:
        return Path(state.opts.fs_root)
    if not full.startswith(MOUNT + "/"):
        raise OSError(errno.ENOENT, "ENOENT")
    return Path(state.opts.fs_root, *full[len(MOUNT) + 1 :].split("/"))


def used_bytes(root: Path, exclude: Path | None = None) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath, name)
            if p != exclude:
                total += p.stat().st_size
    return total


def check_space(state: BoardState, host: Path, new_size: int) -> None:
    """Raise ENOSPC if `host` growing to new_size bytes would overfill the filesystem."""
    others = used_bytes(Path(state.opts.fs_root), exclude=host)
    if others + new_size > state.budget.fs_bytes:
        raise OSError(errno.ENOSPC, "ENOSPC")


class _QuotaFile(io.RawIOBase):
    """A writable file that refuses to grow past the filesystem's free space."""

    def __init__(self, state: BoardState, host: Path, raw) -> None:
        super().__init__()
        self._state, self._host, self._raw = state, host, raw
        self._others = used_bytes(Path(state.opts.fs_root), exclude=host)

    def write(self, data) -> int:
        self._state.checkpoint()
        data = data.encode() if isinstance(data, str) else bytes(data)
        end = max(self._raw.tell() + len(data), os.fstat(self._raw.fileno()).st_size)
        if self._others + end > self._state.budget.fs_bytes:
            raise OSError(errno.ENOSPC, "ENOSPC")
        return self._raw.write(data)

    def read(self, size: int = -1):
        return self._raw.read(size)

    def readinto(self, buf) -> int:
        return self._raw.readinto(buf)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def flush(self) -> None:
        if not self._raw.closed:
            self._raw.flush()

    def close(self) -> None:
        super().close()  # flushes first
        self._raw.close()

    def readable(self) -> bool:
        return self._raw.readable()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


def fs_open(state: BoardState, path: str, mode: str = "r", *_args, **_kwargs):
    """open() as scripts on the camera see it."""
    state.checkpoint()
    host = to_host(state, path)
    if host.is_dir():
        raise OSError(errno.EISDIR, "EISDIR")
    writing = any(c in mode for c in "wax+")
    if not writing:
        if not host.is_file():
            raise OSError(errno.ENOENT, "ENOENT")
        return open(host, mode)  # noqa: SIM115 - the script closes it
    if not host.parent.is_dir():
        raise OSError(errno.ENOENT, "ENOENT")
    if "w" in mode:
        check_space(state, host, 0)
    raw = open(host, mode.replace("t", "").replace("b", "") + "b", buffering=0)  # noqa: SIM115
    f = _QuotaFile(state, host, raw)
    if "b" in mode:
        return f
    return io.TextIOWrapper(io.BufferedRandom(f) if "+" in mode else io.BufferedWriter(f), encoding="utf-8")


def stat_tuple(host: Path) -> tuple:
    """MicroPython os.stat(): (mode, ino, dev, nlink, uid, gid, size, atime, mtime, ctime)."""
    st = host.stat()
    mode = stat_mod.S_IFDIR if host.is_dir() else stat_mod.S_IFREG
    mtime = int(st.st_mtime)
    return (mode, 0, 0, 0, 0, 0, st.st_size if mode == stat_mod.S_IFREG else 0, mtime, mtime, mtime)
