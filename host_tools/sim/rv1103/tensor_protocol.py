"""The tensor protocol, version 1: how a program on the emulated RV1103 reaches the board's emulated NPU.

The emulated board's NPU is a tensor service outside the device root (tensor_server.py: ONNX Runtime on the
model's ONNX twin, or the RKNN toolkit's simulator). Clients: rv1103_app's pipe engine
(rv1103_app/src/engine_pipe.cpp) and any small C program; so the protocol is plain length-prefixed
binary, readable without a JSON or protobuf library.

Transport: a byte stream, a unix socket (the emulated board puts one in its root) or a child process's
stdin/stdout. All integers are little-endian. Every message, both ways:

    tag      4 ASCII bytes
    length   u32, the payload's size in bytes (at most 64 MiB)
    payload  `length` bytes

Client -> service:
    OPEN  the model file's bytes (a .rknn or an .onnx). The service identifies the model by the SHA-256 of
          these bytes: a .rknn cannot run on x86, so the service looks the hash up among the files the
          model cards list (models/*/<name>.json) and runs the card's ONNX twin. Empty: the service's
          default model. Must come first; may come again to switch models.
    RUN   one input tensor: uint8, NHWC, H*W*C bytes, rows packed (no w_stride padding).
    QUIT  empty; the service closes the connection (end of stream does the same).
Service -> client, one reply per request:
    MODL  reply to OPEN: eight u32
              version (1), H, W, C, input type (0 = uint8), input layout (0 = NHWC),
              outputs (the number of scores), output type (0 = float32: dequantised, no softmax)
          then UTF-8 JSON to the end of the payload, which a client may ignore:
              {"runtime": ..., "note": ..., "model": ..., "sha256": ..., "labels": [...] or null}
    OUT   reply to RUN: `outputs` float32 values.
    FAIL  reply to any request that failed: a UTF-8 message. After a failed OPEN the service closes the
          connection; after a failed RUN the connection stays usable.

This module holds only the wire format (stdlib and numpy): the service runs it in the RKNN toolkit's own
venv too.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1
MAX_PAYLOAD = 64 << 20
OPEN, RUN, QUIT = b"OPEN", b"RUN ", b"QUIT"
MODL, OUT, FAIL = b"MODL", b"OUT ", b"FAIL"
TAGS = {OPEN, RUN, QUIT, MODL, OUT, FAIL}
INPUT_UINT8, LAYOUT_NHWC, OUTPUT_FLOAT32 = 0, 0, 0
_HEAD = struct.Struct("<4sI")
_MODL = struct.Struct("<8I")


class ProtocolError(Exception):
    """The peer broke the protocol (unknown tag, oversized message, stream cut inside a message)."""


class ServiceError(Exception):
    """The service answered FAIL; the message is its text."""


@dataclass
class ModelInfo:
    h: int
    w: int
    c: int
    outputs: int
    about: dict = field(default_factory=dict)  # runtime, note, model, sha256, labels


def encode(tag: bytes, payload: bytes = b"") -> bytes:
    if tag not in TAGS:
        raise ValueError(f"unknown tag {tag!r}")
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return _HEAD.pack(tag, len(payload)) + payload


def read_message(read_exact: Callable[[int], bytes | None]) -> tuple[bytes, bytes] | None:
    """(tag, payload), or None at a clean end of stream. `read_exact(n)` returns n bytes, or None/short at
    the end of the stream."""
    head = read_exact(_HEAD.size)
    if not head:
        return None
    if len(head) != _HEAD.size:
        raise ProtocolError("stream ended inside a message header")
    tag, n = _HEAD.unpack(head)
    if tag not in TAGS:
        raise ProtocolError(f"unknown message tag {tag!r}")
    if n > MAX_PAYLOAD:
        raise ProtocolError(f"message of {n} bytes exceeds the protocol's {MAX_PAYLOAD}")
    payload = read_exact(n) if n else b""
    if payload is None or len(payload) != n:
        raise ProtocolError(f"stream ended inside a {tag.decode()} message")
    return tag, payload


def encode_model_info(info: ModelInfo) -> bytes:
    fixed = _MODL.pack(VERSION, info.h, info.w, info.c, INPUT_UINT8, LAYOUT_NHWC, info.outputs,
                       OUTPUT_FLOAT32)
    return fixed + json.dumps(info.about).encode()


def decode_model_info(payload: bytes) -> ModelInfo:
    if len(payload) < _MODL.size:
        raise ProtocolError(f"MODL payload of {len(payload)} bytes is shorter than {_MODL.size}")
    version, h, w, c, in_type, layout, outputs, out_type = _MODL.unpack_from(payload)
    if version != VERSION or in_type != INPUT_UINT8 or layout != LAYOUT_NHWC or out_type != OUTPUT_FLOAT32:
        raise ProtocolError(f"unsupported model description (version {version}, types {in_type}/{out_type})")
    about = json.loads(payload[_MODL.size:].decode() or "{}")
    return ModelInfo(h, w, c, outputs, about if isinstance(about, dict) else {})


def recv_exact(sock: socket.socket) -> Callable[[int], bytes | None]:
    """read_exact over a socket."""

    def read(n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return bytes(buf) if buf else None
            buf += chunk
        return bytes(buf)

    return read


class Client:
    """A Python client (tests, tools): over a unix socket, or a service started as a child on stdin/stdout."""

    def __init__(self, socket_path: Path | str | None = None, argv: list[str] | None = None,
                 timeout: float = 300.0) -> None:
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        if socket_path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(str(socket_path))
            self._read = recv_exact(self.sock)
            self._write = self.sock.sendall
        elif argv is not None:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self._read = self.proc.stdout.read
            self._write = self._write_pipe
        else:
            raise ValueError("give socket_path or argv")
        self.info: ModelInfo | None = None

    def _write_pipe(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def request(self, tag: bytes, payload: bytes = b"") -> tuple[bytes, bytes]:
        self._write(encode(tag, payload))
        msg = read_message(self._read)
        if msg is None:
            raise ProtocolError("the service closed the connection")
        if msg[0] == FAIL:
            raise ServiceError(msg[1].decode(errors="replace"))
        return msg

    def open(self, model: bytes = b"") -> ModelInfo:
        tag, payload = self.request(OPEN, model)
        if tag != MODL:
            raise ProtocolError(f"expected MODL, got {tag!r}")
        self.info = decode_model_info(payload)
        return self.info

    def run(self, tensor) -> list[float]:
        """Scores for one uint8 HxWxC tensor (a numpy array or bytes)."""
        data = tensor.tobytes() if hasattr(tensor, "tobytes") else bytes(tensor)
        tag, payload = self.request(RUN, data)
        if tag != OUT or len(payload) % 4:
            raise ProtocolError(f"expected OUT with float32 scores, got {tag!r} of {len(payload)} bytes")
        return list(struct.unpack(f"<{len(payload) // 4}f", payload))

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.proc is not None:
            if self.proc.stdin and not self.proc.stdin.closed:
                try:
                    self.proc.stdin.close()  # end of stream: the service exits
                except BrokenPipeError:
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
