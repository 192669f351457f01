"""Open a camera port as a Board (file operations) or as a live source (stream/watch), per protocol.

`--protocol auto` asks host_tools.protocol.detect which one the camera speaks: Protocol V2 (firmware 5)
or the raw REPL of firmware 4.x.
"""

from __future__ import annotations

from host_tools.board import Board
from host_tools.errors import UsageError

PROTOCOLS = ("auto", "v2", "legacy")


def resolve_protocol(port: str, protocol: str) -> str:
    """'v2' or 'legacy' for `port` (detected when `protocol` is 'auto')."""
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
    if protocol != "auto":
        return protocol
    from host_tools.protocol.detect import detect_protocol

    return detect_protocol(port, timeout=3.0)  # generous: a busy (or emulated) camera answers late


def open_board(port: str, protocol: str = "auto", timeout: float = 2.0) -> Board:
    """A Board on `port`. Stops the running script (file operations need the camera to themselves)."""
    if resolve_protocol(port, protocol) == "v2":
        from host_tools.board_v2 import V2Link
        from host_tools.protocol.v2_host import V2Client

        return Board(V2Link(V2Client.open(port, timeout=timeout), port))
    from host_tools.board_legacy import open_legacy_link

    return Board(open_legacy_link(port, timeout))
