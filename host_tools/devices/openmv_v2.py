"""Board link over Protocol V2 (firmware 5): exec on the stdin channel, output read from the stdout channel.

The stdout channel has no end-of-script marker, so each script is wrapped: it prints a random token + "A"
before running, then token + "E" and the traceback if it raised, and token + "Z" + the number of bytes
the script printed at the end. Output before "A" (e.g. the last lines of a main.py that was just stopped)
is discarded. The user's source is passed to exec() as a string literal so that even a SyntaxError is
caught and reported between the markers. The byte count exposes output that the camera's small stdout
buffer overwrote before the host read it, wherever in the output that happened.
"""

from __future__ import annotations

import re
import secrets
import time

from host_tools.devices.micropython import DeviceExecError
from host_tools.errors import DeviceError

OVERRUN = ("a script's output overran the camera's stdout buffer (512 bytes on the H7) before it could be "
           "read; print less per script")
_END_COUNT = re.compile(r"(\d+)\r?\n")


def wrap_script(source: str, token: str) -> str:
    """The script actually sent: markers around exec(source), with a print that counts the bytes it writes
    (MicroPython: sys.print_exception; the copied globals keep the camera's builtins and modules)."""
    return (
        "_n=[0]\n"
        "def _p(*a,sep=' ',end='\\n'):\n"
        " s=sep.join([str(x) for x in a])+end\n"
        " _n[0]+=len(s.encode())\n"
        " print(s,end='')\n"
        "_g=dict(globals())\n"
        "_g['print']=_p\n"
        f"print('{token}'+'A')\n"
        "try:\n"
        f" exec({source!r},_g)\n"
        "except BaseException as _e:\n"
        " import sys\n"
        f" print('{token}'+'E')\n"
        " sys.print_exception(_e)\n"
        f"print('{token}'+'Z'+str(_n[0]))\n"
    )


def _drop_newline(text: str) -> str:
    return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text


def split_output(text: str, token: str) -> tuple[str, str | None] | None:
    """(output, traceback or None) once the end marker and its byte count arrived, else None.

    Raises DeviceError when fewer bytes arrived than the script printed (a stdout buffer overrun)."""
    i = text.find(token + "A")
    z = text.find(token + "Z", i + 1 if i >= 0 else 0)
    if z < 0:
        return None
    m = _END_COUNT.match(text, z + len(token) + 1)
    if m is None:
        return None
    if i < 0:
        raise DeviceError(OVERRUN)
    body = _drop_newline(text[i + len(token) + 1 : z])
    k = body.find(token + "E")
    out, tb = (body, None) if k < 0 else (body[:k], _drop_newline(body[k + len(token) + 1 :]))
    if len(out.encode("utf-8")) < int(m.group(1)):  # a cooked "\r\n" only adds bytes
        raise DeviceError(OVERRUN)
    norm = lambda t: t.replace("\r\n", "\n")  # noqa: E731
    return norm(out), None if tb is None else norm(tb)


class V2ScriptLink:
    """A Link (see micropython.py) on a connected V2Client: scripts in, their output back."""

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
        raw = b""  # decoded as a whole: a character may straddle two reads
        buf = ""
        deadline = time.monotonic() + timeout
        while True:
            chunk = self.client.read_stdout()
            if chunk:
                raw += chunk
                buf = raw.decode("utf-8", "replace")
                done = split_output(buf, token)
                if done is not None:
                    out, tb = done
                    if tb is not None:
                        raise DeviceExecError(tb, out)
                    return out
            elif time.monotonic() > deadline:
                last = f"last output: {buf[-200:]!r}" if buf else "no output at all"
                raise DeviceError(f"the camera did not finish a script within {timeout:g} s ({last})")
            else:
                time.sleep(0.002)

    def reset(self) -> None:
        self.client.reset()

    def close(self) -> None:
        self.client.close()
