"""Board link over Protocol V2 (firmware 5): exec on the stdin channel, output read from the stdout channel.

The stdout channel has no end-of-script marker, so each script is wrapped: it prints a random token + "A"
before running, then token + "E" and the traceback if it raised, and token + "Z" at the end. Output before
"A" (e.g. the last lines of a main.py that was just stopped) is discarded. The user's source is passed to
exec() as a string literal so that even a SyntaxError is caught and reported between the markers.
"""

from __future__ import annotations

import secrets
import time

from host_tools.board import DeviceExecError
from host_tools.errors import DeviceError


def wrap_script(source: str, token: str) -> str:
    """The script actually sent: markers around exec(source) (MicroPython: sys.print_exception)."""
    return (
        f"print('{token}'+'A')\n"
        "try:\n"
        f" exec({source!r})\n"
        "except BaseException as _e:\n"
        " import sys\n"
        f" print('{token}'+'E')\n"
        " sys.print_exception(_e)\n"
        f"print('{token}'+'Z')\n"
    )


def split_output(text: str, token: str) -> tuple[str, str | None] | None:
    """(output, traceback or None) once the end marker arrived, else None."""
    start, err, end = token + "A\n", token + "E\n", token + "Z"
    text = text.replace("\r\n", "\n")
    i = text.find(start)
    if i < 0:
        return None
    body = text[i + len(start) :]
    j = body.find(end)
    if j < 0:
        return None
    body = body[:j]
    k = body.find(err)
    if k < 0:
        return body, None
    return body[:k], body[k + len(err) :]


class V2Link:
    """A Link (see board.py) on a connected V2Client."""

    def __init__(self, client, port: str) -> None:
        self.client = client
        self.description = f"Protocol V2 on {port}"
        self.client.stop_script()  # main.py would otherwise keep the camera busy
        self._drain()

    def _drain(self) -> None:
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            if not self.client.read_stdout():
                time.sleep(0.02)

    def exec(self, source: str, timeout: float) -> str:
        token = "@@" + secrets.token_hex(6)
        self.client.exec_script(wrap_script(source, token))
        buf = ""
        deadline = time.monotonic() + timeout
        while True:
            chunk = self.client.read_stdout()
            if chunk:
                buf += chunk.decode("utf-8", "replace")
                done = split_output(buf, token)
                if done is None and token + "Z" in buf:
                    raise DeviceError("a script's output overran the camera's stdout buffer (512 bytes on "
                                      "the H7) before it could be read; print less per script")
                if done is not None:
                    out, tb = done
                    if tb is not None:
                        raise DeviceExecError(tb, out)
                    return out
            elif time.monotonic() > deadline:
                raise DeviceError(f"the camera did not finish a script within {timeout:.0f} s "
                                  f"(last output: {buf[-200:]!r})")
            else:
                time.sleep(0.002)

    def reset(self) -> None:
        self.client.reset()

    def close(self) -> None:
        self.client.close()
