"""Push a config to a device, with a history on the device, and roll back.

Every config is checked twice: on this machine by the device's own parser (configs.validate), and on the
device by the device itself before it runs on it:
  RV1103: the file is written atomically (verified, renamed into place); the board program's config watcher
          reloads it before its next frame and logs "config reloaded" or "config rejected ...". A rejected
          file is replaced by the previous one at once (the program never stopped running on it).
  OpenMV: the file is staged as config.json.new (verified) and checked ON the camera by the app's own
          config.py (with the camera's real frame sizes); only a config the camera accepts replaces
          config.json. The debug link stops the running script to touch files, so the app is started again
          afterwards (main.py reads config.json at start; on a real camera a copy onto its USB drive is also
          re-read while the app runs).
The history: the device's config_history/ folder (next to config.json), one file per applied config,
0001.json first (the config in force before the first apply), the newest last; at most KEEP files.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

from host_tools import console
from host_tools.devices.base import Device
from host_tools.devices.connect import open_device
from host_tools.devices.names import DeviceName
from host_tools.errors import DeviceError, RefusedError, UsageError
from host_tools.tune import configs

KEEP = 20  # configs kept in the history (a few hundred bytes each: the OpenMV flash is 128 KB)
RELOAD_TIMEOUT = 15.0  # seconds for the board program to report the reload (it reloads before each frame)
_ENTRY = re.compile(r"^(\d{4,})\.json$")


class DeviceRefused(RefusedError):
    """The device's own check refused the config; the running one stays."""


class Ops:
    """A board's config file, history folder and the device-side check."""

    board = ""
    history_dir = ""

    def __init__(self, dev: Device) -> None:
        self.dev = dev

    def labels(self) -> list[str]: ...
    def manifest(self):  # the model manifest the device's parser reads (camrt.ModelManifest), or None
        return None

    def read(self, path: str) -> bytes: ...
    def listdir(self, path: str) -> list[str]: ...
    def mkdir(self, path: str) -> None: ...
    def remove(self, path: str) -> None: ...
    def switch(self, data: bytes, previous: bytes) -> str: ...  # device check + switch; returns a note
    def finish(self) -> None:  # noqa: B027
        pass

    def read_config(self) -> bytes:
        return self.dev.read_config()

    def write(self, path: str, data: bytes) -> None:
        self.dev.put_verified(path, data)


class LinuxOps(Ops):
    board = "rv1103"

    def __init__(self, dev) -> None:
        from host_tools.devices import linux

        super().__init__(dev)
        self.fs = dev.fs
        self.history_dir = f"{linux.APP_DIR}/config_history"
        self.log = "/var/log/classifier.log"

    def manifest(self):
        import camrt

        text, path = self.dev.read_manifest()
        if text is None:
            return None
        try:
            return camrt.parse_manifest(text.decode("utf-8", "replace"), path)
        except camrt.ConfigError as exc:
            raise DeviceError(f"the board's {exc}") from None

    def labels(self) -> list[str]:
        """The model's classes: from the manifest beside the board's model, else from its config.json."""
        manifest = self.manifest()
        if manifest is not None:
            return list(manifest.labels)
        try:
            labels = json.loads(self.read_config()).get("labels")
        except (ValueError, AttributeError):
            labels = None
        if not isinstance(labels, list):
            raise DeviceError("the board has no model manifest beside its model and its config.json names no "
                              "labels: cannot tell the model's classes")
        return [str(x) for x in labels]

    def read(self, path: str) -> bytes:
        return self.fs.read_file(path)

    def listdir(self, path: str) -> list[str]:
        r = self.fs.run(["ls", "-1", path], check=False)
        return r.output.split() if r.status == 0 else []

    def mkdir(self, path: str) -> None:
        self.fs.mkdir(path)

    def remove(self, path: str) -> None:
        self.fs.remove(path)

    def _log_size(self) -> int:
        r = self.fs.run(["wc", "-c", self.log], check=False)
        try:
            return int(r.output.split()[0]) if r.status == 0 else 0
        except (IndexError, ValueError):
            return 0

    def _wait_verdict(self, offset: int) -> tuple[str, str] | None:
        """("reloaded" | "rejected", the log line) once the program reported on the new file."""
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while time.monotonic() < deadline:
            try:
                text = self.fs.read_file(self.log)[offset:].decode("utf-8", "replace")
            except DeviceError:
                text = ""
            for line in text.splitlines():
                if "config rejected" in line or "rejected by the pipeline" in line:
                    return "rejected", line
                if "config reloaded" in line:
                    return "reloaded", line
            time.sleep(0.2)
        return None

    def switch(self, data: bytes, previous: bytes) -> str:
        offset = self._log_size()
        self.dev.write_config(data)
        verdict = self._wait_verdict(offset)
        if verdict is None:
            return (f"written; the board program did not report a reload within {RELOAD_TIMEOUT:g} s (is it "
                    f"running? its log: {self.log}); it reads the file when it starts")
        kind, line = verdict
        if kind == "rejected":
            self.dev.write_config(previous)  # the file again matches the config the program runs on
            reason = line.split("keeping the last good one:", 1)[-1].strip()
            reason = re.sub(r"^\S*config\.json: (config: )?", "", reason)
            raise DeviceRefused(f"the board refused the config: {reason}; it keeps running on the previous "
                                "one")
        return "the board program reloaded it (no restart)"


