"""The `host_tools` command line: one sub-command per module under host_tools/commands.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func` to a function
taking the parsed arguments and returning an exit code. Heavy imports live inside those functions so that
`host_tools --help` stays fast. The options several commands share are declared and checked in
commands/_args.py; -v/-q/--debug are accepted before or after the command.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback

from host_tools import __version__, console
from host_tools.errors import HostToolsError, UsageError

# Top-level commands, in the order `--help` lists them.
COMMANDS = ["devices", "flash", "stream", "watch", "bench", "profile", "check", "tune"]
# `host_tools sim <board>`: emulated boards that run the real on-board code.
SIM_BOARDS = ["sim_openmv", "sim_rv1103"]

EPILOG = """\
typical session (emulated OpenMV H7, no board needed):
  host_tools sim openmv --pty --frames models/masks/sample_frames &   # prints the port path
  host_tools flash --port /dev/pts/N                                   # app + model + config
  host_tools watch --port /dev/pts/N                                   # live page on 127.0.0.1
emulated RV1103 (the board program, ONNX Runtime on the model's ONNX twin standing in for the NPU):
  host_tools sim rv1103 --frames rv1103_app/sample_frames                # one run, a line per frame
  host_tools sim rv1103 --serve &                                      # an emulated Luckfox: adb + ssh
  host_tools stream --device sim:rv1103                                # (or adb[:SERIAL], ssh:HOST)
devices: --device sim:openmv | sim:rv1103 | serial:PORT | adb[:SERIAL] | ssh:[USER@]HOST[:PORT]
         (`host_tools devices` lists them; --port P is short for serial:P)

options of every command: -q (errors only), -v (more detail), --debug (protocol trace; traceback on error)

exit codes: 0 ok, 1 error, 2 bad arguments or input, 3 device or link error,
            4 refused before anything was changed (e.g. model over the board's budget), 130 interrupted
"""


class _ArgumentError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse, but an error comes back to main() (which reports it, as JSON too with --json)."""

    def error(self, message: str):  # type: ignore[override]
        raise _ArgumentError(self, message)


def _load(name: str):
    return importlib.import_module(f"host_tools.commands.{name}")


def _add_common(p: argparse.ArgumentParser, top: bool) -> None:
    # A sub-command's parser defaults to SUPPRESS, so that `host_tools -v sim ...` is not undone by it.
    def default(value):
        return value if top else argparse.SUPPRESS

    g = p.add_argument_group("output") if top else p
    g.add_argument("-v", "--verbose", action="count", default=default(0), help="more detail on stderr")
    g.add_argument("-q", "--quiet", action="store_true", default=default(False), help="errors only on stderr")
    g.add_argument("--debug", action="store_true", default=default(False),
                   help="protocol trace on stderr, and the full traceback of an error")


def _subparsers(p: argparse.ArgumentParser):
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield child
                yield from _subparsers(child)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="host_tools",
        description="Flash, stream and watch int8 image classifiers on OpenMV H7 and RV1103 boards, "
        "or on their emulated twins.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"host_tools {__version__}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = sub.add_parser(
        "sim",
        help="run an emulated board (the real on-board code, emulated hardware)",
        description="Run an emulated board: the real on-board code with emulated camera, LEDs and NPU/MCU.",
    )
    sim_sub = sim.add_subparsers(dest="board_name", metavar="BOARD")
    sim.set_defaults(func=lambda _args: (sim.print_help(), 2)[1])
    for name in SIM_BOARDS:
        _load(name).register(sim_sub)
    for name in COMMANDS:
        _load(name).register(sub)
    for child in _subparsers(parser):
        _add_common(child, top=False)
    return parser


def _report(exc: BaseException, message: str, code: int, as_json: bool) -> int:
    print(f"host_tools: error: {message}", file=sys.stderr, flush=True)
    if as_json:
        err = {"error": {"message": message, "exit_code": code, "type": type(exc).__name__}}
        print(json.dumps(err), flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    wants_json = "--json" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exc:
        exc.parser.print_usage(sys.stderr)
        where = exc.parser.prog.removeprefix("host_tools").strip()
        _report(UsageError(str(exc)), f"{where}: {exc}" if where else str(exc), 2, wants_json)
        raise SystemExit(2) from None
    console.configure(console.QUIET if args.quiet else console.NORMAL + min(args.verbose, 1), args.debug)
    as_json = bool(getattr(args, "json", False))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        from host_tools.commands import _args

        _args.check(args)
        return int(args.func(args) or 0)
    except HostToolsError as exc:
        if args.debug:
            traceback.print_exc()
        return _report(exc, str(exc), exc.exit_code, as_json)
    except KeyboardInterrupt:
        print("host_tools: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0  # e.g. `host_tools sim openmv --json | head`
    except Exception as exc:  # the last resort: one line, never a traceback unless asked for
        if args.debug:
            traceback.print_exc()
        detail = str(exc).splitlines()[0] if str(exc) else ""
        message = f"unexpected {type(exc).__name__}{': ' + detail if detail else ''}"
        if not args.debug:
            message += " (rerun with --debug for the traceback)"
        return _report(exc, message, 1, as_json)


if __name__ == "__main__":
    sys.exit(main())
