"""The emulated NPU's tensor service: one protocol (tensor_protocol.py), the twin of a .rknn found by content
hash through its model card, errors that leave the connection usable."""

from __future__ import annotations

import socket
import struct
import sys

import numpy as np
import pytest

from host_tools.model_manifest import load_manifest
from host_tools.paths import MODELS_DIR
from host_tools.sim.rv1103 import tensor_protocol as tp
from host_tools.sim.rv1103.model_twin import card_board_model, card_twin_onnx, default_card
from host_tools.sim.rv1103.tensor_server import Catalogue, TensorService
from host_tools.sim.rv1103.tensor_server import __file__ as SERVER

ort = pytest.importorskip("onnxruntime")
DEFAULT_CARD = default_card()


@pytest.fixture(scope="module")
def rknn() -> bytes:
    path = card_board_model(DEFAULT_CARD)
    if path is None:
        pytest.skip(f"the default model card {DEFAULT_CARD.name} lists no .rknn here")
    return path.read_bytes()


@pytest.fixture
def service(tmp_path):
    svc = TensorService("onnx", Catalogue(MODELS_DIR))
    unix = svc.listen(tmp_path / "npu.sock")
    yield tmp_path / "npu.sock"
    unix.close()


def test_the_twin_of_the_rknn_is_found_by_content(service, rknn):
    with tp.Client(service) as c:
        info = c.open(rknn)
        twin = card_twin_onnx(DEFAULT_CARD)
        assert info.about["twin"] == twin.name and info.about["model"].endswith(".rknn")
        assert info.about["labels"] == list(load_manifest(DEFAULT_CARD).labels)
        sess = ort.InferenceSession(str(twin), providers=["CPUExecutionProvider"])
        shape = sess.get_inputs()[0].shape  # [1, 3, S, S], raw 0..255 in the graph (card: mean 0, std 1)
        assert (info.h, info.w, info.c, info.outputs) == (shape[2], shape[3], 3, 2)
        rng = np.random.default_rng(3)
        for _ in range(3):
            x = rng.integers(0, 256, (info.h, info.w, 3), np.uint8)
            nchw = x.transpose(2, 0, 1)[None].astype(np.float32)
            want = sess.run(None, {sess.get_inputs()[0].name: nchw})[0]
            assert c.run(x) == pytest.approx(want.reshape(-1).tolist(), abs=1e-5)


def test_an_unknown_model_is_refused_with_the_reason(service):
    with tp.Client(service) as c, pytest.raises(tp.ServiceError, match="no model card .* lists"):
        c.open(b"not a model anyone listed")


def test_a_wrong_input_size_fails_and_the_connection_stays(service, rknn):
    with tp.Client(service) as c:
        info = c.open(rknn)
        with pytest.raises(tp.ServiceError, match=f"the model takes {info.h * info.w * 3}"):
            c.run(b"\0" * 10)
        assert len(c.run(np.zeros((info.h, info.w, 3), np.uint8))) == info.outputs
        with pytest.raises(tp.ServiceError, match="RUN before OPEN|unexpected"):
            c.request(tp.MODL)  # a reply tag sent by a client


def test_a_broken_stream_is_dropped(service):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(service))
        s.sendall(b"HACK" + struct.pack("<I", 0))
        assert s.recv(100) == b""  # unknown tag: the service closes the connection


def test_stdio_mode_is_the_same_protocol(rknn):
    argv = [sys.executable, SERVER, "--runtime", "onnx", "--model", str(card_twin_onnx(DEFAULT_CARD))]
    with tp.Client(argv=argv) as c:
        default = c.open(b"")  # the default model
        assert default.outputs == 2
        assert c.open(rknn).about["model"].endswith(".rknn")  # and the .rknn, by content
    with tp.Client(argv=[sys.executable, SERVER, "--model", "/nonexistent.onnx"]) as c:
        with pytest.raises(tp.ServiceError, match="model not found"):
            c.open(b"")


def test_wire_format():
    info = tp.ModelInfo(64, 48, 3, 5, {"runtime": "x"})
    assert tp.decode_model_info(tp.encode_model_info(info)) == info
    msg = tp.encode(tp.RUN, b"abc")
    assert msg[:4] == b"RUN " and struct.unpack("<I", msg[4:8])[0] == 3
    chunks = iter([msg[:8], msg[8:]])
    assert tp.read_message(lambda n: next(chunks)) == (tp.RUN, b"abc")
    cut = iter([msg[:8], b"a"])
    with pytest.raises(tp.ProtocolError, match="ended inside"):
        tp.read_message(lambda n: next(cut))
    with pytest.raises(tp.ProtocolError, match="exceeds"):
        tp.read_message(lambda n: b"OPEN" + struct.pack("<I", tp.MAX_PAYLOAD + 1))
