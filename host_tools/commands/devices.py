"""`host_tools devices`: the boards this machine can reach, with the --device name of each."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices", help="list reachable boards and their --device names",
        description="List what is reachable: OpenMV cameras on serial ports (by USB ID), boards the adb "
        "server sees (it is started if needed, as `adb devices` does), and the emulated boards running on "
        "this machine. Each line starts with the name --device takes.")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--no-adb", action="store_true", help="do not ask the adb server")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from host_tools.devices.listing import list_devices

    devices, notes = list_devices(adb=not args.no_adb)
    if args.json:
        print(json.dumps({"devices": [d.to_dict() for d in devices], "notes": notes}))
        return 0
    if not devices:
        print("no device found (start an emulated one: host_tools sim rv1103 --serve, or "
              "host_tools sim openmv --pty --frames DIR)")
    width = max((len(d.name) for d in devices), default=0)
    for d in devices:
        print(f"{d.name:{width}s}  {d.board:6s}  {'EMULATED  ' if d.emulated else ''}{d.link}  {d.about}")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
