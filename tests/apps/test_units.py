"""Pure host-side pieces: traceback -> OSError, script wrapping, result lines, progress bar, lines."""

from __future__ import annotations

import contextlib
import errno
import io
import json

import pytest

from host_tools.devices.live import LineSplitter
from host_tools.devices.micropython import oserror_from_traceback
from host_tools.devices.openmv_v2 import split_output, wrap_script
from host_tools.errors import DeviceError
from host_tools.progress import ProgressBar
from host_tools.results import format_result, is_fragment, parse_result

TB = 'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\n'


def test_oserror_from_micropython_tracebacks() -> None:
    e = oserror_from_traceback(TB + "OSError: [Errno 2] ENOENT\n", "x.py")
    assert isinstance(e, FileNotFoundError) and e.errno == errno.ENOENT and e.filename == "x.py"
    assert oserror_from_traceback(TB + "OSError: 28\n", "m").errno == errno.ENOSPC  # ports without names
    assert oserror_from_traceback(TB + "OSError: [Errno 17] EEXIST\n", None).errno == errno.EEXIST
    assert oserror_from_traceback(TB + "ValueError: bad\n", "p") is None


def test_wrapped_output_is_split_at_the_markers() -> None:
    script = wrap_script("print(1)", "@@tok")
    assert "exec('print(1)',_g)" in script
    assert split_output("old main.py line\n@@tokA\nhello\n@@tokZ6\n", "@@tok") == ("hello\n", None)
    assert split_output("@@tokA\npartial", "@@tok") is None
    assert split_output("@@tokA\nhello\n@@tokZ6", "@@tok") is None  # the count may still be arriving
    out, tb = split_output("@@tokA\nx\n@@tokE\n" + TB + "OSError: [Errno 2] ENOENT\n@@tokZ2\n", "@@tok")
    assert out == "x\n" and tb.endswith("ENOENT\n")
    # a camera that cooks newlines: more bytes arrive than were printed, and the text comes back plain
    assert split_output("@@tokA\r\nab\r\ncd\r\n@@tokZ6\r\n", "@@tok") == ("ab\ncd\n", None)


def test_output_lost_anywhere_is_an_overrun_not_a_short_answer() -> None:
    with pytest.raises(DeviceError, match="overran"):  # bytes lost in the middle, markers intact
        split_output("@@tokA\nhello\n@@tokZ600\n", "@@tok")
    with pytest.raises(DeviceError, match="overran"):  # the start marker itself was overwritten
        split_output("xxxx\n@@tokZ600\n", "@@tok")


def test_wrapped_script_counts_what_it_prints() -> None:
    # run the wrapper as CPython would run it on the emulated camera (same language subset)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(wrap_script("print('héllo', 2, sep='-')\nprint('x', end='')\nimport os", "@@tok"), {})
    assert split_output(out.getvalue(), "@@tok") == ("héllo-2\nx", None)
    assert out.getvalue().endswith("@@tokZ10\n")  # 'héllo-2\n' is 9 bytes in UTF-8, 'x' one more


def test_result_lines() -> None:
    line = json.dumps({"schema": 1, "board": "openmv", "frame": 7, "label": "good", "score": 0.91,
                       "scores": {"good": 0.91, "bad": 0.09}, "raw": {"label": "good", "score": 0.88},
                       "ms": {"capture": 3.0, "inference": 40.5, "total": 45.25}, "fps": 9.5,
                       "smoothing": {"frames": 3, "threshold": 0.6}})
    r = parse_result(line)
    assert r is not None
    assert (r.frame, r.label, r.scores["bad"], r.ms.inference, r.fps) == (7, "good", 0.09, 40.5, 9.5)
    text = format_result(r)
    for part in ("7", "good", "0.91", "9.5 fps", "inference 40.5", "total 45.2", "smoothed 0.91 >= 0.60"):
        assert part in text
    assert parse_result("config: config.json loaded") is None
    assert parse_result('{"frame": 1}') is None  # JSON, but not the result schema
    assert is_fragment(line[20:]) and not is_fragment("config: loaded")


def test_line_splitter_keeps_partial_lines() -> None:
    s = LineSplitter()
    assert s.feed(b"ab") == []
    assert s.feed(b"c\r\nde\nf") == ["abc", "de"]
    assert s.feed(b"\n") == ["f"]


def test_progress_bar_without_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(4000, stream=out)
    for done in range(0, 4001, 500):
        bar.update(done, "model.tflite")
    lines = out.getvalue().splitlines()
    assert len(lines) == 5  # 0, 25, 50, 75, 100 %
    assert "100.0%" in lines[-1] and "3.9 KB/3.9 KB" in lines[-1]
