"""Where things are: the files host_tools ships and reads, and where it writes.

Shipped files (the OpenMV app, the models run by default, their labels and cards, sample frames, the RV1103
deploy config) are read from the installed package with importlib.resources: a wheel carries them under
host_tools/_bundled/ (the build copies them there, see CMakeLists.txt). From a source checkout (an
editable install, the tests) there is no _bundled/ and they are read in place, so edits count at once.

Written files never go into the checkout or the install: caches go to the user cache directory and the
emulators' state to the user state directory (platformdirs; XDG_CACHE_HOME / XDG_STATE_HOME move them).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import platformdirs

APP_NAME = "host_tools"
# The source checkout this package sits in (meaningful only when CHECKOUT is true).
REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "openmv_app").is_dir()


def _bundle_root() -> Path:
    bundled = importlib.resources.files("host_tools") / "_bundled"
    if bundled.is_dir():
        # pip unpacks wheels: the resource is a real folder (a zipped install is not supported).
        return Path(str(bundled))
    return REPO_ROOT


BUNDLE_ROOT = _bundle_root()
BUNDLED = BUNDLE_ROOT != REPO_ROOT  # running from an installed wheel

OPENMV_APP_DIR = BUNDLE_ROOT / "openmv_app"
MODELS_DIR = BUNDLE_ROOT / "models"
MASKS_MODEL = MODELS_DIR / "masks" / "masks_int8.tflite"
MASKS_SAMPLE_FRAMES = MODELS_DIR / "masks" / "sample_frames"
BIRDS_DIR = MODELS_DIR / "birds"
RV1103_CONFIG = BUNDLE_ROOT / "rv1103_app" / "deploy" / "config.json"
RV1103_SAMPLE_FRAMES = BUNDLE_ROOT / "rv1103_app" / "sample_frames"
# Data shared beside the checkout (never copied into the repo); tests skip where it is absent.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def cache_dir(*parts: str) -> Path:
    """A folder for re-computable results (e.g. measured tensor arenas), created on demand by the caller."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False), *parts)


def state_dir(*parts: str) -> Path:
    """A folder for state kept between runs (e.g. the `make run` emulated camera's filesystem and log)."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False), *parts)
