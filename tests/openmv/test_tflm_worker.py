"""The TFLite Micro child process of the emulated camera: a model freed by the garbage collector in the
middle of another call (a finalizer firing while an answer is unpickled) must not hang the camera."""

from __future__ import annotations

import threading

from host_tools.sim.openmv.modules.ml import _free
from host_tools.sim.openmv.tflm_worker import TflmProcess


def test_a_free_from_a_finalizer_during_a_call_neither_blocks_nor_is_lost() -> None:
    w = TflmProcess()
    done = threading.Event()
    try:

        def finalizer_inside_a_call() -> None:
            with w._lock:  # a call is in progress on this thread when the collector runs the finalizer
                _free(w, 41)
            done.set()

        t = threading.Thread(target=finalizer_inside_a_call, daemon=True)
        t.start()
        t.join(10)
        assert done.is_set(), "freeing a model from inside a call deadlocked the emulated camera"
        # the free is sent with the next call, before its own request, and the child answers both in order
        assert w.call("free", 7) == ()
        assert w._pending_frees == []
    finally:
        if done.is_set():  # else the lock is held for good by the stuck thread
            w.close()
