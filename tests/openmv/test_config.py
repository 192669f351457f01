"""config.json: each kind of error prints a specific message; the app keeps the last good values."""

from __future__ import annotations

import importlib.util
import json

import pytest

from host_tools.paths import OPENMV_APP_DIR

LABELS = ["good", "bad", "no_mask"]


@pytest.fixture(scope="module")
def config_mod():
    """openmv_app/config.py is plain MicroPython-compatible Python: it also imports in CPython."""
    spec = importlib.util.spec_from_file_location("openmv_config", OPENMV_APP_DIR / "config.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"threshold": 0.5,', "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"treshold": 0.5}', "unknown key 'treshold'"),
        ('{"threshold": "high"}', 'threshold: expected a number, got "high"'),
        ('{"threshold": 1.5}', "threshold: must be between 0 and 1, got 1.5"),
        ('{"smoothing": 2.5}', "smoothing: expected a whole number of frames, got 2.5"),
        ('{"smoothing": 0}', "smoothing: must be from 1 to 30 frames, got 0"),
        ('{"stream": "yes"}', 'stream: expected true or false, got "yes"'),
        ('{"roi": [0, 0, 10]}', "roi: expected [x, y, w, h]"),
        ('{"roi": [300, 0, 100, 100]}', "roi: [300, 0, 100, 100] is not inside the QVGA frame (320x240)"),
        ('{"framesize": "HD"}', "framesize: expected one of"),
        ('{"pixformat": "JPEG"}', 'pixformat: expected one of RGB565, GRAYSCALE, got "JPEG"'),
        ('{"leds": {"good": "purple"}}', "leds.good: expected one of"),
        ('{"leds": {"cat": "red"}}', "leds: unknown label 'cat'"),
    ],
)
def test_each_error_kind_has_a_specific_message(config_mod, text, expected):
    cfg, errors = config_mod.parse(text, LABELS)
    assert errors and any(expected in e for e in errors), errors


def test_valid_config_fills_defaults(config_mod):
    cfg, errors = config_mod.parse(
        '{"threshold": 0.8, "roi": [0, 0, 64, 64], "leds": {"good": "white"}}', LABELS
    )
    assert errors == []
    assert cfg["threshold"] == 0.8 and cfg["roi"] == (0, 0, 64, 64) and cfg["smoothing"] == 3
    assert cfg["leds"] == {"good": "white", "bad": "off", "no_mask": "off", "unknown": "off"}


def test_bad_config_at_boot_runs_on_defaults(tmp_path, masks_model, mask_frames, run_app):
    run = run_app(tmp_path / "fs", mask_frames, masks_model, '{"threshold": 7}', count=2)
    assert "config: config.json: threshold: must be between 0 and 1, got 7" in run.other_lines
    assert "config: config.json rejected, running on the defaults" in run.other_lines
    assert len(run.results) == 2


def test_bad_config_while_running_keeps_last_good(tmp_path, masks_model, mask_frames, run_app):
    """Frames 1-2 run on threshold 0 (always a label); a bad file at frame 2 is rejected and the labels
    stay; a good file with threshold 1 at frame 4 makes every label null (int8 scores stay < 1), and the LEDs
    show the "unknown" colour."""
    fs = tmp_path / "fs"
    leds_seen = []
    events = []

    def on_line(line: str, camera) -> None:
        if line.startswith("{") and "event" in json.loads(line):
            events.append(json.loads(line))
        elif line.startswith("{"):
            n = json.loads(line)["frame"]
            leds_seen.append(camera.leds)
            if n == 2:
                (fs / "config.json").write_text('{"threshold": 0.0, "smoothing": "3"}')
            elif n == 4:
                (fs / "config.json").write_text(
                    '{"threshold": 1.0, "smoothing": 1, "leds": {"unknown": "white"}}'
                )

    run = run_app(fs, mask_frames, masks_model, {"threshold": 0.0, "smoothing": 1}, on_line=on_line)
    labels = [r["label"] for r in run.results]
    assert None not in labels[:4], labels
    assert labels[4:] and all(label is None for label in labels[4:]), labels
    assert all(r["smoothing"]["threshold"] == 1.0 for r in run.results[4:])  # the threshold that said no
    assert 'config: config.json: smoothing: expected a whole number of frames, got "3"' in run.other_lines
    assert "config: config.json rejected, running on the last good config" in run.other_lines
    # each reload is told as an event of the result schema, and logged old -> new per key
    assert [(e["frame"], e["accepted"]) for e in events] == [(2, False), (4, True)], events
    assert events[1]["changes"]["threshold"] == [0.0, 1.0] and "smoothing" not in events[1]["changes"]
    assert events[1]["changes"]["leds"][1]["unknown"] == "white"
    told = "config: config.json reloaded: threshold 0.0 -> 1.0, leds "
    assert any(ln.startswith(told) for ln in run.other_lines), run.other_lines
    assert run.events == events
    white = {"red": True, "green": True, "blue": True, "ir": False}
    assert leds_seen[4:] and all(s == white for s in leds_seen[4:]), leds_seen
    assert all(sum(s.values()) == 1 for s in leds_seen[:4]), leds_seen  # one colour per class label


