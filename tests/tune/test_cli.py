"""`host_tools tune sweep` as a user meets it: image folders scored once, small images refused with how to
resize, broken sessions and bad goals refused with one line, the proposal written as a config the device's
parser accepts; the page's API refuses foreign hosts and requests without its token."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from host_tools import rv1103_config
from host_tools.paths import MASKS_SAMPLE_FRAMES, RV1103_SAMPLE_FRAMES
from host_tools.sim.rv1103.model_twin import load_twin
from host_tools.tune import scores as sc

REPO = Path(__file__).resolve().parents[2]


def tune(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools", "tune", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


@pytest.fixture(scope="module")
def feeder(tmp_path_factory) -> Path:
    """DATASET/<label>/*.jpg from the RV1103 sample frames (640x480)."""
    pytest.importorskip("onnxruntime")
    root = tmp_path_factory.mktemp("feeder")
    for f in sorted(RV1103_SAMPLE_FRAMES.glob("*.jpg")):
        label = "bird" if f.name[:2] in ("03", "04", "05", "06") else "not_bird"
        (root / label).mkdir(exist_ok=True)
        shutil.copy(f, root / label / f.name)
    return root


def one_error_line(r: subprocess.CompletedProcess) -> str:
    lines = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr and lines[-1].startswith("host_tools: error: "), r.stderr
    return lines[-1]


def test_image_folder_scored_once_and_proposal_accepted_by_the_device_parser(feeder: Path, tmp_path) -> None:
    import camrt

    out = tmp_path / "proposed.json"
    r = tune("sweep", str(feeder), "--board", "rv1103", "--json", "--out", str(out),
             "--max-false-alarms", "0")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["frames"] == 6 and report["emulated"] is True
    cached = feeder / ".tune-rv1103" / "scores.jsonl"
    stamp = cached.stat().st_mtime_ns
    # the board program's own parser accepts it as it is, with the manifest a deploy puts beside the model
    assert "labels" not in json.loads(out.read_text())  # the model's manifest names them
    manifest = rv1103_config.manifest_of(load_twin(None).onnx)
    cfg = camrt.parse_config(out.read_text(), rv1103_config.board_manifest(manifest))
    assert cfg.labels == list(manifest.labels)
    proposed = report["proposed"]["setting"]
    assert list(cfg.thresholds) == pytest.approx(list(proposed["thresholds"].values()))
    assert cfg.k == proposed["k"] and cfg.penalty == pytest.approx(proposed["penalty"])
    assert cfg.hysteresis == 3  # stills cannot measure hysteresis: the shipped config's value is kept
    assert report["proposed"]["figures"]["false_alarms_per_1000"] == 0
    # a second sweep reads the stored scores: the model does not run again
    r = tune("sweep", str(feeder), "--board", "rv1103", "--json", "--thresholds", "0.5,0.7")
    assert r.returncode == 0, r.stderr
    assert cached.stat().st_mtime_ns == stamp
    assert json.loads(r.stdout)["settings"] == 2 * 2 * 4 * 3


def test_images_smaller_than_the_model_input_are_refused_with_how_to_resize(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    (tmp_path / "ds" / "bird").mkdir(parents=True)
    Image.new("RGB", (32, 32), (90, 120, 30)).save(tmp_path / "ds" / "bird" / "tiny.jpg")
    Image.new("RGB", (200, 100), (90, 120, 30)).save(tmp_path / "ds" / "bird" / "ok.jpg")
    r = tune("sweep", str(tmp_path / "ds"), "--board", "rv1103")
    assert r.returncode == 2
    line = one_error_line(r)
    from host_tools.model_manifest import load_manifest
    from host_tools.sim.rv1103.model_twin import default_card

    side = load_manifest(default_card()).width  # the default model's input, above 32 and below 100
    assert "tiny.jpg (32x32)" in line and f"smaller than the model's {side}x{side} input" in line
    assert f"mogrify -resize '{side}x{side}^<'" in line


def test_openmv_image_folder(tmp_path: Path) -> None:
    ds = tmp_path / "masks"
    for f in sorted(MASKS_SAMPLE_FRAMES.glob("*.jpg"))[:24]:
        label = f.stem.split("_", 1)[1].rsplit("_", 1)[0]
        (ds / label).mkdir(parents=True, exist_ok=True)
        shutil.copy(f, ds / label / f.name)
    r = tune("sweep", str(ds), "--board", "openmv", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["board"] == "openmv" and report["frames"] == 24
    assert report["settings"] == 14  # thresholds only: smoothing stays as configured on stills
    assert set(report["proposed"]["setting"]) == {"threshold", "smoothing"}


@pytest.mark.parametrize("content, expected", [
    ('{"frame":0,"truth":"bird","scores":[[0.5]]}\n', "does not have 2 classes"),
    ('{"frame":0,"truth":"bird","scores":[[NaN, 0.5]]}\n', "not a finite number"),
    ("not json\n", "scores.jsonl"),
    ('{"frame":0,"truth":"bird","scores":[[0.5,0.5]],"crops":[]}\n'
     '{"frame":1,"truth":"bird","scores":[[0.5,0.5],[0.4,0.6]]}\n', "has 2 crops, the first frame 1"),
])
def test_broken_sessions_are_refused_in_one_line(tmp_path: Path, content: str, expected: str) -> None:
    s = tmp_path / "s"
    s.mkdir()
    (s / "session.json").write_text(json.dumps({"format": sc.FORMAT, "version": 1, "board": "rv1103",
                                                "labels": ["bird", "not_bird"]}))
    (s / "scores.jsonl").write_text(content)
    r = tune("sweep", str(s))
    assert r.returncode == 2 and expected in one_error_line(r)


def test_bad_inputs_and_goals(tmp_path: Path, feeder: Path) -> None:
    r = tune("sweep", str(tmp_path / "nowhere"), "--board", "rv1103")
    assert r.returncode == 2 and "no such session or image folder" in one_error_line(r)
    (tmp_path / "ds" / "cat").mkdir(parents=True)
    r = tune("sweep", str(tmp_path / "ds"), "--board", "rv1103")
    assert r.returncode == 2 and "are not labels of the model" in one_error_line(r)
    r = tune("sweep", str(feeder), "--board", "rv1103", "--min-recall", "cat=0.9")
    assert r.returncode == 2 and "'cat' is not a label" in one_error_line(r)
    r = tune("sweep", str(feeder), "--board", "rv1103", "--min-recall", "bird=1.5")
    assert r.returncode == 2 and "from 0 to 1" in one_error_line(r)
    r = tune("sweep", str(feeder), "--board", "rv1103", "--thresholds", "0.1:0.9:0.001")
    assert r.returncode == 2 and "settings (at most" in one_error_line(r)
    r = tune("sweep", str(feeder), "--board", "openmv")
    assert r.returncode == 2 and "not labels of the model" in one_error_line(r)
    # a goal no setting reaches: exit 1, the closest setting named, no config written
    r = tune("sweep", str(feeder), "--board", "rv1103", "--min-recall", "bird=0.5", "--thresholds", "1.0",
             "--out", str(tmp_path / "x.json"))
    assert r.returncode == 1 and "no setting of the grid meets the goal; the closest" in one_error_line(r)
    assert not (tmp_path / "x.json").exists()


def test_page_api_refuses_foreign_hosts_and_untokened_posts(feeder: Path) -> None:
    from host_tools.tune.inputs import load_inputs
    from host_tools.tune.sweep import Sweeper
    from host_tools.tune.ui import start

    server, state = start(Sweeper(load_inputs([feeder], "rv1103")), "127.0.0.1", 0, None)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        def code(req: urllib.request.Request) -> int:
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert code(urllib.request.Request(base + "/api/state")) == 200
        assert code(urllib.request.Request(base + "/api/state", headers={"Host": "evil.example"})) == 421
        assert code(urllib.request.Request(base + "/api/apply", data=b"{}", method="POST")) == 403
        req = urllib.request.Request(base + "/api/apply", data=b"{}", method="POST",
                                     headers={"X-Tune-Token": state.token})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert json.loads(r.read()) == {"ok": False, "error": "no device: start the page with --device "
                                            "to apply settings"}
        with urllib.request.urlopen(base + "/api/eval?thr0=1.5", timeout=30) as r:
            pytest.fail("an out-of-range value was evaluated")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and "thr0: 1.5 is outside 0..1" in exc.read().decode()
    finally:
        server.shutdown()
