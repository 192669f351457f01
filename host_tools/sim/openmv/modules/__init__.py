"""Emulated OpenMV firmware modules, one file per firmware module; each exposes make(state, run) -> module.

`state` is the camera's BoardState (shared by all scripts of one EmulatedCamera); `run` is the ScriptRun
executing the current script (its module table and print). Aliases (utime, uos, ujson...) are mapped in
runtime.EMULATED.
"""
