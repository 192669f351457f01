"""The emulated Luckfox Pico as a whole: what it announces and binds, confinement of its commands and file
services, the device layer over adb and ssh (no shell injection), a clean shutdown, and the board program
giving the same lines as the one-shot form on the same frames."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
import pytest

from host_tools.devices.connect import open_device
from host_tools.devices.names import parse_device


def listening(port: int) -> list[str]:
    """Local addresses of the host's listening TCP sockets on `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.append(addr)
    return found


def test_the_first_line_says_where_the_board_is(board):
    info = board.info
    assert info["device"] == "sim:rv1103" and info["emulated"] is True
    assert info["adb"].startswith("127.0.0.1:") and info["ssh"].startswith("root@127.0.0.1:")
    assert Path(info["ssh_key"]).is_file() and not Path(info["ssh_key"]).is_relative_to(board.root)
    for rel in ("bin/busybox", "etc/init.d/S99classifier", "userdata/classifier/bin/rv1103_app",
                "userdata/classifier/model/model.rknn", "var/log/classifier.log", "etc/default/classifier"):
        assert (board.root / rel).exists(), rel


def test_daemons_listen_on_loopback_only(board):
    adb_port = int(board.info["adb"].rsplit(":", 1)[1])
    for port in (adb_port, board.ssh_port):
        addrs = listening(port)
        assert addrs and set(addrs) == {"0100007F"}, (port, addrs)  # 127.0.0.1, nothing else


