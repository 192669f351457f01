// RknnEngine: see camrt/engine_rknn.hpp. Compiled only with the user's rknn_api.h / librknnmrt.so.
#include "camrt/engine_rknn.hpp"

#include <cstring>
#include <stdexcept>

#include "camrt/quant.hpp"
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
    // size 0: the runtime reads the model from the path itself.
    int ret = rknn_init(&m.ctx, const_cast<char*>(model_path.c_str()), 0, 0, nullptr);
    if (ret < 0) {
        fail("rknn_init(" + model_path + ")", ret,
             ret == RKNN_ERR_MODEL_INVALID
                 ? " (is rkipc still running? stop it with RkLunch-stop.sh; is the .rknn built for rv1103?)"
                 : "");
    }
    m.have_ctx = true;

    rknn_sdk_version ver{};
    if (rknn_query(m.ctx, RKNN_QUERY_SDK_VERSION, &ver, sizeof ver) == RKNN_SUCC) {
        m.info.sdk_version = ver.api_version;
        m.info.driver_version = ver.drv_version;
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
    if (m.in_attr.n_dims != 4 || m.in_attr.dims[0] != 1 || m.in_attr.dims[3] != 3) {
        throw std::runtime_error(model_path + ": input must be 1xHxWx3 NHWC, got n_dims " +
                                 std::to_string(m.in_attr.n_dims) + " dims[3] " + std::to_string(m.in_attr.dims[3]));
    }

    m.out_attr.index = 0;
    ret = rknn_query(m.ctx, RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR, &m.out_attr, sizeof m.out_attr);
    if (ret != RKNN_SUCC) fail("rknn_query(RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR)", ret);

    TensorInfo& ti = m.info.input;
    ti.height = static_cast<int>(m.in_attr.dims[1]);
    ti.width = static_cast<int>(m.in_attr.dims[2]);
    ti.channels = static_cast<int>(m.in_attr.dims[3]);
    ti.w_stride = m.in_attr.w_stride ? static_cast<int>(m.in_attr.w_stride) : ti.width;  // 0 means = width
    m.info.input_size_with_stride = m.in_attr.size_with_stride;
    if (ti.size_bytes() > m.in_attr.size_with_stride) {
        throw std::runtime_error(model_path + ": input size_with_stride " + std::to_string(m.in_attr.size_with_stride) +
                                 " is smaller than H*w_stride*C = " + std::to_string(ti.size_bytes()));
    }
    m.info.output_type = static_cast<int>(m.out_attr.type);
    m.info.output_zp = m.out_attr.zp;
    m.info.output_scale = m.out_attr.scale;
    m.info.output_elems = m.out_attr.n_elems;
    if (m.out_attr.n_elems == 0 || m.out_attr.n_elems > 1000) {
        throw std::runtime_error(model_path + ": output has " + std::to_string(m.out_attr.n_elems) +
                                 " elements, expected 1..1000 class scores");
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
    m.scores.assign(m.out_attr.n_elems, 0.0f);
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
    // A [1, C] or [1, 1, 1, C] output holds its C values first in the native NHWC buffer.
    switch (m.out_attr.type) {
        case RKNN_TENSOR_INT8:
            dequantize(static_cast<const std::int8_t*>(out), n, m.out_attr.zp, m.out_attr.scale, m.scores.data());
            break;
        case RKNN_TENSOR_UINT8:
            dequantize(static_cast<const std::uint8_t*>(out), n, m.out_attr.zp, m.out_attr.scale, m.scores.data());
            break;
        case RKNN_TENSOR_FLOAT32: std::memcpy(m.scores.data(), out, n * sizeof(float)); break;
        case RKNN_TENSOR_FLOAT16: {
            const auto* h = static_cast<const std::uint16_t*>(out);
            for (std::size_t i = 0; i < n; ++i) m.scores[i] = half_to_float(h[i]);
            break;
        }
        default:
            throw std::runtime_error("rknn output type " + std::to_string(static_cast<int>(m.out_attr.type)) +
                                     " unsupported (INT8, UINT8, FLOAT16, FLOAT32)");
    }
}

const std::vector<float>& RknnEngine::scores() const { return impl_->scores; }

int RknnEngine::num_classes() const { return static_cast<int>(impl_->scores.size()); }

const RknnModelInfo& RknnEngine::info() const { return impl_->info; }

}  // namespace camrt
