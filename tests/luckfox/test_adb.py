"""The real `adb` client and server (Debian's adb) against the emulated Luckfox Pico's adb daemon."""

from __future__ import annotations

import hashlib
import json
import os
import socket

import pytest


@pytest.fixture(scope="module")
def serial(board, adb) -> str:
    r = adb("connect", board.info["adb"])
    assert f"connected to {board.info['adb']}" in r.stdout, r.stdout + r.stderr
    return board.info["adb"]


def test_adb_connect_lists_the_board_as_a_device(adb, serial):
    r = adb("devices", "-l")
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith(serial))
    assert line.split()[1] == "device"
    assert "device:rv1103" in line and "model:Luckfox_Pico_emulated_RV1103" in line


def test_push_and_pull_5_mb_byte_exact(adb, serial, board, tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 13)  # not a whole number of sync chunks
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    r = adb("-s", serial, "push", str(src), "/userdata/big.bin")
    assert r.returncode == 0, r.stderr
    assert (board.root / "userdata" / "big.bin").read_bytes() == data  # on the board's filesystem
    back = tmp_path / "back.bin"
    r = adb("-s", serial, "pull", "/userdata/big.bin", str(back))
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == data
    r = adb("-s", serial, "shell", "sha256sum /userdata/big.bin")  # hashed by the board's BusyBox
    assert r.stdout.split()[0] == hashlib.sha256(data).hexdigest()


def test_push_a_folder_creates_it(adb, serial, board, tmp_path):
    tree = tmp_path / "tree"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "a.txt").write_text("a\n")
    (tree / "sub" / "deeper" / "b.bin").write_bytes(b"\0\1\2")
    r = adb("-s", serial, "push", str(tree), "/userdata/pushed")
    assert r.returncode == 0, r.stderr
    assert (board.root / "userdata/pushed/sub/deeper/b.bin").read_bytes() == b"\0\1\2"
    r = adb("-s", serial, "shell", "ls /userdata/pushed/sub/deeper")
    assert r.stdout.split() == ["b.bin"]


def test_shell_runs_in_the_boards_busybox(adb, serial):
    r = adb("-s", serial, "shell", "echo $((6*7)); hostname; cat /proc/cpuinfo | grep Hardware; "
                                   "readlink /bin/sh")
    lines = r.stdout.splitlines()
    assert lines[0] == "42"
    assert lines[1] == "luckfox"
    assert "RV1103 (emulated" in lines[2]
    assert lines[3] == "busybox"
    r = adb("-s", serial, "shell", "ps")  # the board's own processes: its init and the board program
    assert "init" in r.stdout and "/userdata/classifier/bin/rv1103_app" in r.stdout


def test_shell_cannot_read_outside_the_device_root(adb, serial):
    r = adb("-s", serial, "shell", "cat /../../etc/hostname; cat /../../../etc/os-release | head -1")
    assert r.stdout.splitlines()[0] == "luckfox"  # the board's, not the host's
    assert r.stdout.splitlines()[1] == "NAME=Buildroot"


def test_forward_reaches_the_board_programs_port(adb, serial, h):
    r = adb("-s", serial, "forward", "tcp:0", "tcp:7070")
    assert r.returncode == 0, r.stderr
    port = int(r.stdout.strip())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            recs = h.json_lines(s, 3)
        assert [r["frame"] for r in recs] == sorted(r["frame"] for r in recs)
        assert all(r["label"] in ("bird", "not_bird") and r["crops"] for r in recs)
    finally:
        adb("-s", serial, "forward", "--remove", f"tcp:{port}")


def test_forward_to_a_closed_port_is_closed(adb, serial):
    r = adb("-s", serial, "forward", "tcp:0", "tcp:7999")
    port = int(r.stdout.strip())
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(10)
            assert s.recv(100) == b""  # nothing listens on the board's 7999
    finally:
        adb("-s", serial, "forward", "--remove", f"tcp:{port}")


def test_the_config_on_the_board_is_the_deploy_one(adb, serial, h):
    r = adb("-s", serial, "shell", "cat /userdata/classifier/config.json")
    deployed = json.loads((h.REPO / "rv1103_app" / "deploy" / "config.json").read_text())
    assert json.loads(r.stdout) == deployed


def test_devices_lists_what_the_adb_server_sees(adb, serial, env):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "host_tools", "devices", "--json"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    listed = {d["name"]: d for d in json.loads(r.stdout)["devices"]}
    assert listed[f"adb:{serial}"]["emulated"] is True  # the adb server's device, known as the emulated board
    assert "device" in listed[f"adb:{serial}"]["about"] and "sim:rv1103" in listed
