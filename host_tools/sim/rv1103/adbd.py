"""The emulated Luckfox Pico's adb daemon: the device side of the adb protocol, on a TCP port.

The real `adb` client and server reach it as they reach a board over the network: `adb connect HOST:PORT`,
then `adb shell`, `adb push`/`pull`, `adb forward tcp:N tcp:7070`. Written from AOSP's adb/protocol.txt,
SYNC.TXT and SERVICES.TXT:

- messages: a 24-byte header (command, arg0, arg1, payload length, payload sum, command ^ 0xffffffff; all
  u32 little-endian) and the payload. A bad header closes the connection.
- handshake: the host's CNXN is answered with ours (no AUTH: the board does not ask, as a Luckfox does not);
  version 0x01000001 (no payload sums) when the host speaks it, maxdata 256 KiB.
- streams: OPEN -> OKAY (or CLSE on failure), WRTE each acknowledged by an OKAY before the next (no
  delayed_ack feature: stop-and-wait), CLSE.
- services: shell:CMD (stdout and stderr merged, no exit status: the plain shell service), shell: (an
  interactive shell on a pty), exec:CMD (stdout only), sync: (STAT, LIST, SEND, RECV, QUIT), tcp:PORT and
  tcp:HOST:PORT (a connection made from inside the board, so adb forward reaches the board's own port),
  reboot:.
Commands run inside the board (machine.py); files are read and written through board_fs, confined to the
device root.
"""

from __future__ import annotations

import asyncio
import os
import stat
import struct
import sys
from pathlib import Path

from host_tools.sim.rv1103 import board_fs
from host_tools.sim.rv1103.machine import Machine

A_SYNC, A_CNXN, A_AUTH, A_OPEN = 0x434E5953, 0x4E584E43, 0x48545541, 0x4E45504F
A_OKAY, A_CLSE, A_WRTE, A_STLS = 0x59414B4F, 0x45534C43, 0x45545257, 0x534C5453
COMMANDS = {A_SYNC, A_CNXN, A_AUTH, A_OPEN, A_OKAY, A_CLSE, A_WRTE, A_STLS}
VERSION_MIN, VERSION = 0x01000000, 0x01000001  # 0x01000001: payload sums are no longer sent or checked
MAX_PAYLOAD = 256 * 1024
SYNC_CHUNK = 64 * 1024  # SYNC.TXT: DATA chunks are at most 64 KiB
FEATURES = "fixed_push_mkdir"  # SEND creates missing parent folders; nothing else is claimed
_HEADER = struct.Struct("<6I")


def banner(model: str) -> bytes:
    props = {"ro.product.name": "luckfox_pico", "ro.product.model": model, "ro.product.device": "rv1103"}
    return ("device::" + ";".join(f"{k}={v}" for k, v in props.items()) + f";features={FEATURES}").encode()


class Closed(Exception):
    """The stream (or the whole connection) is gone."""


class Stream:
    def __init__(self, conn: Connection, local: int, remote: int) -> None:
        self.conn, self.local, self.remote = conn, local, remote
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.ready = asyncio.Event()
        self.ready.set()  # the host's OPEN implies it is ready for our first WRTE
        self.closed = False
        self._pending = b""

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            await self.ready.wait()
            if self.closed:
                raise Closed()
            self.ready.clear()
            chunk, view = view[: self.conn.peer_max], view[self.conn.peer_max:]
            await self.conn.send(A_WRTE, self.local, self.remote, bytes(chunk))

    async def read(self) -> bytes | None:
        """The next WRTE payload from the host (acknowledged now), None once the host closed the stream."""
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        data = await self.inbox.get()
        if data is None:
            return None
        if not self.closed:
            await self.conn.send(A_OKAY, self.local, self.remote)
        return data

    async def read_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            data = await self.read()
            if data is None:
                return None
            buf += data
        self._pending = bytes(buf[n:])
        return bytes(buf[:n])

    def host_closed(self) -> None:
        self.closed = True
        self.inbox.put_nowait(None)
        self.ready.set()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.ready.set()
            await self.conn.send(A_CLSE, self.local, self.remote)
        self.conn.streams.pop(self.local, None)


