"""`host_tools devices`: OpenMV cameras are told from other serial ports by their USB IDs."""

from __future__ import annotations

from types import SimpleNamespace

from host_tools.devices import listing


def port(device: str, vid: int | None, pid: int | None) -> SimpleNamespace:
    return SimpleNamespace(device=device, vid=vid, pid=pid, description="USB serial", serial_number="X1")


def test_only_openmv_cameras_are_listed(monkeypatch):
    from serial.tools import list_ports

    ports = [port("/dev/ttyACM0", 0x1209, 0xABD1),  # an OpenMV Cam H7
             port("/dev/ttyACM1", 0x2341, 0x0043),  # an Arduino
             port("/dev/ttyACM2", 0x37C5, 0x1206),  # a newer OpenMV camera
             port("/dev/ttyACM3", 0x37C5, 0x9204),  # its DFU bootloader
             port("/dev/ttyS0", None, None)]
    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    found = listing.serial_cameras()
    assert [d.name for d in found] == ["serial:/dev/ttyACM0", "serial:/dev/ttyACM2"]
    assert found[0].board == "openmv" and "1209:ABD1" in found[0].link and not found[0].emulated
