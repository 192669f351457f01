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
        return [{k: v for k, v in r.items() if k not in ("ms", "fps", "frame")} for r in h.json_lines(s, n)]


def test_armv7_board_program_under_qemu(env, tmp_path, h, adb):
    from PIL import Image

    frames = tmp_path / "frames"
    frames.mkdir()
    wide = Image.new("RGB", (192, 64), (255, 0, 0))
    wide.paste((0, 0, 255), (128, 0, 192, 64))
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
