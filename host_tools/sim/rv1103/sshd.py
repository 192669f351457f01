"""The emulated Luckfox Pico's SSH server (asyncssh): exec, interactive shells, SFTP, local port forwarding.

- Key authentication only, for the user root: the keys in the board's /root/.ssh/authorized_keys (read at
  every login, so a key installed on the board takes effect as on a real one). No password login.
- The host key and a client key are generated once per device root (keys.py); the client key is what the
  emulator hands out in its first JSON line.
- exec and shells run inside the board (machine.py) with the user's home as working directory; a pty is
  used when the client asks for one.
- SFTP works on the board's files, confined to the device root (board_fs.py).
- direct-tcpip (ssh -L, or a client's open_connection) is connected from inside the board, to the board's
  own loopback: the board program's port 7070 is the board's, not the host's.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
from pathlib import Path

import asyncssh

from host_tools.sim.rv1103 import board_fs
from host_tools.sim.rv1103.machine import Machine

USER = "root"
HOME = "/root"
AUTHORIZED_KEYS = "root/.ssh/authorized_keys"
_IN_HOME = 'cd "$HOME" 2>/dev/null; exec /bin/sh -c "$1"'


def _set_winsize(fd: int, size: tuple[int, int, int, int]) -> None:
    cols, rows = size[0] or 80, size[1] or 24
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, size[2], size[3]))


class _Server(asyncssh.SSHServer):
    def __init__(self, board: BoardSSH) -> None:
        self.board = board
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.board.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.board.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        keys = self.board.machine.root / AUTHORIZED_KEYS
        if username == USER and keys.is_file():
            try:
                self.conn.set_authorized_keys(str(keys))
            except (OSError, ValueError):
                pass  # an unreadable file trusts no key
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int):
        return self.board.tcp_session(dest_host, dest_port)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        return False  # no remote forwarding: the board does not listen on the host's behalf


class _TcpSession(asyncssh.SSHTCPSession):
    """A forwarded connection, made from inside the board by its own nc."""

    def __init__(self, machine: Machine, proc: asyncio.subprocess.Process) -> None:
        self.machine, self.proc = machine, proc
        self.chan = None
        self.pump: asyncio.Task | None = None

    def connection_made(self, chan) -> None:
        self.chan = chan
        self.pump = asyncio.get_running_loop().create_task(self._to_client())

    async def _to_client(self) -> None:
        try:
            while data := await self.proc.stdout.read(65536):
                self.chan.write(data)
        finally:
            self.chan.close()

    def data_received(self, data: bytes, datatype) -> None:
        self.proc.stdin.write(data)

    def eof_received(self) -> bool:
        self.proc.stdin.close()
        return True

    def connection_lost(self, exc) -> None:
        asyncio.get_running_loop().create_task(self.machine.stop(self.proc))


class _BoardSFTP(asyncssh.SFTPServer):
    """SFTP on the board's files: every path resolved inside the device root as the board resolves it.

    map_path follows every symlink (open, stat, listing...); the operations that act on a link itself
    (lstat, readlink, remove, rename, symlink, rmdir) resolve only the folders above it."""

    def __init__(self, chan, root: Path) -> None:
        super().__init__(chan)
        self.root = root

    def map_path(self, path: bytes) -> bytes:
        return os.fsencode(board_fs.resolve(self.root, path, cwd=HOME))

    def _link_path(self, path: bytes) -> str:
        return str(board_fs.resolve(self.root, path, follow_last=False, cwd=HOME))

    def reverse_map_path(self, path: bytes) -> bytes:
        host = Path(os.fsdecode(path))
        if host != self.root and self.root not in host.parents:
            raise asyncssh.SFTPNoSuchFile("File not found")
        return os.fsencode(board_fs.board_path(self.root, host))

    def lstat(self, path: bytes):
        return os.lstat(self._link_path(path))

    def readlink(self, path: bytes) -> bytes:
        return os.fsencode(os.readlink(self._link_path(path)))  # the board's own link text

    def remove(self, path: bytes) -> None:
        os.remove(self._link_path(path))

    def rmdir(self, path: bytes) -> None:
        os.rmdir(self._link_path(path))

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        new = self._link_path(newpath)
        if os.path.lexists(new):
            raise asyncssh.SFTPFileAlreadyExists("File already exists")
        os.rename(self._link_path(oldpath), new)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        os.replace(self._link_path(oldpath), self._link_path(newpath))

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        os.symlink(os.fsdecode(oldpath), self._link_path(newpath))  # the target is the board's to resolve

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        os.link(self.map_path(oldpath), self._link_path(newpath))

    def lsetstat(self, path: bytes, attrs) -> None:
        raise asyncssh.SFTPOpUnsupported("lsetstat is not supported")


class BoardSSH:
    def __init__(self, machine: Machine, host_key: asyncssh.SSHKey) -> None:
        self.machine = machine
        self.host_key = host_key
        self.server: asyncssh.SSHAcceptor | None = None
        self.connections: set[asyncssh.SSHServerConnection] = set()

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncssh.create_server(
            lambda: _Server(self), host, port, server_host_keys=[self.host_key], encoding=None,
            line_editor=False, process_factory=self._process, x11_forwarding=False, agent_forwarding=False,
            sftp_factory=lambda chan: _BoardSFTP(chan, self.machine.root), allow_scp=False)
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):
            conn.close()
            await conn.wait_closed()
        if self.server is not None:
            await self.server.wait_closed()

    async def tcp_session(self, host: str, port: int) -> _TcpSession:
        PIPE = asyncio.subprocess.PIPE  # noqa: N806
        proc = await self.machine.start(["nc", host, str(port)], stdin=PIPE, stdout=PIPE,
                                        stderr=asyncio.subprocess.DEVNULL)
        try:  # a refused connection ends nc at once: report it as the SSH client expects
            await asyncio.wait_for(proc.wait(), 0.1)
        except asyncio.TimeoutError:
            return _TcpSession(self.machine, proc)
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_CONNECT_FAILED, f"{host}:{port}: connection refused")

    async def _process(self, process: asyncssh.SSHServerProcess) -> None:
        command = process.command
        env = {"TERM": process.term_type} if process.term_type else {}
        argv = ["/bin/sh", "-c", _IN_HOME, "sh", command] if command else ["setsid", "-c", "/bin/sh", "-l"]
        try:
            if process.term_type:
                rc = await self._with_pty(process, argv, env)
            else:
                rc = await self._with_pipes(process, argv, env)
        except (asyncssh.BreakReceived, asyncssh.SignalReceived, BrokenPipeError, ConnectionError):
            rc = 255
        process.exit(rc)

    async def _with_pipes(self, process: asyncssh.SSHServerProcess, argv: list[str], env: dict) -> int:
        PIPE = asyncio.subprocess.PIPE  # noqa: N806
        proc = await self.machine.start(argv, env=env, stdin=PIPE, stdout=PIPE, stderr=PIPE)

        async def feed() -> None:
            try:
                while data := await process.stdin.read(65536):
                    proc.stdin.write(data)
                    await proc.stdin.drain()
            except (BrokenPipeError, ConnectionError, asyncssh.TerminalSizeChanged):
                pass
            finally:
                proc.stdin.close()

        async def copy(src: asyncio.StreamReader, dst) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()

        feeder = asyncio.create_task(feed())
        try:
            await asyncio.gather(copy(proc.stdout, process.stdout), copy(proc.stderr, process.stderr))
            return await proc.wait()
        finally:
            feeder.cancel()
            await self.machine.stop(proc)

    async def _with_pty(self, process: asyncssh.SSHServerProcess, argv: list[str], env: dict) -> int:
        master, slave = os.openpty()
        _set_winsize(master, process.term_size)
        if process.command:
            argv = ["setsid", "-c", *argv]
        try:
            proc = await self.machine.start(argv, env=env, stdin=slave, stdout=slave, stderr=slave)
        finally:
            os.close(slave)
        loop = asyncio.get_running_loop()
        os.set_blocking(master, False)
        done = asyncio.Event()

        def readable() -> None:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if data:
                process.stdout.write(data)
            else:
                loop.remove_reader(master)
                done.set()

        async def feed() -> None:
            while True:
                try:
                    data = await process.stdin.read(4096)
                except asyncssh.TerminalSizeChanged as change:
                    _set_winsize(master, (change.width, change.height, change.pixwidth, change.pixheight))
                    continue
                if not data:
                    return
                os.write(master, data)

        loop.add_reader(master, readable)
        feeder = asyncio.create_task(feed())
        try:
            await done.wait()
            return await proc.wait()
        finally:
            loop.remove_reader(master)
            feeder.cancel()
            await self.machine.stop(proc)
            os.close(master)
