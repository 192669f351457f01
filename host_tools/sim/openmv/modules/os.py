"""Emulated `os`/`uos`: the camera's flash filesystem only (see fs.py), MicroPython return shapes."""

from __future__ import annotations

import errno
import posixpath
import types

from host_tools.sim.openmv import fs


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("os")

    def host(path):
        state.checkpoint()
        return fs.to_host(state, path)

    def listdir(path="."):
        if posixpath.normpath(posixpath.join(state.cwd, path)) == "/":
            return ["flash"]
        h = host(path)
        if not h.is_dir():
            raise OSError(errno.ENOENT, "ENOENT")
        return sorted(p.name for p in h.iterdir())

    def ilistdir(path="."):
        h = host(path)
        for name in listdir(path):
            is_dir = (h / name).is_dir()
            yield (name, 0x4000 if is_dir else 0x8000, 0, 0 if is_dir else (h / name).stat().st_size)

    def stat(path):
        if isinstance(path, str) and posixpath.normpath(posixpath.join(state.cwd, path)) == "/":
            state.checkpoint()
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)  # the VFS root: a directory holding /flash
        h = host(path)
        if not h.exists():
            raise OSError(errno.ENOENT, "ENOENT")
        return fs.stat_tuple(h)

    def remove(path):
        h = host(path)
        if not h.is_file():
            raise OSError(errno.ENOENT, "ENOENT")
        h.unlink()

    def rename(old, new):
        a, b = host(old), host(new)
        if not a.exists():
            raise OSError(errno.ENOENT, "ENOENT")
        if b.is_dir():
            raise OSError(errno.EEXIST, "EEXIST")
        a.replace(b)

    def mkdir(path):
        h = host(path)
        if h.exists():
            raise OSError(errno.EEXIST, "EEXIST")
        if not h.parent.is_dir():
            raise OSError(errno.ENOENT, "ENOENT")
        fs.check_space(state, h, fs.geometry(state).cluster_bytes)  # a directory takes a cluster
        h.mkdir()

    def rmdir(path):
        h = host(path)
        if not h.is_dir():
            raise OSError(errno.ENOENT, "ENOENT")
        if any(h.iterdir()):
            raise OSError(errno.EACCES, "EACCES")
        h.rmdir()

    def chdir(path):
        h = host(path)
        if not h.is_dir():
            raise OSError(errno.ENOENT, "ENOENT")
        state.cwd = posixpath.normpath(posixpath.join(state.cwd, path))

    def statvfs(path="/flash"):
        """FatFs figures: cluster size, data clusters, free clusters (MicroPython's vfs_fat statvfs)."""
        host(path)
        geo = fs.geometry(state)
        free = fs.free_clusters(state)
        return (geo.cluster_bytes, geo.cluster_bytes, geo.clusters, free, free, 0, 0, 0, 0, 255)

    mod.listdir, mod.ilistdir, mod.stat, mod.remove, mod.unlink = listdir, ilistdir, stat, remove, remove
    mod.rename, mod.mkdir, mod.rmdir, mod.chdir, mod.statvfs = rename, mkdir, rmdir, chdir, statvfs
    mod.getcwd = lambda: state.cwd
    mod.sync = lambda: None
    mod.sep = "/"
    mod.uname = lambda: types.SimpleNamespace(
        sysname="pyboard",
        nodename="pyboard",
        release="1.23.0",
        version=f"OpenMV {state.opts.firmware} (emulated)",
        machine=f"OpenMV {'H7 Plus' if state.budget.name == 'h7plus' else 'H7'} (emulated) with STM32H743",
    )
    mod.urandom = lambda n: bytes(__import__("os").urandom(n))
    return mod
