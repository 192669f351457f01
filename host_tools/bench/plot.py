"""The bench's PNG: latency histogram, per-stage bars and FPS over time, titled with the board and whether
it is REAL or EMULATED."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host_tools.bench.report import TOTAL, title


def write_png(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    stages = report["stages_ms"]
    frames = report["frames"]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5))
    fig.suptitle(
        f"host_tools bench: {title(report)}"
        + ("  [EMULATED: this host's timings]" if report["device"]["emulated"] else "")
    )
    key = TOTAL if TOTAL in stages else next(iter(stages))
    totals = [f["ms"][key] for f in frames]
    ax1.hist(totals, bins=min(40, max(5, len(totals) // 3)), color="#4477aa")
    ax1.set_title(f"{key} latency per frame")
    ax1.set_xlabel("ms")
    ax1.set_ylabel("frames")
    names = list(stages)
    p50 = [stages[k]["p50"] for k in names]
    p90 = [stages[k]["p90"] for k in names]
    ax2.bar(names, p50, color="#66ccee", label="p50")
    ax2.errorbar(
        names,
        p50,
        yerr=[np.zeros(len(names)), np.subtract(p90, p50)],
        fmt="none",
        ecolor="k",
        capsize=4,
        label="to p90",
    )
    est = report.get("estimate")
    if est:
        ax2.axhline(
            est["inference_ms"], color="#ee6677", linestyle="--", label=f"ESTIMATED {est['board']} inference"
        )
    ax2.set_title("per stage (ms)")
    ax2.legend(fontsize=8)
    periods = [f["period_ms"] for f in frames[1:]]
    if periods and all(p for p in periods):
        t = np.cumsum(periods) / 1000.0
        fps = 1000.0 / np.asarray(periods, dtype=float)
        clock = "device clock"
    else:
        t = np.asarray([f["host_t"] for f in frames[1:]])
        fps = 1.0 / np.maximum(np.diff([f["host_t"] for f in frames]), 1e-6)
        clock = "host clock"
    ax3.plot(t, fps, color="#228833", linewidth=1)
    ax3.axhline(report["fps"]["value"], color="k", linestyle=":", label=f"mean {report['fps']['value']:.2f}")
    ax3.set_title(f"FPS over time ({clock})")
    ax3.set_xlabel("s")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
