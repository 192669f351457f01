"""`host_tools rollback`: go back one release on an RV1103 board."""

from __future__ import annotations

import argparse

from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments

HELP = """\
Switches the board back to the release installed before the running one (`host_tools flash` keeps the last
few in /userdata/classifier/releases), restarts the service and checks that result lines flow, as flash
does. If the older release does not become healthy, the one that ran is put back (exit 1).

exit codes: 0 rolled back, 1 the older release was not healthy (the running one is back), 2 bad arguments,
            3 device or link error, 4 nothing to go back to (nothing changed)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollback", help="go back one release on an RV1103 board", description=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    add_device_arguments(p, protocol=False, target=target)
    p.add_argument("--health-lines", type=int, default=3, metavar="N",
                   help="result lines the older release must send (default 3)")
    p.add_argument("--health-timeout", type=float, default=30.0, metavar="S",
                   help="seconds to wait for them (default 30)")
    _args.add_json(p, "print a JSON summary on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools.commands.rv1103_flash import rollback_linux
    from host_tools.devices.names import device_from_args
    from host_tools.errors import UsageError

    name = device_from_args(args)
    if name.board != "rv1103":
        raise UsageError(f"rollback works on RV1103 boards (adb, ssh, sim:rv1103); {name} is an OpenMV "
                         "camera, whose flash keeps no releases")
    return rollback_linux(args, name)
