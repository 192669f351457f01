"""The one interface every board offers the commands (flash, stream, watch; later bench and tune).

A Device puts files verified (written under a temporary name, hashed ON the device, renamed into place:
files.py), removes and renames them, runs a command in the board's own terms (argv on a Linux board, a
MicroPython script on an OpenMV camera), restarts the app, opens the stream of its results, and reads and
writes its config. One implementation per board family, each written once above its transports:
  openmv.py  OpenMV cameras, over Protocol V2 (openmv_v2.py) or the raw REPL (openmv_repl.py)
  linux.py   Linux boards (the RV1103), over adb (adb.py) or ssh (ssh.py)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from host_tools.devices.live import LiveSource
from host_tools.devices.micropython import Progress
from host_tools.devices.names import DeviceName


@dataclass(frozen=True)
class RunResult:
    status: int  # exit status on a Linux board; 0 for a MicroPython script that did not raise
    output: str  # what it printed (stdout and stderr together)


class Device(ABC):
    name: DeviceName
    description: str  # for the user: which board, through which link
    board: str  # "openmv" or "rv1103"
    emulated: bool  # an emulated board running on this machine

    @abstractmethod
    def put_verified(self, path: str, data: bytes, progress: Progress | None = None) -> str:
        """Write `path` atomically and verified; returns the SHA-256 the device computed."""

    @abstractmethod
    def remove(self, path: str) -> None: ...

    @abstractmethod
    def rename(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def run(self, command) -> RunResult:
        """Linux boards: an argv list (each argument passed as it is, never through a shell's parsing);
        MicroPython boards: a script. Raises DeviceError when the command cannot be run."""

    @abstractmethod
    def restart_app(self) -> None: ...

    @abstractmethod
    def open_stream(self, frames: bool = False, frame_interval: float = 0.2,
                    restart: bool = False) -> LiveSource:
        """The running app's output as events (text lines; frames where the board sends them); `restart`
        restarts the app first."""

    @abstractmethod
    def read_config(self) -> bytes: ...

    @abstractmethod
    def write_config(self, data: bytes) -> None: ...

    def close(self) -> None:  # noqa: B027 - most devices hold nothing between calls
        pass

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
