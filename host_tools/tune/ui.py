"""`tune ui`: a local page to try settings on stored scores, see their figures and apply them.

One page (static/), a JSON API and the session's images, served by the standard library on 127.0.0.1 by
default. Requests must name a loopback host or the bound address (the watch page's DNS-rebinding guard),
and the two that change a device (apply, undo) must carry the page's token in a header, which a page of
another site can neither read nor send without a CORS preflight that is never granted.

  GET  /api/state            labels, knobs (range, value), the setting in force, the token
  GET  /api/eval?KNOB=V&...  figures, confusion matrix, curves with the operating point, the frames whose
                             decision changed since the previous evaluation
  GET  /frame/N.jpg, /crop/N/J.jpg   a frame of the session and a crop of it (RV1103)
  POST /api/apply, /api/undo  push the setting to --device (tune apply), roll back (tune rollback)
"""

from __future__ import annotations

import io
import json
import secrets
import threading
from functools import partial
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image

from host_tools.devices.names import DeviceName
from host_tools.errors import HostToolsError, UsageError
from host_tools.tune import configs
from host_tools.tune.decide import Setting
from host_tools.tune.sweep import Sweeper
from host_tools.watch.server import LocalPageHandler, allowed_hosts, host_allowed

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"/": ("tune.html", "text/html; charset=utf-8"),
         "/tune.js": ("tune.js", "text/javascript; charset=utf-8"),
         "/tune.css": ("tune.css", "text/css; charset=utf-8")}
MAX_CHANGED = 48  # frames listed per move
MAX_BODY = 4096


class TuneState:
    """The sweeper, the setting in force on the device (or the session's config) and the last evaluation."""

    def __init__(self, sw: Sweeper, device: DeviceName | None, protocol: str) -> None:
        self.sw = sw
        self.device = device
        self.protocol = protocol
        self.token = secrets.token_hex(16)
        self.lock = threading.Lock()
        self.applied = sw.current()
        self.last = sw.decisions(self.applied)
        self.n_crops = len(sw.session.frames[0].scores)

    def knobs(self) -> list[dict]:
        s, sw = self.applied, self.sw
        if sw.board == "openmv":
            return [{"id": "threshold", "label": "threshold", "min": 0, "max": 1, "step": 0.01,
                     "value": s.thresholds[0]},
                    {"id": "smoothing", "label": "smoothing (frames)", "min": 1, "max": 30, "step": 1,
                     "value": s.smoothing}]
        out = [{"id": f"thr{i}", "label": f"threshold {lab}", "min": 0, "max": 1, "step": 0.01,
                "value": round(s.thresholds[i], 4)} for i, lab in enumerate(sw.labels)]
        out += [{"id": "penalty", "label": "penalty per dissenting crop", "min": 0, "max": 1, "step": 0.01,
                 "value": round(s.penalty, 4)},
                {"id": "k", "label": f"k (crops that must agree, of {self.n_crops})", "min": 1,
                 "max": self.n_crops, "step": 1, "value": s.k},
                {"id": "hysteresis", "label": "hysteresis (frames)", "min": 0, "max": 30, "step": 1,
                 "value": s.hysteresis}]
        return out

    def setting_from(self, q: dict[str, str]) -> Setting:
        sw = self.sw

        def num(key: str, default: float, lo: float, hi: float) -> float:
            try:
                v = float(q.get(key, default))
            except ValueError:
                raise UsageError(f"{key}: not a number") from None
            if not lo <= v <= hi:
                raise UsageError(f"{key}: {v:g} is outside {lo:g}..{hi:g}")
            return v

        s = self.applied
        if sw.board == "openmv":
            return Setting((num("threshold", s.thresholds[0], 0, 1),),
                           smoothing=int(num("smoothing", s.smoothing, 1, 30)))
        thr = tuple(num(f"thr{i}", s.thresholds[i], 0, 1) for i in range(len(sw.labels)))
        return Setting(thr, num("penalty", s.penalty, 0, 1), int(num("k", s.k, 1, self.n_crops)),
                       int(num("hysteresis", s.hysteresis, 0, 1000)))

    def state(self) -> dict:
        sess = self.sw.session
        return {"token": self.token, "board": self.sw.board, "labels": self.sw.labels, "knobs": self.knobs(),
                "frames": len(sess.frames), "emulated": sess.emulated, "source": sess.source,
                "device": str(self.device) if self.device else None,
                "applied": self.applied.as_dict(self.sw.board, self.sw.labels)}

    def evaluate(self, s: Setting) -> dict:
        sw = self.sw
        with self.lock:
            d = sw.decisions(s)
            ev = sw.evaluate(s)
            previous, self.last = self.last, d
        names = sw.labels + ["none"]
        quiet = sw.quiet
        changed = []
        for i in np.nonzero(d != previous)[0][:MAX_CHANGED]:
            fr = sw.session.frames[int(i)]
            changed.append({"frame": int(i), "truth": fr.truth,
                            "before": names[int(previous[i])], "after": names[int(d[i])],
                            "image": f"/frame/{int(i)}.jpg" if fr.image else None,
                            "crops": [f"/crop/{int(i)}/{j}.jpg" for j in range(len(fr.crops))]
                            if fr.image else []})
        curves = {lab: sw.curve(c, s) for c, lab in enumerate(sw.labels)}
        points = {}
        f = ev.figures
        for c, lab in enumerate(sw.labels):
            neg = sum(sum(row) for i, row in enumerate(f.confusion) if i != c)
            fp = sum(row[c] for i, row in enumerate(f.confusion) if i != c)
            points[lab] = {"fpr": fp / neg if neg else 0.0, "tpr": f.recall[c], "precision": f.precision[c]}
        return {"setting": s.as_dict(sw.board, sw.labels), "describe": s.describe(sw.board, sw.labels),
                "figures": f.as_dict(sw.labels), "columns": names,
                "quiet": sw.labels[quiet] if quiet >= 0 else None,
                "curves": curves, "points": points, "changed": changed,
                "changed_total": int(np.sum(d != previous))}

    def image(self, index: int, crop: int | None) -> bytes:
        frames = self.sw.session.frames
        if not 0 <= index < len(frames) or frames[index].image is None:
            raise KeyError(index)
        path = frames[index].image
        # Always decoded and encoded again: whatever a session file names, only pictures leave the server.
        with Image.open(path) as im:
            if im.width * im.height > 40_000_000:
                raise ValueError("too many pixels")
            im = im.convert("RGB")
            if crop is not None:
                x, y, w, h = frames[index].crops[crop]
                im = im.crop((x, y, x + w, y + h))
            im.thumbnail((160, 160) if crop is not None else (640, 480))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=85)
            return buf.getvalue()

    def apply(self, s: Setting, undo: bool) -> dict:
        from host_tools.devices.connect import open_device
        from host_tools.tune.apply import apply_bytes, rollback_device

        if self.device is None:
            raise UsageError("no device: start the page with --device to apply settings")
        with open_device(self.device, self.protocol) as dev:
            if dev.board != self.sw.board:
                raise UsageError(f"{self.device} is a {dev.board} board; these scores are from a "
                                 f"{self.sw.board}")
            if undo:
                out = rollback_device(dev)
            else:
                out = apply_bytes(dev, configs.render(self.sw.config_for(s)))
        if undo:
            self.applied = configs.setting_of(self.sw.board, json.loads(out["config"]), self.sw.labels)
        else:
            self.applied = s
        return {"ok": True, "message": out["message"], "applied": self.applied.as_dict(self.sw.board,
                                                                                       self.sw.labels)}


