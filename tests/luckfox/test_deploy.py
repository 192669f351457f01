"""`host_tools flash` / `rollback` against the emulated Luckfox Pico, over adb and over ssh: refusals before
anything is sent, releases verified on the board, the health check, an unhealthy release rolled back, the
rollback command, old releases pruned, and a host killed (SIGKILL) at four points of a flash."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import struct
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from host_tools.deploy import board as releases
from host_tools.deploy import health
from host_tools.deploy.flash import PAUSE_ENV, DeploymentFailed, deploy
from host_tools.deploy.plan import plan_release
from host_tools.devices.connect import open_device
from host_tools.devices.names import parse_device
from host_tools.model_manifest import load_manifest, read_card
from host_tools.paths import MASKS_MODEL, RV1103_CONFIG
from host_tools.sim.rv1103.model_twin import card_board_model, default_card

REPO = Path(__file__).resolve().parents[2]
MODEL = card_board_model(default_card())  # what flash sends when no --model is given
BASE = "userdata/classifier"


def name(board, link: str) -> str:
    return f"adb:{board.info['adb']}" if link == "adb" else f"ssh:{board.info['ssh']}"


def host_tools(env, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO)


def current(board) -> str | None:
    link = board.root / BASE / "current"
    if link.is_symlink():
        return Path(link.readlink()).name or str(link.readlink())
    return releases.LEGACY if (board.root / BASE / "bin/rv1103_app").exists() else None


def release_names(board) -> list[str]:
    folder = board.root / BASE / "releases"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def running_release(dev, timeout: float = 30) -> str:
    """The release folder of the program the supervisor runs now (read from /proc on the board)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = dev.run(["sh", "-c", "readlink /proc/$(cat /var/run/classifier.pid.app)/exe"])
        exe = r.output.strip()
        if r.status == 0 and exe.endswith("/bin/rv1103_app"):
            parts = exe.split("/")
            return parts[-3] if "releases" in parts else releases.LEGACY
        time.sleep(0.3)
    raise AssertionError("the board program is not running")


def rknn_for(platform: str, tmp: Path) -> Path:
    """A copy of the bird model whose metadata says it was compiled for another chip."""
    data = MODEL.read_bytes()
    (size,) = struct.unpack_from("<Q", data, 16)
    end = 64 + size
    meta = json.loads(data[end + 8:])
    meta["target_platform"] = [platform]
    raw = json.dumps(meta).encode()
    out = tmp / f"model_{platform}.rknn"
    out.write_bytes(data[:end] + struct.pack("<Q", len(raw)) + raw)
    return out


def arm_build(tmp: Path) -> Path:
    """A deploy folder as build_board.sh makes it, with a program for ARM (the emulated board is x86-64)."""
    build = tmp / "deploy"
    (build / "bin").mkdir(parents=True)
    elf = b"\x7fELF\x01\x01\x01" + bytes(11) + struct.pack("<H", 40) + bytes(40)  # EM_ARM
    (build / "bin" / "rv1103_app").write_bytes(elf)
    return build


def config_with(tmp: Path, **changes) -> Path:
    cfg = json.loads(RV1103_CONFIG.read_text())
    cfg.update(changes)
    out = tmp / f"config-{'-'.join(changes)}.json"
    out.write_text(json.dumps(cfg))
    return out


@pytest.fixture(scope="module")
def connected(board, adb) -> None:
    r = adb("connect", board.info["adb"])
    assert "connected" in r.stdout, r.stdout + r.stderr


