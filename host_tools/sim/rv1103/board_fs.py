"""Paths of the emulated board's filesystem, resolved on the host as the board itself would resolve them.

The file services (adbd's sync, the SSH server's SFTP) run in the emulator, on the host side of the device
root. A path the client names is resolved component by component inside the root: ".." stops at the root
and every symlink is followed as the board sees it (an absolute target starts again at the root), so
neither a path nor a link made on the board (`ln -s / /escape`) reaches a host file.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from pathlib import Path

MAX_LINKS = 40  # as Linux's ELOOP limit


def resolve(root: Path, path: str | bytes, follow_last: bool = True, cwd: str = "/") -> Path:
    """The host path of the board's `path` (absolute, or relative to `cwd` on the board)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if "\0" in path:
        raise OSError(errno.EINVAL, "path contains a NUL byte", path)
    if not path.startswith("/"):
        path = cwd.rstrip("/") + "/" + path
    todo = deque(path.split("/"))
    done: list[str] = []
    links = 0
    while todo:
        part = todo.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        here = root.joinpath(*done, part)
        last = not any(p not in ("", ".") for p in todo)
        if (follow_last or not last) and here.is_symlink():
            links += 1
            if links > MAX_LINKS:
                raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
            target = os.readlink(here)
            if target.startswith("/"):
                done = []
            todo.extendleft(reversed(target.split("/")))
            continue
        done.append(part)
    return root.joinpath(*done)


def board_path(root: Path, host_path: Path) -> str:
    """The board's name for a host path inside the root."""
    rel = os.path.relpath(host_path, root)
    return "/" if rel == "." else "/" + rel


def makedirs(root: Path, path: str, mode: int = 0o755) -> Path:
    """mkdir -p on the board; returns the host path of the folder."""
    where = root
    for part in [p for p in path.split("/") if p]:
        where = resolve(root, board_path(root, where / part))
        if not where.is_dir():
            where.mkdir(mode)
    return where
