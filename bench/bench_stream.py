"""Streaming throughput of Protocol V2 with the H7's 512-byte protocol buffer, through the emulated camera.

Prints frames/s and payload MB/s that the host sustains reading the stream channel (JPEG as the IDE gets
it, and raw RGB565), beside the raw throughput of the same kind of pty moving plain bytes, and the ratio.
Everything here is EMULATED on this host: the camera is Python, the link is a pseudo-terminal, not USB.
A real H7 is USB full speed (12 Mbit/s, about 1 MB/s at best), so these figures are not board figures.

    .venv/bin/python bench/bench_stream.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from host_tools.protocol.constants import H7_BUFFER_SIZE, H7_MAX_PAYLOAD
from host_tools.protocol.v2_host import V2Client
from host_tools.transport.serial_port import SerialPort

FPS = 30  # the emulated sensor's frame rate (an OV7725 gives 30-75 fps at QVGA)
MAIN_PY = """\
import sensor
sensor.reset()
sensor.set_pixformat(sensor.RGB565)
sensor.set_framesize(sensor.QVGA)
while True:
    sensor.snapshot()
"""


def machine_info() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    py = platform.python_version()
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cpus, Python {py}"


def make_frames(folder: Path) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):  # textured frames, so that JPEG sizes are realistic rather than tiny
        base = np.linspace(0, 255, 320, dtype=np.float32)[None, :, None] * np.ones((240, 1, 3), np.float32)
        noise = rng.normal(0, 25, (240, 320, 3))
        Image.fromarray(np.clip(base + noise + 20 * i, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def bench_stream(path: str, seconds: float, raw: bool) -> tuple[float, float, int]:
    with V2Client.open(path) as client:
        client.enable_stream(True, raw=raw)
        frames = nbytes = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            f = client.read_frame()
            if f is not None:
                frames += 1
                nbytes += len(f.data) + 20
        return frames / elapsed, nbytes / elapsed / 1e6, frames


def bench_raw_pty(seconds: float, chunk: int = 65536) -> float:
    """Plain bytes master -> slave (the camera -> host direction), read with the same SerialPort class."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    port = SerialPort.open(path)
    stop = threading.Event()
    payload = os.urandom(chunk)

    def writer() -> None:
        while not stop.is_set():
            try:
                os.write(master, payload)
            except OSError:
                return

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    got = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        got += len(port.read(1 << 20, timeout=0.1))
    stop.set()
    port.close()
    os.close(slave)
    os.close(master)  # unblocks the writer
    t.join(2)
    return got / elapsed / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement (default 5)")
    ap.add_argument("--fps", type=float, default=FPS, help=f"emulated sensor frame rate (default {FPS})")
    args = ap.parse_args()
    print("EMULATED: Python camera on a pseudo-terminal; not measured on an OpenMV board.")
    print(f"machine: {machine_info()}")
    print(f"protocol buffer {H7_BUFFER_SIZE} bytes -> {H7_MAX_PAYLOAD} payload bytes per packet (H7)")
    print(f"camera: `host_tools sim openmv --pty` in its own process, snapshots at up to {args.fps:g} fps")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fs"
        root.mkdir()
        (root / "main.py").write_text(MAIN_PY)
        frames = make_frames(Path(tmp) / "frames")
        cpu: dict[str, tuple[float, float]] = {}
        cmd = [sys.executable, "-m", "host_tools", "sim", "openmv", "--pty", "--frames", str(frames),
               "--fs", str(root), "--fps", str(args.fps)]
        server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = server.stdout.readline().strip()
            if not port.startswith("/dev/"):
                raise SystemExit(f"the emulated camera did not start (first line {port!r})")
            time.sleep(0.5)
            results = {}
            for mode in ("jpeg", "raw"):
                cam0, host0, wall0 = proc_cpu(server.pid), time.process_time(), time.perf_counter()
                results[mode] = bench_stream(port, args.seconds, raw=mode == "raw")
                wall = time.perf_counter() - wall0
                cpu[mode] = ((proc_cpu(server.pid) - cam0) / wall, (time.process_time() - host0) / wall)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)
    raw_mb = bench_raw_pty(args.seconds)
    print(f"raw pty (plain bytes, same pty type): {raw_mb:8.2f} MB/s")
    for mode, (fps, mbs, n) in results.items():
        label = "JPEG q90 320x240" if mode == "jpeg" else "raw RGB565 320x240"
        cam, host = cpu[mode]
        print(f"stream {label:19s}: {fps:7.1f} frames/s  {mbs:6.2f} MB/s payload  ({n} frames)"
              f"  ratio to raw pty {mbs / raw_mb:.3f}  (CPU: camera {cam:.2f}, host {host:.2f})")
    print("CPU = cores used by each process; well under 1 means waiting on the pty (4 KB buffer) and the")
    print(f"scheduler (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus), not computing.")
    print("A real H7 streams over USB full speed (12 Mbit/s); compare the ratio, not the absolute figures.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
