"""What host_tools says on stderr besides results, at the verbosity the user chose.

  -q       errors only (and the results on stdout)
  default  status lines: banners, progress, "listening on ..."
  -v       also details (what was detected, files skipped, timings of steps)
  --debug  also a protocol trace (each packet or REPL exchange) and, on an error, the full traceback

sys.stderr is looked up at each call, so redirections (and pytest's capture) are honoured.
"""

from __future__ import annotations

import sys

QUIET, NORMAL, VERBOSE = 0, 1, 2
_state = {"level": NORMAL, "debug": False}


def configure(level: int = NORMAL, debug: bool = False) -> None:
    _state["level"] = VERBOSE if debug else level
    _state["debug"] = debug


def quiet() -> bool:
    return _state["level"] <= QUIET


def debugging() -> bool:
    return bool(_state["debug"])


def info(msg: str) -> None:
    """A status line (hidden by -q)."""
    if _state["level"] >= NORMAL:
        print(msg, file=sys.stderr, flush=True)


def detail(msg: str) -> None:
    """A detail line (shown with -v or --debug)."""
    if _state["level"] >= VERBOSE:
        print(msg, file=sys.stderr, flush=True)


def trace(msg: str) -> None:
    """A protocol trace line (shown with --debug); callers check debugging() before building costly text."""
    if _state["debug"]:
        print(f"trace: {msg}", file=sys.stderr, flush=True)
