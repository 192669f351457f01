"""The board's memory per firmware (GC heap blocks, fb_alloc, FAT filesystem) as the firmware spends it; a
model over it is refused by flash's check and fails on the emulated camera the same way, with figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.cli import main as cli_main
from host_tools.model_budget import (
    ARENA_MARGIN,
    BOARDS,
    Arena,
    Heap,
    HeapFull,
    check_model_fits,
    fat_geometry,
    fit_figures,
    measure_arena,
    model_arena,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "models"


def _fixture(name: str) -> Path:
    path = FIXTURES / name
    assert path.is_file(), f"fixture model {path} is missing (models/masks/rebuild.sh fixtures remakes it)"
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
    """Fixture models come without a manifest: copy with a 3-label file (they all have 3 outputs)."""
    copy = tmp_path / model.name
    copy.write_bytes(model.read_bytes())
    copy.with_suffix(".txt").write_text("good\nbad\nno_mask\n")
    return copy


def test_measured_arena_is_the_smallest_tflm_accepts_and_the_firmware_adds_to_it(masks_model):
    arena = measure_arena(masks_model)
    assert _tflm_allocates(masks_model, arena)
    assert not _tflm_allocates(masks_model, arena - 16)
    a = model_arena(masks_model)
    assert a.reference == arena
    # round16(used) + 512 (tflm_backend.cc), used = reference + CMSIS-NN scratch + margin
    assert a.allocated == -(-(arena + a.cmsis_scratch + ARENA_MARGIN) // 16) * 16 + 512
    # the mask model's first layer is a 3x3 conv on 3 channels: CMSIS-NN's im2col buffer 2 * 28 * 2 bytes
    assert a.cmsis_scratch == 112
    fit = check_model_fits(masks_model, "h7")
    assert fit.fits and fit.model_bytes == masks_model.stat().st_size and fit.arena_bytes == a.allocated


def test_fat_filesystem_geometry():
    """FatFs f_mkfs on the H7's 128 KiB: 256 sectors - 1 reserved - 1 FAT - 32 root-directory = 222."""
    h7 = fat_geometry(BOARDS["h7"].fs_bytes)
    assert (h7.cluster_bytes, h7.clusters, h7.usable_bytes) == (512, 222, 113664)
    plus = fat_geometry(BOARDS["h7plus"].fs_bytes)  # 24 MiB: FAT16 with 2 KiB clusters
    assert plus.cluster_bytes == 2048 and 12200 < plus.clusters < 12288
    assert h7.clusters_for(1) == 1 and h7.clusters_for(512) == 1 and h7.clusters_for(513) == 2


def test_heap_blocks_decide_not_the_total():
    heap = Heap((26 * 1024, 267 * 1024))
    heap.alloc(24 * 1024, "app")
    with pytest.raises(HeapFull):
        heap.alloc(268 * 1024, "too big for any block")  # 271 KiB free in all, but no block has 268
    # The same model fits firmware 5's 64 K + 264 K blocks (the file goes in the small one) but not 4.6's.
    arena = Arena(reference=245_000, cmsis_scratch=0)
    assert fit_figures(30_000, arena, "h7", "5.0.0").fits
    old = fit_figures(30_000, arena, "h7", "4.6.0")
    assert not old.fits and "Failed to allocate tensors" in old.reason and "firmware 4.6.0" in old.reason


@pytest.mark.parametrize("firmware,error,message", [
    ("4.5.5", MemoryError, "Out of fast frame buffer stack memory"),  # legacy tf: arena in fb_alloc
    ("4.6.0", ValueError, "Failed to allocate tensors"),
    ("5.0.0", ValueError, "Failed to allocate tensors"),
])
def test_arena_hog_fails_on_h7_like_the_firmware(tmp_path, mask_frames, run_app, firmware, error, message):
    hog = _labels_beside(_fixture("arena_hog.tflite"), tmp_path)
    run = run_app(tmp_path / "fs", mask_frames, hog, board="h7", count=2, firmware=firmware)
    assert run.results == []
    assert run.camera.end_reason == "error" and isinstance(run.camera.last_error, error), run.output
    text = str(run.camera.last_error)
    assert text.startswith(message)
    assert f"{error.__name__}: {message}" in run.output  # printed MicroPython-style
    arena = model_arena(hog)
    assert f"tensor arena needs {arena.used} bytes" in text
    fit = check_model_fits(hog, "h7", firmware)
    assert not fit.fits and message in fit.reason and str(arena.used) in fit.reason


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
    assert f"model.tflite is {size} bytes" in err and "113664 usable bytes" in err
    fit = check_model_fits(big, "h7")
    assert not fit.fits and f"{size} bytes" in fit.reason and "113664" in fit.reason


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
    cam.exec_script("import os\nprint(os.statvfs('/flash')[:5])\n")
    assert out == ["(512, 512, 222, 22, 22)\n"]  # 100 KiB = 200 clusters of the 222
    out.clear()
    cam.exec_script("f = open('blob2.bin', 'wb')\nfor i in range(40):\n    f.write(bytes(1024))\n")
    assert "".join(out).endswith("OSError: [Errno 28] ENOSPC\n")
    assert (tmp_path / "fs" / "blob2.bin").stat().st_size == 22 * 512  # what fitted: the last 22 clusters
    # The filesystem persists: a new camera on the same directory sees the files.
    out.clear()
    cam2 = EmulatedCamera(SimOptions(frames=mask_frames, fs_root=tmp_path / "fs"), out.append)
    cam2.exec_script("import os\nprint(sorted(os.listdir()), os.stat('blob.bin')[6])\n")
    assert out == ["['blob.bin', 'blob2.bin'] 102400\n"]
    # A directory takes a cluster: none left for it.
    out.clear()
    cam2.exec_script("import os\nos.mkdir('d')\n")
    assert "".join(out).endswith("OSError: [Errno 28] ENOSPC\n")
