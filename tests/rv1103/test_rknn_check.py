"""host_tools.rknn_check: the model's toolkit version against a board's runtime, and the room it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from host_tools.errors import RefusedError
from host_tools.rknn_check import check_runtime, check_space, toolkit_version, version_tuple

BIRDS = Path(__file__).resolve().parents[2] / "models" / "birds" / "birds_mnv3s_rv1103.rknn"


def fake_rknn(path: Path, version: str, filler: int = 5000) -> Path:
    path.write_bytes(b"RKNN" + b"\x01" * filler + b'{"target_platform":["rv1103"],"version":"'
                     + version.encode() + b'"}')
    return path


def test_the_shipped_models_toolkit_is_read_from_the_file():
    if not BIRDS.is_file():
        pytest.skip("the bird model is not in this checkout")
    assert toolkit_version(BIRDS) == "2.5.0"  # the card says rknn-toolkit2 2.5.0 too


def test_versions_compare_by_their_leading_numbers():
    assert version_tuple("1.6.0 (9a7b5d24c@2023-12-13T17:31:11)") == (1, 6, 0)
    assert version_tuple("v0.9.8") == (0, 9, 8)
    assert version_tuple("2.3") == (2, 3, 0)
    assert version_tuple("unknown") == (0, 0, 0)


def test_a_runtime_older_than_the_toolkit_is_refused(tmp_path):
    model = fake_rknn(tmp_path / "m.rknn", "2.5.0")
    with pytest.raises(RefusedError, match=r"built by rknn-toolkit2 2\.5\.0, newer than the board's RKNN "
                                           r"runtime \(librknnmrt 1\.6\.0\): install librknnmrt\.so 2\.5\.0"):
        check_runtime(model, "1.6.0 (9a7b5d24c@2023-12-13T17:31:11)")
    check_runtime(model, "2.5.0 (abc@2026-01-01)")  # equal: fine
    check_runtime(model, "2.5.1")
    check_runtime(model, "")  # unknown runtime: nothing to check
    check_runtime(fake_rknn(tmp_path / "old.rknn", "1.5.2"), "1.6.0")


def test_a_file_without_a_description_has_no_version(tmp_path):
    p = tmp_path / "x.rknn"
    p.write_bytes(b"RKNN" + b"\x00" * 100)
    assert toolkit_version(p) is None
    check_runtime(p, "1.0.0")  # nothing known: not refused


def test_room_for_the_model_twice_over(tmp_path):
    model = fake_rknn(tmp_path / "m.rknn", "2.5.0", filler=5 * 1024 * 1024)
    # 5 MiB + 50 bytes: 5121 KiB, twice over
    with pytest.raises(RefusedError, match="needs 10242 KiB free on the board's /userdata .* has 540 KiB"):
        check_space(model, 540, "/userdata")
    check_space(model, 20000, "/root")


def test_the_runtime_is_read_from_the_board_programs_last_start():
    from host_tools.rknn_check import runtime_from_log

    lines = [
        "rv1103_app: engine rknn m (model built by rknn-toolkit2 2.5.0; runtime librknnmrt 1.6.0 (abc), "
        "driver 0.9.2; input 64x64x3)",
        "rv1103_app: frame 1 ...",
        "rv1103_app: engine rknn m (model built by rknn-toolkit2 2.5.0; runtime librknnmrt 2.3.2 (def), "
        "driver 0.9.8; input 64x64x3)",
    ]
    assert runtime_from_log(lines) == "2.3.2 (def)"
    assert runtime_from_log(lines[:2]) == "1.6.0 (abc)"
    unknown = "rv1103_app: engine rknn m (model built by rknn-toolkit2 ?; runtime librknnmrt ?, driver ?)"
    assert runtime_from_log([unknown]) is None and runtime_from_log([]) is None
