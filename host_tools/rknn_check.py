"""What an .rknn model must be for an RV1103 board, checked on the host before a byte is sent to it.

- built by an rknn-toolkit2 no newer than the board's RKNN runtime (librknnmrt): an older runtime refuses a
  newer model at rknn_init (-6, "Invalid RKNN model version"), so the fix is to install a newer runtime or
  rebuild the model; the board program makes the same check at start (cpp_runtime/src/rknn_model.cpp);
- small enough for the free space where it goes (some images leave a few hundred KiB on /userdata).

The toolkit's version is read from the model itself: a .rknn ends with the JSON description the toolkit
appends ({"target_platform": [...], ..., "version": "2.5.0"}). The board's runtime version comes from the
board (`rv1103_app --dump-attrs`: sdk.api_version), so a caller checks it when it knows it.
"""

from __future__ import annotations

import re
from pathlib import Path

from host_tools.errors import RefusedError

TAIL_BYTES = 1 << 20  # the description sits at the end of the file
_DESCRIPTION = re.compile(rb'"target_platform".*?"version":"([^"\x00-\x1f]{1,64})"', re.S)
_LEADING = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def toolkit_version(model: Path) -> str | None:
    """The rknn-toolkit2 version that built `model` ("2.5.0"), None when the file does not say."""
    with open(model, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read()
    found = list(_DESCRIPTION.finditer(tail))
    return found[-1].group(1).decode("ascii", "replace") if found else None


def version_tuple(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) of "1.6.0 (9a7b5d24c@2023-12-13)", "v0.9.8", "2.3"; (0, 0, 0) if none."""
    m = _LEADING.match(text.strip())
    if not m:
        return (0, 0, 0)
    return tuple(int(g) if g else 0 for g in m.groups())  # type: ignore[return-value]


def check_runtime(model: Path, runtime_version: str, built: str | None = None) -> None:
    """RefusedError when the board's runtime is older than the toolkit that built `model` (`built`, when
    the caller has read it from the model already)."""
    built = built or toolkit_version(model)
    if built is None or not runtime_version.strip():
        return
    if version_tuple(built) > version_tuple(runtime_version):
        runtime = runtime_version.split()[0]
        raise RefusedError(
            f"{model.name} was built by rknn-toolkit2 {built}, newer than the board's RKNN runtime "
            f"(librknnmrt {runtime}): install librknnmrt.so {built} or newer on the board (rknn-toolkit2 "
            f"v{built}: rknpu2/runtime/Linux/librknn_api/armhf-uclibc), or rebuild the model with "
            f"rknn-toolkit2 {runtime}; nothing was sent")


_LOGGED_RUNTIME = re.compile(r"; runtime librknnmrt ([^,;?][^,;]*),")


def runtime_from_log(lines: list[str]) -> str | None:
    """The RKNN runtime version the board program last logged at start ("...; runtime librknnmrt 1.6.0
    (...), driver ..."), None when it never ran on the NPU there (or logged "?")."""
    for line in reversed(lines):
        m = _LOGGED_RUNTIME.search(line)
        if m:
            return m.group(1).strip()
    return None


def check_space(model: Path, free_kib: int, where: str) -> None:
    """RefusedError when `where` (free_kib KiB free, as `df -k` says) cannot hold the model twice over
    (the new copy is written beside the old one before it replaces it)."""
    need_kib = 2 * ((model.stat().st_size + 1023) // 1024)
    if free_kib < need_kib:
        raise RefusedError(
            f"{model.name} needs {need_kib} KiB free on the board's {where} (twice its size), which has "
            f"{free_kib} KiB: install the app where `df -k` shows room (APP_DIR, e.g. /root/classifier on "
            "an SD-card image)")
