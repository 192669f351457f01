"""The proposed config, run by the emulated board on the same frames, gives the figures the sweep promised.

A camera stream is made of the bundled sample frames (scenes that change class, as a live camera sees
them), scored once by the emulated board; `tune sweep` proposes a setting and writes it as a config; the
emulated board then runs that config on the same frames, and the figures of its own decisions are the ones
the sweep printed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from host_tools.model_manifest import load_manifest
from host_tools.paths import MASKS_MODEL, MASKS_SAMPLE_FRAMES, RV1103_CONFIG, RV1103_SAMPLE_FRAMES
from host_tools.tune import configs, scores
from host_tools.tune.dataset import default_model, run_emulated
from host_tools.tune.metrics import figures

REPO = Path(__file__).resolve().parents[2]


def host_tools(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools", *args], capture_output=True, text=True,
                          timeout=600, cwd=REPO)


def stream_session(board: str, frames: list[Path], truth: list[str], labels: list[str], model: Path,
                   base: dict, out: Path) -> None:
    lines = run_emulated(board, frames, model, configs.render(base))
    assert len(lines) == len(frames), f"the emulated board scored {len(lines)} of {len(frames)} frames"
    got = []
    for i, path in enumerate(frames):
        rec = lines[i]
        if board == "rv1103":
            rows = [[c.scores[lab] for lab in labels] for c in rec.crops]
        else:
            rows = [[rec.smoothing.raw_scores[lab] for lab in labels]]
        got.append(scores.Frame(truth[i], rows, path, [], 0))
    scores.save(scores.Session(board, labels, got, base, model.name, f"sim:{board}", True, True, "test"), out)


def promised_vs_board(board: str, session_dir: Path, frames: list[Path], model: Path, labels: list[str],
                      truth: list[str], goal: list[str], tmp: Path) -> tuple[dict, dict]:
    prop = tmp / "proposed.json"
    r = host_tools("tune", "sweep", str(session_dir), "--json", "--out", str(prop),
                   "--plots", str(tmp / "plots"), *goal)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    promised = report["proposed"]["figures"]
    data = prop.read_bytes()
    configs.validate(board, data, labels)  # the device's own parser accepts it as it is
    lines = run_emulated(board, frames, model, data)
    idx = {lab: i for i, lab in enumerate(labels)}
    dec = np.array([idx.get(lines[i].label, -1) for i in range(len(frames))])
    t = np.array([idx[x] for x in truth])
    fb = configs.fallback_index(board, json.loads(data), labels)
    board_figures = figures(t, dec, len(labels), [(0, len(frames))], fb).as_dict(labels)
    assert (tmp / "plots" / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return promised, board_figures


def test_rv1103_proposal_runs_as_promised(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    files = sorted(RV1103_SAMPLE_FRAMES.glob("*.jpg"))
    assert len(files) == 6
    # the feeder: empty, another animal, a bird for four frames; replayed in changing orders
    order = [0, 1, 2, 3, 4, 5, 1, 0, 2, 3, 4, 5, 5, 4, 0, 1, 1, 3, 2, 5, 4, 0]
    frames = [files[i] for i in order]
    truth = ["bird" if i >= 2 else "not_bird" for i in order]
    base = json.loads(RV1103_CONFIG.read_text())
    base["max_fps"] = 0
    model = default_model("rv1103")
    labels = list(load_manifest(model).labels)  # the model's manifest owns them; the config names none
    stream_session("rv1103", frames, truth, labels, model, base, tmp_path / "session")
    promised, board = promised_vs_board("rv1103", tmp_path / "session", frames, model, labels, truth,
                                        ["--min-recall", "bird=0.75"], tmp_path)
    assert promised == board
    assert promised["per_class"]["bird"]["recall"] >= 0.75 and promised["truth_changes"] >= 5


def test_openmv_proposal_runs_as_promised(tmp_path: Path) -> None:
    files = sorted(MASKS_SAMPLE_FRAMES.glob("*.jpg"))
    labels = list(load_manifest(MASKS_MODEL).labels)
    truth = []
    for f in files:  # 000_bad_C-2175.jpg: the class is in the name
        m = re.match(r"\d+_(.+)_[A-Z]-\d+$", f.stem)
        assert m and m.group(1) in labels, f.name
        truth.append(m.group(1))
    base = configs.default_config("openmv")
    base["smoothing"] = 1
    stream_session("openmv", files, truth, labels, MASKS_MODEL, base, tmp_path / "session")
    promised, board = promised_vs_board("openmv", tmp_path / "session", files, MASKS_MODEL, labels, truth,
                                        ["--max-false-alarms", "50"], tmp_path)
    assert promised == board
    assert promised["truth_changes"] >= 3
