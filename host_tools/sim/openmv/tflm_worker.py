"""TensorFlow Lite Micro for the emulated camera, in a child process: the emulated MCU's inference engine.

A model that makes TFLite Micro divide by zero or read out of bounds kills the process it runs in. On a
camera that is a hard fault and the board resets; here the child dies and the emulator survives, turning
it into HardFault (the camera resets, its link stays up). One child serves the whole process (models are
addressed by handle); a dead child is replaced on the next request.

Requests and answers are length-prefixed pickles on the child's stdin and a private copy of its stdout (its
fd 1 is pointed at stderr, so nothing TFLite Micro prints can corrupt the stream).
"""

from __future__ import annotations

import itertools
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading

CHILD = "from host_tools.sim.openmv.tflm_worker import child_main\nchild_main()"
INVOKE_TIMEOUT_S = 60.0  # a hung interpreter is a fault too (far beyond any model the H7 can run)
_HEADER = struct.Struct("<I")


class WorkerDied(Exception):
    """The TFLite Micro process died (a signal, or it hung and was killed)."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


class TflmError(Exception):
    """TFLite Micro refused a request (a Python exception in the child): (type name, message)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind, self.message = kind, message
        super().__init__(f"{kind}: {message}")


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class TflmProcess:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.generation = 0  # bumped each time a child dies: handles from before are gone
        self._ids = itertools.count(1)
        self._pending_frees: list[int] = []  # list.append/pop are atomic: finalizers may add from any thread

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", CHILD],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._proc

    def _died(self, proc: subprocess.Popen, hung: bool = False) -> WorkerDied:
        if hung:
            proc.kill()
        code = proc.wait()
        self._proc = None
        self.generation += 1
        if hung:
            return WorkerDied(f"TFLite Micro did not finish within {INVOKE_TIMEOUT_S:.0f} s")
        return WorkerDied(f"TFLite Micro crashed ({_signal_name(code) if code < 0 else f'exit {code}'})")

    def free_later(self, handle: int) -> None:
        """Free a model handle at the start of the next call. Finalizers run this: the garbage collector may
        fire one in the middle of a call (while its answer is unpickled), and a call from there would
        deadlock on the lock or interleave with the answer being read."""
        self._pending_frees.append(handle)

    def call(self, *request: object) -> tuple:
        with self._lock:
            while self._pending_frees:
                try:
                    self._exchange(("free", self._pending_frees.pop()))
                except WorkerDied:
                    pass  # the process is gone, and its models with it
            answer = self._exchange(request)
        if answer[0] == "error":
            raise TflmError(answer[1], answer[2])
        return answer[1:]

    def _exchange(self, request: tuple) -> tuple:
        """One request and its answer (the caller holds the lock)."""
        proc = self._start()
        blob = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            proc.stdin.write(_HEADER.pack(len(blob)) + blob)  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            raise self._died(proc) from None
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        head = self._read(proc, fd, _HEADER.size)
        return pickle.loads(self._read(proc, fd, _HEADER.unpack(head)[0]))

    def _read(self, proc: subprocess.Popen, fd: int, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            ready, _, _ = select.select([fd], [], [], INVOKE_TIMEOUT_S)
            if not ready:
                raise self._died(proc, hung=True)
            chunk = os.read(fd, n - len(out))
            if not chunk:
                raise self._died(proc)
            out += chunk
        return bytes(out)

    def new_handle(self) -> int:
        return next(self._ids)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


_worker: TflmProcess | None = None
_worker_lock = threading.Lock()


def worker() -> TflmProcess:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = TflmProcess()
        return _worker


def child_main() -> None:
    """The child: load / invoke / free requests until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    import numpy as np
    from tflite_micro import runtime

    models: dict[int, object] = {}
    while True:
        head = inp.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        req = pickle.loads(inp.read(_HEADER.unpack(head)[0]))
        try:
            if req[0] == "load":
                _, handle, data, arena, n_in, n_out = req
                it = runtime.Interpreter.from_bytes(data, arena_size=arena)
                models[handle] = it
                answer = ("ok", [it.get_input_details(i) for i in range(n_in)],
                          [it.get_output_details(i) for i in range(n_out)])
            elif req[0] == "invoke":
                _, handle, tensors, n_out = req
                it = models[handle]
                for i, t in enumerate(tensors):
                    it.set_input(t, i)
                it.invoke()
                answer = ("ok", [np.array(it.get_output(i)) for i in range(n_out)])
            elif req[0] == "free":
                models.pop(req[1], None)
                answer = ("ok",)
            else:
                answer = ("error", "ValueError", f"unknown request {req[0]!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the parent as the interpreter's error
            answer = ("error", type(exc).__name__, str(exc))
        blob = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(blob)) + blob)
        out.flush()
