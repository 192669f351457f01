"""File operations on a MicroPython camera, written once on top of two primitives (the mpremote design).

A transport adapter (openmv_v2.py: Protocol V2 stdin/stdout channels; openmv_repl.py: raw REPL of firmware
4.x) supplies a `Link` whose `exec(source)` runs MicroPython source on the camera and returns what it printed,
raising `DeviceExecError` with the device's traceback when the script raised. Everything else (eval, ls, stat,
read/write, sha256 on the device, rename, remove, mkdir, statvfs) is built here, so a new transport only
supplies exec/reset/close. Scripts sent to the camera use only MicroPython APIs (os, hashlib, binascii).

Each operation is one self-contained script: on the OpenMV firmware every script runs in a fresh VM, so no
state is kept on the device between calls. Errors the device prints (`OSError: [Errno 2] ENOENT`) become
host OSErrors with the matching errno (FileNotFoundError etc.).
"""

from __future__ import annotations

import ast
import errno
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from host_tools.errors import DeviceError

Progress = Callable[[int, int], None]  # (bytes done, bytes total)

# Raw bytes per write script: repr() makes up to 4 chars per byte, so a script stays under ~4 KB.
WRITE_CHUNK = 1024
# What a script prints must stay well under the camera's stdout buffer (512 bytes on the H7 and the
# emulator, overwritten if the host does not read in time): reads come back hex-encoded in small pieces.
READ_CHUNK = 128
LS_PAGE = 6
HASH_BLOCK = 512


class DeviceExecError(DeviceError):
    """A script raised on the device. `traceback` is the text the device printed for it."""

    def __init__(self, traceback: str, output: str = "") -> None:
        self.traceback = traceback.strip()
        self.output = output
        last = self.traceback.splitlines()[-1] if self.traceback else "unknown error"
        super().__init__(f"the camera reported: {last}")


