#!/usr/bin/env bash
# Rebuild bird models end to end: venvs (if missing), training, ONNX float + int8 QDQ, RKNN for the RV1103 with
# simulator accuracy, the quantizer comparison, the vote-setting sweep, and the model cards.
#   rebuild.sh                      birds_lite0, the RV1103 default: EfficientNet-Lite0 fine-tuned from ImageNet
#                                   weights (one run; the card's training.train_seconds says how long it took)
#   rebuild.sh birds_mnv3s birds_resnet9
#                                   the two earlier from-scratch models (ResNet-9 teachers, then the distilled
#                                   MobileNetV3-Small; about 1.8 h on a 2-core machine, training 5,825 s)
#   BIRDS_DATA  folder with train/ and val/ (default: <repo>/../shared/data/birds)
#   BIRDS_WORK  scratch folder for checkpoint, logs, calibration files (default: <repo>/.cache/birds)
#   SKIP_RKNN=1 skips the .rknn step; RKNN_EVAL_LIMIT=N scores only N val images in the simulator
#   SKIP_TRAIN=1 takes the trained checkpoints already in BIRDS_WORK (<tag>.pt, <tag>_log.json) and runs the rest
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${BIRDS_DATA:-$repo/../shared/data/birds}"
work="${BIRDS_WORK:-$repo/.cache/birds}"
py="${PYTHON:-python3}"
mkdir -p "$work"

# Heavy tools live in their own git-ignored venvs, never in the project's .venv.
# Both install the versions pinned in the locks beside this script (constraints*.txt, made by `make lock` from
# requirements*.in), so a rebuild next month gets the tools this one was made with.
# .venv-birds is brought to the lock on every run (seconds when it already matches), so that a venv made before
# the lock gained a package (the Lite2 weights) is completed rather than failing mid-recipe.
[ -x "$repo/.venv-birds/bin/python" ] || "$py" -m venv "$repo/.venv-birds"
"$repo/.venv-birds/bin/pip" install -q -c "$here/constraints.txt" -r "$here/requirements.in"
if [ "${SKIP_RKNN:-0}" != 1 ] && [ ! -x "$repo/.venv-rknn/bin/python" ]; then
  # slim install: the toolkit's own pins would pull a 5.7 GB CUDA torch
  "$py" -m venv "$repo/.venv-rknn"
  pip_rknn="$repo/.venv-rknn/bin/pip"
  "$pip_rknn" install -q --no-deps rknn-toolkit2==2.5.0
  "$pip_rknn" install -q -c "$here/constraints-rknn.txt" -r "$here/requirements-rknn.in"
  # the toolkit imports pkg_resources as setuptools < 70 ships it; torch 2.13 declares setuptools >= 77, so
  # this pin cannot go through the lock's resolver
  "$pip_rknn" install -q "setuptools==69.5.1"
fi

bpy="$repo/.venv-birds/bin/python"
rknn_py="$repo/.venv-rknn/bin/python"
cd "$here"
t=(--train "$data/train" --val "$data/val" --work "$work")

# Training, per model; each writes <work>/<tag>.pt and <tag>_log.json and exports <name>.onnx.
train() { [ "${SKIP_TRAIN:-0}" = 1 ] || nice "$bpy" train.py "${t[@]}" "$@"; }
train_lite0() {
  # EfficientNet-Lite0 from the ImageNet weights, every layer fine-tuned: one one-cycle run of 10 epochs at the
  # deploy size 96x96 (the 32x32 images upscaled bilinear), CutMix on 30% of the batches
  train --arch lite0 --input-size 96 --stages 96:10 --batch 64 --lr 1e-3 --wd 0.02 --ema 0.998 --cutmix 0.3 \
    --threads 2 --tag lite0
  "$bpy" export.py --work "$work" --weights lite0 --arch lite0 --size 96 --out birds_lite0.onnx
}
train_teachers() {
  # three dense ResNet-9 teachers (teacher.py) learn the 32x32 images at their own size; the third is also
  # exported as the birds_resnet9 model
  [ -n "${teachers_done:-}" ] && return  # once per rebuild, for both models that need them
  train --arch teacher --input-size 32 --stages 32:30 --lr 4e-3 --wd 0.05 \
    --smoothing 0 --ema 0.998 --threads 2 --tag teacher
  train --arch teacher --input-size 32 --stages 32:40 --lr 4e-3 --wd 0.05 \
    --smoothing 0 --ema 0.998 --cutmix 0.5 --seed 1 --threads 2 --tag teacher2
  train --arch teacher --input-size 32 --stages 32:40 --lr 4e-3 --wd 0.05 \
    --smoothing 0 --ema 0.998 --cutmix 0.5 --seed 2 --threads 2 --tag teacher3
  teachers_done=1
}
train_resnet9() {
  train_teachers
  "$bpy" export.py --work "$work" --weights teacher3 --arch teacher --size 32 --out birds_resnet9.onnx
}
train_mnv3s() {
  train_teachers
  # the MobileNetV3-Small at width 2.0, from scratch in one one-cycle run (progressive resizing 32 -> 48 -> 64),
  # distilled towards the three teachers' averaged softened outputs on the same (CutMix-pasted) picture
  train --width 2.0 --teacher teacher,teacher2,teacher3 --tag w2kd \
    --stages 32:12,48:12,64:30 --lr 4e-3 --wd 0.05 --ema 0.998 --kd-alpha 0.9 --kd-temp 2 --cutmix 0.5 \
    --threads 2
  "$bpy" export.py --work "$work" --weights w2kd --width 2.0
}

