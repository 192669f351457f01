"""SSH clients against the emulated Luckfox Pico: asyncssh (exec, SFTP, port forwarding, key checks) and,
where it is installed, OpenSSH's own `ssh`/`sftp`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess

import asyncssh
import pytest


def run(coro):
    return asyncio.run(coro)


def connect(board, key=None, username="root", **kw):
    return asyncssh.connect("127.0.0.1", board.ssh_port, username=username,
                            known_hosts=board.info["ssh_known_hosts"],
                            client_keys=[key or board.info["ssh_key"]], **kw)


def test_exec_returns_output_and_exit_status(board):
    async def go():
        async with connect(board) as conn:
            ok = await conn.run("echo $((6*7)); pwd; hostname", check=False)
            bad = await conn.run("echo oops >&2; exit 7", check=False)
            return ok, bad

    ok, bad = run(go())
    assert ok.exit_status == 0 and ok.stdout.splitlines() == ["42", "/root", "luckfox"]
    assert bad.exit_status == 7 and bad.stderr.strip() == "oops"


def test_sftp_put_and_get_5_mb_byte_exact(board, tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 7)
    src, back = tmp_path / "big.bin", tmp_path / "back.bin"
    src.write_bytes(data)

    async def go():
        async with connect(board) as conn, conn.start_sftp_client() as sftp:
            await sftp.put(str(src), "/userdata/ssh_big.bin")
            await sftp.get("/userdata/ssh_big.bin", str(back))
            return await conn.run("sha256sum /userdata/ssh_big.bin", check=True)

    digest = run(go()).stdout.split()[0]
    assert (board.root / "userdata" / "ssh_big.bin").read_bytes() == data
    assert back.read_bytes() == data
    assert digest == hashlib.sha256(data).hexdigest()


def test_port_forwarding_reaches_the_board_programs_port(board):
    async def go():
        async with connect(board) as conn:
            reader, writer = await conn.open_connection("127.0.0.1", 7070)
            lines = [await asyncio.wait_for(reader.readline(), 30) for _ in range(3)]
            writer.close()
            return lines

    recs = [json.loads(ln) for ln in run(go())]
    assert all(r["label"] in ("bird", "not_bird") and r["crops"] for r in recs)
    assert [r["frame"] for r in recs] == sorted(r["frame"] for r in recs)


def test_forwarding_to_a_closed_port_is_refused(board):
    async def go():
        async with connect(board) as conn:
            await conn.open_connection("127.0.0.1", 7999)

    with pytest.raises(asyncssh.ChannelOpenError):
        run(go())


def test_a_wrong_key_and_another_user_are_refused(board, tmp_path):
    other = tmp_path / "other_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(other))

    async def login(**kw):
        async with connect(board, **kw) as conn:
            return (await conn.run("true")).exit_status

    assert run(login()) == 0  # the board's own key opens it
    with pytest.raises(asyncssh.PermissionDenied):
        run(login(key=str(other)))
    with pytest.raises(asyncssh.PermissionDenied):
        run(login(username="admin"))  # the right key, but only root logs in

    async def password():
        await asyncssh.connect("127.0.0.1", board.ssh_port, username="root", password="luckfox",
                               client_keys=None, known_hosts=board.info["ssh_known_hosts"])

    with pytest.raises(asyncssh.PermissionDenied):
        run(password())


def test_commands_cannot_read_outside_the_device_root(board):
    async def go():
        async with connect(board) as conn:
            return (await conn.run("cat /../../etc/hostname", check=True)).stdout.strip()

    assert run(go()) == "luckfox"


@pytest.mark.skipif(not shutil.which("ssh"), reason="OpenSSH's ssh client is not installed")
def test_openssh_client(board, tmp_path):
    opts = ["-o", f"UserKnownHostsFile={board.info['ssh_known_hosts']}", "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-i", board.info["ssh_key"]]
    r = subprocess.run(["ssh", *opts, "-p", str(board.ssh_port), "root@127.0.0.1",
                        "cat /etc/hostname; exit 3"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and r.stdout.strip() == "luckfox", r.stderr
    if shutil.which("sftp"):
        (tmp_path / "f.txt").write_text("through OpenSSH's sftp\n")
        script = f"put {tmp_path / 'f.txt'} /userdata/f.txt\nget /userdata/f.txt {tmp_path / 'g.txt'}\n"
        r = subprocess.run(["sftp", *opts, "-P", str(board.ssh_port), "-b", "-", "root@127.0.0.1"],
                           input=script, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "g.txt").read_text() == "through OpenSSH's sftp\n"
