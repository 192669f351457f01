"""Fixtures for the protocol tests: an emulated H7 served on a pty inside the test process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions
from host_tools.sim.openmv.pty_server import PtyServer

MAIN_PY = """\
import sensor
sensor.reset()
sensor.set_pixformat(sensor.{fmt})
sensor.set_framesize(sensor.QVGA)
n = 0
while True:
    img = sensor.snapshot()
    n += 1
    print("main frame", n)
"""


def make_frames(folder: Path, count: int = 4) -> Path:
    """Synthetic 320x240 frames: a horizontal gradient whose red level changes per frame."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        px = np.zeros((240, 320, 3), np.uint8)
        px[:, :, 0] = 40 + 50 * i
        px[:, :, 1] = (np.arange(320) * 255 // 319)[None, :]
        px[:, :, 2] = (np.arange(240) * 255 // 239)[:, None]
        Image.fromarray(px).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., PtyServer]]:
    servers: list[PtyServer] = []

    def start(*, main: str | None = MAIN_PY.format(fmt="RGB565"), protocol: str = "v2", fps: float = 30.0,
              firmware: str | None = None, **kwargs) -> PtyServer:
        root = tmp_path / f"fs{len(servers)}"
        root.mkdir()
        if main:
            (root / "main.py").write_text(main)
        frames = make_frames(tmp_path / "frames")
        firmware = firmware or ("4.6.0" if protocol == "repl" else "5.0.0")  # 4.x: the REPL; 5: Protocol V2
        cam = EmulatedCamera(SimOptions(frames=frames, fs_root=root, fps=fps, loop=True, firmware=firmware),
                             lambda text: None)
        server = PtyServer(cam, protocol=protocol, **kwargs)
        server.start_thread()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()
