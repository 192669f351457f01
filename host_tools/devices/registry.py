"""Emulated boards running on this machine: each one leaves a small JSON file here while it runs.

`host_tools sim rv1103 --serve` and `host_tools sim openmv --pty` register themselves; `host_tools devices`
and `--device sim:...` read the entries. A file whose process is gone (killed without cleaning up) is
ignored and removed. The folder is $CAMCLASS_BOARDS_DIR, else $XDG_RUNTIME_DIR/camclass/boards, else
/tmp/camclass-<uid>/boards.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def boards_dir() -> Path:
    if os.environ.get("CAMCLASS_BOARDS_DIR"):
        return Path(os.environ["CAMCLASS_BOARDS_DIR"])
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "camclass" / "boards"
    return Path(tempfile.gettempdir()) / f"camclass-{os.getuid()}" / "boards"


def _started(pid: int) -> str:
    """The process's start time (clock ticks since boot): tells a live board from a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def register(info: dict) -> Path:
    folder = boards_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pid = os.getpid()
    entry = {**info, "pid": pid, "started": _started(pid)}
    path = folder / f"{pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry))
    tmp.replace(path)
    return path


def unregister(path: Path) -> None:
    path.unlink(missing_ok=True)


def running(kind: str | None = None) -> list[dict]:
    """The registered boards whose process is alive (`kind`: "sim:rv1103", "sim:openmv" or None for all)."""
    boards = []
    folder = boards_dir()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entry = json.loads(path.read_text())
            pid = int(entry["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _started(pid) or _started(pid) != entry.get("started"):
            path.unlink(missing_ok=True)  # its emulator is gone
            continue
        if kind is None or entry.get("device") == kind:
            boards.append(entry)
    return boards
