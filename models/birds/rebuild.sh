#!/usr/bin/env bash
# Rebuild the bird models end to end: venvs (if missing), training, ONNX float + int8 QDQ, RKNN for the
# RV1103 with simulator accuracy, and the model cards, for birds_mnv3s (MobileNetV3-Small, 64x64) and
# birds_resnet9 (dense ResNet-9, 32x32; also the third distillation teacher). CPU only; about 3.3 h on a
# 2-core machine (training 11,191 s).
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
if [ ! -x "$repo/.venv-birds/bin/python" ]; then
  "$py" -m venv "$repo/.venv-birds"
  "$repo/.venv-birds/bin/pip" install -q torch==2.13.0 numpy pillow onnx onnxruntime
fi
if [ "${SKIP_RKNN:-0}" != 1 ] && [ ! -x "$repo/.venv-rknn/bin/python" ]; then
  # slim install: the toolkit's own pins would pull a 5.7 GB CUDA torch
  "$py" -m venv "$repo/.venv-rknn"
  pip_rknn="$repo/.venv-rknn/bin/pip"
  "$pip_rknn" install -q --no-deps rknn-toolkit2==2.5.0
  "$pip_rknn" install -q "protobuf>=4.21.6,<=4.25.4" psutil ruamel.yaml scipy tqdm opencv-python fast-histogram \
    "numpy<=1.26.4" "onnx>=1.16.1,<=1.18.0" onnxruntime pillow
  "$pip_rknn" install -q torch==2.13.0
  "$pip_rknn" install -q "setuptools<70"
fi

bpy="$repo/.venv-birds/bin/python"
cd "$here"
# six one-cycle rounds, each a warm restart from the previous weights (the CPU budget came in slices);
# rounds 4-6 ran with 2 torch threads once the machine was quiet; rounds 5-6 save an EMA of the weights,
# round 6 adds CutMix because training accuracy had run ahead of validation
t=(--train "$data/train" --val "$data/val" --work "$work")
nice "$bpy" train.py "${t[@]}" --tag stage1 --stages 32:8,48:4,64:4
nice "$bpy" train.py "${t[@]}" --resume stage1 --tag stage2 --stages 48:6,64:6 --lr 3e-3 --wd 0.01
nice "$bpy" train.py "${t[@]}" --resume stage2 --tag stage3 --stages 64:6 --lr 1.5e-3 --wd 0.01
nice "$bpy" train.py "${t[@]}" --resume stage3 --tag stage4 --stages 64:6 --lr 1e-3 --wd 0.01 --threads 2
nice "$bpy" train.py "${t[@]}" --resume stage4 --tag round5 --stages 64:16 --lr 1e-3 --wd 0.02 --ema 0.998 \
  --threads 2
nice "$bpy" train.py "${t[@]}" --resume round5 --tag round6 --stages 64:24 --lr 4e-4 --wd 0.02 --ema 0.999 \
  --cutmix 0.5 --threads 2
# round 7: two dense teachers (teacher.py, training only) learn the 32x32 images, then the student restarts
# from its exported round-6 graph (BatchNorm rebuilt by unfold.py: that graph was all that survived the
# machine the first six rounds ran on) and distils from the teachers' averaged outputs
"$bpy" export.py --work "$work" --weights round6 --out "$work/round6.onnx"
nice "$bpy" train.py "${t[@]}" --arch teacher --input-size 32 --stages 32:30 --lr 4e-3 --wd 0.05 --smoothing 0 \
  --ema 0.998 --threads 2 --tag teacher
nice "$bpy" train.py "${t[@]}" --arch teacher --input-size 32 --stages 32:40 --lr 4e-3 --wd 0.05 --smoothing 0 \
  --ema 0.998 --cutmix 0.5 --seed 1 --threads 2 --tag teacher2
nice "$bpy" train.py "${t[@]}" --init-onnx "$work/round6.onnx" --teacher teacher,teacher2 --tag round7 \
  --stages 64:30 --lr 6e-4 --wd 0.02 --ema 0.999 --kd-alpha 0.7 --kd-temp 2 --threads 2
# round 8: a third teacher, and CutMix pictures (pasted at 32x32, labelled by the teachers) for the student
"$bpy" export.py --work "$work" --weights round7 --out "$work/round7.onnx"
nice "$bpy" train.py "${t[@]}" --arch teacher --input-size 32 --stages 32:40 --lr 4e-3 --wd 0.05 --smoothing 0 \
  --ema 0.998 --cutmix 0.5 --seed 2 --threads 2 --tag teacher3
nice "$bpy" train.py "${t[@]}" --init-onnx "$work/round7.onnx" --teacher teacher,teacher2,teacher3 --tag round8 \
  --stages 64:24 --lr 5e-4 --wd 0.02 --ema 0.999 --kd-alpha 0.9 --kd-temp 2 --cutmix 0.5 --threads 2
"$bpy" export.py --work "$work" --weights round8
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
"$bpy" make_card.py --work "$work" --model birds_mnv3s \
  --runs stage1,stage2,stage3,stage4,round5,round6,teacher,teacher2,round7,teacher3,round8
"$bpy" make_card.py --work "$work" --model birds_resnet9 --runs teacher3