def flash(env, board, link: str, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return host_tools(env, "flash", "--device", name(board, link), "--json", "--health-timeout", "60", *extra,
                      timeout=timeout)


def bare_model(tmp: Path) -> Path:
    """The bird model brought without a card or labels file: no manifest, the config names the labels."""
    out = tmp / "bare" / "model.rknn"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(MODEL.read_bytes())
    return out


@pytest.mark.parametrize("case", ["not_rknn", "other_chip", "bad_config", "labels", "no_labels",
                                  "model_outside", "no_tcp", "swapped_labels", "colour_order", "other_cpu"])
def test_refused_before_anything_is_sent(board, env, connected, tmp_path, case):
    before = release_names(board), current(board)
    args, expect = {
        "not_rknn": (["--model", str(MASKS_MODEL)], "not an RKNN model"),
        "other_chip": (["--model", str(rknn_for("rk3588", tmp_path))], "compiled for rk3588"),
        "bad_config": (["--config", str(config_with(tmp_path, penalty="high"))], "penalty"),
        # a model without a manifest: its config's labels are counted against the model's outputs
        "labels": (["--model", str(bare_model(tmp_path)),
                    "--config", str(config_with(tmp_path, labels=["bird", "not_bird", "cat"], thresholds={},
                                                fallback=None))], "3 labels"),
        "no_labels": (["--model", str(bare_model(tmp_path))], "'labels' is missing"),
        "model_outside": (["--config", str(config_with(tmp_path, model="../../etc/model.rknn"))],
                          "inside the release"),
        "no_tcp": (["--config", str(config_with(tmp_path, output_port=0))], "turns off the TCP output"),
        # the model manifest owns labels and colour order: a config that contradicts it names both values
        "swapped_labels": (["--config", str(config_with(tmp_path, labels=["not_bird", "bird"]))],
                           "'labels' [not_bird, bird] contradict the model manifest's [bird, not_bird]"),
        "colour_order": (["--config", str(config_with(tmp_path, color_order="BGR"))],
                         "'color_order' BGR contradicts the model manifest's colour order RGB"),
        "other_cpu": (["--build", str(arm_build(tmp_path))], "built for arm but the board is x86_64"),
    }[case]
    if case == "labels":  # fallback null is not a string: keep only what the labels test is about
        cfg = json.loads(Path(args[3]).read_text())
        del cfg["fallback"]
        Path(args[3]).write_text(json.dumps(cfg))
    r = flash(env, board, "adb", *args)
    assert r.returncode == 4, r.stderr
    assert expect in r.stderr and "nothing was sent" in r.stderr, r.stderr
    assert json.loads(r.stdout)["error"]["exit_code"] == 4
    assert (release_names(board), current(board)) == before


def test_too_little_free_space_is_refused(board, env, board_env, connected):
    dev = open_device(parse_device(name(board, "ssh")))
    try:
        dev.run(["mkdir", "-p", "/" + BASE + "/releases"])
        small = dev.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", "/" + BASE + "/releases"])
        assert small.status == 0, small.output
        try:
            r = flash(env, board, "adb")
        finally:
            assert dev.run(["umount", "/" + BASE + "/releases"]).status == 0
    finally:
        dev.close()
    assert r.returncode == 4, r.stderr
    assert "KB free" in r.stderr and "nothing was sent" in r.stderr


def test_a_model_newer_than_the_boards_runtime_is_refused(board, env, board_env, connected):
    # The board program logs its RKNN runtime at each start on the NPU; the emulated board's runs on the
    # tensor service, so the line a Luckfox with an old librknnmrt writes is put into its log by hand.
    log = board.root / "var/log/classifier.log"
    before = log.read_bytes() if log.exists() else None
    old = ("rv1103_app: engine rknn /userdata/classifier/current/model.rknn (model built by rknn-toolkit2 "
           "1.6.0; runtime librknnmrt 1.6.0 (2de554906@2023-11-21T10:15:31), driver 0.9.2; input 64x64x3)\n")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes((before or b"") + old.encode())
    state = release_names(board), current(board)
    try:
        r = flash(env, board, "adb")
    finally:
        if before is None:
            log.unlink()
        else:
            log.write_bytes(before)
    assert r.returncode == 4, r.stderr
    assert "newer than the board's RKNN runtime (librknnmrt 1.6.0)" in r.stderr, r.stderr
    assert "nothing was sent" in r.stderr
    assert (release_names(board), current(board)) == state


@pytest.mark.parametrize("link", ["adb", "ssh"])
def test_flash_verifies_switches_and_checks_health(board, env, board_env, connected, link):
    before = current(board)
    r = flash(env, board, link)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    new = report["release"]
    assert report["ok"] and report["emulated"] and report["previous"] in (before, releases.LEGACY)
    assert report["health"]["ok"] and report["health"]["lines"] >= 3
    assert current(board) == new and not (board.root / BASE / "pending").exists()
    folder = board.root / BASE / "releases" / new
    for f in report["files"]:  # what the board holds is what was sent
        assert hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert (folder / "model/model.rknn").read_bytes() == MODEL.read_bytes()
    # the model's manifest travels beside it; the config keeps only what a technician tunes (the board
    # program runs on it: the health check below reads its result lines)
    manifest = load_manifest(MODEL)
    assert read_card(folder / "model/model.json") == replace(manifest, source=folder / "model/model.json")
    assert not {"labels", "color_order"} & set(json.loads((folder / "config.json").read_text()))
    dev = open_device(parse_device(name(board, link)))
    try:
        assert running_release(dev) == new
        assert health.check(dev.link, 7070, 2, 30).ok
    finally:
        dev.close()


@pytest.mark.parametrize("link", ["adb", "ssh"])
def test_a_release_without_its_model_is_rolled_back(board, board_env, connected, link):
    """The model left out of a release (the program cannot start): the health check fails, the previous
    release runs again, and the error carries the board log's last lines."""
    plan = plan_release(MODEL, None, "host")
    plan.files = [f for f in plan.files if not f.path.endswith(".rknn")]
    dev = open_device(parse_device(name(board, link)))
    try:
        before = current(board)
        with pytest.raises(DeploymentFailed) as failed:
            deploy(dev, plan, timeout=8)
        assert failed.value.report.rolled_back
        assert "cannot open the model" in str(failed.value)  # from the board's log
        assert current(board) == before
        assert failed.value.report.release not in release_names(board)
        assert running_release(dev) == before
        assert health.check(dev.link, 7070, 2, 30).ok
    finally:
        dev.close()


def test_a_model_the_npu_cannot_load_is_rolled_back_by_the_command(board, env, connected, tmp_path):
    """A damaged model whose header is intact passes the host checks; the board cannot run it: exit 1, the
    JSON report says it was rolled back and carries the board log, the previous release runs."""
    data = bytearray(MODEL.read_bytes())
    data[100_000:100_064] = bytes(64)  # inside the compiled model, not the header or the metadata
    broken = tmp_path / "damaged.rknn"
    broken.write_bytes(bytes(data))
    broken.with_suffix(".txt").write_text("bird\nnot_bird\n")  # its manifest: a labels file
    before = current(board)
    r = flash(env, board, "ssh", "--model", str(broken), "--health-timeout", "8")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert not report["ok"] and report["rolled_back"] and report["previous"] == before
    assert report["log_tail"] and "did not become healthy" in report["error"]["message"]
    assert current(board) == before and report["release"] not in release_names(board)


def test_a_second_flash_to_the_same_board_is_refused_while_one_runs(board, env, board_env, connected):
    from host_tools.commands.rv1103_flash import board_lock

    dev = open_device(parse_device(name(board, "adb")))
    try:
        with board_lock(dev):
            r = flash(env, board, "adb")
    finally:
        dev.close()
    assert r.returncode == 3 and "another flash or rollback" in r.stderr, r.stderr


def test_flash_keeps_the_boards_tuned_config_unless_given_one(board, env, board_env, connected):
    """Thresholds a technician tuned on the board survive a flash without --config; --config replaces them;
    a board config that does not suit the model is not kept, and flash says why."""
    dev = open_device(parse_device(name(board, "adb")))
    try:
        tuned = dict(json.loads(RV1103_CONFIG.read_text()), thresholds={"bird": 0.75, "not_bird": 0.5})
        dev.write_config(json.dumps(tuned).encode())
        r = flash(env, board, "adb")
        assert r.returncode == 0, r.stderr
        assert "kept the board's config" in r.stderr
        assert json.loads(dev.read_config())["thresholds"]["bird"] == 0.75  # in the new release
        dev.write_config(json.dumps(dict(tuned, labels=["not_bird", "bird"])).encode())  # swapped: wrong
        r = flash(env, board, "ssh")
        assert r.returncode == 0, r.stderr
        assert "the default config is sent" in r.stderr and "contradict" in r.stderr
        assert json.loads(dev.read_config()) == json.loads(RV1103_CONFIG.read_text())
    finally:
        dev.close()


def test_rollback_goes_back_one_and_keep_prunes(board, env, connected):
    for _ in range(2):
        r = flash(env, board, "ssh", "--keep", "2")
        assert r.returncode == 0, r.stderr
    kept = release_names(board)
    assert len(kept) == 2 and current(board) == kept[-1]
    r = host_tools(env, "rollback", "--device", name(board, "adb"), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["release"] == kept[0] and report["previous"] == kept[1] and current(board) == kept[0]
    r = host_tools(env, "rollback", "--device", name(board, "ssh"))  # before the first: the hand-made one
    assert r.returncode == 0, r.stderr
    assert current(board) == releases.LEGACY
    r = host_tools(env, "rollback", "--device", name(board, "adb"), "--json")  # nothing older
    assert r.returncode == 4 and "nothing was changed" in r.stderr, r.stderr
    assert current(board) == releases.LEGACY


def reboot(board, dev_name: str) -> None:
    booted = board.root / "var/run/booted"
    dev = open_device(parse_device(dev_name))
    try:
        dev.run(["reboot"])
    finally:
        dev.close()
    deadline = time.monotonic() + 60
    while booted.exists():  # shutdown
        assert time.monotonic() < deadline, "the board did not go down"
        time.sleep(0.2)
    while not booted.exists():  # and boot again
        assert time.monotonic() < deadline, "the board did not come back"
        time.sleep(0.2)


@pytest.mark.parametrize(("point", "link"), [("upload", "adb"), ("verify", "ssh"), ("switch", "adb"),
                                             ("health", "ssh")])
def test_host_killed_during_flash_leaves_the_previous_release(board, env, board_env, connected, point, link):
    before = current(board)
    assert before is not None
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "flash", "--device", name(board, link)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**env, PAUSE_ENV: f"{point}:120"})
    try:
        deadline = time.monotonic() + 300
        seen = ""
        while f"paused at {point}" not in seen:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, f"flash ended before {point}: {seen}"
            seen += line
            assert time.monotonic() < deadline
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    dev_name = name(board, link)
    if point in ("upload", "verify"):  # the old release still runs, untouched
        assert current(board) == before
        dev = open_device(parse_device(dev_name))
        try:
            assert running_release(dev) == before
        finally:
            dev.close()
    else:  # switched, on trial: the next boot goes back
        assert current(board) != before and (board.root / BASE / "pending").exists()
    reboot(board, dev_name)
    assert current(board) == before and not (board.root / BASE / "pending").exists()
    dev = open_device(parse_device(dev_name))
    try:
        assert running_release(dev, 60) == before
        assert health.check(dev.link, 7070, 2, 60).ok
    finally:
        dev.close()
    if point == "upload":
        assert any(n.endswith(".partial") for n in release_names(board))
    r = flash(env, board, link)  # the next flash cleans up and succeeds
    assert r.returncode == 0, r.stderr
    assert not any(n.endswith(".partial") for n in release_names(board))


