"""CLI conventions every command follows: -v/-q/--debug anywhere, errors as JSON with --json, shared options
checked the same way, one meaning per flag, and no traceback ever (a last-resort handler)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
FRAMES = REPO / "rv1103_app" / "sample_frames"


def _err_line(capsys) -> tuple[str, str]:
    out, err = capsys.readouterr()
    return out, err


@pytest.mark.parametrize("argv", [
    ["flash", "--port", "/dev/null", "--board", "h8"],
    ["sim", "openmv", "--frames", str(FRAMES), "--board", "h8"],
])
def test_board_is_checked_the_same_way_in_every_command(argv, capsys):
    assert main(argv) == 2
    _, err = _err_line(capsys)
    assert err.strip() == "host_tools: error: unknown board 'h8'; choose one of: h7, h7plus"


def test_firmware_is_checked_against_the_emulated_versions(capsys):
    assert main(["sim", "openmv", "--frames", str(FRAMES), "--firmware", "4.9"]) == 2
    assert "unknown firmware version '4.9'; choose one of: 4.5.5, 4.6.0, 5.0.0" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["flash"], ["stream"], ["watch"]])
def test_port_is_a_serial_port_everywhere(command):
    sub = build_parser()._subparsers._group_actions[0].choices[command[0]]
    port = next(a for a in sub._actions if "--port" in a.option_strings)
    assert port.metavar == "SERIAL" and "serial port" in port.help


def test_sim_rv1103_serves_on_tcp_port_and_watch_binds_with_bind(capsys):
    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices
    rv = subs["sim"]._subparsers._group_actions[0].choices["rv1103"]
    assert {o for a in rv._actions for o in a.option_strings} >= {"--tcp-port", "--bind"}
    assert "--port" not in {o for a in rv._actions for o in a.option_strings}
    watch = {o for a in subs["watch"]._actions for o in a.option_strings}
    assert "--bind" in watch and "--host" not in watch
    with pytest.raises(SystemExit) as exc:
        main(["watch", "--port", "/dev/null", "--host", "0.0.0.0"])
    assert exc.value.code == 2 and "unrecognized arguments: --host" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["sim", "rv1103", "--frames", str(FRAMES), "--tcp-port", "70000"], "--tcp-port must be in 0..65535"),
    (["sim", "rv1103", "--frames", str(FRAMES), "--tcp-port", "0", "--bind", "not-an-ip"],
     "--bind not-an-ip: not an IP address or a known host name"),
    (["watch", "--port", "/dev/null", "--bind", "not-an-ip"], "--bind not-an-ip: not an IP address"),
    (["watch", "--port", "/dev/null", "--http-port", "-1"], "--http-port must be in 0..65535"),
])
def test_bad_ports_and_addresses_are_usage_errors_before_anything_opens(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_errors_come_as_json_on_stdout_with_json(capsys):
    assert main(["sim", "rv1103", "--frames", "/nonexistent", "--json"]) == 2
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["error"]["exit_code"] == 2 and "no such file or folder" in doc["error"]["message"]
    assert doc["error"]["type"] == "UsageError" and err.startswith("host_tools: error: ")


def test_argument_errors_come_as_json_too(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sim", "openmv", "--json"])  # --frames missing
    assert exc.value.code == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["exit_code"] == 2 and "--frames" in doc["error"]["message"]


def test_last_resort_handler_one_line_exit_1_and_debug_shows_the_traceback(monkeypatch, capsys):
    import host_tools.commands.sim_rv1103 as cmd

    def boom(_args):
        raise RuntimeError("something nobody planned for\nsecond line")

    monkeypatch.setattr(cmd, "run", boom)
    assert main(["sim", "rv1103", "--frames", str(FRAMES)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("host_tools: error: unexpected RuntimeError: something nobody planned for "
                           "(rerun with --debug for the traceback)")
    assert main(["sim", "rv1103", "--frames", str(FRAMES), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert main(["sim", "rv1103", "--frames", str(FRAMES), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "RuntimeError"


def test_verbosity_options_go_before_or_after_the_command(capsys):
    args = build_parser().parse_args(["-q", "sim", "rv1103", "--frames", "x"])
    assert args.quiet and not args.debug
    args = build_parser().parse_args(["sim", "rv1103", "--frames", "x", "--debug", "-v"])
    assert args.debug and args.verbose == 1 and not args.quiet


def test_quiet_leaves_results_only(tmp_path):
    argv = ["-q", "sim", "rv1103", "--frames", str(FRAMES), "--count", "2", "--fps", "0"]
    r = subprocess.run([sys.executable, "-m", "host_tools", *argv], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2 and all(ln.startswith("frame ") for ln in r.stdout.splitlines())


@pytest.mark.parametrize("argv", [
    ["sim", "openmv", "--frames", str(FRAMES), "--count", "-3"],
    ["sim", "openmv", "--frames", str(FRAMES), "--fps", "nan"],
    ["sim", "rv1103", "--frames", str(FRAMES), "--count", "0"],
    ["sim", "rv1103", "--frames", str(FRAMES), "--fps", "1e9"],
    ["sim", "rv1103", "--frames", str(FRAMES), "--w-stride-pad", "-1"],
    ["stream", "--port", "/dev/null", "--count", "0"],
    ["watch", "--port", "/dev/null", "--frame-interval", "0"],
    ["flash", "--port", "/dev/null", "--model", "/nonexistent.tflite"],
    ["flash", "--port", "/dev/null", "--config", "/nonexistent.json"],
])
def test_bad_arguments_are_refused_with_exit_2_and_one_line(argv, capsys):
    """Regression of the probes that held: absurd values never reach a device or a traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("host_tools: error: ") and len(err.strip().splitlines()) == 1, err
