"""Releases on the board: the folder layout, and the few shell steps that change it.

  /userdata/classifier/releases/<id>/   a release: bin/rv1103_app, lib/, the model, config.json, S99classifier
  /userdata/classifier/releases/<id>.partial/   a release being uploaded (removed by the next flash)
  /userdata/classifier/current -> releases/<id>   what the init script runs (APP_DIR=.../current)
  /userdata/classifier/previous -> releases/<id>  what ran before the last switch
  /userdata/classifier/pending                  the id of a release switched to but not yet seen healthy
A board deployed by hand (files straight in /userdata/classifier, no `current`) counts as the release ".":
`current -> .` runs it.

Every change of `current` or `previous` is atomic: a new link is made beside it and renamed over it
(`ln -s` + `mv -T`, one rename(2)), so the board always has a complete release to start. `pending` makes a
switch a trial: the init script's `start` (at boot) switches back to `previous` while `pending` exists, so
an unconfirmed release (the host killed during the health check, or the board losing power then) does not
stay; flash removes `pending` once result lines flow. All commands go through LinuxBoard.run (argv quoted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from host_tools.devices.linux import LinuxBoard
from host_tools.errors import DeviceError

BASE = "/userdata/classifier"
RELEASES = f"{BASE}/releases"
CURRENT, PREVIOUS, PENDING = f"{BASE}/current", f"{BASE}/previous", f"{BASE}/pending"
LEGACY = "."  # the files straight in BASE, as a board deployed by hand has them
INIT_SCRIPT = "/etc/init.d/S99classifier"
LOG = "/var/log/classifier.log"
ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")

_STATE = r"""
cd "$1" 2>/dev/null || { echo "nobase"; exit 0; }
echo "current=$(readlink current 2>/dev/null)"
echo "previous=$(readlink previous 2>/dev/null)"
echo "pending=$(cat pending 2>/dev/null)"
[ -e bin/rv1103_app ] && echo "legacy=1"
for d in releases/*; do [ -d "$d" ] && echo "release=${d#releases/}"; done
exit 0
"""

# $1 = the link, $2 = its new target: made beside it, then renamed over it (atomic).
_LINK = r"""rm -f "$1.new" && ln -s "$2" "$1.new" && mv -fT "$1.new" "$1" """


@dataclass
class BoardReleases:
    current: str | None  # release id, LEGACY, or None (nothing installed)
    previous: str | None
    pending: str | None
    releases: list[str]  # complete release folders, oldest first
    partial: list[str]  # folders left by an interrupted upload

    def before(self, release: str | None) -> str | None:
        """The release installed before `release` (LEGACY before the first one, where it exists)."""
        if release in self.releases:
            i = self.releases.index(release)
            return self.releases[i - 1] if i > 0 else (LEGACY if self.legacy else None)
        return None

    legacy: bool = False


def _target_id(link: str) -> str | None:
    if not link:
        return None
    if link in (".", BASE):
        return LEGACY
    return link.rstrip("/").rsplit("/", 1)[-1]


def release_dir(release: str) -> str:
    return BASE if release == LEGACY else f"{RELEASES}/{release}"


def _link_target(release: str) -> str:
    return LEGACY if release == LEGACY else f"releases/{release}"


def read_state(fs: LinuxBoard) -> BoardReleases:
    out = fs.run(["sh", "-c", _STATE, "sh", BASE]).output
    values: dict[str, str] = {}
    names: list[str] = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key == "release":
            names.append(value)
        elif key:
            values[key] = value
    complete = sorted(n for n in names if ID.match(n))
    partial = sorted(n for n in names if n.endswith(".partial"))
    state = BoardReleases(_target_id(values.get("current", "")), _target_id(values.get("previous", "")),
                          values.get("pending") or None, complete, partial, legacy="legacy" in values)
    if state.current is None and state.legacy:
        state.current = LEGACY
    return state


def clean_partial(fs: LinuxBoard, state: BoardReleases) -> list[str]:
    """Remove what an interrupted flash left (upload folders, a half-made link); returns their names."""
    for name in state.partial:
        fs.run(["rm", "-rf", "--", f"{RELEASES}/{name}"])
    fs.run(["rm", "-f", "--", f"{CURRENT}.new", f"{PREVIOUS}.new", f"{PENDING}.new"])
    return state.partial


def verify(fs: LinuxBoard, folder: str, want: dict[str, str]) -> None:
    """sha256sum, computed by the board, of every file in `folder` against the host's hashes."""
    out = fs.run(["sh", "-c", 'cd "$1" && shift && sha256sum -- "$@"', "sh", folder, *want]).output
    got = {}
    for line in out.splitlines():
        digest, _, name = line.partition("  ")
        got[name.strip()] = digest.strip()
    bad = [name for name, sha in want.items() if got.get(name) != sha]
    if bad:
        raise DeviceError(f"the board computed a different SHA-256 for {', '.join(bad)} than was sent; the "
                          "release was not installed")


def switch(fs: LinuxBoard, new: str, old: str | None, trial: bool) -> None:
    """Point `current` at `new` (and `previous` at `old`); with `trial`, mark it pending first, so that a
    boot before it is confirmed goes back to `old`."""
    script = [f"set -e; link() {{ {_LINK}; }}"]
    args: list[str] = []
    if old is not None:
        script.append('link "$1/previous" "$2"')
    if trial:
        script.append('echo "$4" > "$1/pending.new"; mv -f "$1/pending.new" "$1/pending"')
    else:
        script.append('rm -f "$1/pending"')
    script.append('link "$1/current" "$3"')
    args = [BASE, _link_target(old) if old else "", _link_target(new), new]
    fs.run(["sh", "-c", "\n".join(script), "sh", *args])


def confirm(fs: LinuxBoard) -> None:
    fs.run(["rm", "-f", "--", PENDING])


def restart(fs: LinuxBoard, timeout: float = 60) -> None:
    fs.run([INIT_SCRIPT, "restart"], timeout=timeout)


def prune(fs: LinuxBoard, state: BoardReleases, keep: int, protect: set[str | None]) -> list[str]:
    """Remove all but the newest `keep` releases (never the current or previous one)."""
    doomed = [r for r in state.releases[: max(0, len(state.releases) - keep)] if r not in protect]
    if doomed:
        fs.run(["rm", "-rf", "--", *(f"{RELEASES}/{r}" for r in doomed)])
    return doomed


def log_tail(fs: LinuxBoard, lines: int = 12) -> list[str]:
    try:
        out = fs.run(["tail", "-n", str(lines), LOG], check=False).output
    except DeviceError:
        return []
    return [ln for ln in out.splitlines() if ln.strip()]