class Connection:
    def __init__(self, daemon: AdbDaemon, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.daemon, self.reader, self.writer = daemon, reader, writer
        self.version = VERSION_MIN
        self.peer_max = 4096
        self.streams: dict[int, Stream] = {}
        self.next_id = 1
        self.tasks: set[asyncio.Task] = set()
        self._wlock = asyncio.Lock()

    async def send(self, cmd: int, arg0: int, arg1: int, payload: bytes = b"") -> None:
        check = 0 if self.version >= VERSION else sum(payload) & 0xFFFFFFFF
        async with self._wlock:
            self.writer.write(_HEADER.pack(cmd, arg0, arg1, len(payload), check, cmd ^ 0xFFFFFFFF) + payload)
            await self.writer.drain()

    async def receive(self) -> tuple[int, int, int, bytes]:
        head = await self.reader.readexactly(_HEADER.size)
        cmd, arg0, arg1, n, check, magic = _HEADER.unpack(head)
        if cmd not in COMMANDS or magic != cmd ^ 0xFFFFFFFF or n > MAX_PAYLOAD:
            raise Closed(f"bad message header {head.hex()}")
        payload = await self.reader.readexactly(n) if n else b""
        if self.version < VERSION and cmd != A_CNXN and check != sum(payload) & 0xFFFFFFFF:
            raise Closed("payload sum mismatch")
        return cmd, arg0, arg1, payload

    async def run(self) -> None:
        try:
            while True:  # messages before the host's CNXN are ignored (protocol.txt)
                cmd, arg0, arg1, _ = await self.receive()
                if cmd == A_CNXN:
                    break
            self.version = max(VERSION_MIN, min(arg0, VERSION))
            self.peer_max = max(4096, min(arg1, 1 << 20))
            await self.send(A_CNXN, self.version, MAX_PAYLOAD, self.daemon.banner)
            while True:
                cmd, arg0, arg1, payload = await self.receive()
                await self.dispatch(cmd, arg0, arg1, payload)
        except (asyncio.IncompleteReadError, ConnectionError, Closed):
            pass
        finally:
            for stream in list(self.streams.values()):
                stream.host_closed()
            for task in list(self.tasks):
                task.cancel()
            self.writer.close()

    async def dispatch(self, cmd: int, arg0: int, arg1: int, payload: bytes) -> None:
        if cmd == A_OPEN:
            if arg0 == 0:
                raise Closed("OPEN with local-id 0")
            stream = Stream(self, self.next_id, arg0)
            self.next_id += 1
            self.streams[stream.local] = stream
            service = payload.rstrip(b"\0").decode("utf-8", "replace")
            task = asyncio.create_task(self.daemon.service(service, stream))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif cmd == A_OKAY:
            if (stream := self.streams.get(arg1)) is not None:
                stream.ready.set()
        elif cmd == A_WRTE:
            if (stream := self.streams.get(arg1)) is not None:
                stream.inbox.put_nowait(payload)
        elif cmd == A_CLSE:
            if (stream := self.streams.pop(arg1, None)) is not None:
                stream.host_closed()
        # CNXN again, AUTH, STLS, SYNC: nothing to do for a board that never asks for them


class AdbDaemon:
    def __init__(self, machine: Machine, model: str = "Luckfox_Pico_emulated_RV1103") -> None:
        self.machine = machine
        self.root = machine.root
        self.banner = banner(model)
        self.server: asyncio.base_events.Server | None = None
        self.connections: set[Connection] = set()

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._connected, host, port)
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in list(self.connections):  # the host sees the device go away
            conn.writer.close()
        if self.server is not None:
            await self.server.wait_closed()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        try:
            await conn.run()
        except asyncio.CancelledError:
            pass
        finally:
            self.connections.discard(conn)

    async def service(self, name: str, stream: Stream) -> None:
        try:
            if name.startswith("shell:"):
                await self._shell(stream, name[6:], merge=True)
            elif name.startswith("exec:"):
                await self._shell(stream, name[5:], merge=False)
            elif name == "sync:":
                await stream.conn.send(A_OKAY, stream.local, stream.remote)
                await Sync(self.root, stream).run()
            elif name.startswith("tcp:"):
                await self._tcp(stream, name[4:])
            elif name.startswith("reboot:"):
                await stream.conn.send(A_OKAY, stream.local, stream.remote)
                nothing = asyncio.subprocess.DEVNULL
                proc = await self.machine.start(["reboot"], stdin=nothing, stdout=nothing, stderr=nothing)
                await proc.wait()
            else:
                await stream.conn.send(A_CLSE, 0, stream.remote)  # unknown service: the OPEN fails
                stream.conn.streams.pop(stream.local, None)
                return
        except (Closed, ConnectionError):
            pass
        except Exception as exc:  # a service's failure ends its stream, never the daemon
            print(f"emulated adbd: {name.split(':')[0]}: {type(exc).__name__}: {exc}", file=sys.stderr,
                  flush=True)
        try:
            await stream.close()
        except (ConnectionError, RuntimeError):
            pass

    async def _shell(self, stream: Stream, command: str, merge: bool) -> None:
        await stream.conn.send(A_OKAY, stream.local, stream.remote)
        if not command.strip():
            await self._interactive(stream)
            return
        PIPE = asyncio.subprocess.PIPE  # noqa: N806
        err = asyncio.subprocess.STDOUT if merge else asyncio.subprocess.DEVNULL
        proc = await self.machine.start(["/bin/sh", "-c", command], stdin=PIPE, stdout=PIPE, stderr=err)
        await _relay_process(stream, proc, self.machine)

    async def _interactive(self, stream: Stream) -> None:
        master, slave = os.openpty()
        try:
            proc = await self.machine.start(["setsid", "-c", "/bin/sh", "-l"], env={"TERM": "xterm"},
                                            stdin=slave, stdout=slave, stderr=slave)
        finally:
            os.close(slave)
        await _relay_fd(stream, master, proc, self.machine)

    async def _tcp(self, stream: Stream, where: str) -> None:
        host, _, port = where.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            await stream.conn.send(A_CLSE, 0, stream.remote)
            stream.conn.streams.pop(stream.local, None)
            raise Closed()
        await stream.conn.send(A_OKAY, stream.local, stream.remote)
        PIPE = asyncio.subprocess.PIPE  # noqa: N806
        # The board's own nc connects from inside the board, to the board's loopback.
        proc = await self.machine.start(["nc", host or "127.0.0.1", port], stdin=PIPE, stdout=PIPE,
                                        stderr=asyncio.subprocess.DEVNULL)
        await _relay_process(stream, proc, self.machine)


