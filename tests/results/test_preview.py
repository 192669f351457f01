"""The optional `preview` of an RV1103 result line: parsed into the frame's JPEG, or refused as broken."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from host_tools.results import SchemaError, parse_line
from host_tools.results.schema import MAX_PREVIEW_BASE64


def jpeg(w: int = 16, h: int = 12) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


def line(**preview) -> str:
    rec = {"schema": 1, "board": "rv1103", "frame": 7, "label": "bird", "score": 0.9,
           "scores": {"bird": 0.9, "not_bird": 0.1}, "raw": {"label": "bird", "score": 0.9},
           "ms": {"capture": 1.0, "inference": 2.0, "total": 3.5}, "fps": 9.0}
    if preview:
        rec["preview"] = preview
    return json.dumps(rec)


def test_a_preview_gives_the_frames_jpeg_and_sizes() -> None:
    data = jpeg()
    r = parse_line(line(jpeg=base64.b64encode(data).decode(), w=16, h=12, frame_w=640, frame_h=480, ms=0.4))
    assert r.preview is not None and r.preview.jpeg == data
    p = r.preview
    assert (p.width, p.height, p.frame_width, p.frame_height) == (16, 12, 640, 480)
    assert parse_line(line()).preview is None  # most lines carry none


@pytest.mark.parametrize("bad, why", [
    ({"jpeg": "not base64 at all!"}, "base64"),
    ({"jpeg": base64.b64encode(b"GIF89a....").decode()}, "not a JPEG"),
    ({"jpeg": "A" * (MAX_PREVIEW_BASE64 + 4)}, "small JPEG"),
    ({"w": "16"}, "preview.w"),
])
def test_a_broken_preview_is_a_schema_error(bad, why) -> None:
    fields = {"jpeg": base64.b64encode(jpeg()).decode(), "w": 16, "h": 12, "frame_w": 640, "frame_h": 480,
              "ms": 0.4, **bad}
    with pytest.raises(SchemaError, match=why):
        parse_line(line(**fields))
