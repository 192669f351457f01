"""The set-up a fresh machine runs: the lock covers what pyproject.toml declares, make installs with it, and
`make run` takes its ports and address from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli on 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def _pinned() -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            assert str(req.specifier).startswith("=="), line  # exact pins only
            pins.setdefault(canonicalize_name(req.name), []).append(str(req.specifier))
    return pins


def test_the_lock_pins_every_declared_dependency_and_the_build_requirements():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = list(project["project"]["dependencies"]) + list(project["build-system"]["requires"])
    for extra in ("dev", "rv1103"):
        declared += project["project"]["optional-dependencies"][extra]
    pins = _pinned()
    missing = [d for d in declared if canonicalize_name(Requirement(d).name) not in pins]
    assert not missing, f"not in constraints.txt (run `make lock`): {missing}"
    assert "pip" in pins and "scikit-build-core" in pins and "nanobind" in pins


def test_make_installs_with_the_lock_and_run_takes_ports_from_the_command_line():
    r = subprocess.run(["make", "-n", "-B", "-C", str(REPO), "run", "HTTP_PORT=9123", "BIND=127.0.0.2",
                        "BOARD=h7plus"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pip_installs = [ln for ln in r.stdout.splitlines() if re.search(r"pip install", ln)]
    assert pip_installs and all("-c constraints.txt" in ln for ln in pip_installs), pip_installs
    assert "host_tools.demo --http-port 9123 --bind 127.0.0.2 --board h7plus" in r.stdout
