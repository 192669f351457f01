"""The bench report: built from the samples, written as JSON (versioned schema), CSV and text.

The JSON schema is bench_result.schema.json beside this module; SCHEMA names its version. A change that
renames or removes a field, or changes a unit, bumps the version; adding a field does not.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import re
from pathlib import Path

import numpy as np

from host_tools.bench.collect import DeviceFacts, Sample
from host_tools.bench.stats import summarize

SCHEMA = "camclass.bench/1"
SCHEMA_FILE = Path(__file__).with_name("bench_result.schema.json")
TOTAL = "total"


def stage_names(samples: list[Sample]) -> list[str]:
    """Stages in the device's order, total last; only those every sample carries."""
    names = [k for k in samples[0].ms if all(k in s.ms for s in samples)]
    return [k for k in names if k != TOTAL] + ([TOTAL] if TOTAL in names else [])


def dropped_frames(frames: list[int]) -> dict:
    gaps = []
    restarts = 0
    for a, b in zip(frames, frames[1:], strict=False):
        if b > a + 1:
            gaps.append({"after": a, "missing": b - a - 1})
        elif b <= a:
            restarts += 1  # the app restarted (its frame counter went back)
    return {"count": sum(g["missing"] for g in gaps), "gaps": gaps[:100], "counter_restarts": restarts}


def fps_figures(samples: list[Sample]) -> dict:
    periods = [s.period_ms for s in samples[1:]]
    if periods and all(p is not None and p > 0 for p in periods):
        total = float(sum(periods))  # type: ignore[arg-type]
        return {
            "value": len(periods) / total * 1000.0,
            "clock": "device",
            "how": "frames / sum of the per-frame periods the device reports (its own clock)",
            "period_ms": summarize(periods).as_dict(),
        }  # type: ignore[arg-type]
    span = samples[-1].host_t - samples[0].host_t
    host_periods = np.diff([s.host_t for s in samples]) * 1000.0
    return {
        "value": (len(samples) - 1) / span if span > 0 else 0.0,
        "clock": "host",
        "how": "the device reports no frame timing: frames / the host's arrival-time span (includes link "
        "jitter)",
        "period_ms": summarize(host_periods).as_dict(),
    }


def _meminfo(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"(\w+):\s+(\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def _cpu_busy(before: str, after: str) -> float | None:
    def cpu(text: str) -> list[int] | None:
        for line in text.splitlines():
            if line.startswith("cpu "):
                return [int(v) for v in line.split()[1:]]
        return None

    a, b = cpu(before), cpu(after)
    if not a or not b:
        return None
    d = [y - x for x, y in zip(a, b, strict=False)]
    total = sum(d)
    idle = d[3] + (d[4] if len(d) > 4 else 0)
    return round(100.0 * (total - idle) / total, 1) if total > 0 else None


def memory_figures(samples: list[Sample], facts: DeviceFacts) -> dict:
    out: dict = {}
    heaps = [s.heap_free for s in samples if s.heap_free is not None]
    if heaps:
        out["heap_free_bytes"] = {
            "min": min(heaps),
            "mean": float(np.mean(heaps)),
            "max": max(heaps),
            "source": "the app's gc.mem_free() per frame",
        }
    if facts.proc_after:
        mem = _meminfo(facts.proc_after.get("/proc/meminfo", ""))
        if mem:
            out["mem_total_kb"] = mem.get("MemTotal")
            out["mem_available_kb"] = mem.get("MemAvailable", mem.get("MemFree"))
        busy = _cpu_busy(facts.proc_before.get("/proc/stat", ""), facts.proc_after.get("/proc/stat", ""))
        if busy is not None:
            out["cpu_busy_pct"] = busy
        load = facts.proc_after.get("/proc/loadavg", "").split()
        if load:
            out["loadavg_1min"] = float(load[0])
        out["source"] = "the board's /proc (meminfo, stat over the run, loadavg)"
    return out


def build_report(
    samples: list[Sample],
    facts: DeviceFacts,
    device_name: str,
    warmup: int,
    model: dict | None,
    estimate: dict | None,
) -> dict:
    names = stage_names(samples)
    stages = {k: summarize([s.ms[k] for s in samples]).as_dict() for k in names}
    parts = [k for k in names if k != TOTAL]
    ratio = None
    if TOTAL in names and parts and stages[TOTAL]["mean"] > 0:
        ratio = sum(stages[k]["mean"] for k in parts) / stages[TOTAL]["mean"]
    return {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "device": {
            "name": device_name,
            "board": facts.board,
            "description": facts.description,
            "firmware": facts.firmware,
            "emulated": facts.emulated,
            "measured_on": "EMULATED" if facts.emulated else "REAL",
        },
        "run": {
            "frames": len(samples),
            "warmup": warmup,
            "host_seconds": round(samples[-1].host_t - samples[0].host_t, 3),
        },
        "fps": fps_figures(samples),
        "stages_ms": stages,
        "stage_sum_over_total": ratio,
        "dropped_frames": dropped_frames([s.frame for s in samples]),
        "memory": memory_figures(samples, facts),
        "model": model,
        "estimate": estimate,
        "frames": [
            {
                "frame": s.frame,
                "ms": {k: s.ms[k] for k in names},
                "period_ms": s.period_ms,
                "host_t": round(s.host_t - samples[0].host_t, 4),
            }
            for s in samples
        ],
    }


def write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=1) + "\n")


