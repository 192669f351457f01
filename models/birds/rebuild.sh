#!/usr/bin/env bash
# Rebuild the bird models end to end: venvs (if missing), training, ONNX float + int8 QDQ, RKNN for the
# RV1103 with simulator accuracy, and the model cards, for birds_mnv3s (MobileNetV3-Small, 64x64) and
# birds_resnet9 (dense ResNet-9, 32x32; also the third distillation teacher). CPU only; about 1.8 h on a
# 2-core machine (training 5,825 s: teachers 2,455 s, MobileNet 3,370 s).
#   BIRDS_DATA  folder with train/ and val/ (default: <repo>/../shared/data/birds)
#   BIRDS_WORK  scratch folder for checkpoint, logs, calibration files (default: <repo>/.cache/birds)
#   SKIP_RKNN=1 skips the .rknn step; RKNN_EVAL_LIMIT=N scores only N val images in the simulator
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
if [ ! -x "$repo/.venv-birds/bin/python" ]; then
  "$py" -m venv "$repo/.venv-birds"
  "$repo/.venv-birds/bin/pip" install -q -c "$here/constraints.txt" -r "$here/requirements.in"
fi
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
cd "$here"
t=(--train "$data/train" --val "$data/val" --work "$work")
# three dense ResNet-9 teachers (teacher.py) learn the 32x32 images at their own size; the third is also
# exported as the birds_resnet9 model
nice "$bpy" train.py "${t[@]}" --arch teacher --input-size 32 --stages 32:30 --lr 4e-3 --wd 0.05 --smoothing 0 \
  --ema 0.998 --threads 2 --tag teacher
nice "$bpy" train.py "${t[@]}" --arch teacher --input-size 32 --stages 32:40 --lr 4e-3 --wd 0.05 --smoothing 0 \
  --ema 0.998 --cutmix 0.5 --seed 1 --threads 2 --tag teacher2
nice "$bpy" train.py "${t[@]}" --arch teacher --input-size 32 --stages 32:40 --lr 4e-3 --wd 0.05 --smoothing 0 \
  --ema 0.998 --cutmix 0.5 --seed 2 --threads 2 --tag teacher3
# the MobileNetV3-Small at width 2.0, from scratch in one one-cycle run (progressive resizing 32 -> 48 -> 64),
# distilled towards the three teachers' averaged softened outputs on the same (CutMix-pasted) picture
nice "$bpy" train.py "${t[@]}" --width 2.0 --teacher teacher,teacher2,teacher3 --tag w2kd \
  --stages 32:12,48:12,64:30 --lr 4e-3 --wd 0.05 --ema 0.998 --kd-alpha 0.9 --kd-temp 2 --cutmix 0.5 --threads 2
"$bpy" export.py --work "$work" --weights w2kd --width 2.0
"$bpy" export.py --work "$work" --weights teacher3 --arch teacher --size 32 --out birds_resnet9.onnx

# both deployable models: float and int8 QDQ ONNX twins, the RKNN build with simulator figures, the card
rknn_py="$repo/.venv-rknn/bin/python"
for m in mnv3s:64 resnet9:32; do
  IFS=: read -r arch size <<< "$m"
  name="birds_$arch"
  "$bpy" eval_onnx.py "$name.onnx" --val "$data/val" --out "$work/${name}_eval_float.json"
  nice "$bpy" quantize_onnx.py --train "$data/train" --float "$name.onnx" --out "${name}_int8.onnx" --size "$size"
  "$bpy" eval_onnx.py "${name}_int8.onnx" --val "$data/val" --out "$work/${name}_eval_int8.json"
  if [ "${SKIP_RKNN:-0}" != 1 ]; then
    # the toolkit's progress bars run to megabytes: keep them in a log, show its tail on failure
    if ! nice "$rknn_py" build_rknn.py --work "$work" --train "$data/train" --val "$data/val" --size "$size" \
        --onnx "$name.onnx" --out "${name}_rv1103.rknn" --eval-out "$work/${name}_rknn_eval.json" \
        --limit "${RKNN_EVAL_LIMIT:-0}" 2> "$work/rknn_build_$arch.log"; then
      tail -c 3000 "$work/rknn_build_$arch.log" >&2
      exit 1
    fi
  fi
done
if [ "${SKIP_RKNN:-0}" != 1 ]; then
  # the RKNN quantizer's options against each other, scored in the simulator (the card's rknn_variants)
  for v in mmse:0 mmse:4 normal:0 normal:4; do
    IFS=: read -r alg k <<< "$v"
    tag="${alg}_clip$k"; [ "$k" = 0 ] && tag="${alg}_noclip"
    nice "$rknn_py" build_rknn.py --work "$work" --train "$data/train" --val "$data/val" --size 64 --no-export \
      --onnx birds_mnv3s.onnx --algorithm "$alg" --clip-sigma "$k" --limit "${RKNN_EVAL_LIMIT:-0}" \
      --eval-out "$work/birds_mnv3s_rknn_eval_$tag.json" 2>> "$work/rknn_variants_mnv3s.log"
  done
fi
# the vote settings swept through the board's decision code (camrt: the project's venv, `make setup`); the
# deploy config is left as it is (sweep_voter.py --apply would write the best setting into it)
if [ -x "$repo/.venv/bin/python" ]; then
  nice "$repo/.venv/bin/python" sweep_voter.py --val "$data/val" --out "$work/birds_mnv3s_voter_sweep.json"
fi
"$bpy" make_card.py --work "$work" --model birds_mnv3s --runs teacher,teacher2,teacher3,w2kd
"$bpy" make_card.py --work "$work" --model birds_resnet9 --runs teacher3
