"""Where the on-board code, models and bundled samples live (source checkout or editable install)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OPENMV_APP_DIR = REPO_ROOT / "openmv_app"
MODELS_DIR = REPO_ROOT / "models"
MASKS_MODEL = MODELS_DIR / "masks" / "masks_int8.tflite"
MASKS_SAMPLE_FRAMES = MODELS_DIR / "masks" / "sample_frames"
BIRDS_DIR = MODELS_DIR / "birds"
# Data shared beside the checkout (never copied into the repo); tests skip where it is absent.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
