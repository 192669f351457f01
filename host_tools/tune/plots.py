"""ROC and precision-recall curves (PNG) with the operating points of the proposed and current settings."""

from __future__ import annotations

from pathlib import Path

from host_tools.tune.sweep import Evaluated, Sweeper


def write_curves(sw: Sweeper, proposed: Evaluated, current: Evaluated, out_dir: Path) -> list[Path]:
    """roc.png and pr.png in out_dir: one curve per class (its threshold moving, the rest as proposed),
    the proposed setting as a filled dot and the current config's as a ring."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    labels = sw.labels
    classes = range(len(labels))
    curves = {c: sw.curve(c, proposed.setting) for c in classes}
    paths = []
    for kind, xlab, ylab in (("roc", "false positive rate", "true positive rate (recall)"),
                             ("pr", "recall", "precision")):
        fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
        for c in classes:
            pts = curves[c]
            if kind == "roc":
                xs, ys = [p["fpr"] for p in pts], [p["tpr"] for p in pts]
            else:
                xs, ys = [p["tpr"] for p in pts], [p["precision"] for p in pts]
            (line,) = ax.plot(xs, ys, marker=".", label=labels[c])
            for ev, style in ((proposed, {"s": 80}), (current, {"s": 110, "facecolors": "none"})):
                f = ev.figures
                neg = sum(sum(row) for i, row in enumerate(f.confusion) if i != c)
                fp = sum(row[c] for i, row in enumerate(f.confusion) if i != c)
                x = (fp / neg if neg else 0.0) if kind == "roc" else f.recall[c]
                y = f.recall[c] if kind == "roc" else f.precision[c]
                ax.scatter([x], [y], edgecolors=line.get_color(), zorder=3,
                           color=line.get_color() if "facecolors" not in style else None, **style)
        ax.set_xlabel(xlab)
        ax.set_ylabel(ylab)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"{'ROC' if kind == 'roc' else 'Precision-recall'} per class ({sw.board}); "
                     "dot: proposed, ring: current", fontsize=9)
        ax.legend(loc="lower right" if kind == "roc" else "lower left")
        path = out_dir / f"{kind}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
