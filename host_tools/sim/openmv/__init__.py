"""Emulated OpenMV Cam H7 / H7 Plus: runs openmv_app/main.py unmodified in CPython.

camera.py is the entry point (SimOptions, EmulatedCamera); runtime.py executes MicroPython source with the
emulated firmware modules of modules/ injected through the script's own builtins (CPython is untouched).
"""