def test_shipped_config_is_valid_and_spells_out_the_defaults(config_mod):
    cfg, errors = config_mod.parse((OPENMV_APP_DIR / "config.json").read_text(), LABELS)
    assert errors == []
    assert cfg == config_mod.defaults(LABELS)
    # no label is named by the app or its shipped config: LED colours follow the model's label order
    for label in LABELS:
        assert f'"{label}"' not in (OPENMV_APP_DIR / "config.json").read_text()
        assert f'"{label}"' not in (OPENMV_APP_DIR / "config.py").read_text()
    assert config_mod.defaults(["cat", "dog"])["leds"] == {"cat": "green", "dog": "red", "unknown": "off"}


@pytest.mark.parametrize("data,expected", [
    ('{"leds": {"good": "vert"}}'.encode("latin-1") + b"\xe9", "not UTF-8 text"),
    (b'{"threshold": 0.5, "x": "' + b"y" * 5000 + b'"}', "5027 bytes is too big for a config (the limit is"),
    (b"[" * 2000 + b"]" * 2000, "nested deeper than 4 levels"),
    (b'{"leds": {"a": {"b": {"c": {"d": 1}}}}}', "nested deeper than 4 levels"),
])
def test_hostile_files_are_refused_before_parsing(config_mod, data, expected):
    cfg, errors = config_mod.parse(data, LABELS)
    assert cfg is None and errors and expected in errors[0], errors


def test_messages_quote_only_an_excerpt(config_mod):
    cfg, errors = config_mod.parse(json.dumps({"threshold": "9" * 3000, "k" * 200: 1}), LABELS)
    assert errors and all(len(e) < 200 for e in errors), errors
    many = json.dumps({f"k{i}": i for i in range(200)})
    cfg, errors = config_mod.parse(many, LABELS)
    assert len(errors) == config_mod.MAX_ERRORS + 1 and errors[-1].startswith("... and 190 more")


def test_latin1_and_huge_configs_keep_the_last_good_one(tmp_path, masks_model, mask_frames, run_app):
    """At boot a Latin-1 file leaves the defaults; on reload a 1 MB and a deep file leave the last good."""
    fs = tmp_path / "fs"

    def on_line(line: str, camera) -> None:
        if line.startswith("{") and "event" not in json.loads(line):
            n = json.loads(line)["frame"]
            if n == 1:
                (fs / "config.json").write_text('{"threshold": 0.0, "smoothing": 1}')
            elif n == 2:
                (fs / "config.json").write_bytes(b'{"threshold": 1.0, "x": "' + b"z" * 1_000_000 + b'"}')
            elif n == 3:
                (fs / "config.json").write_bytes(b"[" * 3000)  # small, but nested 3000 deep
            elif n == 4:
                (fs / "config.json").write_bytes('{"leds": {"good": "grün"}}'.encode("latin-1"))

    # an H7 Plus: the 1 MB file does not fit the H7's filesystem at all
    run = run_app(fs, mask_frames, masks_model, '{"smoothing": 2, "leds": {"good": "ø"}}'.encode("latin-1"),
                  on_line=on_line, board="h7plus")
    text = "\n".join(run.other_lines)
    assert run.camera.end_reason == "frames", run.output
    assert "config: config.json rejected, running on the defaults" in run.other_lines  # boot: Latin-1
    assert "not UTF-8 text" in text and "too big for a config" in text and "nested deeper than" in text
    assert text.count("rejected, running on the last good config") == 3
    assert all(r["label"] is not None for r in run.results)  # threshold 0 from frame 2 on stayed in force
    assert max(len(ln) for ln in run.other_lines) < 300  # no line quotes the huge file
