// Test controls of the fake NPU runtime (fake_rknn.cpp): a clean-room library that implements the part of
// the RKNN runtime C API engine_rknn.cpp uses (declared in include/rknn_api.h, written here), so that the
// engine itself runs in the tests, natively, under ASan/UBSan and on ARMv7 under qemu.
//
// What it checks, like a strict runtime would: the call order (queries and buffers need a live context,
// rknn_run needs an input and an output buffer bound, a context is destroyed after its buffers), that a
// bound buffer holds the attribute's size_with_stride, and that the caller asked for a UINT8 NHWC input.
// Every breach is recorded in misuse() and answered with an error code, so a test sees it.
// Inference reads the input buffer row by row at w_stride (the bytes past each row's width are never
// read) and writes the scores in the output attribute's type (INT8/UINT8/INT16 quantized with zp/scale,
// or DFP with fl; FLOAT16; FLOAT32); the rest of the output buffer holds a poison byte.
//
// Where the scores come from:
//   - the tensor service of the emulated board (host_tools/sim/rv1103/tensor_server.py: ONNX Runtime on
//     the model's int8 ONNX twin), when FAKE_RKNN_SOCKET names its unix socket: rknn_init sends the model
//     file's bytes (OPEN), rknn_run the packed tensor (RUN), as tensor_protocol.py documents;
//   - otherwise set_model(), or the built-in probe model (probe_scores below).
// Attributes come from a fixture: set_fixture(), or the JSON file FAKE_RKNN_FIXTURE names (the format
// rv1103_app --dump-attrs prints on a board; tests/support/fake_rknn/fixtures/ documents each one).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rknn_api.h"

namespace fake_rknn {

struct Fixture {
    std::string source;  // where the values come from
    std::string api_version = "2.3.2 (fake)";
    std::string drv_version = "0.9.8";
    std::uint32_t n_input = 1;
    std::uint32_t n_output = 1;
    rknn_tensor_attr input{};          // RKNN_QUERY_NATIVE_INPUT_ATTR
    rknn_tensor_attr output_nhwc{};    // RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR
    int output_nhwc_error = 0;         // non-zero: that query fails with this code (runtime/model without it)
    rknn_tensor_attr output_native{};  // RKNN_QUERY_NATIVE_OUTPUT_ATTR
    rknn_tensor_attr output{};         // RKNN_QUERY_OUTPUT_ATTR (logical; default: output_native)
};

// Parses a fixture (the --dump-attrs format); throws std::runtime_error naming the problem.
Fixture parse_fixture(const std::string& json_text);
Fixture load_fixture(const std::string& path);

// The fixture the next rknn_init uses; also resets the call log, the injected errors and misuse().
void set_fixture(const Fixture& f);
// Scores for a packed uint8 HxWxC tensor (empty std::function: the probe model).
using Model = std::function<std::vector<float>(const std::uint8_t* packed, int h, int w, int c, int classes)>;
void set_model(Model m);
// The probe model: score k = sum over pixels of x[y][x][k % c] * (1 + (y + 2 * x) % 5), divided by
// 255 * 3 * h * w. Every pixel counts, so rows read at the wrong stride change the scores.
std::vector<float> probe_scores(const std::uint8_t* packed, int h, int w, int c, int classes);

// The nth call (1-based, counted per function since set_fixture) of `function` ("rknn_init",
// "rknn_query", "rknn_create_mem", "rknn_set_io_mem", "rknn_run", "rknn_destroy_mem", "rknn_destroy")
// fails with `code` (rknn_create_mem returns NULL). The call is still logged.
void inject_error(const std::string& function, int nth, int code);

// Calls so far, e.g. "rknn_init", "rknn_query(NATIVE_INPUT_ATTR)", "rknn_set_io_mem(input)".
const std::vector<std::string>& calls();
// Breaches of the API's rules (empty when the caller kept them).
const std::vector<std::string>& misuse();
int live_contexts();
int live_buffers();
// The attribute the caller bound to the input buffer with rknn_set_io_mem.
const rknn_tensor_attr& bound_input_attr();

// The poison byte of unused output bytes and of a new buffer's contents.
constexpr std::uint8_t kPoison = 0xA5;

}  // namespace fake_rknn
