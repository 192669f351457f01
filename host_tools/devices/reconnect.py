"""A board's live output that survives the link dropping: reopen with back-off, and say what was missed.

The board keeps classifying while the host is cut off (a cable pulled, the board program restarted by its
init script, the board rebooting); what it printed meanwhile is gone. The frame numbers of result schema 1
tell how much: FrameTracker compares the first result after a reconnect with the last one before it. The
run id (RV1103) tells a restarted program for certain; without one, frame numbers that begin again do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from host_tools.devices.live import Event, LiveSource
from host_tools.errors import DeviceError

BACKOFF_FIRST, BACKOFF_MAX = 0.5, 5.0  # seconds between attempts: doubled after each failure, capped


@dataclass(frozen=True)
class LinkLost:
    reason: str


@dataclass(frozen=True)
class Reconnected:
    down_s: float  # how long the link was down
    attempts: int
    description: str


def reconnecting(open_source: Callable[[bool], LiveSource], give_up_after: float,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> Iterator[Event | LinkLost | Reconnected]:
    """The events of open_source(True) (the first opening: its errors reach the caller), then, each time the
    link drops (DeviceError, or the board ending the stream), LinkLost, new attempts open_source(False) with
    back-off and Reconnected once one succeeds. DeviceError when none did within `give_up_after` seconds
    (0: no reconnecting at all)."""
    src = open_source(True)
    try:
        while True:
            try:
                yield from src.events
                reason = "the board ended the stream"
            except DeviceError as exc:
                reason = str(exc)
            src.close()
            if give_up_after <= 0:
                raise DeviceError(f"lost the board: {reason}")
            yield LinkLost(reason)
            down = clock()
            wait, attempts, last = BACKOFF_FIRST, 0, reason
            while True:
                attempts += 1
                try:
                    src = open_source(False)
                    break
                except DeviceError as exc:
                    last = str(exc)
                if clock() - down + wait > give_up_after:
                    raise DeviceError(f"lost the board ({reason}) and could not reconnect within "
                                      f"{give_up_after:g} s: {last}")
                sleep(wait)
                wait = min(wait * 2, BACKOFF_MAX)
            yield Reconnected(clock() - down, attempts, src.description)
    finally:
        src.close()


class FrameTracker:
    """Frame numbers seen; after a reconnect, what the first result says about the frames missed."""

    def __init__(self) -> None:
        self.last: int | None = None
        self.run: str | None = None
        self.reconnected = False
        self.missed = 0  # frames known to be missed, over the whole session

    def link_back(self) -> None:
        self.reconnected = True

    def seen(self, frame: int, run: str | None = None) -> str | None:
        """Record a result's frame number and run id; returns a line for the user after a reconnect, or
        whenever the run id changes (a restart seen without the link dropping)."""
        last, self.last = self.last, frame
        last_run, self.run = self.run, run
        if last is None:
            return None
        have_ids = run is not None and last_run is not None
        # without run ids, frame numbers that begin again are the only sign of a restart
        restarted = run != last_run if have_ids else frame <= last
        if not (self.reconnected or (have_ids and restarted)):
            return None
        where = f"back at frame {frame}" if self.reconnected else f"frame {frame}"
        self.reconnected = False
        if not restarted:
            gap = frame - last - 1
            self.missed += gap
            if gap == 0:
                return f"{where}: no frame missed"
            frames = f"frame {last + 1}" if gap == 1 else f"frames {last + 1}-{frame - 1}"
            return f"{where}: missed {gap} ({frames})"
        # the board program restarted; what it did before stopping is unknown
        self.missed += frame - 1
        return (f"{where}: the board program restarted (frames count from 1 again); missed "
                f"{frame - 1} of its new frames, and any after frame {last} of the old run")