async def _relay_process(stream: Stream, proc: asyncio.subprocess.Process, machine: Machine) -> None:
    async def host_to_process() -> None:
        while (data := await stream.read()) is not None:
            proc.stdin.write(data)
            await proc.stdin.drain()
        await machine.stop(proc)  # the host closed the stream: end the command, as a closed session does

    feeder = asyncio.create_task(host_to_process())
    try:
        while data := await proc.stdout.read(MAX_PAYLOAD):
            await stream.write(data)
        await proc.wait()
    except (Closed, ConnectionError):
        await machine.stop(proc)
    finally:
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        if proc.returncode is None:
            await machine.stop(proc)


async def _relay_fd(stream: Stream, master: int, proc: asyncio.subprocess.Process, machine: Machine) -> None:
    loop = asyncio.get_running_loop()
    os.set_blocking(master, False)
    output: asyncio.Queue[bytes | None] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(master, MAX_PAYLOAD)
        except OSError:  # EIO once the shell and its children closed the pty
            data = b""
        if not data:
            loop.remove_reader(master)
        output.put_nowait(data or None)

    async def host_to_pty() -> None:
        while (data := await stream.read()) is not None:
            os.write(master, data)  # small keystrokes: a pty takes them at once
        await machine.stop(proc)

    loop.add_reader(master, readable)
    feeder = asyncio.create_task(host_to_pty())
    try:
        while (data := await output.get()) is not None:
            await stream.write(data)
    except (Closed, ConnectionError):
        pass
    finally:
        loop.remove_reader(master)
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        await machine.stop(proc)
        os.close(master)


