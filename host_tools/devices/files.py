"""File operations written once for every board, above each family's own primitives.

A family's file layer (micropython.Board over a script link, linux.LinuxBoard over adb or ssh) supplies
write_file, sha256 (computed on the device), rename and remove; put_verified() is built on them.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from host_tools.devices.micropython import Progress
from host_tools.errors import DeviceError

TEMP_SUFFIX = ".new"


class FileOps(Protocol):
    def write_file(self, path: str, data: bytes, progress: Progress | None = None) -> None: ...
    def sha256(self, path: str) -> str: ...
    def rename(self, src: str, dst: str) -> None: ...
    def remove(self, path: str) -> None: ...


def put_verified(fs: FileOps, path: str, data: bytes, progress: Progress | None = None) -> str:
    """Write `data` to `path + .new`, compare the SHA-256 the device computes with ours, then rename it onto
    `path`: an interruption leaves the old file in place, a corrupted transfer is never renamed."""
    want = hashlib.sha256(data).hexdigest()
    temp = path + TEMP_SUFFIX
    fs.write_file(temp, data, progress=progress)
    got = fs.sha256(temp)
    if got != want:
        try:
            fs.remove(temp)
        finally:
            raise DeviceError(f"{path}: the device computed SHA-256 {got[:16]}... for what was sent, "
                              f"expected {want[:16]}...; the old file was left in place")
    fs.rename(temp, path)
    return got
