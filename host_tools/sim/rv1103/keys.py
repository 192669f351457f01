"""SSH keys of an emulated board, generated once per device root.

  <root>/etc/ssh/ssh_host_ed25519_key    the board's host key (on the board, as on a real one)
  <root>/root/.ssh/authorized_keys       the keys the board trusts for root
  <host dir>/id_ed25519(.pub)            a client key the board trusts, kept outside the board
  <host dir>/known_hosts                 the board's host key at its current address, for clients
"""

from __future__ import annotations

from pathlib import Path

import asyncssh

HOST_KEY = "etc/ssh/ssh_host_ed25519_key"
AUTHORIZED = "root/.ssh/authorized_keys"


def _private(path: Path) -> asyncssh.SSHKey:
    if path.is_file():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    path.chmod(0o600)
    key.write_public_key(str(path) + ".pub")
    return key


def board_keys(root: Path, host_dir: Path) -> tuple[asyncssh.SSHKey, Path]:
    """(the board's host key, the path of a client private key it trusts)."""
    host_key = _private(root / HOST_KEY)
    client_path = host_dir / "id_ed25519"
    client = _private(client_path)
    line = client.export_public_key().decode().strip()
    authorized = root / AUTHORIZED
    authorized.parent.mkdir(parents=True, exist_ok=True)
    authorized.parent.chmod(0o700)
    present = authorized.read_text().splitlines() if authorized.is_file() else []
    if line not in present:
        with open(authorized, "a") as f:
            f.write(line + "\n")
    authorized.chmod(0o600)
    return host_key, client_path


def write_known_hosts(host_dir: Path, host: str, port: int, host_key: asyncssh.SSHKey) -> Path:
    path = host_dir / "known_hosts"
    name = host if port == 22 else f"[{host}]:{port}"
    path.write_text(f"{name} {host_key.export_public_key().decode().strip()}\n")
    return path
