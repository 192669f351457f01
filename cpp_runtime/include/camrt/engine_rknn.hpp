// RKNN engine for RV1103/RV1106 (Luckfox Pico): the zero-copy API of librknnmrt.so.
//
// Built only when CMake is given the user's rknpu2 runtime folder (RKNN_RUNTIME_DIR, see
// rv1103_app/README.md), or in the tests against the project's fake NPU runtime (tests/support/fake_rknn);
// CAMRT_HAVE_RKNN is then defined. rknn_api.h stays out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "camrt/engine.hpp"

namespace camrt {

// What the model and the board reported at init (for logs and the app's start-up line).
struct RknnModelInfo {
    std::string sdk_version;       // RKNN_QUERY_SDK_VERSION api_version: the runtime (librknnmrt) version
    std::string driver_version;    // drv_version
    std::string npu_proc_version;  // first line of /proc/rknpu/version ("" off the board)
    std::string toolkit_version;   // rknn-toolkit2 that built the model, from the .rknn ("" unknown)
    TensorInfo input;              // native input: UINT8 NHWC, w_stride from the runtime
    std::uint32_t input_size_with_stride = 0;
    std::string output_query;      // "NATIVE_NHWC_OUTPUT_ATTR", or "NATIVE_OUTPUT_ATTR" after the fallback
    int output_type = 0;           // rknn_tensor_type of the native output (2 = INT8, 4 = INT16)
    std::string output_type_name;  // "INT8", "INT16", "FP16", ...
    std::int32_t output_zp = 0;
    float output_scale = 1.0f;
    std::uint32_t output_elems = 0;  // class scores
};

// Follows the RV1106 zero-copy order:
//   rknn_init(path) -> RKNN_QUERY_SDK_VERSION -> RKNN_QUERY_IN_OUT_NUM -> RKNN_QUERY_NATIVE_INPUT_ATTR
//   (set type UINT8, fmt NHWC) -> RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR (when the runtime or model refuses it:
//   RKNN_QUERY_NATIVE_OUTPUT_ATTR, the same bytes for a 1x1 classifier output)
//   -> rknn_create_mem(size_with_stride) + rknn_set_io_mem per tensor.
// Checked at init, not at the first frame: the model's toolkit version against the runtime's (a model
// built by a newer rknn-toolkit2 than the board's librknnmrt is refused, saying what to install), one
// input and one output, a 1xHxWx3 input, an output of 1..1000 class scores with spatial size 1 and a type
// the engine reads (INT8, UINT8, INT16 (affine or DFP), FLOAT16, FLOAT32) in a buffer large enough.
// run(): rknn_run, then the output is dequantized: (q - zp) * scale, or q * 2^-fl for DFP.
// The pipeline writes the input straight into input_buffer() (the NPU's memory) with rows of w_stride
// pixels. Cleanup in reverse order: rknn_destroy_mem for each buffer, then rknn_destroy.
// Every failure throws std::runtime_error naming the call and its RKNN return code, e.g.
//   "rknn_init(model.rknn) failed: -6 RKNN_ERR_MODEL_INVALID (...)".
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

// rv1103_app --dump-attrs: rknn_init on the model, then every query the engine makes (and the non-native
// INPUT/OUTPUT_ATTR), as one JSON object: {"source", "sdk", "in_out_num", "native_input",
// "native_nhwc_output", "native_output", "input", "output", "npu_proc_version", "toolkit_version"}; a
// query that fails gives {"error": code, "error_name": ...}. The fake NPU runtime of the tests reads this
// format as a fixture. Throws std::runtime_error when rknn_init fails.
std::string rknn_dump_attrs(const std::string& model_path);

}  // namespace camrt
