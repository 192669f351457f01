"""Emulated `gc`: mem_free() is the largest heap block left after loaded models (the enforced budget)."""

from __future__ import annotations

import types


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("gc")
    mod.collect = lambda: state.checkpoint()
    mod.mem_free = lambda: state.heap_free()
    mod.mem_alloc = lambda: state.heap_in_use
    mod.enable = lambda: None
    mod.disable = lambda: None
    mod.isenabled = lambda: True
    mod.threshold = lambda *a: -1
    return mod
