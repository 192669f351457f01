"""--device names: every form parsed in one place, --port as serial:PORT, bad names refused with the forms."""

from __future__ import annotations

import argparse

import pytest

from host_tools.cli import main
from host_tools.devices.names import DeviceName, add_device_arguments, device_from_args, parse_device
from host_tools.errors import UsageError


@pytest.mark.parametrize("text, expected", [
    ("sim:openmv", DeviceName("sim:openmv", text="sim:openmv")),
    ("sim:rv1103", DeviceName("sim:rv1103", text="sim:rv1103")),
    ("serial:/dev/ttyACM0", DeviceName("serial", "/dev/ttyACM0", text="serial:/dev/ttyACM0")),
    ("adb", DeviceName("adb", "", text="adb")),
    ("adb:0123abcd", DeviceName("adb", "0123abcd", text="adb:0123abcd")),
    ("adb:172.32.0.93:5555", DeviceName("adb", "172.32.0.93:5555", text="adb:172.32.0.93:5555")),
    ("ssh:172.32.0.93", DeviceName("ssh", "172.32.0.93", "root", 22, "ssh:172.32.0.93")),
    ("ssh:pi@lf.local:2222", DeviceName("ssh", "lf.local", "pi", 2222, "ssh:pi@lf.local:2222")),
    ("ssh:root@[fe80::1]:22", DeviceName("ssh", "fe80::1", "root", 22, "ssh:root@[fe80::1]:22")),
])
def test_forms(text, expected):
    assert parse_device(text) == expected


def test_boards_by_name():
    assert [parse_device(n).board for n in ("sim:openmv", "serial:/dev/x", "sim:rv1103", "adb", "ssh:h")] == \
        ["openmv", "openmv", "rv1103", "rv1103", "rv1103"]


@pytest.mark.parametrize("text", ["usb:1", "serial:", "adb:", "ssh:", "ssh:a@b@c", "ssh:host:99999", "sim:h7",
                                  "openmv", ""])
def test_bad_names_list_the_forms(text):
    with pytest.raises(UsageError) as err:
        parse_device(text)
    assert err.value.exit_code == 2
    for form in ("sim:openmv", "sim:rv1103", "serial:PORT", "adb[:SERIAL]", "ssh:[USER@]HOST[:PORT]"):
        assert form in str(err.value)


def test_port_is_short_for_serial():
    p = argparse.ArgumentParser()
    add_device_arguments(p)
    assert device_from_args(p.parse_args(["--port", "/dev/pts/4"])) == parse_device("serial:/dev/pts/4")
    assert device_from_args(p.parse_args(["--device", "adb:x"])) == parse_device("adb:x")
    with pytest.raises(UsageError, match="no device given"):
        device_from_args(p.parse_args([]))
    with pytest.raises(SystemExit):
        p.parse_args(["--port", "a", "--device", "adb"])  # one or the other


@pytest.mark.parametrize("command", ["flash", "stream", "watch"])
def test_every_command_takes_device_names(command, capsys):
    assert main([command, "--device", "bogus:1"]) == 2
    assert "adb[:SERIAL]" in capsys.readouterr().err


def test_flash_takes_rv1103_names(capsys):
    from host_tools.paths import MASKS_MODEL

    # a .tflite is no model for the RV1103: refused (exit 4) before connecting (port 1: nothing listens)
    assert main(["flash", "--device", "ssh:127.0.0.1:1", "--model", str(MASKS_MODEL)]) == 4
    assert "not an RKNN model" in capsys.readouterr().err
    assert main(["flash", "--device", "ssh:127.0.0.1:1"]) == 3  # the name is taken; no board answers
    assert "127.0.0.1" in capsys.readouterr().err
    assert main(["rollback", "--device", "sim:openmv"]) == 2  # rollback is for RV1103 boards
    assert "RV1103" in capsys.readouterr().err


def test_no_emulated_board_running(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CAMCLASS_BOARDS_DIR", str(tmp_path))
    assert main(["stream", "--device", "sim:rv1103"]) == 3
    assert "host_tools sim rv1103 --serve" in capsys.readouterr().err
    assert main(["stream", "--device", "sim:openmv"]) == 3
    assert "host_tools sim openmv --pty" in capsys.readouterr().err
