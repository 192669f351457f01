"""Models over the board's budget are refused with the right figures (needed vs available bytes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.cli import main as cli_main
from host_tools.model_budget import BOARDS, check_model_fits, measure_arena

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "models"


def _fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"fixture model {path} not built yet (models/masks/rebuild.sh fixtures)")
    return path


def _tflm_allocates(model: Path, arena: int) -> bool:
    """Independent probe: does TFLite Micro allocate this model's tensors in `arena` bytes?"""
    code = (
        "import sys; from tflite_micro import runtime; "
        "runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2]))"
    )
    return (
        subprocess.run([sys.executable, "-c", code, str(model), str(arena)], capture_output=True).returncode
        == 0
    )


def _labels_beside(model: Path, tmp_path: Path) -> Path:
    """Fixture models may come without labels: copy with a 3-label file (they all have 3 outputs)."""
    copy = tmp_path / model.name
    copy.write_bytes(model.read_bytes())
    labels = model.with_suffix(".txt")
    copy.with_suffix(".txt").write_text(labels.read_text() if labels.is_file() else "good\nbad\nno_mask\n")
    return copy


def test_measured_arena_is_the_smallest_tflm_accepts(masks_model):
    arena = measure_arena(masks_model)
    assert _tflm_allocates(masks_model, arena)
    assert not _tflm_allocates(masks_model, arena - 16)
    fit = check_model_fits(masks_model, "h7")
    assert fit.fits and fit.model_bytes == masks_model.stat().st_size and fit.arena_bytes == arena


def test_arena_hog_fails_on_h7_like_the_firmware(tmp_path, mask_frames, run_app):
    hog = _labels_beside(_fixture("arena_hog.tflite"), tmp_path)
    size = hog.stat().st_size
    run = run_app(tmp_path / "fs", mask_frames, hog, board="h7", count=2)
    assert run.results == []
    assert run.camera.end_reason == "error" and isinstance(run.camera.last_error, ValueError)
    text = str(run.camera.last_error)
    assert text.startswith("Failed to allocate tensors")
    assert "ValueError: Failed to allocate tensors" in run.output  # printed MicroPython-style
    arena = int(text.split("tensor arena needs ")[1].split(" ")[0])
    assert _tflm_allocates(hog, arena) and not _tflm_allocates(hog, arena - 16)
    block = BOARDS["h7"].heap_block_bytes
    assert f"{size + arena} bytes needed, {block} available" in text
    fit = check_model_fits(hog, "h7")
    assert not fit.fits and str(size + arena) in fit.reason and str(block) in fit.reason


def test_arena_hog_runs_on_h7plus(tmp_path, mask_frames, run_app):
    hog = _labels_beside(_fixture("arena_hog.tflite"), tmp_path)
    run = run_app(tmp_path / "fs", mask_frames, hog, board="h7plus", count=2)
    assert [r["frame"] for r in run.results] == [1, 2], run.output


def test_big_file_is_refused_by_the_flash_filesystem(tmp_path, mask_frames, capsys):
    big = _labels_beside(_fixture("big_file.tflite"), tmp_path)
    size = big.stat().st_size
    assert size > BOARDS["h7"].fs_bytes
    code = cli_main(
        ["sim", "openmv", "--frames", str(mask_frames), "--model", str(big), "--fs", str(tmp_path / "fs")]
    )
    err = capsys.readouterr().err
    assert code == 4, err
    assert f"model.tflite is {size} bytes" in err and f"{BOARDS['h7'].fs_bytes}-byte flash filesystem" in err
    fit = check_model_fits(big, "h7")
    assert not fit.fits and f"{size} bytes" in fit.reason and str(BOARDS["h7"].fs_bytes) in fit.reason


def test_big_file_runs_on_h7plus(tmp_path, mask_frames, run_app):
    """The H7 Plus keeps its filesystem on a 24 MiB QSPI flash: the big file fits there."""
    big = _labels_beside(_fixture("big_file.tflite"), tmp_path)
    run = run_app(tmp_path / "fs", mask_frames, big, board="h7plus", count=2)
    assert [r["frame"] for r in run.results] == [1, 2], run.output


def test_script_writes_past_the_flash_size_get_enospc(tmp_path, mask_frames):
    from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions

    out: list[str] = []
    cam = EmulatedCamera(SimOptions(frames=mask_frames, fs_root=tmp_path / "fs"), out.append)
    cam.exec_script("f = open('blob.bin', 'wb')\nfor i in range(100):\n    f.write(bytes(1024))\nf.close()\n")
    assert out == []
    cam.exec_script("f = open('blob2.bin', 'wb')\nfor i in range(40):\n    f.write(bytes(1024))\n")
    assert "".join(out).endswith("OSError: [Errno 28] ENOSPC\n")
    assert (tmp_path / "fs" / "blob2.bin").stat().st_size == 28 * 1024  # what fitted: 128 KiB in all
    # The filesystem persists: a new camera on the same directory sees the files.
    out.clear()
    cam2 = EmulatedCamera(SimOptions(frames=mask_frames, fs_root=tmp_path / "fs"), out.append)
    cam2.exec_script("import os\nprint(sorted(os.listdir()), os.stat('blob.bin')[6])\n")
    assert out == ["['blob.bin', 'blob2.bin'] 102400\n"]
