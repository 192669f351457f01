"""Collect per-frame results from a running board: the bench's only contact with the device layer.

Reading a result line goes through `read_sample`, the one place that knows the boards' result fields.

Frame rate from the device's own clock: both boards report, per frame, the rate from their own clock
between consecutive frame starts ("fps": OpenMV ticks_us, RV1103 CLOCK_MONOTONIC), so each frame's period
is 1000 / fps ms on the device's clock and the run's FPS is frames / sum of periods. Where a board reports
no rate, the FPS comes from the host's arrival times instead, and the report says so (fps.clock).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from host_tools.devices.base import Device
from host_tools.devices.live import Idle, TextLine
from host_tools.errors import DeviceError, HostToolsError


@dataclass(frozen=True)
class Sample:
    frame: int  # the device's frame index
    ms: dict[str, float]  # per-stage milliseconds, as the device measured them
    period_ms: float | None  # time since the previous frame started, on the device's clock (None: unknown)
    host_t: float  # host monotonic time the line arrived
    heap_free: int | None = None  # OpenMV: gc.mem_free() as the app reports it


def read_sample(line: str, host_t: float) -> Sample | None:
    """A Sample from one result line of either board (the one result parser: host_tools.results), or None
    for any other line. A line of a newer result schema stops the bench (SchemaError, with its message)."""
    from host_tools.results import SchemaError, parse_result

    try:
        r = parse_result(line)
    except SchemaError as exc:
        raise HostToolsError(str(exc)) from None
    if r is None:
        return None
    period = 1000.0 / r.fps if r.fps > 0 else None
    heap = None
    mem = json.loads(r.line).get("mem") if '"mem"' in r.line else None  # OpenMV: the app's gc.mem_free()
    if isinstance(mem, dict) and isinstance(mem.get("heap_free"), int):
        heap = int(mem["heap_free"])
    return Sample(r.frame, dict(r.ms.items()), period, host_t, heap)


@dataclass
class DeviceFacts:
    board: str  # "openmv" | "rv1103"
    description: str
    emulated: bool
    firmware: str = ""
    proc_before: dict[str, str] = field(default_factory=dict)  # RV1103: /proc files at the start
    proc_after: dict[str, str] = field(default_factory=dict)


PROC_FILES = ("/proc/meminfo", "/proc/stat", "/proc/loadavg")


def read_proc(device: Device) -> dict[str, str]:
    """A Linux board's /proc figures (the device layer runs `cat`); {} where they cannot be read."""
    out: dict[str, str] = {}
    for path in PROC_FILES:
        try:
            r = device.run(["cat", path])
        except (DeviceError, TypeError):
            continue
        if r.status == 0:
            out[path] = r.output
    return out


def linux_firmware(device: Device) -> str:
    try:
        r = device.run(["uname", "-sr"])
    except (DeviceError, TypeError):
        return ""
    return r.output.strip() if r.status == 0 else ""


def collect(
    device: Device,
    frames: int | None,
    seconds: float | None,
    warmup: int,
    on_progress=None,
    restart: bool = False,
    idle_timeout: float = 15.0,
) -> tuple[list[Sample], DeviceFacts]:
    """Warm-up frames are read and dropped; then samples until `frames` are in or `seconds` have passed."""
    facts = DeviceFacts(device.board, device.description, bool(device.emulated))
    if device.board == "rv1103":
        facts.firmware = linux_firmware(device)
        facts.proc_before = read_proc(device)
    src = device.open_stream(restart=restart)
    if device.board == "openmv" and "firmware" in src.description:
        facts.firmware = src.description.rsplit("firmware", 1)[1].strip(" )")
    facts.description = src.description
    samples: list[Sample] = []
    seen = 0
    start: float | None = None
    last_data = time.monotonic()
    try:
        for ev in src.events:
            now = time.monotonic()
            if isinstance(ev, Idle):
                if now - last_data > idle_timeout:
                    raise DeviceError(
                        f"no result from the board for {idle_timeout:.0f} s (after {len(samples)} "
                        "frames): is its app running? (`host_tools stream --restart`)"
                    )
                if src.running is not None and not src.running():
                    raise HostToolsError(
                        "no app is running on the camera: start it with `host_tools stream "
                        "--restart` (or the reset button), then bench again"
                    )
                continue
            if not isinstance(ev, TextLine):
                continue
            s = read_sample(ev.text, now)
            if s is None:
                continue
            last_data = now
            seen += 1
            if seen <= warmup:
                continue
            if start is None:
                start = now
            samples.append(s)
            elapsed = now - start
            if on_progress is not None:
                on_progress(len(samples), elapsed)
            if frames is not None and len(samples) >= frames:
                break
            if seconds is not None and elapsed >= seconds:
                break
    finally:
        src.close()
    if device.board == "rv1103":
        facts.proc_after = read_proc(device)
    return samples, facts
