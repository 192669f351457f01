"""From a device name to a connected Device: the one place that knows which module serves which name."""

from __future__ import annotations

import shutil
from pathlib import Path

from host_tools.devices import registry
from host_tools.devices.base import Device
from host_tools.devices.names import DeviceName
from host_tools.errors import DeviceError


def _one_emulated(kind: str, start: str) -> dict:
    boards = registry.running(kind)
    if not boards:
        raise DeviceError(f"no emulated board answers to {kind}: start one with `{start}`")
    if len(boards) > 1:
        names = "; ".join(b.get("adb") and f"adb:{b['adb']} or ssh:{b['ssh']}" or f"serial:{b.get('port')}"
                          for b in boards)
        raise DeviceError(f"{len(boards)} emulated boards answer to {kind}; name one: {names}")
    return boards[0]


def _emulated_ssh(host: str, port: int) -> dict | None:
    """The registry entry of an emulated board serving SSH at host:port, if it is one."""
    for board in registry.running("sim:rv1103"):
        if board.get("ssh", "").rpartition("@")[2] == f"{host}:{port}":
            return board
    return None


def open_device(name: DeviceName, protocol: str = "auto") -> Device:
    if name.kind in ("serial", "sim:openmv"):
        from host_tools.devices.openmv import OpenMVDevice

        if name.kind == "serial":  # an emulated camera's pty is emulated, whichever name reached it
            emulated = any(b.get("port") == name.target for b in registry.running("sim:openmv"))
            return OpenMVDevice(name, name.target, protocol, emulated=emulated)
        board = _one_emulated("sim:openmv", "host_tools sim openmv --pty --frames DIR")
        return OpenMVDevice(name, board["port"], protocol, emulated=True)

    from host_tools.devices.linux import LinuxDevice

    if name.kind == "sim:rv1103":
        board = _one_emulated("sim:rv1103", "host_tools sim rv1103 --serve")
        if shutil.which("adb"):  # the board's USB link; ssh where the adb tool is missing
            from host_tools.devices.adb import AdbLink

            return LinuxDevice(name, AdbLink(board["adb"]), emulated=True)
        host, _, port = board["ssh"].rpartition("@")[2].rpartition(":")
        return _ssh(name, host, int(port), "root", board)
    if name.kind == "adb":
        from host_tools.devices.adb import AdbLink

        link = AdbLink(name.target)
        emulated = any(b.get("adb") == link.serial for b in registry.running("sim:rv1103"))
        return LinuxDevice(name, link, emulated=emulated)
    if name.kind == "ssh":
        return _ssh(name, name.target, name.port, name.user, _emulated_ssh(name.target, name.port))
    raise DeviceError(f"no transport for {name}")


def _ssh(name: DeviceName, host: str, port: int, user: str, board: dict | None) -> Device:
    from host_tools.devices.linux import LinuxDevice
    from host_tools.devices.ssh import SshLink

    key = Path(board["ssh_key"]) if board else None
    known = Path(board["ssh_known_hosts"]) if board and board.get("ssh_known_hosts") else None
    return LinuxDevice(name, SshLink(host, port, user, key, known), emulated=board is not None)
