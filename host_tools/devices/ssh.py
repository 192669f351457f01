"""The SSH link to a Linux board (asyncssh, driven from a background event loop).

Primitives for linux.py: run (exec with the exit status), put/get (SFTP: bytes exact, never through a
shell), open_tcp (a direct-tcpip channel: the board connects to its own port, as `ssh -L` does).
Keys: the client keys of ~/.ssh (as ssh uses them) or a given one; host keys are checked against
~/.ssh/known_hosts (or a given file: an emulated board hands out its own). An unknown host is refused
with the command that accepts it, as ssh would ask first.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from host_tools.devices.micropython import Progress
from host_tools.errors import DeviceError

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 15.0


class _Loop:
    """An asyncio loop in a daemon thread; call() runs a coroutine there and waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ssh-link", daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine, timeout: float | None = None) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


def _ssh_error(what: str, exc: BaseException) -> DeviceError:
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return DeviceError(f"ssh: {what}: {reason}")


class SshStream:
    """A ByteStream on a direct-tcpip channel."""

    def __init__(self, link: SshLink, reader, writer, what: str) -> None:
        self.link, self.reader, self.writer, self.what = link, reader, writer, what

    def read(self, timeout: float) -> bytes:
        async def get() -> bytes:
            try:
                return await asyncio.wait_for(self.reader.read(CHUNK), timeout)
            except asyncio.TimeoutError:
                return b"\0timeout"

        try:
            data = self.link.loop.call(get())
        except Exception as exc:
            raise _ssh_error(self.what, exc) from None
        if data == b"\0timeout":
            return b""
        if not data:
            raise DeviceError(f"{self.what}: the board closed the connection")
        return data

    def close(self) -> None:
        try:
            self.link.loop.loop.call_soon_threadsafe(self.writer.close)
        except RuntimeError:
            pass  # the loop is already gone


class SshLink:
    def __init__(self, host: str, port: int = 22, user: str = "root", key: Path | None = None,
                 known_hosts: Path | None = None) -> None:
        import asyncssh

        self.host, self.port, self.user = host, port, user
        self.description = f"ssh {user}@{host}:{port}"
        self.loop = _Loop()
        options: dict[str, Any] = {"username": user, "port": port, "connect_timeout": CONNECT_TIMEOUT}
        if key is not None:
            options["client_keys"] = [str(key)]
        if known_hosts is not None:
            options["known_hosts"] = str(known_hosts)
        async def connect():
            return await asyncssh.connect(host, **options)

        try:
            self.conn = self.loop.call(connect(), CONNECT_TIMEOUT + 5)
        except asyncssh.HostKeyNotVerifiable:
            self.loop.stop()
            raise DeviceError(f"ssh: the host key of {host} is not known: connect once with "
                              f"`ssh -p {port} {user}@{host}` and accept it, then try again") from None
        except asyncssh.PermissionDenied:
            self.loop.stop()
            raise DeviceError(f"ssh: {user}@{host}:{port} refused the key(s) offered") from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            self.loop.stop()
            raise _ssh_error(f"connecting to {host}:{port}", exc) from None
        self._sftp = None

    def _call(self, what: str, coro: Coroutine, timeout: float | None = None) -> Any:
        import asyncssh

        try:
            return self.loop.call(coro, timeout)
        except TimeoutError:
            raise DeviceError(f"ssh: {what}: no answer within {timeout:.0f} s") from None
        except (OSError, asyncssh.Error) as exc:
            raise _ssh_error(what, exc) from None

    def run(self, command_line: str, timeout: float) -> tuple[int, str]:
        async def go():
            result = await self.conn.run(command_line, check=False, encoding="utf-8", errors="replace")
            return result.exit_status, (result.stdout or "") + (result.stderr or "")

        status, output = self._call(f"running `{command_line[:80]}`", go(), timeout)
        return (255 if status is None else status), output

    async def _sftp_client(self):
        if self._sftp is None:
            self._sftp = await self.conn.start_sftp_client()
        return self._sftp

    def put(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        async def go() -> None:
            sftp = await self._sftp_client()
            async with sftp.open(path, "wb") as f:
                for i in range(0, len(data), CHUNK):
                    await f.write(data[i:i + CHUNK])
                    if progress:
                        progress(min(i + CHUNK, len(data)), len(data))
            if not data and progress:
                progress(0, 0)

        self._call(f"writing {path}", go())

    def get(self, path: str) -> bytes:
        async def go() -> bytes:
            sftp = await self._sftp_client()
            async with sftp.open(path, "rb") as f:
                return await f.read()

        return self._call(f"reading {path}", go())

    def open_tcp(self, port: int) -> SshStream:
        async def forward():
            return await self.conn.open_connection("127.0.0.1", port)

        reader, writer = self._call(f"forwarding port {port}", forward(), 15)
        return SshStream(self, reader, writer, f"ssh {self.host} port {port}")

    def close(self) -> None:
        async def go() -> None:
            if self._sftp is not None:
                self._sftp.exit()
            self.conn.close()
            await self.conn.wait_closed()

        try:
            self.loop.call(go(), 5)
        except Exception:  # closing a link that already broke
            pass
        self.loop.stop()
