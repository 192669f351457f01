"""The host build of rv1103_app: JSON lines on stdout and TCP, config hot reload, clean SIGTERM stop.

The engine is a real one: ONNX Runtime on a small ONNX graph built here, served to the app through its
pipe engine (host_tools/sim/rv1103/tensor_server.py). The app is built in the native cmake build dir that
`make cpp-test` makes (build/cpp-native or build/native), or in a temporary dir when that is absent.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from host_tools import rv1103_config
from host_tools.model_manifest import load_manifest
from host_tools.sim.rv1103.model_twin import default_card

onnx = pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "host_tools" / "sim" / "rv1103" / "tensor_server.py"
RED, GREY, BLUE = (255, 0, 0), (128, 128, 128), (0, 0, 255)


@pytest.fixture(scope="session")
def app_bin(tmp_path_factory) -> Path:
    if not shutil.which("cmake"):
        pytest.skip("cmake not installed")
    # The native build dir of `make cpp-test`, else a private one.
    dirs = (REPO / "build" / "cpp-native", REPO / "build" / "native")
    made = [d for d in dirs if (d / "CMakeCache.txt").is_file()]
    if made:
        build = made[0]
    else:
        build = tmp_path_factory.mktemp("rv1103_build")
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), *gen, "-DBUILD_TESTING=OFF",
                        "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    # Incremental: only what changed since the last build is compiled.
    r = subprocess.run(["cmake", "--build", str(build), "--target", "rv1103_app", "-j", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    exe = build / "rv1103_app" / "rv1103_app"
    assert exe.is_file()
    return exe


def write_ppm(path: Path, img: np.ndarray) -> None:
    h, w, _ = img.shape
    path.write_bytes(f"P6\n{w} {h}\n255\n".encode() + img.tobytes())


@pytest.fixture()
def scene(tmp_path: Path, colour_model, helpers):
    bands = helpers.bands
    model = colour_model(tmp_path / "colour.onnx", weight_scale=1 / 255, labels=False)
    frames = tmp_path / "frames"
    frames.mkdir()
    write_ppm(frames / "a_wide.ppm", bands(192, 64, [RED, GREY, BLUE]))
    write_ppm(frames / "b_tall.ppm", bands(64, 192, [BLUE, GREY, RED]))
    write_ppm(frames / "c_square.ppm", bands(64, 64, [RED]))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"labels": ["red", "blue"], "k": 1, "penalty": 0.0, "output_port": 0}))
    cmd = shlex.join([sys.executable, str(SERVER), "--runtime", "onnx", "--model", str(model)])
    return {"model": model, "frames": frames, "config": cfg, "engine_cmd": cmd}


def run_once(exe: Path, scene, *extra: str) -> subprocess.CompletedProcess:
    argv = [str(exe), "--config", str(scene["config"]), "--frames", str(scene["frames"]),
            "--engine-cmd", scene["engine_cmd"], *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def results(lines: list[str]) -> list[dict]:
    """The result lines among the program's JSON lines (config reload events left out)."""
    return [r for r in map(json.loads, lines) if "event" not in r]


def strip_ms(rec: dict) -> dict:
    """A result without its timings (ms and fps) and run id, the only fields that differ between runs."""
    return {k: v for k, v in rec.items() if k not in ("ms", "fps", "run")}


def test_finite_run_gives_one_line_per_frame(app_bin, scene):
    r = run_once(app_bin, scene, "--pipe-w-stride-pad", "8")  # padded rows, as RKNN's w_stride
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [len(x["crops"]) for x in recs] == [3, 3, 1]
    assert [c["vote"] for c in recs[0]["crops"]] == ["red", "red", "blue"]
    assert [c["vote"] for c in recs[1]["crops"]] == ["blue", "red", "red"]
    p_red = 1 / (1 + np.exp(-2.0))  # pure red: logits (1, -1)
    assert recs[0]["crops"][0]["scores"]["red"] == pytest.approx(p_red, abs=2e-3)
    assert recs[2]["label"] == "red"
    assert "end of frames" in r.stderr and "not the board's NPU" in r.stderr


