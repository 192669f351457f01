"""Linux boards (the RV1103 / Luckfox Pico): file operations written once above a link's four primitives.

A link (adb.py, ssh.py) supplies:
  run(command_line, timeout) -> (exit status, output)   a command line for the board's shell
  put(path, data, progress) / get(path) -> bytes       file transfer (adb sync, SFTP)
  open_tcp(port) -> a byte stream                       a connection made from the board to its own port
Everything else is here, once: argv quoting (every argument goes through shlex.quote, so a file named
`a b;$(reboot)'.json` is a name and nothing runs), sha256 on the board (BusyBox sha256sum), rename, remove,
mkdir, free space, and the board program's config, init script and result stream.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import time
from dataclasses import dataclass
from typing import Protocol

from host_tools.devices import files
from host_tools.devices.base import Device, RunResult
from host_tools.devices.live import LiveSource, byte_events
from host_tools.devices.micropython import Progress
from host_tools.devices.names import DeviceName
from host_tools.errors import DeviceError

APP_DIR = "/userdata/classifier"
CONFIG = f"{APP_DIR}/config.json"
CURRENT = f"{APP_DIR}/current"  # the release a flash switched to (host_tools/deploy/board.py)
CURRENT_CONFIG = f"{CURRENT}/config.json"
INIT_SCRIPT = "/etc/init.d/S99classifier"
DEFAULT_PORT = 7070  # the board program's output_port unless its config says otherwise
_SHA = re.compile(r"^([0-9a-f]{64})\b")


class ByteStream(Protocol):
    def read(self, timeout: float) -> bytes: ...  # b"" when nothing arrived; DeviceError once closed
    def close(self) -> None: ...


class LinuxLink(Protocol):
    description: str

    def run(self, command_line: str, timeout: float) -> tuple[int, str]: ...
    def put(self, path: str, data: bytes, progress: Progress | None = None) -> None: ...
    def get(self, path: str) -> bytes: ...
    def open_tcp(self, port: int) -> ByteStream: ...
    def close(self) -> None: ...


class SocketStream:
    """A ByteStream on a connected socket."""

    def __init__(self, sock: socket.socket, what: str) -> None:
        self.sock, self.what = sock, what

    def read(self, timeout: float) -> bytes:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise DeviceError(f"{self.what}: {exc.strerror or exc}") from None
        if not data:
            raise DeviceError(f"{self.what}: the board closed the connection")
        return data

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class FreeSpace:
    total_bytes: int
    free_bytes: int


class LinuxBoard:
    """Commands and files of a Linux board, over one link."""

    def __init__(self, link: LinuxLink, timeout: float = 60.0) -> None:
        self.link = link
        self.timeout = timeout

    def run(self, argv: list[str], check: bool = True, timeout: float | None = None) -> RunResult:
        status, output = self.link.run(shlex.join(argv), self.timeout if timeout is None else timeout)
        if check and status != 0:
            last = output.strip().splitlines()[-1] if output.strip() else "no output"
            raise DeviceError(f"`{shlex.join(argv)[:120]}` failed on the board (exit {status}): {last}")
        return RunResult(status, output)

    def read_file(self, path: str) -> bytes:
        return self.link.get(path)

    def write_file(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        self.link.put(path, data, progress)

    def exists(self, path: str) -> bool:
        return self.run(["test", "-e", path], check=False).status == 0

    def sha256(self, path: str) -> str:
        out = self.run(["sha256sum", "--", path]).output.strip()
        m = _SHA.match(out)
        if not m:
            raise DeviceError(f"unexpected sha256sum output for {path!r}: {out[:120]!r}")
        return m.group(1)

    def rename(self, src: str, dst: str) -> None:
        self.run(["mv", "-f", "--", src, dst])

    def remove(self, path: str) -> None:
        self.run(["rm", "-f", "--", path])

    def mkdir(self, path: str) -> None:
        self.run(["mkdir", "-p", "--", path])

    def free_space(self, path: str) -> FreeSpace:
        """df -k (POSIX output, as BusyBox prints it) for the filesystem holding `path`."""
        lines = self.run(["df", "-k", path]).output.strip().splitlines()
        fields = " ".join(lines[1:]).split()  # a long device name wraps onto its own line
        try:
            return FreeSpace(int(fields[1]) * 1024, int(fields[3]) * 1024)
        except (IndexError, ValueError):
            raise DeviceError(f"unexpected df output for {path}: {' | '.join(lines)[:200]}") from None


class LinuxDevice(Device):
    board = "rv1103"

    def __init__(self, name: DeviceName, link: LinuxLink, emulated: bool = False) -> None:
        self.name, self.link, self.emulated = name, link, emulated
        self.fs = LinuxBoard(link)
        self.description = f"{'EMULATED ' if emulated else ''}Luckfox Pico (RV1103) via {link.description}"

    def put_verified(self, path: str, data: bytes, progress: Progress | None = None) -> str:
        return files.put_verified(self.fs, path, data, progress)

    def remove(self, path: str) -> None:
        self.fs.remove(path)

    def rename(self, src: str, dst: str) -> None:
        self.fs.rename(src, dst)

    def run(self, command) -> RunResult:
        if isinstance(command, str):
            raise TypeError("a Linux board runs an argv list (its arguments are quoted, never parsed)")
        return self.fs.run(list(command), check=False)

    def restart_app(self) -> None:
        self.fs.run([INIT_SCRIPT, "restart"])

    def config_path(self) -> str:
        """The running release's config.json (through the `current` link a flash made), or CONFIG on a board
        deployed by hand."""
        return CURRENT_CONFIG if self.fs.exists(CURRENT) else CONFIG

    def read_config(self) -> bytes:
        return self.fs.read_file(self.config_path())

    def read_manifest(self, config: bytes | None = None) -> tuple[bytes | None, str]:
        """The model manifest the board program reads with its config (labels, colour order): the .json
        beside the model that the config (`config`, else the board's) names; (None, its path) where there is
        none, as on a board deployed by hand with a config that names its labels."""
        import posixpath

        import camrt

        try:
            model = json.loads(self.read_config() if config is None else config).get("model", "model.rknn")
        except (ValueError, AttributeError):
            model = "model.rknn"
        if not isinstance(model, str) or not model:
            model = "model.rknn"
        path = camrt.manifest_path_for(posixpath.join(posixpath.dirname(self.config_path()), model))
        if not path or not self.fs.exists(path):
            return None, path
        return self.fs.read_file(path), path

    def write_config(self, data: bytes) -> None:
        # renamed into place: the program's watcher never sees half a file
        self.put_verified(self.config_path(), data)

    def result_port(self) -> int:
        """The board program's TCP port: its config's output_port (7070 unless changed)."""
        try:
            port = json.loads(self.read_config()).get("output_port", DEFAULT_PORT)
        except (DeviceError, ValueError, AttributeError):
            return DEFAULT_PORT
        if not isinstance(port, int) or not 0 <= port <= 65535:
            return DEFAULT_PORT
        if port == 0:
            raise DeviceError("the board program's TCP output is off (output_port 0 in its config.json)")
        return port

    def open_stream(self, frames: bool = False, frame_interval: float = 0.2,
                    restart: bool = False) -> LiveSource:
        if restart:
            self.restart_app()
        port = self.result_port()
        refused = DeviceError(f"nothing listens on the board's port {port}: is the board program running? "
                              f"(its log: /var/log/classifier.log; restart: {INIT_SCRIPT} restart)")
        try:
            stream = self.link.open_tcp(port)  # ssh refuses the channel; adb closes the stream at once
        except DeviceError:
            raise refused from None
        first = b""
        deadline = time.monotonic() + (10.0 if restart else 3.0)
        while not first and time.monotonic() < deadline:
            try:
                first = stream.read(0.2)
            except DeviceError:
                stream.close()
                raise refused from None
        pending = [first]

        def read() -> bytes:
            return pending.pop() if pending else stream.read(0.05)

        return LiveSource(f"{self.description}, port {port}", byte_events(read), None, stream.close)

    def close(self) -> None:
        self.link.close()
