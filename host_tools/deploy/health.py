"""The health check after a switch: N result lines within T seconds on the board program's TCP port.

The port is reached through the link (adb's tcp: service, an ssh direct-tcpip channel), as `adb forward`
or `ssh -L` would, so nothing but the link needs to be open on the board. A line counts when it is a
result of the result schema (host_tools/results): the board program writes one per classified frame. The
program may still be starting (the NPU loading the model) when the check begins, so a refused connection
is retried until the deadline.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from host_tools.devices.linux import LinuxLink
from host_tools.errors import DeviceError
from host_tools.results import SchemaError, parse_result


@dataclass
class Health:
    ok: bool
    lines: int  # result lines seen
    seconds: float
    why: str = ""  # when not ok
    last: dict | None = None  # the last result line


def _results(buf: bytes) -> tuple[list[dict], bytes]:
    """The result lines (result schema, through its one parser) among the complete lines of `buf`, as the
    board sent them less any preview JPEG; a line that breaks the schema is not a healthy one."""
    *complete, rest = buf.split(b"\n")
    out = []
    for raw in complete:
        try:
            r = parse_result(raw.decode("utf-8", "replace"))
        except SchemaError:
            continue
        if r is not None:
            value = json.loads(r.line)
            value.pop("preview", None)  # the report keeps the result, not a JPEG
            out.append(value)
    return out, rest


def check(link: LinuxLink, port: int, lines: int = 3, timeout: float = 30.0) -> Health:
    start = time.monotonic()
    deadline = start + timeout
    seen: list[dict] = []
    why = f"nothing listened on the board's port {port}"
    first = True
    while time.monotonic() < deadline:
        try:
            stream = link.open_tcp(port)
        except DeviceError as exc:
            why = f"no connection to the board's port {port} ({exc})"
            time.sleep(0.5)
            continue
        buf, skip_first = b"", first  # the first line may have begun before we connected
        first = False
        try:
            while time.monotonic() < deadline:
                buf += stream.read(min(0.5, max(0.05, deadline - time.monotonic())))
                got, buf = _results(buf)
                if skip_first and got:
                    got, skip_first = got[1:], False
                seen += got
                if len(seen) >= lines:
                    return Health(True, len(seen), time.monotonic() - start, last=seen[-1])
        except DeviceError as exc:
            why = f"the board program closed its port {port} after {len(seen)} result line(s) ({exc})"
        finally:
            stream.close()
        time.sleep(0.3)
    if seen:
        why = f"only {len(seen)} of {lines} result lines in {timeout:.0f} s"
    return Health(False, len(seen), time.monotonic() - start, why, seen[-1] if seen else None)
