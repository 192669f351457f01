"""The live stream's reconnect: back-off, giving up, and the frames missed while the link was down."""

from __future__ import annotations

import pytest

from host_tools.devices.live import LiveSource, TextLine
from host_tools.devices.reconnect import FrameTracker, LinkLost, Reconnected, reconnecting
from host_tools.errors import DeviceError


class Board:
    """Sources that each give some lines and then drop; opening fails while the board is `down`."""

    def __init__(self, runs: list[list[str]], down_for: int = 0) -> None:
        self.runs, self.down_for, self.opened, self.closed = list(runs), down_for, 0, 0

    def open(self, first: bool) -> LiveSource:
        if not first and self.down_for > 0:
            self.down_for -= 1
            raise DeviceError("nothing listens on the board's port 7070")
        self.opened += 1
        lines = self.runs.pop(0)

        def events():
            yield from (TextLine(t) for t in lines)
            raise DeviceError("the board closed the connection")

        return LiveSource("board", events(), None, self._close)

    def _close(self) -> None:
        self.closed += 1


def test_the_link_is_reopened_with_back_off_and_the_gap_is_counted() -> None:
    board = Board([["1", "2", "3"], ["7", "8"]], down_for=3)
    waits: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    seen, tracker, notes = [], FrameTracker(), []
    events = reconnecting(board.open, give_up_after=60, sleep=sleep, clock=lambda: now[0])
    for ev in events:
        if isinstance(ev, TextLine):
            note = tracker.seen(int(ev.text))
            notes += [note] if note else []
            seen.append(int(ev.text))
            if len(seen) == 5:
                break
        elif isinstance(ev, Reconnected):
            tracker.link_back()
            assert ev.attempts == 4 and ev.down_s == pytest.approx(sum(waits))
        else:
            assert isinstance(ev, LinkLost) and "closed the connection" in ev.reason
    events.close()
    assert seen == [1, 2, 3, 7, 8]
    assert waits == [0.5, 1.0, 2.0]  # doubled after each refused attempt
    assert notes == ["back at frame 7: missed 3 (frames 4-6)"] and tracker.missed == 3
    assert board.closed == board.opened == 2  # every source opened is closed


def test_it_gives_up_after_the_time_allowed_and_says_why() -> None:
    board = Board([["1"]], down_for=100)
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    events = reconnecting(board.open, give_up_after=10, sleep=sleep, clock=lambda: now[0])
    assert isinstance(next(events), TextLine) and isinstance(next(events), LinkLost)
    with pytest.raises(DeviceError, match="could not reconnect within 10 s: nothing listens"):
        next(events)
    assert now[0] <= 10


def test_no_reconnect_means_the_first_drop_ends_it() -> None:
    events = reconnecting(Board([["1"]]).open, give_up_after=0)
    assert isinstance(next(events), TextLine)
    with pytest.raises(DeviceError, match="lost the board: the board closed the connection"):
        next(events)


def test_a_restarted_board_program_counts_from_one_again() -> None:
    tracker = FrameTracker()
    assert tracker.seen(40) is None and tracker.seen(41) is None
    tracker.link_back()
    note = tracker.seen(3)
    assert note is not None and "restarted" in note and "missed 2 of its new frames" in note
    tracker.link_back()
    assert tracker.seen(4) == "back at frame 4: no frame missed"


def test_a_run_id_tells_a_restart_that_frame_numbers_would_miss() -> None:
    # the new run got past the old one's last frame while the link was down: by numbers alone a gap
    tracker = FrameTracker()
    assert tracker.seen(5, "aa") is None and tracker.seen(6, "aa") is None
    tracker.link_back()
    note = tracker.seen(40, "bb")
    assert note == ("back at frame 40: the board program restarted (frames count from 1 again); missed 39 of "
                    "its new frames, and any after frame 6 of the old run")
    assert tracker.missed == 39
    # the same run after a drop: a plain gap
    tracker.link_back()
    assert tracker.seen(45, "bb") == "back at frame 45: missed 4 (frames 41-44)"


def test_a_restart_without_a_reconnect_is_told_once() -> None:
    tracker = FrameTracker()
    tracker.seen(10, "aa")
    note = tracker.seen(2, "bb")
    assert note is not None and note.startswith("frame 2: the board program restarted")
    assert tracker.seen(3, "bb") is None
    # no run ids (OpenMV, an older board program): frame numbers decide, after a reconnect only
    plain = FrameTracker()
    plain.seen(10)
    assert plain.seen(2) is None
