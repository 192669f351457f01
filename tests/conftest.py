"""Fixtures shared by every test area (tests/<area>/ hold their own conftest.py for the rest)."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# Emulated boards register themselves while they run (`host_tools devices` lists them): the ones the tests
# start register in a folder of this test session, never beside a user's (or another session's).
os.environ["CAMCLASS_BOARDS_DIR"] = tempfile.mkdtemp(prefix="camclass-test-boards-")
atexit.register(shutil.rmtree, os.environ["CAMCLASS_BOARDS_DIR"], True)

# Many tests press Ctrl-C on the tools they start (SIGINT). A run started with SIGINT ignored (`make test &`
# from a script, nohup, some CI runners) would pass that on to every child and those tests would hang:
# a handled signal is reset to the default in children, an ignored one is not.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need real images skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real images not found at {SHARED_DATA} (the project's shared data folder)")
    return SHARED_DATA
