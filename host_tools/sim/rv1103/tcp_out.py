"""The board's TCP output, emulated: every connected client gets every JSON line; no client can stall us."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field

MAX_BACKLOG = 256 * 1024  # bytes queued per client before it is dropped as too slow (as on the board)


@dataclass
class _Client:
    sock: socket.socket
    peer: str
    pending: bytearray = field(default_factory=bytearray)


class TcpLines:
    def __init__(self, host: str, port: int) -> None:
        # create_server picks the address family of `host` (IPv4 or IPv6) and sets SO_REUSEADDR.
        self.server = socket.create_server((host, port), backlog=8)
        self.server.setblocking(False)
        self.port = self.server.getsockname()[1]
        self.clients: list[_Client] = []

    def _accept(self) -> None:
        while True:
            try:
                sock, addr = self.server.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            self.clients.append(_Client(sock, f"{addr[0]}:{addr[1]}"))
            print(f"sim rv1103: tcp client {addr[0]}:{addr[1]} connected", file=sys.stderr)

    def _flush(self, c: _Client) -> bool:
        while c.pending:
            try:
                n = c.sock.send(c.pending)
            except BlockingIOError:
                return True
            except OSError:
                return False
            del c.pending[:n]
        return True

    def _drop(self, c: _Client, why: str) -> None:
        print(f"sim rv1103: tcp client {c.peer} dropped: {why}", file=sys.stderr)
        c.sock.close()
        self.clients.remove(c)

    def send_line(self, line: str) -> None:
        self._accept()
        data = line.encode() + b"\n"
        for c in list(self.clients):
            if len(c.pending) + len(data) > MAX_BACKLOG:
                self._drop(c, "too slow (send backlog full)")
                continue
            c.pending += data
            if not self._flush(c):
                self._drop(c, "send failed")

    def close(self) -> None:
        for c in self.clients:
            c.sock.close()
        self.clients.clear()
        self.server.close()