class Sync:
    """The sync: service (SYNC.TXT) on the board's files."""

    def __init__(self, root: Path, stream: Stream) -> None:
        self.root, self.stream = root, stream

    async def reply(self, ident: bytes, *values: int, data: bytes = b"") -> None:
        await self.stream.write(ident + struct.pack(f"<{len(values)}I", *values) + data)

    async def fail(self, message: str) -> None:
        msg = message.encode()
        await self.stream.write(b"FAIL" + struct.pack("<I", len(msg)) + msg)

    async def run(self) -> None:
        while True:
            head = await self.stream.read_exact(8)
            if head is None:
                return
            ident, n = head[:4], struct.unpack("<I", head[4:])[0]
            if ident == b"QUIT":
                return
            if ident not in (b"STAT", b"LIST", b"SEND", b"RECV") or n > 4096:
                await self.fail(f"unknown sync request {ident!r}")
                return
            arg = await self.stream.read_exact(n)
            if arg is None:
                return
            path = arg.decode("utf-8", "surrogateescape")
            handler = {b"STAT": self.stat, b"LIST": self.list, b"SEND": self.send, b"RECV": self.recv}[ident]
            await handler(path)

    async def stat(self, path: str) -> None:
        try:
            st = os.lstat(board_fs.resolve(self.root, path, follow_last=False))
        except OSError:
            await self.reply(b"STAT", 0, 0, 0)
            return
        await self.reply(b"STAT", st.st_mode & 0xFFFFFFFF, min(st.st_size, 0xFFFFFFFF), int(st.st_mtime))

    async def list(self, path: str) -> None:
        try:
            folder = board_fs.resolve(self.root, path)
            names = [".", "..", *sorted(os.listdir(folder))]
        except OSError:
            names, folder = [], None
        for name in names:
            try:
                st = os.lstat(folder / name)
            except OSError:
                continue
            raw = name.encode("utf-8", "surrogateescape")
            await self.reply(b"DENT", st.st_mode & 0xFFFFFFFF, min(st.st_size, 0xFFFFFFFF), int(st.st_mtime),
                             len(raw), data=raw)
        await self.reply(b"DONE", 0, 0, 0, 0)

    async def send(self, spec: str) -> None:
        path, _, mode_text = spec.rpartition(",")
        if not path:
            path, mode_text = spec, "33188"  # no mode: 0100644
        mode = int(mode_text) if mode_text.isdigit() else 0o100644
        error, target, out = "", None, None
        link = bytearray()
        try:
            if path.endswith("/"):
                raise IsADirectoryError(f"{path}: is a directory")
            board_fs.makedirs(self.root, path.rpartition("/")[0] or "/")
            target = board_fs.resolve(self.root, path)
            if target.is_dir():
                raise IsADirectoryError(f"{path}: is a directory")
            if not stat.S_ISLNK(mode):
                out = open(target, "wb")  # noqa: SIM115 - closed below, removed if the transfer fails
        except OSError as exc:
            error = f"{path}: {exc.strerror or exc}"
        done = False
        try:
            while True:  # the data comes even when the file cannot be written: read it all, then answer
                head = await self.stream.read_exact(8)
                if head is None:
                    return
                ident, n = head[:4], struct.unpack("<I", head[4:])[0]
                if ident == b"DONE":
                    mtime = n
                    break
                if ident != b"DATA" or n > SYNC_CHUNK:
                    await self.fail(f"unexpected {ident!r} during SEND")
                    raise Closed()
                data = await self.stream.read_exact(n)
                if data is None:
                    return
                if out is not None:
                    try:
                        out.write(data)
                    except OSError as exc:
                        error = error or f"{path}: {exc.strerror or exc}"
                elif stat.S_ISLNK(mode):
                    link += data
            if not error:
                try:
                    _finish(target, out, bytes(link), mode, mtime)
                    out = None
                    done = True
                except OSError as exc:
                    error = f"{path}: {exc.strerror or exc}"
        finally:
            if out is not None:
                out.close()
            if not done and target is not None and not stat.S_ISLNK(mode) and target.is_file():
                target.unlink()  # a transfer that failed leaves no partial file (as adbd)
        if error:
            await self.fail(error)
        else:
            await self.reply(b"OKAY", 0)

    async def recv(self, path: str) -> None:
        try:
            f = open(board_fs.resolve(self.root, path), "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            await self.fail(f"{path}: {exc.strerror or exc}")
            return
        with f:
            while block := f.read(SYNC_CHUNK):
                await self.reply(b"DATA", len(block), data=block)
        await self.reply(b"DONE", 0)


def _finish(target: Path, out, link: bytes, mode: int, mtime: int) -> None:
    if stat.S_ISLNK(mode):  # adb pushes a symlink as its target text
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(link.decode("utf-8", "surrogateescape"), target)
        return
    out.close()
    os.chmod(target, mode & 0o7777)
    if mtime:
        os.utime(target, (mtime, mtime))
