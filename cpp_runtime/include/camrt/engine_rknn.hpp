// RKNN engine for RV1103/RV1106 (Luckfox Pico): the zero-copy API of librknnmrt.so.
//
// Built only when CMake is given the user's rknpu2 runtime folder (RKNN_RUNTIME_DIR, see
// rv1103_app/README.md); CAMRT_HAVE_RKNN is then defined. rknn_api.h stays out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "camrt/engine.hpp"

namespace camrt {

// What the model reported at init (for logs and the app's start-up line).
struct RknnModelInfo {
    std::string sdk_version;     // RKNN_QUERY_SDK_VERSION api_version ("" when the query failed)
    std::string driver_version;  // drv_version
    TensorInfo input;            // native input: UINT8 NHWC, w_stride from the runtime
    std::uint32_t input_size_with_stride = 0;
    int output_type = 0;  // rknn_tensor_type of the native NHWC output (2 = INT8)
    std::int32_t output_zp = 0;
    float output_scale = 1.0f;
    std::uint32_t output_elems = 0;
};

// Follows the RV1106 zero-copy order:
//   rknn_init(path) -> RKNN_QUERY_IN_OUT_NUM -> RKNN_QUERY_NATIVE_INPUT_ATTR (set type UINT8, fmt NHWC)
//   -> RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR -> rknn_create_mem(size_with_stride) + rknn_set_io_mem per tensor.
// run(): rknn_run, then the int8 output is dequantized as (q - zp) * scale. The pipeline writes the input
// straight into input_buffer() (the NPU's memory) with rows of w_stride pixels.
// Cleanup in reverse order: rknn_destroy_mem for each buffer, then rknn_destroy.
// Every failure throws std::runtime_error naming the call and its RKNN return code, e.g.
//   "rknn_init(model.rknn) failed: -6 RKNN_ERR_MODEL_INVALID (is rkipc still running? ...)".
class RknnEngine : public Engine {
   public:
    explicit RknnEngine(const std::string& model_path);
    ~RknnEngine() override;
    RknnEngine(const RknnEngine&) = delete;
    RknnEngine& operator=(const RknnEngine&) = delete;

    TensorInfo input_info() const override;
    std::uint8_t* input_buffer() override;
    void run() override;
    const std::vector<float>& scores() const override;
    int num_classes() const override;
    std::string name() const override { return "rknn"; }

    const RknnModelInfo& info() const;

   private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "RKNN_ERR_MODEL_INVALID" for -6, ... ; "RKNN error N" for codes it does not know.
std::string rknn_error_name(int code);

}  // namespace camrt