def write_csv(report: dict, path: Path) -> None:
    names = list(report["stages_ms"])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "host_s", "period_ms", *[f"{k}_ms" for k in names]])
        for fr in report["frames"]:
            w.writerow(
                [
                    fr["frame"],
                    fr["host_t"],
                    fr["period_ms"] if fr["period_ms"] is not None else "",
                    *[fr["ms"][k] for k in names],
                ]
            )


def title(report: dict) -> str:
    d = report["device"]
    fw = f", firmware {d['firmware']}" if d["firmware"] else ""
    return f"{d['measured_on']} {d['board']} board ({d['name']}{fw})"


def format_text(report: dict) -> str:
    d, fps = report["device"], report["fps"]
    lines = [f"bench: {title(report)}: {d['description']}"]
    if d["emulated"]:
        lines.append("figures from an EMULATED board: its timings are this host's, not a board's")
    r = report["run"]
    lines.append(f"{r['frames']} frames after {r['warmup']} warm-up, {r['host_seconds']:.1f} s")
    lines.append(f"FPS {fps['value']:.2f} ({fps['clock']} clock: {fps['how']})")
    lines.append(f"{'stage (ms)':<12} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8} {'std':>8}")
    for k, s in report["stages_ms"].items():
        lines.append(
            f"{k:<12} {s['p50']:8.2f} {s['p90']:8.2f} {s['p99']:8.2f} {s['max']:8.2f} {s['mean']:8.2f} "
            f"{s['std']:8.2f}"
        )
    if report["stage_sum_over_total"] is not None:
        lines.append(f"stages add up to {report['stage_sum_over_total'] * 100:.1f} % of the total (means)")
    dr = report["dropped_frames"]
    lines.append(
        f"dropped frames: {dr['count']} (gaps in the frame index)"
        + (f"; the app restarted {dr['counter_restarts']} time(s)" if dr["counter_restarts"] else "")
    )
    mem = report["memory"]
    if "heap_free_bytes" in mem:
        h = mem["heap_free_bytes"]
        lines.append(f"heap free: min {h['min']:,} B, mean {h['mean']:,.0f} B ({h['source']})")
    if "mem_total_kb" in mem or "cpu_busy_pct" in mem:
        lines.append(
            f"board memory: {mem.get('mem_available_kb')} kB available of {mem.get('mem_total_kb')} kB; "
            f"CPU busy {mem.get('cpu_busy_pct')} %; load {mem.get('loadavg_1min')} ({mem['source']})"
        )
    if not mem:
        lines.append("memory/CPU: the device reported none")
    m = report["model"]
    if m:
        lines.append(
            f"model {m['name']}: {m['file_bytes']:,} B, {m['macs']:,} MACs, {m['params']:,} parameters "
            f"({m['found']})"
        )
    else:
        lines.append("model: unknown (give --model PATH for its size, MACs and the board estimate)")
    e = report["estimate"]
    if e:
        here = report["stages_ms"].get("inference", {}).get("p50")
        lines.append(
            f"ESTIMATED {e['board']} inference: {e['inference_ms']:.1f} ms (cost model, not a measurement)"
            + (
                f" vs {here:.2f} ms measured {'on this host' if d['emulated'] else 'on the board'}"
                if here is not None
                else ""
            )
        )
    return "\n".join(lines)
