"""What `host_tools devices` lists: OpenMV cameras on serial ports, boards the adb server sees, and the
emulated boards running on this machine."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from host_tools.devices import registry
from host_tools.errors import DeviceError

# USB IDs of OpenMV cameras: pid.codes 1209:ABD1 (OpenMV Cam H7 and earlier), OpenMV's own vendor ID 37C5
# (newer cameras; 37C5:9204 is the DFU bootloader, not a serial port).
OPENMV_USB = {(0x1209, 0xABD1)}
OPENMV_VENDOR, OPENMV_DFU = 0x37C5, 0x9204


@dataclass(frozen=True)
class Listed:
    name: str  # what --device takes
    board: str  # "openmv" | "rv1103"
    link: str  # how it is reached
    about: str
    emulated: bool

    def to_dict(self) -> dict:
        return asdict(self)


def is_openmv(vid: int | None, pid: int | None) -> bool:
    return (vid, pid) in OPENMV_USB or (vid == OPENMV_VENDOR and pid != OPENMV_DFU)


def serial_cameras() -> list[Listed]:
    from serial.tools import list_ports

    found = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        if is_openmv(p.vid, p.pid):
            about = f"{p.description or 'OpenMV camera'} (serial number {p.serial_number or '?'})"
            found.append(Listed(f"serial:{p.device}", "openmv", f"USB serial {p.vid:04X}:{p.pid:04X}", about,
                                False))
    return found


def emulated_boards() -> list[Listed]:
    """Named sim:openmv / sim:rv1103 when one of a kind runs, by their own link when several do."""
    found = []
    boards = registry.running()
    kinds = [b.get("device") for b in boards]
    for b in boards:
        alone = kinds.count(b.get("device")) == 1
        if b.get("device") == "sim:openmv":
            found.append(Listed("sim:openmv" if alone else f"serial:{b.get('port')}", "openmv",
                                f"pty {b.get('port')}",
                                f"emulated OpenMV Cam {str(b.get('board', 'h7')).upper()} (firmware "
                                f"{b.get('firmware', '?')}), pid {b['pid']}", True))
        elif b.get("device") == "sim:rv1103":
            found.append(Listed("sim:rv1103" if alone else f"adb:{b.get('adb')}", "rv1103",
                                f"adb {b.get('adb')}, ssh {b.get('ssh')}",
                                f"emulated Luckfox Pico (RV1103, {b.get('arch', 'host')} build), root "
                                f"{b.get('root')}, pid {b['pid']}", True))
    return found


def adb_devices(emulated_adb: set[str]) -> list[Listed]:
    from host_tools.devices.adb import adb_client

    client = adb_client()
    try:
        infos = client.list(extended=True)
    except Exception as exc:  # adbutils raises its own errors for a server that goes away
        raise DeviceError(f"adb server: {exc}") from None
    found = []
    for info in infos:
        model = info.tags.get("model", "")
        about = f"{info.state}{', ' + model if model else ''}"
        found.append(Listed(f"adb:{info.serial}", "rv1103", "adb", about, info.serial in emulated_adb))
    return found


def list_devices(adb: bool = True) -> tuple[list[Listed], list[str]]:
    """(devices, notes about what could not be looked at)."""
    devices: list[Listed] = []
    notes: list[str] = []
    try:
        devices += serial_cameras()
    except Exception as exc:  # pyserial's port scan is best effort on odd systems
        notes.append(f"serial ports: {exc}")
    emulated = emulated_boards()
    devices += emulated
    if adb:
        sim_adb = {b.get("adb") for b in registry.running("sim:rv1103")}
        try:
            devices += adb_devices(sim_adb)
        except DeviceError as exc:
            notes.append(str(exc))
    return devices, notes