def test_app_lines_equal_the_sim_lines(app_bin, scene):
    pytest.importorskip("camrt", reason="the camrt extension is not built")
    r = run_once(app_bin, scene)
    assert r.returncode == 0, r.stderr
    scene["model"].with_suffix(".txt").write_text("red\nblue\n")
    argv = [sys.executable, "-m", "host_tools", "sim", "rv1103", "--frames", str(scene["frames"]),
            "--config", str(scene["config"]), "--model", str(scene["model"]), "--json"]
    sim = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert sim.returncode == 0, sim.stderr
    app_recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    sim_recs = [json.loads(ln) for ln in sim.stdout.splitlines()]
    assert [strip_ms(x) for x in app_recs] == [strip_ms(x) for x in sim_recs] and len(app_recs) == 3
    # each start of the program has its own run id, the same on all of its lines (16 hex digits)
    app_runs, sim_runs = {x["run"] for x in app_recs}, {x["run"] for x in sim_recs}
    assert len(app_runs) == len(sim_runs) == 1 and app_runs != sim_runs
    assert all(len(x) == 16 and int(x, 16) >= 0 for x in app_runs | sim_runs)


def test_tcp_clients_get_the_stdout_lines_and_sigterm_stops_cleanly(app_bin, scene, helpers):
    argv = [str(app_bin), "--config", str(scene["config"]), "--frames", str(scene["frames"]), "--engine-cmd",
            scene["engine_cmd"], "--loop", "--fps", "30", "--port", "auto", "--bind", "127.0.0.1"]
    app = helpers.Background(argv)
    try:
        port = app.port()
        clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
        got = [b"", b""]
        end = time.monotonic() + 20
        while time.monotonic() < end and min(g.count(b"\n") for g in got) < 8:
            for i, c in enumerate(clients):
                c.settimeout(0.2)
                try:
                    got[i] += c.recv(65536)
                except TimeoutError:
                    pass
        assert min(g.count(b"\n") for g in got) >= 8, "TCP clients got too few lines"
        assert engine_servers(scene["model"]), "the engine server should be running"
        rc = app.stop(signal.SIGTERM)
        for c in clients:  # the app closed the connections: the rest arrives, then EOF
            c.settimeout(5)
            i = clients.index(c)
            while chunk := c.recv(65536):
                got[i] += chunk
            c.close()
    finally:
        app.kill()
    assert rc == 0, "\n".join(app.err)
    assert any("stopped by signal 15" in ln for ln in app.err)
    out = app.out
    for g in got:
        lines = g.decode().splitlines()
        assert len(lines) >= 8
        # A client joins mid-stream: what it got is a contiguous run of the stdout lines, byte for byte.
        start = out.index(lines[0])
        assert out[start:start + len(lines)] == lines
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert not engine_servers(scene["model"]), "the engine server outlived the app"


