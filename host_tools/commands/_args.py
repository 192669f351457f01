"""The options several commands share, declared and checked once, so that each means one thing everywhere.

  --port      a serial port (the camera's, or an emulator's pty); never a TCP port
  --tcp-port  a TCP port to serve on (0: any free one)
  --bind      the address to serve on
  --board     an OpenMV board budget (h7, h7plus)
  --firmware  an emulated OpenMV firmware version
  --json      machine-readable stdout (an error, too, comes as one JSON object)

`check(args)` runs after parsing for every command (host_tools.cli): a bad value of any of these options is
a UsageError (exit 2) with the same wording whichever command it was given to.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket

from host_tools.errors import UsageError
from host_tools.model_budget import BOARDS

FIRMWARES = ("4.5.5", "4.6.0", "5.0.0")  # emulated OpenMV firmwares: legacy `tf`; `ml`; `csi` + Protocol V2


def add_serial_port(p, required: bool = True) -> None:
    p.add_argument("--port", required=required, metavar="SERIAL",
                   help="serial port of the camera (/dev/ttyACM0, or the path an emulated camera printed)")


def add_board(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", default="h7", metavar="{" + ",".join(BOARDS) + "}",
                   help="OpenMV board, for its memory budget (default: h7)")


def add_firmware(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--firmware", metavar="{" + ",".join(FIRMWARES) + "}", help=help_text)


def add_tcp_port(p: argparse.ArgumentParser, help_text: str, default: int | None = None) -> None:
    p.add_argument("--tcp-port", type=int, default=default, metavar="N", help=help_text)


def add_bind(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                   help=f"address to serve {what} on (default: 127.0.0.1, this machine only; "
                   "0.0.0.0: every interface)")


def add_json(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--json", action="store_true", help=help_text + "; an error as one JSON object")


def check_board(board: str) -> None:
    if board not in BOARDS:
        raise UsageError(f"unknown board {board!r}; choose one of: {', '.join(BOARDS)}")


def check_firmware(firmware: str) -> None:
    if firmware not in FIRMWARES:
        raise UsageError(f"unknown firmware version {firmware!r}; choose one of: {', '.join(FIRMWARES)}")


def check_tcp_port(option: str, port: int) -> None:
    if not 0 <= port <= 65535:
        raise UsageError(f"{option} must be in 0..65535 (0: any free port), got {port}")


def check_bind(address: str) -> None:
    """An IP address, or a host name that resolves on this machine."""
    try:
        ipaddress.ip_address(address)
        return
    except ValueError:
        pass
    try:
        socket.getaddrinfo(address, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--bind {address}: not an IP address or a known host name ({reason})") from None


def check(args: argparse.Namespace) -> None:
    """The shared options' values, whichever command took them."""
    if getattr(args, "board", None) is not None:
        check_board(args.board)
    if getattr(args, "firmware", None) is not None:
        check_firmware(args.firmware)
    for option in ("tcp_port", "http_port"):
        if getattr(args, option, None) is not None:
            check_tcp_port("--" + option.replace("_", "-"), getattr(args, option))
    if getattr(args, "bind", None) is not None:
        check_bind(args.bind)
