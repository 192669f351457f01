"""The emulated Luckfox running the ARMv7 build of the board program under qemu-arm-static (--arch armv7):
the same lines as the host build on the same frames."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-arm-static") and shutil.which("arm-linux-gnueabihf-g++")),
    reason="the ARMv7 board needs g++-arm-linux-gnueabihf and qemu-user-static (make setup installs them)")


def lines_from(board, adb, h, n: int) -> list[dict]:
    h.wait_for_file_line(board.root / "var/log/classifier.log", "listening on", timeout=120)
    assert "connected" in adb("connect", board.info["adb"]).stdout
    port = int(adb("-s", board.info["adb"], "forward", "tcp:0", "tcp:7070").stdout.strip())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        lines = h.json_lines(s, n)
    return [{k: v for k, v in r.items() if k not in ("ms", "fps", "frame", "run")} for r in lines]


def test_armv7_board_program_under_qemu(env, tmp_path, h, adb):
    from PIL import Image

    from host_tools.model_manifest import load_manifest
    from host_tools.sim.rv1103.model_twin import default_card

    side = load_manifest(default_card()).width  # frames no smaller than the default model's input
    frames = tmp_path / "frames"
    frames.mkdir()
    wide = Image.new("RGB", (3 * side, side), (255, 0, 0))
    wide.paste((0, 0, 255), (2 * side, 0, 3 * side, side))
    wide.save(frames / "wide.png")
    cfg = tmp_path / "config.json"
    deployed = json.loads((h.REPO / "rv1103_app/deploy/config.json").read_text())
    cfg.write_text(json.dumps({**deployed, "max_fps": 20}))
    lines = {}
    for arch in ("host", "armv7"):
        (tmp_path / arch).mkdir()
        board = h.start_board(env, tmp_path / arch, "--arch", arch, "--frames", str(frames), "--config",
                              str(cfg))
        try:
            lines[arch] = lines_from(board, adb, h, 2)
            if arch == "armv7":  # the ARM program, under qemu-user, inside the board
                ps = adb("-s", board.info["adb"], "shell", "ps").stdout
                assert "qemu-arm-static -cpu cortex-a7 /userdata/classifier/bin/rv1103_app" in ps, ps
                head = (board.root / "userdata/classifier/bin/rv1103_app").read_bytes()[:20]
                assert head[:4] == b"\x7fELF" and head[18] == 40  # e_machine 40: ARM
        finally:
            assert board.stop() == 0
    assert lines["armv7"] == lines["host"] and len(lines["host"][0]["crops"]) == 3


def test_flash_sends_the_armv7_program_to_an_armv7_board(env, tmp_path, h, adb):
    """flash picks the build the emulated board runs (ARMv7, under qemu) and the release is healthy."""
    import subprocess
    import sys

    from host_tools.deploy.plan import elf_machine

    board = h.start_board(env, tmp_path, "--arch", "armv7", "--bare")
    try:
        argv = [sys.executable, "-m", "host_tools", "flash", "--device", f"adb:{board.info['adb']}", "--json",
                "--health-timeout", "120"]
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, cwd=h.REPO)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["ok"] and report["health"]["lines"] >= 3
        program = board.root / "userdata/classifier/releases" / report["release"] / "bin/rv1103_app"
        assert elf_machine(program.read_bytes()[:64]) == "arm"
    finally:
        assert board.stop() == 0
