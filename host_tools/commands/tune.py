"""`host_tools tune`: set the vote thresholds safely, on recorded frames and live.

  record    frames + the device's raw scores (per crop on the RV1103) into a session folder
  sweep     replay stored scores through the board's own decision code over a grid of settings
  ui        a local page: sliders, curves, confusion matrix, the frames whose decision changes
  apply     validate and push a config; the device switches without a reboot and keeps a history
  rollback  restore the config applied before the current one
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from host_tools import console
from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments, device_from_args
from host_tools.errors import HostToolsError, UsageError

DESCRIPTION = """\
Tune when the device says "bird" or "defect": too sensitive and it cries wolf, too strict and it misses.

  1. record what the camera sees, with the label it shows:
       host_tools tune record --device sim:rv1103 --label bird --seconds 30 --out feeder-bird
     or give an image folder laid out by class (DATASET/<label>/*.jpg): it is scored once by the emulated
     board (--board openmv|rv1103) and the scores are kept beside it.
  2. sweep the settings over the stored scores (the model never runs again) and get a proposal:
       host_tools tune sweep feeder-bird feeder-empty --min-recall bird=0.95 --out proposed.json
  3. look at the trade-off and try settings by hand:  host_tools tune ui feeder-bird feeder-empty
  4. push it; the device switches without a reboot and keeps a history:
       host_tools tune apply --device sim:rv1103 proposed.json
       host_tools tune rollback --device sim:rv1103
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="tune the decision thresholds on recorded frames, then apply them",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = p.add_subparsers(dest="tune_command", metavar="STEP")
    p.set_defaults(func=lambda _args: (p.print_help(), 2)[1])

    r = tsub.add_parser("record", help="capture frames and raw scores from a device into a session folder",
                        description="Capture frames and the device's raw scores (per crop on the RV1103, per "
                        "frame before smoothing on OpenMV), in order, into a session folder: frames/, "
                        "scores.jsonl (one JSON line per frame), session.json (board, model, config).")
    add_device_arguments(r)
    r.add_argument("--label", required=True, help="what the camera sees during the recording (a model label)")
    n = r.add_mutually_exclusive_group()
    n.add_argument("--frames", type=int, metavar="N", help="frames to record (default 100)")
    n.add_argument("--seconds", type=float, metavar="S", help="seconds to record")
    r.add_argument("--out", type=Path, required=True, metavar="SESSION", help="session folder to create")
    _args.add_json(r, "stdout: one JSON summary")
    r.set_defaults(func=run_record)

    s = tsub.add_parser("sweep", help="replay stored scores over a grid of settings; propose one",
                        description=SWEEP_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _inputs(s)
    s.add_argument("--thresholds", metavar="SPEC", help="threshold values: START:STOP:STEP or a,b,c")
    s.add_argument("--penalties", metavar="SPEC", help="RV1103 penalty values (default 0,0.05,0.1,0.2)")
    s.add_argument("--k", metavar="SPEC", help="RV1103 crops that must agree, e.g. 1,2,3 (default: all)")
    s.add_argument("--hysteresis", metavar="SPEC", help="RV1103 hysteresis frames (default 0,2,3,5)")
    s.add_argument("--smoothing", metavar="SPEC", help="OpenMV smoothing frames (default 1,2,3,5,8)")
    s.add_argument("--min-recall", action="append", default=[], metavar="LABEL=R",
                   help="goal: recall of LABEL at least R (repeatable); the proposal has the fewest "
                   "false alarms")
    s.add_argument("--max-false-alarms", type=float, metavar="N",
                   help="goal: at most N false alarms per 1000 frames; the proposal has the best F1")
    s.add_argument("--out", type=Path, metavar="CONFIG", help="write the proposed setting as a config file")
    s.add_argument("--plots", type=Path, metavar="DIR", help="where roc.png and pr.png go "
                   "(default: SESSION/plots, the first input's session)")
    s.add_argument("--top", type=int, default=5, metavar="N", help="settings listed (default 5)")
    _args.add_json(s, "stdout: the figures as one JSON object")
    s.set_defaults(func=run_sweep)

    u = tsub.add_parser("ui", help="a local page to try settings on recorded frames and apply them",
                        description="A page on this machine (127.0.0.1 by default): sliders for the "
                        "thresholds, penalty, k, hysteresis / smoothing; ROC and precision-recall curves "
                        "with the current operating point; the confusion matrix; the frames whose decision "
                        "changes as a slider moves (with their crops on the RV1103); Apply to device and "
                        "Undo (with --device).")
    _inputs(u)
    add_device_arguments(u, target=u.add_mutually_exclusive_group())
    _args.add_bind(u, "the page")
    u.add_argument("--http-port", type=int, default=8766, metavar="N",
                   help="TCP port of the page (default 8766; 0: any free one)")
    u.set_defaults(func=run_ui)

    a = tsub.add_parser("apply", help="validate a config and push it; the device switches without a reboot",
                        description=APPLY_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_arguments(a)
    a.add_argument("config", type=Path, metavar="CONFIG", help="the config file (e.g. from tune sweep --out)")
    _args.add_json(a, "stdout: one JSON summary")
    a.set_defaults(func=run_apply)

    b = tsub.add_parser("rollback", help="restore the config applied before the current one",
                        description="Restore the previous config of the device's history (the one applied "
                        "before the current one), validated and switched to the same way as tune apply. "
                        "--list shows the history instead.")
    add_device_arguments(b)
    b.add_argument("--list", action="store_true", help="show the history, change nothing")
    _args.add_json(b, "stdout: one JSON summary")
    b.set_defaults(func=run_rollback)


SWEEP_HELP = """\
Replays the stored scores through the decision code the device runs (the RV1103's C++ Voter through the
camrt bindings; the OpenMV app's own smoothing and threshold code) over a grid of settings, and prints per
setting: precision, recall and F1 per class, false alarms per 1000 frames (a class reported that is not the
truth, the RV1103 fallback class excepted) and, on recordings, the delay in frames from a change of truth
to a change of decision. Recordings given together are replayed as one stream in the order given; images
of a folder are independent stills (smoothing and hysteresis then change nothing and are not swept).

Goals: --min-recall bird=0.95 (fewest false alarms among the settings that reach it) and/or
--max-false-alarms 1 (best F1 among those at or below it); no goal: the best F1. --out writes the proposal
as a config file the device accepts as it is (checked with the device's own parser). Exit 1 when no
setting of the grid meets the goal (the closest one is shown).
"""

APPLY_HELP = """\
Checks the config with the device's own parser on this machine (a bad value is refused naming the field
and its allowed range; nothing is sent), then pushes it. RV1103: written atomically, the board program
reloads it before its next frame; if it refuses the file, the previous one is put back and its message
shown. OpenMV: the camera's own config.py checks the file on the camera before it replaces config.json,
then the app starts again on it (the debug link stops the running script to write files). Each applied
config is kept in the device's history (config_history/); `tune rollback` goes back one step.
"""


def _inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", type=Path, metavar="SESSION_OR_DATASET",
                   help="session folders (tune record) or image folders DATASET/<label>/*.jpg")
    p.add_argument("--board", dest="board_family", choices=["openmv", "rv1103"],
                   help="the board an image folder is scored by (sessions know theirs)")
    p.add_argument("--model", type=Path, help="image folders: the model (default: the board's default)")
    p.add_argument("--config", type=Path, help="the config the proposal starts from (default: the "
                   "session's; for image folders the board's shipped config)")
    p.add_argument("--rescore", action="store_true", help="image folders: score them again")


def _load(args):
    from host_tools.tune.inputs import load_inputs
    from host_tools.tune.sweep import Sweeper

    session = load_inputs(args.inputs, args.board_family, args.model, args.config, args.rescore)
    base = None
    if args.config is not None:
        try:
            base = json.loads(args.config.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, ValueError) as exc:
            raise UsageError(f"--config {args.config}: {getattr(exc, 'strerror', None) or exc}") from None
        if not isinstance(base, dict):
            raise UsageError(f"--config {args.config}: not a JSON object")
    return session, Sweeper(session, base)


def run_sweep(args) -> int:
    from host_tools.tune import configs, sweep
    from host_tools.tune.plots import write_curves

    session, sw = _load(args)
    try:
        current_setting = sw.current()
    except configs.ConfigRefused as exc:
        raise UsageError(f"the base config is not one the device accepts: {exc}") from None
    grid = sweep.default_grid(session, current_setting)
    if args.thresholds:
        grid.thresholds = sweep.frange(args.thresholds, "--thresholds")
    if args.penalties:
        grid.penalties = sweep.frange(args.penalties, "--penalties")
    if args.k:
        grid.ks = [int(v) for v in sweep.frange(args.k, "--k")]
    if args.hysteresis:
        grid.hystereses = [int(v) for v in sweep.frange(args.hysteresis, "--hysteresis")]
    if args.smoothing:
        grid.smoothings = [int(v) for v in sweep.frange(args.smoothing, "--smoothing")]
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    goal = sweep.Goal(sweep.parse_min_recall(args.min_recall, sw.labels), args.max_false_alarms)
    if goal.max_false_alarms is not None and goal.max_false_alarms < 0:
        raise UsageError("--max-false-alarms must be 0 or more (per 1000 frames)")
    settings = sweep.settings(session, grid)
    console.info(f"sweeping {len(settings)} settings over {len(session.frames)} frames "
                 f"({'recorded' if any(b - a > 1 for a, b in sw.sequences) else 'still'} frames, "
                 f"{session.board} decision code)")
    results = [sw.evaluate(s) for s in settings]
    current = sw.evaluate(current_setting)
    best = sweep.propose(results, goal, sw.labels)
    plots_dir = args.plots or ((session.path or Path(".")) / "plots")
    report = {"board": session.board, "labels": sw.labels, "frames": len(session.frames),
              "settings": len(results), "emulated": session.emulated,
              "current": _entry(current, sw), "top": [], "proposed": None}
    if best is None:
        near = sweep.closest(results, goal, sw.labels)
        report["closest"] = _entry(near, sw)
        _print_report(args, report, sw)
        raise HostToolsError(f"no setting of the grid meets the goal; the closest: "
                             f"{near.setting.describe(sw.board, sw.labels)} ({_short(near, sw)})")
    ranked = sorted((e for e in results if sweep.meets(e, goal, sw.labels)),
                    key=lambda e: (e.figures.false_alarms_per_1000, -e.figures.macro_f1) if goal.min_recall
                    else (-e.figures.macro_f1, e.figures.false_alarms_per_1000))
    report["top"] = [_entry(e, sw) for e in ranked[:args.top]]
    report["proposed"] = _entry(best, sw)
    try:
        report["plots"] = [str(p) for p in write_curves(sw, best, current, plots_dir)]
    except OSError as exc:
        why = exc.strerror or exc
        raise HostToolsError(f"--plots {plots_dir}: cannot write the curves ({why})") from None
    if args.out is not None:
        data = configs.render(sw.config_for(best.setting))
        configs.validate(sw.board, data, sw.labels)  # the device's own parser, before it is written
        try:
            args.out.write_bytes(data)
        except OSError as exc:
            raise HostToolsError(f"--out {args.out}: cannot write it ({exc.strerror or exc})") from None
        report["config"] = str(args.out)
    _print_report(args, report, sw)
    return 0


def _short(e, sw) -> str:
    f = e.figures
    rec = ", ".join(f"recall {lab} {f.recall[i]:.3f}" for i, lab in enumerate(sw.labels))
    return f"{rec}; {f.false_alarms_per_1000:.1f} false alarms per 1000 frames"


def _entry(e, sw) -> dict:
    return {"setting": e.setting.as_dict(sw.board, sw.labels), "figures": e.figures.as_dict(sw.labels)}


def _print_report(args, report: dict, sw) -> None:
    if args.json:
        print(json.dumps(report), flush=True)
        return
    labels = sw.labels

    def row(name: str, entry: dict) -> str:
        f = entry["figures"]
        pc = f["per_class"]
        per = "  ".join(f"{lab} P {pc[lab]['precision']:.3f} R {pc[lab]['recall']:.3f} F1 {pc[lab]['f1']:.3f}"
                        for lab in labels)
        delay = "" if f["delay_frames"] is None else (f"  delay {f['delay_frames']:.2f} frames"
                                                      f" ({f['missed_changes']}/{f['truth_changes']} missed)")
        return f"{name}: {per}  false alarms {f['false_alarms_per_1000']:.1f}/1000{delay}"

    def setting(entry: dict) -> str:
        return json.dumps(entry["setting"])

    emu = "EMULATED board scores" if report["emulated"] else "scores recorded on a board"
    print(f"{report['settings']} settings over {report['frames']} frames ({report['board']}, {emu})")
    print(row("current ", report["current"]) + "\n    " + setting(report["current"]))
    if report.get("closest"):
        print(row("closest ", report["closest"]) + "\n    " + setting(report["closest"]))
        return
    for i, e in enumerate(report["top"], 1):
        print(row(f"#{i:<7}", e) + "\n    " + setting(e))
    print(row("proposed", report["proposed"]) + "\n    " + setting(report["proposed"]))
    print("curves: " + ", ".join(report.get("plots", [])))
    if report.get("config"):
        print(f"config written to {report['config']} (apply it: host_tools tune apply --device D "
              f"{report['config']})")


def run_record(args) -> int:
    from host_tools.tune.record import record

    summary = record(device_from_args(args), args.label, args.frames, args.seconds, args.out,
                     getattr(args, "protocol", "auto"))
    print(json.dumps(summary) if args.json else
          f"recorded {summary['frames']} frames of {args.label!r} into {args.out} ({summary['device']})",
          flush=True)
    return 0


def run_apply(args) -> int:
    from host_tools.tune.apply import apply_file

    summary = apply_file(device_from_args(args), args.config, getattr(args, "protocol", "auto"))
    print(json.dumps(summary) if args.json else summary["message"], flush=True)
    return 0


def run_rollback(args) -> int:
    from host_tools.tune.apply import history, rollback

    name = device_from_args(args)
    if args.list:
        entries = history(name, getattr(args, "protocol", "auto"))
        if args.json:
            print(json.dumps({"history": entries}), flush=True)
        else:
            for e in entries:
                print(f"{e['name']}  {e['summary']}")
        return 0
    summary = rollback(name, getattr(args, "protocol", "auto"))
    print(json.dumps(summary) if args.json else summary["message"], flush=True)
    return 0


def run_ui(args) -> int:
    from host_tools.tune.ui import serve

    session, sw = _load(args)
    name = None
    if getattr(args, "device", None) or getattr(args, "port", None):
        name = device_from_args(args)
    return serve(sw, args.bind, args.http_port, name, getattr(args, "protocol", "auto"), sys.stdout)