class Link(Protocol):
    """What a transport adapter supplies."""

    description: str

    def exec(self, source: str, timeout: float) -> str:
        """Run `source` on the camera; return its printed output; raise DeviceExecError if it raised."""
        ...

    def reset(self) -> None:
        """Restart the camera so that main.py runs."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class DirEntry:
    name: str
    is_dir: bool
    size: int


@dataclass(frozen=True)
class FsSpace:
    block_size: int
    total_blocks: int
    free_blocks: int

    @property
    def free_bytes(self) -> int:
        return self.block_size * self.free_blocks

    def blocks_for(self, nbytes: int) -> int:
        """Blocks a file of `nbytes` occupies (files are allocated in whole blocks/clusters)."""
        return -(-nbytes // self.block_size) if self.block_size else 0


_ERRNO_LINE = re.compile(r"^OSError: \[Errno (\d+)\](.*)$")
_ERRNO_NUMBER = re.compile(r"^OSError: (-?\d+)$")
_ERRNO_NAME = re.compile(r"\b(E[A-Z0-9]+)\b")


def oserror_from_traceback(tb: str, path: str | None) -> OSError | None:
    """Turn a device traceback ending in an OSError into the host OSError (None if it is another error).

    MicroPython prints `OSError: [Errno 2] ENOENT` (or `OSError: 2` on ports without errno names); its
    errno numbers are the Linux ones, but the name is preferred when present.
    """
    lines = [ln.strip() for ln in tb.strip().splitlines() if ln.strip()]
    if not lines or not lines[-1].startswith("OSError"):
        return None
    last = lines[-1]
    code: int | None = None
    name = _ERRNO_NAME.search(last)
    if name and hasattr(errno, name.group(1)):
        code = getattr(errno, name.group(1))
    elif m := _ERRNO_LINE.match(last):
        code = int(m.group(1))
    elif m := _ERRNO_NUMBER.match(last):
        code = abs(int(m.group(1)))
    if code is None:
        return OSError(errno.EIO, last, path) if path is not None else OSError(errno.EIO, last)
    strerror = errno.errorcode.get(code, last)
    return OSError(code, strerror, path) if path is not None else OSError(code, strerror)


class Board:
    """A connected camera: two primitives from the link, file operations on top."""

    def __init__(self, link: Link, timeout: float = 15.0) -> None:
        self.link = link
        self.timeout = timeout

    @property
    def description(self) -> str:
        return self.link.description

    # -- primitives -------------------------------------------------------------------------------------
    def exec(self, source: str, timeout: float | None = None) -> str:
        return self.link.exec(source, self.timeout if timeout is None else timeout)

    def eval(self, expr: str) -> Any:
        """Evaluate `expr` on the camera and return its value (repr on the device, literal_eval here)."""
        out = self.exec(f"print(repr({expr}))")
        text = out.strip().splitlines()[-1] if out.strip() else ""
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise DeviceError(f"unexpected reply from the camera for {expr!r}: {text[:200]!r}") from exc

    def machine(self) -> str:
        """os.uname().machine on the camera (e.g. "OpenMV H7 (emulated) with STM32H743"); "" if unknown."""
        try:
            value = self.eval("__import__('os').uname().machine")
        except DeviceError:
            return ""
        return value if isinstance(value, str) else ""

    def reset(self) -> None:
        self.link.reset()

    def close(self) -> None:
        self.link.close()

    # -- file operations --------------------------------------------------------------------------------
    def _fs_exec(self, source: str, path: str, timeout: float | None = None) -> str:
        try:
            return self.exec(source, timeout)
        except DeviceExecError as exc:
            err = oserror_from_traceback(exc.traceback, path)
            if err is None:
                raise
            raise err from None

    def _fs_eval(self, setup: str, expr: str, path: str) -> Any:
        out = self._fs_exec(f"{setup}\nprint(repr({expr}))", path)
        text = out.strip().splitlines()[-1] if out.strip() else ""
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise DeviceError(f"unexpected reply from the camera for {path!r}: {text[:200]!r}") from exc

    def stat(self, path: str) -> tuple[int, ...]:
        """os.stat on the device: (mode, ino, dev, nlink, uid, gid, size, atime, mtime, ctime)."""
        return tuple(self._fs_eval("import os", f"os.stat({path!r})", path))

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except FileNotFoundError:
            return False
        return True

    def ls(self, path: str = "") -> list[DirEntry]:
        """Entries of a directory ("" = the current directory, where main.py lives)."""
        prefix = "" if path in ("", ".") else path.rstrip("/") + "/"
        entries: list[DirEntry] = []
        while True:  # a page of entries per script (see READ_CHUNK)
            src = (
                "import os\nr=[]\n"
                f"for n in sorted(os.listdir({(path or '.')!r}))[{len(entries)}:{len(entries) + LS_PAGE}]:\n"
                f" s=os.stat({prefix!r}+n)\n"
                " r.append((n,s[0],s[6]))\n"
            )
            page = self._fs_eval(src, "r", path)
            entries += [DirEntry(n, bool(mode & 0x4000), size) for n, mode, size in page]
            if len(page) < LS_PAGE:
                return entries

    def read_file(self, path: str, chunk_size: int = READ_CHUNK, progress: Progress | None = None) -> bytes:
        total = self.stat(path)[6]
        data = bytearray()
        while True:
            src = (f"import binascii\nf=open({path!r},'rb')\nf.seek({len(data)})\n"
                   f"b=f.read({chunk_size})\nf.close()")
            hexed = self._fs_eval(src, "binascii.hexlify(b).decode()", path)
            if not hexed:
                break
            data += bytes.fromhex(hexed)
            if progress:
                progress(len(data), total)
        return bytes(data)

    def write_file(
        self, path: str, data: bytes, chunk_size: int = WRITE_CHUNK, progress: Progress | None = None
    ) -> None:
        """Write `data` to `path` (created or truncated), one chunk per script, appended in order."""
        self._fs_exec(f"open({path!r},'wb').close()", path)
        done = 0
        while done < len(data):
            chunk = data[done : done + chunk_size]
            self._fs_exec(f"f=open({path!r},'ab')\nf.write({bytes(chunk)!r})\nf.close()", path)
            done += len(chunk)
            if progress:
                progress(done, len(data))
        if not data and progress:
            progress(0, 0)

    def sha256(self, path: str) -> str:
        """SHA-256 of a file computed ON THE DEVICE (hashlib + binascii), as lowercase hex."""
        src = (
            "import hashlib,binascii\nh=hashlib.sha256()\n"
            f"f=open({path!r},'rb')\n"
            "while True:\n"
            f" b=f.read({HASH_BLOCK})\n"
            " if not b:\n  break\n"
            " h.update(b)\n"
            "f.close()\n"
        )
        digest = self._fs_eval(src, "binascii.hexlify(h.digest()).decode()", path)
        if not isinstance(digest, str) or len(digest) != 64:
            raise DeviceError(f"unexpected sha256 from the camera for {path!r}: {digest!r}")
        return digest

    def rename(self, src: str, dst: str) -> None:
        self._fs_exec(f"import os\nos.rename({src!r},{dst!r})", src)

    def remove(self, path: str) -> None:
        self._fs_exec(f"import os\nos.remove({path!r})", path)

    def mkdir(self, path: str) -> None:
        self._fs_exec(f"import os\nos.mkdir({path!r})", path)

    def statvfs(self, path: str = ".") -> FsSpace:
        """Free space of the filesystem holding `path` (os.statvfs: bsize, frsize, blocks, bfree, bavail)."""
        st = self._fs_eval("import os", f"os.statvfs({path!r})", path)
        frsize = st[1] or st[0]
        return FsSpace(block_size=int(frsize), total_blocks=int(st[2]), free_blocks=int(st[4]))