# After training, for any model: float and int8 QDQ ONNX twins, the RKNN build with simulator figures, the RKNN
# quantizer's options against each other (the card's rknn_variants), the vote-setting sweep, the card.
finish() {
  local name=$1 size=$2 runs=$3
  "$bpy" eval_onnx.py "$name.onnx" --val "$data/val" --out "$work/${name}_eval_float.json"
  nice "$bpy" quantize_onnx.py --train "$data/train" --float "$name.onnx" --out "${name}_int8.onnx" --size "$size"
  "$bpy" eval_onnx.py "${name}_int8.onnx" --val "$data/val" --out "$work/${name}_eval_int8.json"
  if [ "${SKIP_RKNN:-0}" != 1 ]; then
    # the toolkit's progress bars run to megabytes: keep them in a log, show its tail on failure.
    # The shipped build: mmse, with the weight-outlier clipping for birds_lite0 (clip_of below)
    if ! nice "$rknn_py" build_rknn.py --work "$work" --train "$data/train" --val "$data/val" --size "$size" \
        --onnx "$name.onnx" --out "${name}_rv1103.rknn" --eval-out "$work/${name}_rknn_eval.json" \
        --algorithm mmse --clip-sigma "$(clip_of "$name")" --limit "${RKNN_EVAL_LIMIT:-0}" \
        2> "$work/rknn_build_$name.log"; then
      tail -c 3000 "$work/rknn_build_$name.log" >&2
      exit 1
    fi
    for v in mmse:0 mmse:4 normal:0 normal:4; do
      IFS=: read -r alg k <<< "$v"
      tag="${alg}_clip$k"; [ "$k" = 0 ] && tag="${alg}_noclip"
      nice "$rknn_py" build_rknn.py --work "$work" --train "$data/train" --val "$data/val" --size "$size" \
        --no-export --onnx "$name.onnx" --algorithm "$alg" --clip-sigma "$k" --limit "${RKNN_EVAL_LIMIT:-0}" \
        --eval-out "$work/${name}_rknn_eval_$tag.json" 2>> "$work/rknn_variants_$name.log"
    done
  fi
  # the vote settings swept through the board's decision code (camrt: the project's venv, `make setup`); only
  # the default model's sweep may write the deploy config (--apply)
  if [ -x "$repo/.venv/bin/python" ]; then
    apply=(); [ "$name" = birds_lite0 ] && apply=(--apply)
    nice "$repo/.venv/bin/python" sweep_voter.py --model "${name}_int8.onnx" --val "$data/val" \
      --out "$work/${name}_voter_sweep.json" "${apply[@]}"
  fi
  "$bpy" make_card.py --work "$work" --model "$name" --runs "$runs"
}
# The shipped .rknn's weight clipping: birds_lite0 is built with mmse + clipping at 4 standard deviations (the
# card's rknn_variants measure each with and without); the two earlier builds stay as they were (no clipping).
clip_of() { [ "$1" = birds_lite0 ] && echo 4 || echo 0; }

models=("$@"); [ ${#models[@]} -eq 0 ] && models=(birds_lite0)
for name in "${models[@]}"; do
  start=$SECONDS
  case $name in
    birds_lite0) train_lite0; finish birds_lite0 96 lite0 ;;
    birds_mnv3s) train_mnv3s; finish birds_mnv3s 64 teacher,teacher2,teacher3,w2kd ;;
    birds_resnet9) train_resnet9; finish birds_resnet9 32 teacher3 ;;
    *) echo "rebuild.sh: unknown model $name (birds_lite0, birds_mnv3s, birds_resnet9)" >&2; exit 2 ;;
  esac
  echo "$name rebuilt in $((SECONDS - start)) s"
done