def engine_servers(model: Path) -> list[int]:
    """Pids of live tensor servers for this test's model (the pipe engine's child)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().decode(errors="replace")
                state = (d / "stat").read_text().split(") ")[1][0]
            except OSError:
                continue
            if str(model) in cmd and "tensor_server" in cmd and state != "Z":
                pids.append(int(d.name))
    return pids


def test_config_reload_good_then_bad_keeps_the_last_good(app_bin, scene, helpers):
    cfg = scene["config"]
    app = helpers.Background([str(app_bin), "--config", str(cfg), "--frames", str(scene["frames"]),
                              "--engine-cmd", scene["engine_cmd"], "--loop", "--fps", "30", "--port", "0"])
    try:
        app.wait_for(lambda: len(app.out) >= 3, "first frames")
        time.sleep(0.05)
        cfg.write_text(json.dumps({"labels": ["red", "blue"], "n_crops": 1, "output_port": 0}))
        app.wait_for(lambda: any("config reloaded" in ln for ln in app.err), "the reload")
        mark = len(app.out)
        app.wait_for(lambda: len(results(app.out[mark:])) >= 6, "frames after the reload")
        after_good = results(app.out[mark:])[:6]
        assert all(len(r["crops"]) == 1 for r in after_good)  # n_crops 1 is in force for wide frames too
        cfg.write_text('{"labels": ["red", "blue"], "n_crops": 1, "tresholds": {}}')
        # (a poll that lands between the truncation and the write sees an empty file, rejected as well)
        app.wait_for(lambda: any("rejected" in ln and "tresholds" in ln for ln in app.err), "the rejection")
        rejection = next(ln for ln in app.err if "rejected" in ln and "tresholds" in ln)
        assert "tresholds" in rejection  # the reason names the bad key
        mark = len(app.out)
        app.wait_for(lambda: len(results(app.out[mark:])) >= 6, "frames after the rejection")
        assert all(len(r["crops"]) == 1 for r in results(app.out[mark:])[:6])
        # both reloads were told on stdout too, as events: what changed, and why the bad file was refused
        events = [json.loads(ln) for ln in app.out if '"event"' in ln]
        assert events[0]["accepted"] and events[0]["changes"]["n_crops"] == [3, 1]
        # events carry the run id of the results around them
        assert {e["run"] for e in events} == {r["run"] for r in results(app.out)}
        assert not events[1]["accepted"] and any("tresholds" in e["message"] for e in events[1:])
        # SIGHUP forces a reload even without a file change: the bad file is rejected again.
        n_rejected = sum("rejected" in ln for ln in app.err)
        app.proc.send_signal(signal.SIGHUP)
        app.wait_for(lambda: sum("rejected" in ln for ln in app.err) > n_rejected, "the SIGHUP reload")
        assert app.proc.poll() is None
        assert app.stop(signal.SIGINT) == 0
    finally:
        app.kill()


def test_hot_reload_survives_broken_files_one_after_another(app_bin, scene, helpers):
    cfg = scene["config"]
    app = helpers.Background([str(app_bin), "--config", str(cfg), "--frames", str(scene["frames"]),
                              "--engine-cmd", scene["engine_cmd"], "--loop", "--fps", "30", "--port", "0"])
    broken = [
        (b"", "invalid JSON"),
        (b"\x00\x01\xff\xfegarbage", "invalid JSON"),
        ('{"labels": ["r\u00e9d", "blue"]}'.encode("latin-1"), "UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "a config is at most 65536"),
        (b'{"labels": ["red", "blue"], "labels": ["blue", "red"]}', "duplicate key 'labels'"),
        (b'{"labels": ["red", "blue"]', "invalid JSON"),
    ]
    try:
        app.wait_for(lambda: len(app.out) >= 3, "first frames")
        for i, (content, reason) in enumerate(broken):
            n = sum("rejected" in ln for ln in app.err)
            cfg.write_bytes(content)
            st = cfg.stat()
            os.utime(cfg, ns=(st.st_atime_ns, st.st_mtime_ns + (i + 1) * 1_000_000_000))
            app.wait_for(lambda n=n: sum("rejected" in ln for ln in app.err) > n, f"rejection of {reason}")
            line = [ln for ln in app.err if "rejected" in ln][-1]
            assert reason in line and len(line) < 400, line
        cfg.unlink()
        cfg.mkdir()  # a folder where the file was
        app.wait_for(lambda: any("is a folder" in ln for ln in app.err), "the folder's rejection")
        mark = len(app.out)
        app.wait_for(lambda: len(app.out) >= mark + 5, "frames after all of that")
        assert not any("config reloaded" in ln for ln in app.err)  # the first config stayed in force
        assert app.stop(signal.SIGTERM) == 0
    finally:
        app.kill()


def test_tcp_clients_are_capped(app_bin, scene, helpers):
    argv = [str(app_bin), "--config", str(scene["config"]), "--frames", str(scene["frames"]), "--engine-cmd",
            scene["engine_cmd"], "--loop", "--fps", "30", "--port", "auto", "--bind", "127.0.0.1",
            "--max-clients", "2"]
    app = helpers.Background(argv)
    clients: list[socket.socket] = []
    try:
        port = app.port()
        assert any("at most 2 clients" in ln for ln in app.err)

        def connect() -> socket.socket:
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            clients.append(c)
            return c

        def gets_lines(c: socket.socket) -> bool:  # True: JSON lines arrive; False: closed by the app
            c.settimeout(10)
            data = c.recv(65536)
            return bool(data) and data.startswith(b"{")

        first = [connect(), connect()]
        assert all(gets_lines(c) for c in first)
        extra = [connect(), connect()]
        assert not any(gets_lines(c) for c in extra)  # refused: closed at once, nothing sent
        refused = "refused: 2 clients connected, the limit"
        app.wait_for(lambda: any(refused in ln for ln in app.err), "the refusal")
        first[0].close()  # a slot frees up once the app notices the hang-up
        deadline = time.monotonic() + 20
        while True:
            late = connect()
            if gets_lines(late):
                break
            assert time.monotonic() < deadline, "no client accepted after one left"
            time.sleep(0.2)
        assert gets_lines(first[1])  # the one that stayed is still served
        assert app.stop(signal.SIGTERM) == 0
    finally:
        for c in clients:
            c.close()
        app.kill()


def test_oversized_config_on_reload_keeps_the_last_good_under_a_memory_limit(app_bin, scene, helpers):
    """A 150 MB config written while the app runs under a 64 MB address-space margin (a board's memory): it is
    refused from its size, unread, and the app keeps classifying with the last good config."""
    resource = pytest.importorskip("resource")
    cfg = scene["config"]
    app = helpers.Background([str(app_bin), "--config", str(cfg), "--frames", str(scene["frames"]),
                              "--engine-cmd", scene["engine_cmd"], "--loop", "--fps", "30", "--port", "0"])
    try:
        app.wait_for(lambda: len(app.out) >= 3, "first frames")
        # The limit applies to the app only (set after start: the engine server has its own process).
        vm = int(next(ln for ln in Path(f"/proc/{app.proc.pid}/status").read_text().splitlines()
                      if ln.startswith("VmSize:")).split()[1]) * 1024
        limit = vm + (64 << 20)
        resource.prlimit(app.proc.pid, resource.RLIMIT_AS, (limit, limit))
        with open(cfg, "w") as f:
            f.write('{"labels": ["red", "blue"], "model": "')
            chunk = "m" * (1 << 20)
            for _ in range(150):
                f.write(chunk)
            f.write('"}')
        app.wait_for(lambda: any("rejected" in ln for ln in app.err), "the rejection")
        rejection = next(ln for ln in app.err if "rejected" in ln)
        assert "bytes; a config is at most 65536" in rejection and len(rejection) < 400
        mark = len(app.out)
        app.wait_for(lambda: len(app.out) >= mark + 6, "frames after the rejection")
        assert app.proc.poll() is None
        assert app.stop(signal.SIGTERM) == 0
    finally:
        app.kill()


def test_nv12_video_goes_through_the_yuv_path(app_bin, scene, tmp_path, helpers):
    cv2 = pytest.importorskip("cv2")
    frame = helpers.bands(192, 64, [RED, GREY, BLUE])
    i420 = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
    y4m = tmp_path / "clip.y4m"
    with open(y4m, "wb") as f:
        f.write(b"YUV4MPEG2 W192 H64 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(2):
            f.write(b"FRAME\n" + i420.tobytes())
    r = subprocess.run([str(app_bin), "--config", str(scene["config"]), "--frames", str(y4m), "--engine-cmd",
                        scene["engine_cmd"]], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(recs) == 2 and "as NV12" in r.stderr
    assert [c["vote"] for c in recs[0]["crops"]] == ["red", "red", "blue"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus"], "unknown option '--bogus'"),
        (["--count", "0"], "--count = 0 is out of range"),
        (["--engine", "rknn"], "no RKNN engine"),
        (["--engine", "pipe"], "--engine pipe needs --engine-cmd"),
        (["--preview", "-1"], "--preview = -1 is out of range"),
        (["--preview-width", "8"], "--preview-width = 8 is out of range"),
    ],
)
def test_usage_errors_exit_2(app_bin, scene, args, message):
    if "rknn" in args:
        usage = subprocess.run([str(app_bin), "--help"], capture_output=True, text=True, timeout=30).stdout
        if "no RKNN engine" not in usage:
            pytest.skip("this build has the RKNN engine")
    argv = [str(app_bin), "--config", str(scene["config"]), "--frames", str(scene["frames"]), *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert message in r.stderr


def test_bad_first_config_and_missing_frames_are_reported(app_bin, scene, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"labels": ["red", "blue"], "penalty": 3}')
    r = run_once(app_bin, {**scene, "config": bad})
    assert r.returncode == 2 and "penalty" in r.stderr
    r = run_once(app_bin, {**scene, "frames": tmp_path / "none"})
    assert r.returncode == 1 and "no such file or folder" in r.stderr
    huge = tmp_path / "huge.y4m"  # absurd sizes in a video header: refused, not allocated
    huge.write_bytes(b"YUV4MPEG2 W99999999999999 H480 F10:1 C420jpeg\nFRAME\n")
    r = run_once(app_bin, {**scene, "frames": huge})
    assert r.returncode == 1 and "must be positive, even and at most 16384" in r.stderr


def png_bomb(path: Path, side: int = 20000) -> None:
    """A real decompression bomb: a side x side grey PNG of zeros, about 400 KB inflating to side**2 bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte + pixels
    idat = b"".join(z.compress(row * 500) for _ in range(side // 500)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_image_formats_and_bad_files(app_bin, scene, tmp_path, helpers):
    bands = helpers.bands
    from PIL import Image

    frames = tmp_path / "formats"
    frames.mkdir()
    red = bands(64, 64, [RED])
    grey = np.full((64, 64), 128, np.uint8)
    (frames / "a_p5.pgm").write_bytes(b"P5\n# a comment\n64 64\n255\n" + grey.tobytes())
    Image.fromarray(bands(64, 64, [BLUE])).save(frames / "b.png")
    (frames / "c_cut.ppm").write_bytes(b"P6\n64 64\n255\n" + red.tobytes()[:1000])
    (frames / "d_not.ppm").write_bytes(b"GIF89a")
    Image.fromarray(red).save(frames / "e.jpg", quality=95)
    (frames / "f_ascii.ppm").write_text("P3\n1 1\n255\n255 0 0\n")  # ASCII PPM: not read
    Image.fromarray(red).save(frames / "g.BMP")
    png_bomb(frames / "h_bomb.png")
    (frames / "i.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))  # a JPEG that ends in its header
    r = run_once(app_bin, {**scene, "frames": frames})
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert "(9 files, .jpg .jpeg .png .bmp .ppm .pgm .pnm)" in r.stderr
    assert [x["label"] for x in recs] == ["red", "blue", "red", "red"]
    assert recs[0]["crops"][0]["scores"]["red"] == pytest.approx(0.5, abs=1e-3)  # grey: R = B
    assert recs[1]["crops"][0]["scores"]["blue"] == pytest.approx(1 / (1 + np.exp(-2.0)), abs=3e-3)
    skipped = [ln for ln in r.stderr.splitlines() if "skipping frame" in ln]
    assert len(skipped) == 5, r.stderr
    assert "c_cut.ppm: PPM/PGM raster truncated" in r.stderr
    assert "d_not.ppm: not a JPEG, PNG, BMP or binary PPM/PGM image" in r.stderr
    assert "f_ascii.ppm: not a JPEG, PNG, BMP or binary PPM/PGM image" in r.stderr
    assert "h_bomb.png: 20000x20000 pixels, above the limit of 16777216 (a decompression bomb?)" in r.stderr
    assert "i.jpg: " in r.stderr
    # Files that do not decode are not frames: the numbers stay consecutive (from 1).
    assert [x["frame"] for x in recs] == list(range(1, len(recs) + 1))
    # Both emulated cameras follow the board program's rule (host_tools/sim/frame_files.py): the same files
    # decoded, in the same order, the same ones skipped. Plus what only a folder can hold: a hidden image,
    # a folder named like one, an image type the board does not read.
    (frames / ".hidden.png").write_bytes((frames / "b.png").read_bytes())
    (frames / "j_dir.png").mkdir()
    Image.fromarray(red).save(frames / "k.gif")
    r = run_once(app_bin, {**scene, "frames": frames})
    board = [json.loads(ln)["crops"][0]["scores"]["red"] for ln in r.stdout.splitlines()]
    board_skipped = sorted(ln.split("skipping frame: ")[1].split(":")[0].rsplit("/", 1)[-1]
                           for ln in r.stderr.splitlines() if "skipping frame" in ln)
    assert "(10 files," in r.stderr and "j_dir.png" in board_skipped
    from host_tools.sim.openmv.frames import FrameSource
    from host_tools.sim.rv1103.frames import open_frames

    notes: list[str] = []
    source = FrameSource(frames, on_skip=notes.append)
    openmv = []
    while (f := source.next()) is not None:
        openmv.append(f)
    rv1103 = list(open_frames(frames))
    assert len(openmv) == len(rv1103) == len(board) == 4
    assert all(np.array_equal(a, b.rgb) for a, b in zip(openmv, rv1103, strict=True))
    assert [f.name for f in rv1103] == ["a_p5.pgm", "b.png", "e.jpg", "g.BMP"]
    assert sorted(n.split("skipped ", 1)[1].split(": ")[0].rsplit("/", 1)[-1] for n in notes) == board_skipped


def test_deploy_layout(app_bin, tmp_path):
    prefix = tmp_path / "deploy"
    r = subprocess.run(["cmake", "--install", str(app_bin.parent.parent), "--prefix", str(prefix)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (prefix / "bin" / "rv1103_app").is_file() and (prefix / "model").is_dir()
    text = (prefix / "config.json").read_text()
    # the deploy config keeps what a technician tunes: the labels and colour order are the model manifest's
    assert not {"labels", "color_order"} & set(json.loads(text))
    manifest = load_manifest(default_card())
    parsed = rv1103_config.parse(text, manifest)
    assert parsed.labels == list(manifest.labels) and parsed.color_order == manifest.colour_order
    init = prefix / "S99classifier"
    assert os.access(init, os.X_OK)
    assert subprocess.run(["sh", "-n", str(init)]).returncode == 0
    text = init.read_text()
    start = text.index("supervise() {")
    # In the supervisor, before the first start: the device nodes, then rkipc stopped, then the 3A server.
    steps = ("wait_for_nodes", "stop_rkipc", "start_3a", 'rv1103_app" $ARGS')
    order = [text.index(step, start) for step in steps]
    assert order == sorted(order), order
    assert (prefix / "classifier.default").is_file()
