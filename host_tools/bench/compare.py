"""--compare: each figure of two bench reports side by side, and whether the change is beyond noise."""

from __future__ import annotations

import json
from pathlib import Path

from host_tools.bench.report import SCHEMA
from host_tools.bench.stats import ALPHA, MIN_EFFECT, Change, compare_samples
from host_tools.errors import UsageError

PERIOD = "frame period"


def load_report(path: Path) -> dict:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--compare {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--compare {path}: not a bench JSON report ({type(exc).__name__})") from None
    if not isinstance(report, dict) or not str(report.get("schema", "")).startswith("camclass.bench/"):
        raise UsageError(f'--compare {path}: not a bench JSON report (no "schema": "{SCHEMA}")')
    if report["schema"] != SCHEMA:
        raise UsageError(f"--compare {path}: report schema {report['schema']}, this bench reads {SCHEMA}")
    frames = report.get("frames")
    if not isinstance(frames, list) or len(frames) < 2:
        raise UsageError(f"--compare {path}: the report holds fewer than two frames")
    return report


def _values(report: dict, stage: str) -> list[float]:
    return [float(f["ms"][stage]) for f in report["frames"] if stage in f.get("ms", {})]


def _periods(report: dict) -> list[float]:
    vals = [f.get("period_ms") for f in report["frames"][1:]]
    if vals and all(isinstance(v, (int, float)) and v > 0 for v in vals):
        return [float(v) for v in vals]
    t = [float(f["host_t"]) for f in report["frames"]]
    return [(b - a) * 1000.0 for a, b in zip(t, t[1:], strict=False)]


def compare(old: dict, new: dict) -> list[Change]:
    changes = []
    for stage in new["stages_ms"]:
        a, b = _values(old, stage), _values(new, stage)
        if len(a) >= 2 and len(b) >= 2:
            changes.append(compare_samples(stage, a, b))
    changes.append(compare_samples(PERIOD, _periods(old), _periods(new)))
    return changes


def format_changes(changes: list[Change], old_path: Path, old: dict, new: dict) -> str:
    lines = [
        f"compared with {old_path} ({old['device']['measured_on']} {old['device']['board']}, "
        f"{old['run']['frames']} frames; now {new['device']['measured_on']} {new['device']['board']}, "
        f"{new['run']['frames']} frames)",
        f"test: two-sided Mann-Whitney U on the per-frame values; beyond noise = p < {ALPHA} and the median "
        f"moved by more than {MIN_EFFECT * 100:.0f} %",
        f"{'figure (median ms)':<20} {'old':>9} {'new':>9} {'change':>8} {'p':>9}  verdict",
    ]
    for c in changes:
        verdict = ("SLOWER" if c.worse else "faster") if c.beyond_noise else "within noise"
        lines.append(
            f"{c.figure:<20} {c.old:9.2f} {c.new:9.2f} {c.relative * 100:+7.1f}% {c.p:9.2g}  {verdict}"
        )
    fo, fn = old["fps"]["value"], new["fps"]["value"]
    lines.append(f"FPS {fo:.2f} -> {fn:.2f} ({(fn - fo) / fo * 100 if fo else 0:+.1f} %; see frame period)")
    if old["device"]["measured_on"] != new["device"]["measured_on"]:
        lines.append("warning: one run is from a REAL board and one from an EMULATED one: not comparable")
    return "\n".join(lines)


def regressions(changes: list[Change], pct: float) -> list[Change]:
    """Total latency or frame period worse by more than pct %, beyond noise."""
    return [
        c
        for c in changes
        if c.figure in ("total", PERIOD) and c.beyond_noise and c.worse and c.relative * 100 > pct
    ]
