#!/bin/sh
# Cross-build rv1103_app for the Luckfox Pico (RV1103/RV1106, uClibc) and lay out the deploy folder.
#
#   LUCKFOX_SDK=/path/to/luckfox-pico \
#   RKNN_RUNTIME_DIR=/path/to/rknn-toolkit2/rknpu2/runtime/Linux/librknn_api \
#   MODEL=models/birds/birds_lite0_rv1103.rknn \
#   rv1103_app/build_board.sh [DEPLOY_DIR]        (default: build/rv1103/deploy)
#
# DEPLOY_DIR then holds bin/rv1103_app, lib/librknnmrt.so (copied from RKNN_RUNTIME_DIR), model/model.rknn
# with its manifest model/model.json (labels, colour order, from the model card), config.json and S99classifier. Nothing from the Rockchip SDK is ever copied into this repository.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${LUCKFOX_SDK:?set LUCKFOX_SDK to the luckfox-pico SDK checkout (its tools/linux/toolchain holds the compiler)}"
: "${RKNN_RUNTIME_DIR:?set RKNN_RUNTIME_DIR to rknn-toolkit2/rknpu2/runtime/Linux/librknn_api}"
# default: the RV1103 default bird model (EfficientNet-Lite0); MODEL picks another of models/birds
model=${MODEL:-$here/models/birds/birds_lite0_rv1103.rknn}
[ -n "$model" ] && [ -f "$model" ] || { echo "build_board.sh: no .rknn model (set MODEL=...)" >&2; exit 2; }
deploy=${1:-$here/build/rv1103/deploy}
build=$here/build/rv1103

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
	-DCMAKE_TOOLCHAIN_FILE="$here/rv1103_app/cmake/luckfox-uclibc.cmake" \
	-DLUCKFOX_SDK="$LUCKFOX_SDK" -DRKNN_RUNTIME_DIR="$RKNN_RUNTIME_DIR" -DRV1103_MODEL="$(realpath "$model")"
cmake --build "$build" --target rv1103_app
rm -rf "$deploy"
cmake --install "$build" --prefix "$deploy" --strip
# The model's manifest beside it (what the board program reads its labels and colour order from). A model
# without a card or labels file gets none: config.json must then name its "labels".
if ! PYTHONPATH="$here" python3 -m host_tools.model_manifest "$model" >"$deploy/model/model.json"; then
	rm -f "$deploy/model/model.json"
	echo "build_board.sh: no manifest for $model: add \"labels\" to $deploy/config.json" >&2
fi
echo "deploy folder ready: $deploy"
ls -lR "$deploy"