def test_devices_lists_the_emulated_board(board, env):
    r = subprocess.run([sys.executable, "-m", "host_tools", "devices", "--json", "--no-adb"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)["devices"]
    mine = [d for d in listed if d["name"] == "sim:rv1103"]
    assert len(mine) == 1 and mine[0]["emulated"] and board.info["adb"] in mine[0]["link"]


def test_a_bad_device_name_is_exit_2_with_the_forms(env):
    r = subprocess.run([sys.executable, "-m", "host_tools", "stream", "--device", "usb:3"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2
    for form in ("sim:openmv", "sim:rv1103", "serial:PORT", "adb[:SERIAL]", "ssh:[USER@]HOST[:PORT]"):
        assert form in r.stderr


@pytest.mark.parametrize("link", ["adb", "ssh"])
def test_names_are_passed_without_shell_injection(board, board_env, adb, link):
    name = f"adb:{board.info['adb']}" if link == "adb" else f"ssh:{board.info['ssh']}"
    dev = open_device(parse_device(name))
    evil = "/userdata/a b;$(touch /tmp/pwned)'\"`touch /tmp/pwned2`&& reboot.json"
    try:
        sha = dev.put_verified(evil, b"payload")
        assert (board.root / evil.lstrip("/")).read_bytes() == b"payload"  # the name arrived as it is
        dev.rename(evil, evil + "2")
        assert dev.run(["cat", evil + "2"]).output == "payload"
        assert dev.run(["sha256sum", evil + "2"]).output.split()[0] == sha
        dev.remove(evil + "2")
        assert not (board.root / (evil + "2").lstrip("/")).exists()
        assert dev.run(["sh", "-c", "exit 5"]).status == 5
    finally:
        dev.close()
    assert not (board.root / "tmp" / "pwned").exists() and not (board.root / "tmp" / "pwned2").exists()
    assert board.proc.poll() is None  # and no reboot


def test_file_services_follow_links_inside_the_root_only(board, adb, tmp_path):
    r = adb("connect", board.info["adb"])
    serial = board.info["adb"]
    adb("-s", serial, "shell", "ln -sf / /escape; ln -sf /etc /userdata/etc_link")
    r = adb("-s", serial, "pull", "/escape/../../etc/hostname", str(tmp_path / "via_adb"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "via_adb").read_text().strip() == "luckfox"
    r = adb("-s", serial, "push", str(tmp_path / "via_adb"), "/userdata/etc_link/pushed_through_link")
    assert r.returncode == 0, r.stderr
    assert (board.root / "etc" / "pushed_through_link").is_file()

    async def sftp_read(path: str) -> bytes:
        async with asyncssh.connect("127.0.0.1", board.ssh_port, username="root",
                                    known_hosts=board.info["ssh_known_hosts"],
                                    client_keys=[board.info["ssh_key"]]) as conn:
            async with conn.start_sftp_client() as sftp, sftp.open(path, "rb") as f:
                return await f.read()

    import asyncio

    assert asyncio.run(sftp_read("/escape/etc/hostname")).strip() == b"luckfox"
    assert asyncio.run(sftp_read("../../../../etc/hostname")).strip() == b"luckfox"


def test_stream_and_config_through_the_device_layer(board, board_env, h):
    dev = open_device(parse_device("sim:rv1103"))
    try:
        assert dev.emulated and dev.board == "rv1103"
        config = json.loads(dev.read_config())
        src = dev.open_stream()
        try:
            lines = []
            for ev in src.events:
                if hasattr(ev, "text"):
                    lines.append(json.loads(ev.text))
                if len(lines) == 3:
                    break
        finally:
            src.close()
        assert [len(r["crops"]) for r in lines] == [3, 3, 3]  # the 640x480 sample frames: three crops
        config["thresholds"]["bird"] = 0.42
        dev.write_config(json.dumps(config).encode())
        # The board program reloads it (a verified file, renamed into place: never half written)
        h.wait_for_file_line(board.root / "var/log/classifier.log", "config reloaded")
        assert json.loads(dev.read_config())["thresholds"]["bird"] == 0.42
    finally:
        dev.close()


def test_reboot_brings_the_board_back(board, board_env, h):
    log = board.root / "var/log/classifier.log"
    h.wait_for_file_line(log, "listening on")  # the program of this boot has started
    started = log.read_text().count("listening on")
    dev = open_device(parse_device(f"ssh:{board.info['ssh']}"))
    try:
        dev.run(["reboot"])
    finally:
        dev.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            dev = open_device(parse_device(f"ssh:{board.info['ssh']}"))
            up = dev.run(["cat", "/proc/uptime"]).output.split()[0]
            dev.close()
            if float(up) < 30 and (board.root / "var/run/booted").exists():
                break
        except Exception:  # the board is between its shutdown and its boot
            pass
        time.sleep(0.5)
    else:
        pytest.fail("the board did not come back after reboot")
    deadline = time.monotonic() + 60
    while log.read_text().count("listening on") == started:  # its init script started the program again
        assert time.monotonic() < deadline, "the board program did not start after the reboot"
        time.sleep(0.2)
    dev = open_device(parse_device(f"ssh:{board.info['ssh']}"))
    try:
        src = dev.open_stream()
        assert any(hasattr(ev, "text") for ev in src.events)
        src.close()
    finally:
        dev.close()


def bands(w: int, h: int, colours):
    import numpy as np

    img = np.zeros((h, w, 3), np.uint8)
    for i, c in enumerate(colours):
        if w >= h:
            img[:, i * w // len(colours):(i + 1) * w // len(colours)] = c
        else:
            img[i * h // len(colours):(i + 1) * h // len(colours), :] = c
    return img


def forward(board, adb) -> int:
    """A host port forwarded to the board's 7070 through the real adb."""
    r = adb("connect", board.info["adb"])
    assert "connected" in r.stdout, r.stdout + r.stderr
    r = adb("-s", board.info["adb"], "forward", "tcp:0", "tcp:7070")
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


def test_one_shot_and_served_board_give_the_same_lines(env, tmp_path, h, adb):
    """One main loop: the served board's program and the one-shot form, on the same frames and config."""
    from PIL import Image

    frames = tmp_path / "frames"
    frames.mkdir()
    from host_tools.model_manifest import load_manifest
    from host_tools.sim.rv1103.model_twin import default_card

    side = load_manifest(default_card()).width  # three squares of the default model's input side
    Image.fromarray(bands(3 * side, side, [(255, 0, 0), (128, 128, 128), (0, 0, 255)])).save(frames / "a.png")
    Image.fromarray(bands(side, 3 * side, [(0, 0, 255), (255, 0, 0), (0, 255, 0)])).save(frames / "b.png")
    cfg = tmp_path / "config.json"
    deployed = json.loads((h.REPO / "rv1103_app/deploy/config.json").read_text())
    cfg.write_text(json.dumps({**deployed, "max_fps": 20}))
    argv = [sys.executable, "-m", "host_tools", "sim", "rv1103", "--frames", str(frames), "--config",
            str(cfg), "--json"]
    one = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, cwd=h.REPO)
    assert one.returncode == 0, one.stderr
    timing = ("ms", "fps", "run")  # the only fields that differ between two runs of the same frames
    expected = [{k: v for k, v in json.loads(ln).items() if k not in timing}
                for ln in one.stdout.splitlines()]
    assert [len(r["crops"]) for r in expected] == [3, 3]
    board = h.start_board(env, tmp_path, "--frames", str(frames), "--config", str(cfg))
    try:
        h.wait_for_file_line(board.root / "var/log/classifier.log", "listening on")  # the program has started
        with socket.create_connection(("127.0.0.1", forward(board, adb)), timeout=10) as s:
            served = h.json_lines(s, 4)
    finally:
        assert board.stop() == 0
    for rec in served:
        want = dict(expected[(rec["frame"] - 1) % 2], frame=rec["frame"])  # the camera loops over 2 frames
        assert {k: v for k, v in rec.items() if k not in timing} == want


def board_processes(root: Path) -> list[int]:
    """Host PIDs of the processes whose root directory is the device root (the board's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "root") == str(root.resolve()):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_clean_shutdown_leaves_nothing_running(env, tmp_path, h):
    root = tmp_path / "persistent"
    board = h.start_board(env, tmp_path, "--root", str(root))
    log = root / "var" / "log" / "classifier.log"
    h.wait_for_file_line(log, "listening on")
    assert len(board_processes(root)) >= 2  # init and the board program at least
    board_pid = board.proc.pid
    assert board.stop() == 0
    assert "stopped by signal 15" in log.read_text()  # the init script's stop, at the board's shutdown
    assert not list(Path(env["CAMCLASS_BOARDS_DIR"]).glob(f"{board_pid}.json"))
    assert board_processes(root) == []
    assert (root / "userdata" / "classifier" / "bin" / "rv1103_app").is_file()  # the board keeps its files
    assert (Path(str(root) + ".host") / "id_ed25519").is_file()


def test_killed_emulator_takes_the_board_down(env, tmp_path, h):
    root = tmp_path / "r"
    board = h.start_board(env, tmp_path, "--root", str(root))
    h.wait_for_file_line(root / "var" / "log" / "classifier.log", "listening on")
    assert board_processes(root)
    board.proc.send_signal(signal.SIGKILL)  # no cleanup code runs
    board.proc.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and board_processes(root):
        time.sleep(0.1)
    assert board_processes(root) == []


def test_user_namespace_confinement(env, tmp_path, h, adb):
    board = h.start_board(env, tmp_path, "--confine", "userns")
    try:
        assert board.info["confine"] == "userns"
        adb("connect", board.info["adb"])
        r = adb("-s", board.info["adb"], "shell", "id -u; cat /../../etc/hostname; ps | grep -c rv1103_app")
        uid, hostname, apps = r.stdout.split()
        assert (uid, hostname) == ("0", "luckfox") and int(apps) >= 1
    finally:
        assert board.stop() == 0


def test_one_root_one_board(env, tmp_path, h):
    root = tmp_path / "shared_root"
    first = h.start_board(env, tmp_path, "--root", str(root))
    try:
        argv = [sys.executable, "-m", "host_tools", "sim", "rv1103", "--serve", "--root", str(root)]
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd=h.REPO)
        assert r.returncode == 2 and "in use by another emulated board" in r.stderr
        assert r.stdout == ""
    finally:
        assert first.stop() == 0


def test_a_root_too_long_for_a_unix_socket_is_refused_before_anything_is_made(env, tmp_path, h):
    root = tmp_path / ("r" * 120)
    argv = [sys.executable, "-m", "host_tools", "sim", "rv1103", "--serve", "--root", str(root)]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd=h.REPO)
    assert r.returncode == 2 and "choose a shorter --root" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not root.exists() and not Path(str(root) + ".host").exists()


def test_garbage_on_the_adb_port_closes_only_that_connection(board, adb):
    host, port = board.info["adb"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)))
        s.settimeout(10)
        assert s.recv(100) == b""  # not an adb message header: closed
    adb("connect", board.info["adb"])
    assert adb("-s", board.info["adb"], "shell", "echo still here").stdout.strip() == "still here"


def test_a_dropped_session_ends_its_command(board, adb):
    adb("connect", board.info["adb"])
    with pytest.raises(subprocess.TimeoutExpired):
        adb("-s", board.info["adb"], "shell", "sleep 1234", timeout=2)  # the client is killed mid-command
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if "sleep 1234" not in adb("-s", board.info["adb"], "shell", "ps").stdout:
            break
        time.sleep(0.3)
    else:
        pytest.fail("the command outlived its adb session")


def test_a_bare_board_has_no_classifier_and_says_so(env, tmp_path, h, adb):  # adb: the session's server
    board = h.start_board(env, tmp_path, "--bare")
    try:
        assert not (board.root / "userdata" / "classifier").exists()
        assert not (board.root / "etc" / "init.d" / "S99classifier").exists()
        for name in (f"ssh:{board.info['ssh']}", f"adb:{board.info['adb']}"):
            r = subprocess.run([sys.executable, "-m", "host_tools", "stream", "--device", name],
                               capture_output=True, text=True, env=env, timeout=120)
            assert r.returncode == 3 and "nothing listens on the board's port 7070" in r.stderr, r.stderr
    finally:
        assert board.stop() == 0
