"""The app gives the same results on the legacy `tf` API (firmware <= 4.5.5), `ml` + `sensor` (4.6.0) and
`ml` + `csi` (5.x); each emulated firmware offers only its own API."""

from __future__ import annotations

import sys

from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions


def _scores(run):
    return [(r["label"], r["scores"]) for r in run.results]


def test_legacy_tf_and_csi_paths_match_ml(tmp_path, masks_model, mask_frames, run_app):
    cfg = {"threshold": 0.5, "smoothing": 2, "roi": [10, 10, 280, 220]}
    ml_run = run_app(tmp_path / "ml", mask_frames, masks_model, cfg, firmware="4.6.0")
    tf_run = run_app(tmp_path / "tf", mask_frames, masks_model, cfg, firmware="4.5.5")
    csi_run = run_app(tmp_path / "csi", mask_frames, masks_model, cfg, firmware="5.0.0")
    assert len(ml_run.results) == len(list(mask_frames.iterdir()))
    assert _scores(tf_run) == _scores(ml_run)
    assert _scores(csi_run) == _scores(ml_run)


def _probe(tmp_path, frames, firmware: str, source: str) -> str:
    out: list[str] = []
    cam = EmulatedCamera(
        SimOptions(frames=frames, fs_root=tmp_path / firmware, firmware=firmware), out.append
    )
    cam.exec_script(source)
    return "".join(out)


def test_each_firmware_has_only_its_api(tmp_path, mask_frames):
    src = (
        "for name in ('ml', 'csi', 'sensor', 'tf'):\n"
        "    try:\n"
        "        m = __import__(name)\n"
        "        print(name, 'classify' in dir(m))\n"
        "    except ImportError:\n"
        "        print(name, 'missing')\n"
    )
    old = _probe(tmp_path, mask_frames, "4.5.5", src)
    assert "ml missing" in old and "csi missing" in old and "tf True" in old and "sensor False" in old
    new = _probe(tmp_path, mask_frames, "4.6.0", src)
    assert "ml False" in new and "csi missing" in new and "tf False" in new
    v5 = _probe(tmp_path, mask_frames, "5.0.0", src)
    assert "csi False" in v5 and "ml False" in v5


def test_emulated_modules_do_not_touch_cpython(tmp_path, mask_frames):
    before = dict(sys.modules)
    out = _probe(
        tmp_path, mask_frames, "4.6.0", "import time, os, json\nprint(time.ticks_ms() >= 0, os.getcwd())\n"
    )
    assert out == "True /flash\n"
    import time

    assert not hasattr(time, "ticks_ms")
    assert sys.modules.get("time") is before.get("time")
