"""Emulated `omv`: firmware version, board, and (before 4.8.0) disable_fb() (frame streaming on/off)."""

from __future__ import annotations

import types


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("omv")
    major, minor, patch = state.firmware
    mod.version_major, mod.version_minor, mod.version_patch = major, minor, patch
    mod.version_string = lambda: f"{major}.{minor}.{patch}"
    mod.arch = lambda: "H7 PLUS 1024 SDRAM" if state.budget.name == "h7plus" else "H7 1024"
    mod.board_type = lambda: "H7" if state.budget.name == "h7" else "H7 PLUS"
    mod.board_id = lambda: "000000000000000000E4E5E4"  # emulated: no real chip id
    mod.debug_mode = lambda: state.debug_mode

    def disable_fb(*args):
        """disable_fb() -> is streaming off; disable_fb(True) stops copying frames for the host."""
        if not args:
            return not state.streaming
        state.streaming = not bool(args[0])
        return None

    if state.fw.has_disable_fb:  # removed in 4.8.0
        mod.disable_fb = disable_fb
    return mod