class OpenMVOps(Ops):
    board = "openmv"
    history_dir = "config_history"
    STAGED = "config.json.new"

    def __init__(self, dev) -> None:
        super().__init__(dev)
        self.fs = dev.files()  # stops the running script until finish()

    def labels(self) -> list[str]:
        try:
            text = self.fs.read_file("model.txt").decode("utf-8")
        except FileNotFoundError:
            raise DeviceError("no model.txt on the camera: flash the app first (host_tools flash)") from None
        except UnicodeError:
            raise DeviceError("the camera's model.txt is not UTF-8 text") from None
        return [ln.strip() for ln in text.split("\n") if ln.strip()]

    def read_config(self) -> bytes:
        try:
            return self.fs.read_file("config.json")
        except FileNotFoundError:
            return b""  # the app runs on its defaults

    def read(self, path: str) -> bytes:
        return self.fs.read_file(path)

    def listdir(self, path: str) -> list[str]:
        try:
            return [e.name for e in self.fs.ls(path)]
        except FileNotFoundError:
            return []

    def mkdir(self, path: str) -> None:
        self.fs.mkdir(path)

    def remove(self, path: str) -> None:
        self.fs.remove(path)

    def write(self, path: str, data: bytes) -> None:
        from host_tools.devices import files

        files.put_verified(self.fs, path, data)

    def switch(self, data: bytes, previous: bytes) -> str:
        if not self.fs.exists("config.py"):
            raise DeviceError("the app is not on the camera (no config.py): flash it first "
                              "(host_tools flash)")
        self.fs.write_file(self.STAGED, data)
        if self.fs.sha256(self.STAGED) != hashlib.sha256(data).hexdigest():
            self.fs.remove(self.STAGED)
            raise DeviceError("the config arrived damaged on the camera; nothing was changed")
        # The app's own check, on the camera, with its real frame sizes (output kept under the 512-byte
        # stdout buffer: the first problems only).
        out = self.fs.exec(
            "import config, cam\n"
            f"f = open({self.STAGED!r}, 'rb')\nd = f.read()\nf.close()\n"
            "f = open('model.txt', 'rb')\nt = f.read().decode('utf-8')\nf.close()\n"
            "lab = [s.strip() for s in t.split('\\n') if s.strip()]\n"
            "c, e = config.parse(d, lab, cam.available_framesizes(config.FRAMESIZES))\n"
            "print('TUNE-CHECK ' + ('ok' if not e else '; '.join(e[:3])[:300]))\n")
        mark = "TUNE-CHECK "
        verdict = next((ln[len(mark):] for ln in out.splitlines() if ln.startswith(mark)), None)
        if verdict != "ok":
            self.fs.remove(self.STAGED)
            raise DeviceRefused(f"the camera refused the config: {verdict or out.strip()[-200:]}; "
                                "config.json was not changed")
        self.fs.rename(self.STAGED, "config.json")
        return "the camera checked it and the app started again on it"

    def finish(self) -> None:
        self.dev.restart_app()  # the file operations stopped main.py


