#!/usr/bin/env bash
# Rebuild the OpenMV H7 mask classifier (models/masks/masks_int8.{tflite,txt,json}) on a CPU.
#
#   models/masks/rebuild.sh [train.py options]     e.g. --data DIR  --holdout C  --folds
#   models/masks/rebuild.sh fixtures               the test fixture models in tests/fixtures/models/
#
# Creates the recipe env .venv-train (TensorFlow CPU, LiteRT, TFLite Micro) at the repo root when missing.
# Data: ../shared/data/masks beside the checkout, or --data DIR / MASKS_DATA=DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-train
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import tensorflow, tflite_micro, ai_edge_litert, platformdirs" 2>/dev/null
then
  echo "rebuild: creating $VENV (models/masks/requirements.in, pinned by constraints.txt)" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  # the versions pinned in models/masks/constraints.txt (`make lock`, from requirements.in beside it)
  "$VENV/bin/pip" install -q -c models/masks/constraints.txt -r models/masks/requirements.in
fi
# Quiet TensorFlow's start-up chatter; nice: the machine is shared.
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONHASHSEED=0
if [ "${1:-}" = fixtures ]; then
  shift
  exec nice -n 10 "$VENV/bin/python" models/masks/make_fixtures.py "$@"
fi
start=$(date +%s)
nice -n 10 "$VENV/bin/python" models/masks/train.py "$@"
seconds=$(( $(date +%s) - start ))
# Record the wall time of the whole run in the card (train.py cannot time its own start-up).
"$VENV/bin/python" - "$seconds" "$@" <<'EOF'
import json, os, sys
from pathlib import Path
args = sys.argv[2:]
out = Path(args[args.index("--out") + 1]) if "--out" in args else Path("models/masks")
card = out / "masks_int8.json"
data = json.loads(card.read_text())
data["rebuild"]["seconds"] = int(sys.argv[1])  # wall time of this whole run (folds included when asked)
data["rebuild"]["measured_on"] = f"{os.cpu_count()} CPU cores shared with other jobs, at nice 10"
card.write_text(json.dumps(data, indent=2) + "\n")
print(f"rebuild: done in {sys.argv[1]} s ({card})")
EOF
