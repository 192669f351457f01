"""Errors every command may raise, each with the exit code `host_tools` returns for it.

Exit codes (documented in `host_tools --help`):
  0 success, 1 runtime error, 2 bad arguments or input, 3 device or link error,
  4 refused (e.g. a model that does not fit the board), 130 interrupted.
"""

from __future__ import annotations


class HostToolsError(Exception):
    """An error with a message meant for the user (no traceback is shown)."""

    exit_code = 1


class UsageError(HostToolsError):
    """Bad arguments or bad input files."""

    exit_code = 2


class DeviceError(HostToolsError, OSError):
    """The board or the link to it failed (timeout, port gone, error reported by the device)."""

    exit_code = 3


class RefusedError(HostToolsError):
    """The request was understood but refused before anything was changed (e.g. model over budget)."""

    exit_code = 4


class Interrupted(HostToolsError):
    """The user interrupted (Ctrl-C); the message says what state the device was left in."""

    exit_code = 130
