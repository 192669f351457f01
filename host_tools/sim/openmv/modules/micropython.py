"""Emulated `micropython`: const() and the decorators/switches that change nothing for the result."""

from __future__ import annotations

import types


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("micropython")
    mod.const = lambda v: v
    mod.opt_level = lambda *a: 0
    mod.alloc_emergency_exception_buf = lambda n: None
    mod.kbd_intr = lambda c: None
    mod.schedule = lambda f, arg: (f(arg), True)[1]
    mod.native = mod.viper = lambda f: f
    mod.mem_info = lambda *a: run._print(
        f"GC: total: {sum(state.heap.blocks)}, used: {sum(state.heap.blocks) - state.heap_free()}, "
        f"free: {state.heap_free()}, max free block: {state.heap.largest()}"
    )
    return mod
