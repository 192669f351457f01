"""The `host_tools` command line: one sub-command per module under host_tools/commands.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func` to a function
taking the parsed arguments and returning an exit code. Heavy imports live inside those functions so that
`host_tools --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from host_tools import __version__
from host_tools.errors import HostToolsError

# Top-level commands, in the order `--help` lists them.
COMMANDS = ["flash", "stream", "watch"]
# `host_tools sim <board>`: emulated boards that run the real on-board code.
SIM_BOARDS = ["sim_openmv", "sim_rv1103"]

EPILOG = """\
typical session (emulated OpenMV H7, no board needed):
  host_tools sim openmv --pty --frames models/masks/sample_frames &   # prints the port path
  host_tools flash --port /dev/pts/N                                   # app + model + config
  host_tools watch --port /dev/pts/N                                   # live page on 127.0.0.1
emulated RV1103 (the board's C++ pipeline, ONNX Runtime on the model's ONNX twin):
  host_tools sim rv1103 --frames DIR --json

exit codes: 0 ok, 1 error, 2 bad arguments or input, 3 device or link error,
            4 refused before anything was changed (e.g. model over the board's budget), 130 interrupted
"""


def _load(name: str):
    return importlib.import_module(f"host_tools.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="host_tools",
        description="Flash, stream and watch int8 image classifiers on OpenMV H7 and RV1103 boards, "
        "or on their emulated twins.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"host_tools {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = sub.add_parser(
        "sim",
        help="run an emulated board (the real on-board code, emulated hardware)",
        description="Run an emulated board: the real on-board code with emulated camera, LEDs and NPU/MCU.",
    )
    sim_sub = sim.add_subparsers(dest="board", metavar="BOARD")
    sim.set_defaults(func=lambda _args: (sim.print_help(), 2)[1])
    for name in SIM_BOARDS:
        _load(name).register(sim_sub)
    for name in COMMANDS:
        _load(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except HostToolsError as exc:
        print(f"host_tools: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("host_tools: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0  # e.g. `host_tools sim openmv --json | head`


if __name__ == "__main__":
    sys.exit(main())
