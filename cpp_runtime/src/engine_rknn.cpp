// RknnEngine: see camrt/engine_rknn.hpp. Compiled with the user's rknn_api.h / librknnmrt.so, or in the tests
// with the project's fake NPU runtime (tests/support/fake_rknn), whose header declares the same API.
#include "camrt/engine_rknn.hpp"

#include <cstring>
#include <stdexcept>

#include "camrt/json.hpp"
#include "camrt/quant.hpp"
#include "camrt/rknn_model.hpp"
#include "rknn_api.h"

namespace camrt {

std::string rknn_error_name(int code) {
    switch (code) {
        case 0: return "RKNN_SUCC";
        case -1: return "RKNN_ERR_FAIL";
        case -2: return "RKNN_ERR_TIMEOUT";
        case -3: return "RKNN_ERR_DEVICE_UNAVAILABLE";
        case -4: return "RKNN_ERR_MALLOC_FAIL";
        case -5: return "RKNN_ERR_PARAM_INVALID";
        case -6: return "RKNN_ERR_MODEL_INVALID";
        case -7: return "RKNN_ERR_CTX_INVALID";
        case -8: return "RKNN_ERR_INPUT_INVALID";
        case -9: return "RKNN_ERR_OUTPUT_INVALID";
        case -10: return "RKNN_ERR_DEVICE_UNMATCH";
        case -11: return "RKNN_ERR_INCOMPATILE_PRE_COMPILE_MODEL";
        case -12: return "RKNN_ERR_INCOMPATILE_OPTIMIZATION_LEVEL_VERSION";
        case -13: return "RKNN_ERR_TARGET_PLATFORM_UNMATCH";
        default: return "RKNN error " + std::to_string(code);
    }
}

namespace {

[[noreturn]] void fail(const std::string& call, int ret, const char* hint = "") {
    throw std::runtime_error(call + " failed: " + std::to_string(ret) + " " + rknn_error_name(ret) + hint);
}

// IEEE half -> float, for a model whose output was left in fp16.
float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t man = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while (!(man & 0x400u)) {
                man <<= 1;
                --exp;
            }
            bits = sign | (exp << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

const char* type_name(int t) {
    switch (t) {
        case RKNN_TENSOR_FLOAT32: return "FP32";
        case RKNN_TENSOR_FLOAT16: return "FP16";
        case RKNN_TENSOR_INT8: return "INT8";
        case RKNN_TENSOR_UINT8: return "UINT8";
        case RKNN_TENSOR_INT16: return "INT16";
        case RKNN_TENSOR_UINT16: return "UINT16";
        case RKNN_TENSOR_INT32: return "INT32";
        case RKNN_TENSOR_UINT32: return "UINT32";
        case RKNN_TENSOR_INT64: return "INT64";
        case RKNN_TENSOR_BOOL: return "BOOL";
        case RKNN_TENSOR_INT4: return "INT4";
        default: return "unknown";
    }
}

const char* fmt_name(int f) {
    switch (f) {
        case RKNN_TENSOR_NCHW: return "NCHW";
        case RKNN_TENSOR_NHWC: return "NHWC";
        case RKNN_TENSOR_NC1HWC2: return "NC1HWC2";
        case RKNN_TENSOR_UNDEFINED: return "UNDEFINED";
        default: return "unknown";
    }
}

const char* qnt_name(int q) {
    switch (q) {
        case RKNN_TENSOR_QNT_NONE: return "NONE";
        case RKNN_TENSOR_QNT_DFP: return "DFP";
        case RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC: return "AFFINE";
        default: return "unknown";
    }
}

// Bytes per element of the output types the engine reads; 0 for the others.
std::size_t output_type_bytes(int t) {
    switch (t) {
        case RKNN_TENSOR_INT8:
        case RKNN_TENSOR_UINT8: return 1;
        case RKNN_TENSOR_INT16:
        case RKNN_TENSOR_FLOAT16: return 2;
        case RKNN_TENSOR_FLOAT32: return 4;
        default: return 0;
    }
}

// Elements of one spatial position for a classifier: every dimension but the batch and channel ones must be
// 1. NC1HWC2 dims are [N, C1, H, W, C2]; NCHW [N, C, H, W]; NHWC [N, H, W, C]; others [N, C] or [N, 1, 1, C].
bool spatial_is_one(const rknn_tensor_attr& a) {
    if (a.fmt == RKNN_TENSOR_NC1HWC2) return a.n_dims == 5 && a.dims[2] * a.dims[3] == 1;
    if (a.n_dims <= 2) return true;
    if (a.fmt == RKNN_TENSOR_NCHW) return a.n_dims == 4 && a.dims[2] * a.dims[3] == 1;
    std::uint64_t inner = 1;  // NHWC / UNDEFINED: all dims between the first and the last
    for (std::uint32_t i = 1; i + 1 < a.n_dims; ++i) inner *= a.dims[i];
    return inner == 1;
}

// The message for a model that a runtime older than its toolkit would refuse.
std::string version_advice(const std::string& toolkit, const std::string& runtime) {
    return "install librknnmrt.so " + toolkit + " or newer on the board (rknn-toolkit2 v" + toolkit +
           ": rknpu2/runtime/Linux/librknn_api/armhf-uclibc/librknnmrt.so, copied to the app's lib/ folder or "
           "/oem/usr/lib), or rebuild the model with rknn-toolkit2 " +
           (runtime.empty() ? std::string("matching the board's runtime") : runtime.substr(0, runtime.find(' ')));
}

}  // namespace

struct RknnEngine::Impl {
    rknn_context ctx = 0;
    bool have_ctx = false;
    rknn_tensor_attr in_attr{};
    rknn_tensor_attr out_attr{};
    rknn_tensor_mem* in_mem = nullptr;
    rknn_tensor_mem* out_mem = nullptr;
    RknnModelInfo info;
    std::vector<float> scores;

