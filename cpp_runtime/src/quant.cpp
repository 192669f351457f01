#include "camrt/quant.hpp"

#include <algorithm>
#include <cmath>

namespace camrt {

void dequantize(const std::int8_t* q, std::size_t n, std::int32_t zero_point, float scale, float* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = dequantize(q[i], zero_point, scale);
}

void dequantize(const std::uint8_t* q, std::size_t n, std::int32_t zero_point, float scale, float* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = dequantize(q[i], zero_point, scale);
}

void dequantize(const std::int16_t* q, std::size_t n, std::int32_t zero_point, float scale, float* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = dequantize(q[i], zero_point, scale);
}

void softmax(const float* in, std::size_t n, float* out) {
    if (n == 0) return;
    // Subtracting the max keeps exp() in range for any logits.
    const float mx = *std::max_element(in, in + n);
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = std::exp(in[i] - mx);
        sum += out[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (std::size_t i = 0; i < n; ++i) out[i] *= inv;
}

std::vector<float> softmax(const std::vector<float>& logits) {
    std::vector<float> out(logits.size());
    softmax(logits.data(), logits.size(), out.data());
    return out;
}

}  // namespace camrt
