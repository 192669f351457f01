"""One emulated camera per filesystem: the folder is locked while an emulator uses it.

Two emulators on one folder would each think they own the camera's flash (one installs while the other
boots from it). The lock is an advisory flock on the folder itself (no lock file appears in the camera's
filesystem); the kernel drops it when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from host_tools.errors import UsageError


class FsLock:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd: int | None = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise UsageError(
                f"camera filesystem {root} is in use by another running emulated camera; stop that one, or "
                "give this one its own --fs folder (without --fs each run gets a fresh one)"
            ) from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> FsLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
