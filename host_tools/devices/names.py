"""Device names: the one place that parses `--device` (and `--port`, its short form for serial ports).

  sim:openmv                the emulated OpenMV H7 running on this machine (host_tools sim openmv --pty)
  sim:rv1103                the emulated Luckfox Pico running on this machine (host_tools sim rv1103 --serve)
  serial:PORT               an OpenMV camera on a serial port (--port PORT is the same)
  adb[:SERIAL]              a board through the adb server: the only one, or that serial (a HOST:PORT not yet
                            connected is connected first, as `adb connect` does)
  ssh:[USER@]HOST[:PORT]    a board over SSH (user root, port 22 by default)
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from host_tools.errors import UsageError

FORMS = ("sim:openmv", "sim:rv1103", "serial:PORT", "adb[:SERIAL]", "ssh:[USER@]HOST[:PORT]")
KINDS = ("sim:openmv", "sim:rv1103", "serial", "adb", "ssh")
_SSH = re.compile(r"^(?:(?P<user>[^@:/\s]+)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^@:/\s\[\]]+)"
                  r"(?::(?P<port>\d{1,5}))?$")


@dataclass(frozen=True)
class DeviceName:
    kind: str  # one of KINDS
    target: str = ""  # serial: the port; adb: the serial ("" = the only device); ssh: the host
    user: str = "root"  # ssh
    port: int = 22  # ssh
    text: str = ""  # as given

    @property
    def board(self) -> str:
        """Which board family answers to this name: "openmv" or "rv1103"."""
        return "openmv" if self.kind in ("sim:openmv", "serial") else "rv1103"

    def __str__(self) -> str:
        return self.text or self.kind


def bad_name(text: str, why: str = "") -> UsageError:
    reason = f" ({why})" if why else ""
    return UsageError(f"unknown device name {text!r}{reason}; use one of: {', '.join(FORMS)} "
                      "(`host_tools devices` lists what is connected)")


def parse_device(text: str) -> DeviceName:
    """A DeviceName, or UsageError (exit 2) that lists the forms."""
    text = text.strip()
    if text in ("sim:openmv", "sim:rv1103"):
        return DeviceName(text, text=text)
    kind, sep, rest = text.partition(":")
    if kind == "serial":
        if not rest:
            raise bad_name(text, "serial: needs the port, e.g. serial:/dev/ttyACM0")
        return DeviceName("serial", rest, text=text)
    if kind == "adb":
        if sep and not rest:
            raise bad_name(text, "adb: needs a serial after the colon, or none at all")
        return DeviceName("adb", rest, text=text)
    if kind == "ssh":
        m = _SSH.match(rest)
        if not m:
            raise bad_name(text, "ssh: takes [USER@]HOST[:PORT]")
        port = int(m.group("port") or 22)
        if not 0 < port < 65536:
            raise bad_name(text, f"port {port} is out of range")
        return DeviceName("ssh", m.group("host").strip("[]"), m.group("user") or "root", port, text)
    raise bad_name(text)


def add_device_arguments(parser: argparse.ArgumentParser, protocol: bool = True, target=None) -> None:
    """--device, --port (= serial:PORT) and, for OpenMV cameras, --protocol: the same in every command.
    `target`: a mutually exclusive group of the command's to put --device and --port in (else their own)."""
    target = target if target is not None else parser.add_mutually_exclusive_group()
    target.add_argument("--device", metavar="NAME",
                        help=f"the board: {', '.join(FORMS)} (`host_tools devices` lists them)")
    target.add_argument("--port", metavar="SERIAL",
                        help="serial port of an OpenMV camera (/dev/ttyACM0, or the path an emulated camera "
                             "printed): short for --device serial:SERIAL")
    if protocol:
        from host_tools.devices.detect import PROTOCOLS

        parser.add_argument("--protocol", choices=PROTOCOLS, default="auto",
                            help="OpenMV link: v2 (firmware 5), legacy (firmware 4.x raw REPL) or auto "
                                 "(detect)")


def device_from_args(args: argparse.Namespace) -> DeviceName:
    if getattr(args, "device", None):
        return parse_device(args.device)
    if getattr(args, "port", None):
        return DeviceName("serial", args.port, text=f"serial:{args.port}")
    raise UsageError(f"no device given: --device NAME ({', '.join(FORMS)}) or --port PORT")