def test_make_run_rv1103_starts_flashes_and_watches(env):
    """What `make run BOARD=rv1103` runs: an emulated Luckfox with nothing installed, flashed over adb, then
    watched; the board is stopped at the end."""
    from host_tools.sim.rv1103.machine import namespaces_unavailable, pick_mode

    why = namespaces_unavailable(pick_mode("auto"))
    if why:
        pytest.skip(f"the emulated board cannot run on this machine: {why}")
    import tempfile

    # a short state folder: the board's unix sockets live under it (108 bytes at most for their paths)
    state = Path(tempfile.mkdtemp(prefix="state-", dir="/tmp"))
    try:
        r = subprocess.run([sys.executable, "-m", "host_tools.demo", "--board", "rv1103", "--duration", "10",
                            "--http-port", "0"], capture_output=True, text=True, timeout=600, cwd=REPO,
                           env={**env, "XDG_STATE_HOME": str(state)})
        root = state / "host_tools" / "demo" / "rv1103_root"
        made_release = (root / BASE / "current").is_symlink()  # a release on the board's own disk
    finally:
        shutil.rmtree(state, ignore_errors=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "EMULATED Luckfox Pico" in r.stdout and "flashed adb:127.0.0.1:" in r.stdout
    frames = [ln for ln in r.stdout.splitlines() if ln.startswith("frame")]
    assert len(frames) >= 3, r.stdout[-2000:]
    assert made_release
