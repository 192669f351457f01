"""OpenMV cameras as Devices: a port opened as a Board (file operations) or a live source, per protocol.

`--protocol auto` asks detect.resolve_protocol which one the camera speaks: Protocol V2 (firmware 5,
openmv_v2.py) or the raw REPL of firmware 4.x (openmv_repl.py). Files go through micropython.Board, written
once over the two links' script primitive.
"""

from __future__ import annotations

from host_tools.devices import files
from host_tools.devices.base import Device, RunResult
from host_tools.devices.detect import resolve_protocol
from host_tools.devices.live import LiveSource
from host_tools.devices.micropython import Board, Progress
from host_tools.devices.names import DeviceName

CONFIG = "config.json"


def open_board(port: str, protocol: str = "auto", timeout: float = 2.0) -> Board:
    """A Board on `port`. Stops the running script (file operations need the camera to themselves)."""
    if resolve_protocol(port, protocol) == "v2":
        from host_tools.devices.openmv_v2 import V2ScriptLink
        from host_tools.protocol.v2_host import V2Client

        return Board(V2ScriptLink(V2Client.open(port, timeout=timeout), port))
    from host_tools.devices.openmv_repl import open_legacy_link

    return Board(open_legacy_link(port, timeout))


class OpenMVDevice(Device):
    board = "openmv"

    def __init__(self, name: DeviceName, port: str, protocol: str = "auto", emulated: bool = False) -> None:
        self.name, self.port, self.protocol, self.emulated = name, port, protocol, emulated
        self.description = f"{'EMULATED ' if emulated else ''}OpenMV camera on {port}"
        self._board: Board | None = None

    def files(self) -> Board:
        """The camera's file operations (opening them stops the running script)."""
        if self._board is None:
            self._board = open_board(self.port, self.protocol)
        return self._board

    def put_verified(self, path: str, data: bytes, progress: Progress | None = None) -> str:
        return files.put_verified(self.files(), path, data, progress)

    def remove(self, path: str) -> None:
        self.files().remove(path)

    def rename(self, src: str, dst: str) -> None:
        self.files().rename(src, dst)

    def run(self, command) -> RunResult:
        return RunResult(0, self.files().exec(str(command)))

    def restart_app(self) -> None:
        self.files().reset()
        self.close()  # the camera reboots: the link is gone

    def open_stream(self, frames: bool = False, frame_interval: float = 0.2,
                    restart: bool = False) -> LiveSource:
        from host_tools.devices.live import open_live

        self.close()  # one connection to the port at a time
        return open_live(self.port, self.protocol, frames=frames, frame_interval=frame_interval,
                         restart=restart)

    def read_config(self) -> bytes:
        return self.files().read_file(CONFIG)

    def write_config(self, data: bytes) -> None:
        self.put_verified(CONFIG, data)

    def close(self) -> None:
        if self._board is not None:
            self._board.close()
            self._board = None
