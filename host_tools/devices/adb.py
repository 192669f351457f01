"""The adb link to a Linux board: adbutils (the client library) against the adb server of Debian's `adb`.

The server is the one at ANDROID_ADB_SERVER_PORT (default 5037), started with the `adb` on PATH when it is
not running, as the adb command itself does. Primitives for linux.py:
  run      `shell:` with the command line; the plain shell service carries no exit status, so the line
           ends by printing a marker and $? (older adbd run commands on a pty: "\\r\\n" is folded to "\\n")
  put/get  the sync service (SEND/RECV): bytes exact, never through a shell
  open_tcp `tcp:PORT`, opened by adbd on the board: what `adb forward tcp:N tcp:PORT` uses
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import subprocess

from host_tools.devices.linux import SocketStream
from host_tools.devices.micropython import Progress
from host_tools.errors import DeviceError

DEFAULT_SERVER_PORT = 5037


def server_port() -> int:
    try:
        return int(os.environ.get("ANDROID_ADB_SERVER_PORT", DEFAULT_SERVER_PORT))
    except ValueError:
        raise DeviceError("ANDROID_ADB_SERVER_PORT must be a port number") from None


def _server_up(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return False
    return True


def adb_client(start: bool = True):
    """An adbutils client of the adb server, which is started (Debian's `adb start-server`) when needed."""
    try:
        import adbutils
    except ImportError:
        raise DeviceError("the adb link needs the adbutils package (pip install adbutils)") from None
    port = server_port()
    if not _server_up(port):
        adb = shutil.which("adb")
        if not start:
            raise DeviceError(f"no adb server on port {port}")
        if adb is None:
            raise DeviceError("adb not found: install Debian's adb (apt-get install adb); `make setup` does")
        r = subprocess.run([adb, "start-server"], capture_output=True, text=True, timeout=30,
                           env={**os.environ, "ANDROID_ADB_SERVER_PORT": str(port)})
        if r.returncode != 0 or not _server_up(port):
            why = (r.stderr or r.stdout).strip()
            raise DeviceError(f"could not start the adb server on port {port}: {why}")
    return adbutils.AdbClient(host="127.0.0.1", port=port, socket_timeout=30)


def _adb_error(what: str, exc: Exception) -> DeviceError:
    return DeviceError(f"adb: {what}: {exc}")


class _ProgressReader(io.RawIOBase):
    """The bytes to push, reporting how many the sync service took."""

    def __init__(self, data: bytes, progress: Progress | None) -> None:
        self.data, self.pos, self.progress = data, 0, progress

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else min(len(self.data), self.pos + n)
        chunk, self.pos = self.data[self.pos:end], end
        if self.progress:
            self.progress(self.pos, len(self.data))
        return chunk

    def readable(self) -> bool:
        return True


class AdbLink:
    def __init__(self, serial: str = "") -> None:
        import adbutils

        self.client = adb_client()
        try:
            serials = [d.serial for d in self.client.device_list()]
            if serial and serial not in serials and ":" in serial:  # HOST:PORT: connect first, as adb connect
                answer = self.client.connect(serial, timeout=10)
                if "connected" not in answer:
                    raise DeviceError(f"adb could not connect to {serial}: {answer}")
                serials = [d.serial for d in self.client.device_list()]
        except adbutils.AdbError as exc:
            raise _adb_error("listing devices", exc) from None
        if not serial:
            if len(serials) != 1:
                listing = ", ".join(serials) or "none"
                raise DeviceError(f"adb sees {len(serials)} devices ({listing}): name one with "
                                  "--device adb:SERIAL")
            serial = serials[0]
        elif serial not in serials:
            raise DeviceError(f"no adb device {serial!r} (adb sees: {', '.join(serials) or 'none'})")
        self.serial = serial
        self.device = self.client.device(serial)
        self.description = f"adb {serial}"

    def run(self, command_line: str, timeout: float) -> tuple[int, str]:
        import adbutils

        token = "@@exit" + secrets.token_hex(4) + "="
        line = f"{command_line}\nprintf '\\n{token}%d\\n' \"$?\""
        try:
            raw = self.device.shell(line, timeout=timeout, encoding=None)
        except adbutils.AdbTimeout:
            raise DeviceError(f"adb: the board did not finish `{command_line[:80]}` within "
                              f"{timeout:.0f} s") from None
        except (adbutils.AdbError, OSError) as exc:
            raise _adb_error("shell", exc) from None
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        end = text.rfind("\n" + token)
        if end < 0:
            raise DeviceError(f"adb: the board's shell ended without an exit status "
                              f"(output: {text[-200:]!r})")
        try:
            status = int(text[end + len(token) + 1:].strip())
        except ValueError:
            raise DeviceError(f"adb: unreadable exit status in {text[end:end + 40]!r}") from None
        return status, text[:end]

    def put(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        import adbutils

        try:
            self.device.sync.push(_ProgressReader(data, progress), path, mode=0o644)
        except (adbutils.AdbError, OSError) as exc:
            raise _adb_error(f"push {path}", exc) from None

    def get(self, path: str) -> bytes:
        import adbutils

        try:
            return self.device.sync.read_bytes(path)
        except (adbutils.AdbError, OSError) as exc:
            raise _adb_error(f"pull {path}", exc) from None

    def open_tcp(self, port: int) -> SocketStream:
        import adbutils

        try:
            sock = self.device.create_connection(adbutils.Network.TCP, port)
        except (adbutils.AdbError, OSError) as exc:
            raise _adb_error(f"tcp:{port}", exc) from None
        return SocketStream(sock, f"adb {self.serial} tcp:{port}")

    def close(self) -> None:
        pass  # adbutils opens one server connection per request
