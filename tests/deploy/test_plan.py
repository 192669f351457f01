"""What flash checks on the host before it connects to an RV1103: the model's RKNN header and metadata, the
config through camrt and against the model's card, the program's CPU, the model's size (no board needed)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from host_tools.deploy.plan import MAX_MODEL_BYTES, elf_machine, plan_release
from host_tools.deploy.rknn import check_board_model, read_rknn
from host_tools.errors import RefusedError, UsageError

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "birds" / "birds_mnv3s_rv1103.rknn"


def fake_elf(machine: int) -> bytes:
    return b"\x7fELF\x01\x01\x01" + bytes(11) + struct.pack("<H", machine) + bytes(40)


def test_the_bird_models_are_read_from_their_headers() -> None:
    for model in sorted(MODEL.parent.glob("*_rv1103.rknn")):
        info = check_board_model(model)
        assert "rv1103" in info.platforms and info.outputs == 2  # bird, not_bird


@pytest.mark.parametrize("damage, why", [
    (lambda d: d[: len(d) // 2], "truncated RKNN file"),
    (lambda d: d[:-10], "damaged RKNN file"),
    (lambda d: d[:-200] + b"\xff" * 200, "damaged RKNN file"),
    (lambda d: b"TFL3" + d[4:], "not an RKNN model"),
    (lambda d: d[:20], "not an RKNN model"),
])
def test_damaged_models_are_refused_naming_the_problem(tmp_path, damage, why) -> None:
    bad = tmp_path / "bad.rknn"
    bad.write_bytes(damage(MODEL.read_bytes()))
    with pytest.raises(RefusedError, match=why):
        read_rknn(bad)


def test_a_model_larger_than_the_boards_memory_is_refused_unread(tmp_path) -> None:
    data = MODEL.read_bytes()
    (size,) = struct.unpack_from("<Q", data, 16)
    huge = tmp_path / "huge.rknn"
    meta = data[64 + size:]
    with open(huge, "wb") as f:  # sparse: the header, a hole of model data, the metadata
        f.write(data[:16] + struct.pack("<Q", MAX_MODEL_BYTES) + data[24:64])
        f.seek(64 + MAX_MODEL_BYTES)
        f.write(meta)
    assert check_board_model(huge).platforms == ("rv1103",)  # a well-formed header
    with pytest.raises(RefusedError, match="more than the RV1103's whole 64 MiB"):
        plan_release(huge, None, "host")


def test_a_board_build_folder_brings_its_runtime_library(tmp_path) -> None:
    build = tmp_path / "deploy"
    (build / "bin").mkdir(parents=True)
    (build / "lib").mkdir()
    (build / "bin" / "rv1103_app").write_bytes(fake_elf(40))  # EM_ARM
    (build / "lib" / "librknnmrt.so").write_bytes(b"not really a library")
    plan = plan_release(MODEL, None, None, build)
    assert plan.program_machine == "arm"
    assert {f.path for f in plan.files} == {"bin/rv1103_app", "lib/librknnmrt.so", "model/model.rknn",
                                            "model/model.json", "config.json", "S99classifier"}
    assert plan.file("bin/rv1103_app").mode == 0o755 and plan.labels == ["bird", "not_bird"]
    (build / "bin" / "rv1103_app").write_bytes(b"#!/bin/sh\necho hi\n")
    with pytest.raises(RefusedError, match="not a Linux program"):
        plan_release(MODEL, None, None, build)
    with pytest.raises(UsageError, match="not a folder"):
        plan_release(MODEL, None, None, tmp_path / "missing")


def test_elf_machines() -> None:
    assert elf_machine(fake_elf(62)) == "x86_64" and elf_machine(fake_elf(40)) == "arm"
    assert elf_machine(b"MZ\x90\x00") is None


def test_a_config_whose_model_path_leaves_the_release_is_refused(tmp_path) -> None:
    cfg = json.loads((REPO / "rv1103_app" / "deploy" / "config.json").read_text())
    for path in ("/etc/model.rknn", "../model.rknn", "model/../../x.rknn"):
        (tmp_path / "c.json").write_text(json.dumps({**cfg, "model": path}))
        with pytest.raises(RefusedError, match="inside the release folder"):
            plan_release(MODEL, tmp_path / "c.json", None, None)
