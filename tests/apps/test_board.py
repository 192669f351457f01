"""Board file operations over Protocol V2 against the emulated camera: results checked on its filesystem."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from host_tools.devices.micropython import Board, DeviceExecError
from host_tools.devices.openmv import open_board


@pytest.fixture
def board(camera):
    b = open_board(camera.port, "v2")
    yield b
    b.close()


def test_write_read_hash_on_the_device(board: Board, camera) -> None:
    data = os.urandom(5000) + bytes(range(256))  # binary, not a whole number of chunks
    seen: list[tuple[int, int]] = []
    board.write_file("blob.bin", data, progress=lambda d, t: seen.append((d, t)))
    assert (camera.fs / "blob.bin").read_bytes() == data
    assert seen[-1] == (len(data), len(data)) and len(seen) == -(-len(data) // 1024)
    assert board.sha256("blob.bin") == hashlib.sha256(data).hexdigest()
    assert board.read_file("blob.bin") == data
    assert board.stat("blob.bin")[6] == len(data)


def test_rename_remove_mkdir_ls(board: Board, camera) -> None:
    board.write_file("a.txt", b"hello")
    board.rename("a.txt", "b.txt")
    assert not (camera.fs / "a.txt").exists() and (camera.fs / "b.txt").read_bytes() == b"hello"
    board.mkdir("sub")
    assert (camera.fs / "sub").is_dir()
    entries = {e.name: e for e in board.ls()}
    assert entries["sub"].is_dir and not entries["b.txt"].is_dir and entries["b.txt"].size == 5
    for i in range(9):  # more entries than one ls page
        (camera.fs / f"f{i}.txt").write_bytes(b"x" * i)
    assert {e.name for e in board.ls()} == {p.name for p in camera.fs.iterdir()}
    board.remove("b.txt")
    assert not (camera.fs / "b.txt").exists()
    assert board.exists("sub") and not board.exists("b.txt")


def test_device_errors_become_host_oserrors(board: Board) -> None:
    with pytest.raises(FileNotFoundError) as exc:
        board.stat("missing.bin")
    assert exc.value.errno == errno.ENOENT and exc.value.filename == "missing.bin"
    with pytest.raises(FileNotFoundError):
        board.remove("missing.bin")
    with pytest.raises(FileNotFoundError):
        board.sha256("missing.bin")
    board.mkdir("d")
    with pytest.raises(FileExistsError) as exc2:
        board.mkdir("d")
    assert exc2.value.errno == errno.EEXIST
    with pytest.raises(DeviceExecError) as exc3:
        board.exec("x = 1 / 0")
    assert "ZeroDivisionError" in str(exc3.value)


def test_eval_and_free_space(board: Board, camera) -> None:
    assert board.eval("[1 + 1, 'a' * 3, b'\\x00\\xff']") == [2, "aaa", b"\x00\xff"]
    before = board.statvfs()
    board.write_file("fill.bin", b"\0" * 20000)
    after = board.statvfs()
    assert before.block_size > 0 and before.free_bytes - after.free_bytes >= 20000
    assert "emulated" in board.machine()


def test_output_larger_than_the_stdout_buffer_is_reported(board: Board) -> None:
    from host_tools.errors import DeviceError

    # one print larger than the 512-byte buffer loses bytes however fast the host reads
    with pytest.raises(DeviceError, match="overran the camera's stdout buffer"):
        board.exec("print('x' * 600)")
    # many small prints: the host may keep up or not, but never returns a short answer as if complete
    try:
        out = board.exec("for i in range(200):\n print('%03d' % i + 'x' * 60)")
    except DeviceError as exc:
        assert "overran" in str(exc)
    else:
        assert out == "".join(f"{i:03d}" + "x" * 60 + "\n" for i in range(200))
    assert board.eval("6 * 7") == 42  # the link still works afterwards