def _ops(dev: Device) -> Ops:
    return LinuxOps(dev) if dev.board == "rv1103" else OpenMVOps(dev)


def _entries(ops: Ops) -> list[str]:
    return sorted(n for n in ops.listdir(ops.history_dir) if _ENTRY.match(n))


def _add(ops: Ops, entries: list[str], data: bytes) -> list[str]:
    number = int(_ENTRY.match(entries[-1]).group(1)) + 1 if entries else 1  # type: ignore[union-attr]
    name = f"{number:04d}.json"
    ops.write(f"{ops.history_dir}/{name}", data)
    entries = entries + [name]
    while len(entries) > KEEP:
        ops.remove(f"{ops.history_dir}/{entries.pop(0)}")
    return entries


def _mkdir_once(ops: Ops) -> None:
    try:
        ops.mkdir(ops.history_dir)
    except (OSError, DeviceError):
        pass  # it exists


def apply_bytes(dev: Device, data: bytes, check_on_host: bool = True) -> dict:
    """Check, switch, record in the history. check_on_host=False only to test the device's own check."""
    ops = _ops(dev)
    try:
        labels = ops.labels()
        if check_on_host:
            configs.validate(dev.board, data, labels, ops.manifest())
        previous = ops.read_config()
        entries = _entries(ops)
        if not entries:
            _mkdir_once(ops)
            if previous:
                entries = _add(ops, entries, previous)  # the config in force before the first apply
        note = ops.switch(data, previous)
        entries = _add(ops, entries, data)
    finally:
        ops.finish()
    return {"device": str(dev.name), "board": dev.board, "emulated": dev.emulated, "history": entries[-1],
            "message": f"applied to {dev.description}: {note}; history entry {entries[-1]} "
                       f"(`host_tools tune rollback --device {dev.name}` goes back)"}


def apply_file(name: DeviceName, path: Path, protocol: str = "auto") -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > 65536:
        raise configs.ConfigRefused(f"config refused: {path} is {len(data)} bytes; a config is at most 65536")
    with open_device(name, protocol) as dev:
        console.info(f"applying {path} to {dev.description}")
        return apply_bytes(dev, data)


def rollback_device(dev: Device) -> dict:
    ops = _ops(dev)
    try:
        labels = ops.labels()
        entries = _entries(ops)
        current = ops.read_config()
        if entries and ops.read(f"{ops.history_dir}/{entries[-1]}") != current:
            target = entries[-1]  # config.json was changed outside tune: back to the last applied one
            drop = []
        elif len(entries) >= 2:
            target, drop = entries[-2], [entries[-1]]
        else:
            raise RefusedError("no earlier config in the device's history (tune apply records one per apply)")
        data = ops.read(f"{ops.history_dir}/{target}")
        configs.validate(dev.board, data, labels, ops.manifest())
        note = ops.switch(data, current)
        for name in drop:
            ops.remove(f"{ops.history_dir}/{name}")
    finally:
        ops.finish()
    return {"device": str(dev.name), "board": dev.board, "restored": target,
            "config": data.decode("utf-8", "replace"),
            "message": f"rolled back {dev.description} to history entry {target}: {note}"}


def rollback(name: DeviceName, protocol: str = "auto") -> dict:
    with open_device(name, protocol) as dev:
        return rollback_device(dev)


def history(name: DeviceName, protocol: str = "auto") -> list[dict]:
    with open_device(name, protocol) as dev:
        ops = _ops(dev)
        try:
            out = []
            for entry in _entries(ops):
                data = ops.read(f"{ops.history_dir}/{entry}")
                try:
                    cfg = json.loads(data)
                    keys = ("thresholds", "penalty", "k", "hysteresis", "threshold", "smoothing")
                    summary = json.dumps({k: cfg[k] for k in keys if k in cfg})
                except (ValueError, TypeError):
                    summary = "(not JSON)"
                out.append({"name": entry, "summary": summary})
            return out
        finally:
            if dev.board == "openmv":
                ops.finish()