    ~Impl() {
        // Reverse order of creation: buffers first, then the context.
        if (out_mem) rknn_destroy_mem(ctx, out_mem);
        if (in_mem) rknn_destroy_mem(ctx, in_mem);
        if (have_ctx) rknn_destroy(ctx);
    }
};

RknnEngine::RknnEngine(const std::string& model_path) : impl_(new Impl) {
    Impl& m = *impl_;
    m.info.toolkit_version = rknn_toolkit_version(model_path);
    m.info.npu_proc_version = npu_driver_version();
    // size 0: the runtime reads the model from the path itself.
    int ret = rknn_init(&m.ctx, const_cast<char*>(model_path.c_str()), 0, 0, nullptr);
    if (ret < 0) {
        std::string hint;
        if (ret == RKNN_ERR_MODEL_INVALID) {
            // Most often a runtime older than the toolkit that built the model; also a model built for another
            // chip, or rkipc still holding the NPU's memory.
            hint = " (the model was built by rknn-toolkit2 " +
                   (m.info.toolkit_version.empty() ? std::string("of unknown version") : m.info.toolkit_version) +
                   ": a board librknnmrt older than that refuses it: " +
                   version_advice(m.info.toolkit_version.empty() ? "2.x" : m.info.toolkit_version, "") +
                   "; is the .rknn built for rv1103? is rkipc still running (RkLunch-stop.sh)?)";
        }
        fail("rknn_init(" + model_path + ")", ret, hint.c_str());
    }
    m.have_ctx = true;

    rknn_sdk_version ver{};
    if (rknn_query(m.ctx, RKNN_QUERY_SDK_VERSION, &ver, sizeof ver) == RKNN_SUCC) {
        ver.api_version[sizeof ver.api_version - 1] = '\0';
        ver.drv_version[sizeof ver.drv_version - 1] = '\0';
        m.info.sdk_version = ver.api_version;
        m.info.driver_version = ver.drv_version;
    }
    if (!m.info.toolkit_version.empty() && !m.info.sdk_version.empty() &&
        compare_versions(m.info.toolkit_version, m.info.sdk_version) > 0) {
        throw std::runtime_error(model_path + " was built by rknn-toolkit2 " + m.info.toolkit_version +
                                 ", newer than this board's RKNN runtime (librknnmrt " + m.info.sdk_version +
                                 ", driver " + m.info.driver_version +
                                 "): " + version_advice(m.info.toolkit_version, m.info.sdk_version));
    }

    rknn_input_output_num io{};
    ret = rknn_query(m.ctx, RKNN_QUERY_IN_OUT_NUM, &io, sizeof io);
    if (ret != RKNN_SUCC) fail("rknn_query(RKNN_QUERY_IN_OUT_NUM)", ret);
    if (io.n_input != 1 || io.n_output != 1) {
        throw std::runtime_error(model_path + ": the classifier needs 1 input and 1 output, the model has " +
                                 std::to_string(io.n_input) + " and " + std::to_string(io.n_output));
    }

    m.in_attr.index = 0;
    ret = rknn_query(m.ctx, RKNN_QUERY_NATIVE_INPUT_ATTR, &m.in_attr, sizeof m.in_attr);
    if (ret != RKNN_SUCC) fail("rknn_query(RKNN_QUERY_NATIVE_INPUT_ATTR)", ret);
    // UINT8 makes the NPU do mean/std and quantization itself; NHWC is the only zero-copy input layout.
    m.in_attr.type = RKNN_TENSOR_UINT8;
    m.in_attr.fmt = RKNN_TENSOR_NHWC;
    if (m.in_attr.n_dims != 4 || m.in_attr.dims[0] != 1 || m.in_attr.dims[3] != 3 || m.in_attr.dims[1] == 0 ||
        m.in_attr.dims[2] == 0 || m.in_attr.dims[1] > 4096 || m.in_attr.dims[2] > 4096) {
        throw std::runtime_error(model_path + ": input must be 1xHxWx3 NHWC, got n_dims " +
                                 std::to_string(m.in_attr.n_dims) + " dims[3] " + std::to_string(m.in_attr.dims[3]));
    }

    // The NHWC view of the output; a runtime or model without it answers an error, and the native layout
    // holds the same bytes for a classifier's 1x1 output (NC1HWC2 puts channel c at c when H = W = 1).
    m.out_attr.index = 0;
    m.info.output_query = "NATIVE_NHWC_OUTPUT_ATTR";
    ret = rknn_query(m.ctx, RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR, &m.out_attr, sizeof m.out_attr);
    if (ret != RKNN_SUCC) {
        const int nhwc_ret = ret;
        m.out_attr = rknn_tensor_attr{};
        m.out_attr.index = 0;
        ret = rknn_query(m.ctx, RKNN_QUERY_NATIVE_OUTPUT_ATTR, &m.out_attr, sizeof m.out_attr);
        if (ret != RKNN_SUCC) {
            const std::string tried =
                " (tried after RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR failed: " + std::to_string(nhwc_ret) + " " +
                rknn_error_name(nhwc_ret) + ")";
            fail("rknn_query(RKNN_QUERY_NATIVE_OUTPUT_ATTR)", ret, tried.c_str());
        }
        m.info.output_query = "NATIVE_OUTPUT_ATTR (NATIVE_NHWC_OUTPUT_ATTR: " + rknn_error_name(nhwc_ret) + ")";
    }
    std::uint32_t classes = m.out_attr.n_elems;
    if (m.out_attr.fmt == RKNN_TENSOR_NC1HWC2) {
        // n_elems counts the channels padded to C2; the logical attribute has the real count.
        rknn_tensor_attr logical{};
        logical.index = 0;
        if (rknn_query(m.ctx, RKNN_QUERY_OUTPUT_ATTR, &logical, sizeof logical) == RKNN_SUCC && logical.n_elems > 0 &&
            logical.n_elems <= classes)
            classes = logical.n_elems;
    }

    TensorInfo& ti = m.info.input;
    ti.height = static_cast<int>(m.in_attr.dims[1]);
    ti.width = static_cast<int>(m.in_attr.dims[2]);
    ti.channels = static_cast<int>(m.in_attr.dims[3]);
    ti.w_stride = m.in_attr.w_stride ? static_cast<int>(m.in_attr.w_stride) : ti.width;  // 0 means = width
    m.info.input_size_with_stride = m.in_attr.size_with_stride;
    if (ti.w_stride < ti.width || ti.size_bytes() > m.in_attr.size_with_stride) {
        throw std::runtime_error(model_path + ": input size_with_stride " + std::to_string(m.in_attr.size_with_stride) +
                                 " is smaller than H*w_stride*C = " + std::to_string(ti.size_bytes()) + " (w_stride " +
                                 std::to_string(ti.w_stride) + ", width " + std::to_string(ti.width) + ")");
    }
    m.info.output_type = static_cast<int>(m.out_attr.type);
    m.info.output_type_name = type_name(m.out_attr.type);
    m.info.output_zp = m.out_attr.zp;
    m.info.output_scale = m.out_attr.scale;
    m.info.output_elems = classes;
    if (classes == 0 || classes > 1000) {
        throw std::runtime_error(model_path + ": output has " + std::to_string(classes) +
                                 " elements, expected 1..1000 class scores");
    }
    if (!spatial_is_one(m.out_attr)) {
        throw std::runtime_error(model_path + ": output " + fmt_name(m.out_attr.fmt) +
                                 " is not a vector of class scores (spatial size above 1)");
    }
    // Every type is checked here, so that a model the engine cannot read fails at start, not at the first frame.
    const std::size_t elem = output_type_bytes(m.out_attr.type);
    if (elem == 0) {
        throw std::runtime_error(model_path + ": output type " + type_name(m.out_attr.type) + " (" +
                                 std::to_string(static_cast<int>(m.out_attr.type)) +
                                 ") is not supported (INT8, UINT8, INT16, FP16, FP32)");
    }
    const bool quantized = m.out_attr.type == RKNN_TENSOR_INT8 || m.out_attr.type == RKNN_TENSOR_UINT8 ||
                           m.out_attr.type == RKNN_TENSOR_INT16;
    if (quantized && m.out_attr.qnt_type == RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC &&
        !(m.out_attr.scale > 0.0f && m.out_attr.scale < 1e30f)) {
        throw std::runtime_error(model_path + ": output scale " + std::to_string(m.out_attr.scale) +
                                 " is not positive");
    }
    if (quantized && m.out_attr.qnt_type == RKNN_TENSOR_QNT_DFP && (m.out_attr.fl < -31 || m.out_attr.fl > 31)) {
        throw std::runtime_error(model_path + ": output DFP fraction length " + std::to_string(m.out_attr.fl) +
                                 " is out of range");
    }
    if (m.out_attr.size_with_stride < classes * elem) {
        throw std::runtime_error(model_path + ": output size_with_stride " +
                                 std::to_string(m.out_attr.size_with_stride) + " holds fewer than " +
                                 std::to_string(classes) + " " + type_name(m.out_attr.type) + " values");
    }

    m.in_mem = rknn_create_mem(m.ctx, m.in_attr.size_with_stride);
    if (!m.in_mem)
        fail("rknn_create_mem(input, " + std::to_string(m.in_attr.size_with_stride) + ")", RKNN_ERR_MALLOC_FAIL);
    m.out_mem = rknn_create_mem(m.ctx, m.out_attr.size_with_stride);
    if (!m.out_mem)
        fail("rknn_create_mem(output, " + std::to_string(m.out_attr.size_with_stride) + ")", RKNN_ERR_MALLOC_FAIL);
    ret = rknn_set_io_mem(m.ctx, m.in_mem, &m.in_attr);
    if (ret < 0) fail("rknn_set_io_mem(input)", ret);
    ret = rknn_set_io_mem(m.ctx, m.out_mem, &m.out_attr);
    if (ret < 0) fail("rknn_set_io_mem(output)", ret);
    // Rows of w_stride pixels: the bytes between width and w_stride stay zero.
    std::memset(m.in_mem->virt_addr, 0, m.in_attr.size_with_stride);
    m.scores.assign(classes, 0.0f);
}

RknnEngine::~RknnEngine() = default;

TensorInfo RknnEngine::input_info() const { return impl_->info.input; }

std::uint8_t* RknnEngine::input_buffer() { return static_cast<std::uint8_t*>(impl_->in_mem->virt_addr); }

void RknnEngine::run() {
    Impl& m = *impl_;
    const int ret = rknn_run(m.ctx, nullptr);
    if (ret < 0) fail("rknn_run", ret);
    const std::size_t n = m.scores.size();
    const void* out = m.out_mem->virt_addr;
    const rknn_tensor_attr& a = m.out_attr;
    // DFP (dynamic fixed point): value = q * 2^-fl, i.e. zero point 0 and scale 2^-fl.
    const bool dfp = a.qnt_type == RKNN_TENSOR_QNT_DFP;
    const std::int32_t zp = dfp ? 0 : a.zp;
    const float scale = dfp ? std::ldexp(1.0f, -a.fl) : a.scale;
    // The class values come first in the native buffer (checked at init: one spatial position).
    switch (a.type) {
        case RKNN_TENSOR_INT8: dequantize(static_cast<const std::int8_t*>(out), n, zp, scale, m.scores.data()); break;
        case RKNN_TENSOR_UINT8: dequantize(static_cast<const std::uint8_t*>(out), n, zp, scale, m.scores.data()); break;
        case RKNN_TENSOR_INT16: dequantize(static_cast<const std::int16_t*>(out), n, zp, scale, m.scores.data()); break;
        case RKNN_TENSOR_FLOAT32: std::memcpy(m.scores.data(), out, n * sizeof(float)); break;
        case RKNN_TENSOR_FLOAT16: {
            const auto* h = static_cast<const std::uint16_t*>(out);
            for (std::size_t i = 0; i < n; ++i) m.scores[i] = half_to_float(h[i]);
            break;
        }
        default: break;  // refused at init
    }
}

const std::vector<float>& RknnEngine::scores() const { return impl_->scores; }

int RknnEngine::num_classes() const { return static_cast<int>(impl_->scores.size()); }

const RknnModelInfo& RknnEngine::info() const { return impl_->info; }

namespace {

json::Value attr_json(const rknn_tensor_attr& a) {
    json::Value j = json::Value::object();
    j["index"] = a.index;
    j["name"] = std::string(a.name, strnlen(a.name, sizeof a.name));
    j["n_dims"] = a.n_dims;
    json::Value dims = json::Value::array();
    for (std::uint32_t i = 0; i < a.n_dims && i < RKNN_MAX_DIMS; ++i) dims.push_back(a.dims[i]);
    j["dims"] = dims;
    j["n_elems"] = a.n_elems;
    j["size"] = a.size;
    j["fmt"] = fmt_name(a.fmt);
    j["type"] = type_name(a.type);
    j["qnt_type"] = qnt_name(a.qnt_type);
    j["fl"] = a.fl;
    j["zp"] = a.zp;
    j["scale"] = a.scale;
    j["w_stride"] = a.w_stride;
    j["size_with_stride"] = a.size_with_stride;
    j["pass_through"] = a.pass_through;
    j["h_stride"] = a.h_stride;
    return j;
}

json::Value query_attr(rknn_context ctx, rknn_query_cmd cmd) {
    rknn_tensor_attr a{};
    a.index = 0;
    const int ret = rknn_query(ctx, cmd, &a, sizeof a);
    if (ret != RKNN_SUCC) {
        json::Value e = json::Value::object();
        e["error"] = ret;
        e["error_name"] = rknn_error_name(ret);
        return e;
    }
    return attr_json(a);
}

}  // namespace

std::string rknn_dump_attrs(const std::string& model_path) {
    rknn_context ctx = 0;
    const int ret = rknn_init(&ctx, const_cast<char*>(model_path.c_str()), 0, 0, nullptr);
    if (ret < 0) fail("rknn_init(" + model_path + ")", ret);
    json::Value j = json::Value::object();
    j["source"] = "rv1103_app --dump-attrs " + model_path;
    j["toolkit_version"] = rknn_toolkit_version(model_path);
    j["npu_proc_version"] = npu_driver_version();
    rknn_sdk_version ver{};
    json::Value sdk = json::Value::object();
    if (rknn_query(ctx, RKNN_QUERY_SDK_VERSION, &ver, sizeof ver) == RKNN_SUCC) {
        ver.api_version[sizeof ver.api_version - 1] = '\0';
        ver.drv_version[sizeof ver.drv_version - 1] = '\0';
        sdk["api_version"] = std::string(ver.api_version);
        sdk["drv_version"] = std::string(ver.drv_version);
    }
    j["sdk"] = sdk;
    rknn_input_output_num io{};
    if (rknn_query(ctx, RKNN_QUERY_IN_OUT_NUM, &io, sizeof io) == RKNN_SUCC) {
        json::Value n = json::Value::array();
        n.push_back(io.n_input);
        n.push_back(io.n_output);
        j["in_out_num"] = n;
    }
    j["native_input"] = query_attr(ctx, RKNN_QUERY_NATIVE_INPUT_ATTR);
    j["native_nhwc_output"] = query_attr(ctx, RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR);
    j["native_output"] = query_attr(ctx, RKNN_QUERY_NATIVE_OUTPUT_ATTR);
    j["input"] = query_attr(ctx, RKNN_QUERY_INPUT_ATTR);
    j["output"] = query_attr(ctx, RKNN_QUERY_OUTPUT_ATTR);
    rknn_destroy(ctx);
    return j.dump(2);
}

}  // namespace camrt