class Handler(LocalPageHandler):
    server_version = "host_tools-tune"
    timeout = 30.0
    state: TuneState

    def _json(self, obj: dict, status: int = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        path = url.path
        try:
            if not host_allowed(self.headers.get("Host"), *self.hosts):
                self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host", "text/plain")
            elif path in FILES:
                name, ctype = FILES[path]
                self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), ctype)
            elif path == "/api/state":
                self._json(self.state.state())
            elif path == "/api/eval":
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                self._json(self.state.evaluate(self.state.setting_from(q)))
            elif path.startswith(("/frame/", "/crop/")) and path.endswith(".jpg"):
                parts = path[:-4].split("/")[2:]
                crop = int(parts[1]) if path.startswith("/crop/") and len(parts) == 2 else None
                self._send(HTTPStatus.OK, self.state.image(int(parts[0]), crop), "image/jpeg")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        except UsageError as exc:
            self._json({"ok": False, "error": str(exc)}, HTTPStatus.BAD_REQUEST)
        except (KeyError, ValueError, IndexError, OSError, Image.DecompressionBombError):
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if not host_allowed(self.headers.get("Host"), *self.hosts):
            return self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host", "text/plain")
        if self.headers.get("X-Tune-Token") != self.state.token:
            return self._send(HTTPStatus.FORBIDDEN, b"missing or wrong token", "text/plain")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"body too large", "text/plain")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError
            q = {str(k): str(v) for k, v in body.items()}
        except ValueError:
            return self._json({"ok": False, "error": "the body must be a JSON object"},
                              HTTPStatus.BAD_REQUEST)
        try:
            if path == "/api/apply":
                self._json(self.state.apply(self.state.setting_from(q), undo=False))
            elif path == "/api/undo":
                self._json(self.state.apply(self.state.applied, undo=True))
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        except HostToolsError as exc:
            self._json({"ok": False, "error": str(exc)})
        except OSError as exc:
            self._json({"ok": False, "error": f"the device: {exc}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def start(sw: Sweeper, host: str, port: int, device: DeviceName | None, protocol: str = "auto"):
    state = TuneState(sw, device, protocol)
    try:
        server = _Server((host, port), partial(Handler, state=state, hosts=allowed_hosts(host)))
    except OSError as exc:
        raise UsageError(f"cannot serve the page on {host}:{port}: {exc.strerror or exc}") from None
    threading.Thread(target=server.serve_forever, name="tune-http", daemon=True).start()
    return server, state


def serve(sw: Sweeper, host: str, port: int, device: DeviceName | None, protocol: str, out) -> int:
    server, _state = start(sw, host, port, device, protocol)
    h, p = server.server_address[:2]
    print(f"tune page: http://{h}:{p}/   ({len(sw.session.frames)} frames, {sw.board}; Ctrl-C to stop)",
          file=out, flush=True)
    try:
        threading.Event().wait()
    finally:
        server.shutdown()
    return 0
