"""The camera's flash filesystem: a host directory seen as /flash, with the board's FAT space on writes.

Paths outside /flash cannot be reached (like the board: there is nothing else). Space is counted as FatFs
does (model_budget.fat_geometry: on the H7, 222 clusters of 512 bytes): every file takes whole clusters,
every subdirectory at least one; a write that needs a cluster more than there are free fails with
OSError(ENOSPC), and a root directory past its 512 entries refuses new files (EACCES), as on the camera.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import stat as stat_mod
from pathlib import Path

from host_tools.model_budget import FatGeometry, dir_entries, fat_geometry
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


def geometry(state: BoardState) -> FatGeometry:
    return fat_geometry(state.budget.fs_bytes)


def used_clusters(root: Path, geo: FatGeometry, exclude: Path | None = None) -> int:
    """Clusters held by the files and subdirectories under root (`exclude`: a file being rewritten)."""
    total = 0
    for dirpath, dirs, files in os.walk(root):
        if Path(dirpath) != Path(root):  # a subdirectory's own entries ('.', '..', children) take clusters
            names = dirs + files
            total += max(1, geo.clusters_for(32 * (2 + sum(dir_entries(n) for n in names))))
        for name in files:
            p = Path(dirpath, name)
            if p != exclude:
                total += geo.clusters_for(p.stat().st_size)
    return total


def free_clusters(state: BoardState) -> int:
    geo = geometry(state)
    return max(0, geo.clusters - used_clusters(Path(state.opts.fs_root), geo))


def check_space(state: BoardState, host: Path, new_size: int) -> None:
    """Raise ENOSPC if `host` growing to new_size bytes would overfill the filesystem; EACCES if a new file
    would not fit the root directory's entries."""
    geo = geometry(state)
    root = Path(state.opts.fs_root)
    if not host.exists() and host.parent == root:
        taken = sum(dir_entries(p.name) for p in root.iterdir())
        if taken + dir_entries(host.name) > geo.root_entries:
            raise OSError(errno.EACCES, "EACCES")
    if used_clusters(root, geo, exclude=host) + geo.clusters_for(new_size) > geo.clusters:
        raise OSError(errno.ENOSPC, "ENOSPC")


class _QuotaFile(io.RawIOBase):
    """A writable file that refuses to grow past the filesystem's free space."""

    def __init__(self, state: BoardState, host: Path, raw) -> None:
        super().__init__()
        self._state, self._host, self._raw = state, host, raw
        self._geo = geometry(state)
        self._others = used_clusters(Path(state.opts.fs_root), self._geo, exclude=host)

    def write(self, data) -> int:
        self._state.checkpoint()
        data = data.encode() if isinstance(data, str) else bytes(data)
        end = max(self._raw.tell() + len(data), os.fstat(self._raw.fileno()).st_size)
        if self._others + self._geo.clusters_for(end) > self._geo.clusters:
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
    if "w" in mode or not host.exists():
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
