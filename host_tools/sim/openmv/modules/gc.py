"""Emulated `gc`: mem_free() / mem_alloc() from the board's heap model (host_tools/model_budget.py)."""

from __future__ import annotations

import types


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("gc")
    mod.collect = lambda: state.checkpoint()
    mod.mem_free = lambda: state.heap_free()
    mod.mem_alloc = lambda: sum(state.heap.blocks) - state.heap_free()
    mod.enable = lambda: None
    mod.disable = lambda: None
    mod.isenabled = lambda: True
    mod.threshold = lambda *a: -1
    return mod
