// Dequantization of int8/uint8/int16 model outputs and a numerically stable softmax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace camrt {

// value = (q - zero_point) * scale, computed in float.
inline float dequantize(std::int32_t q, std::int32_t zero_point, float scale) {
    return static_cast<float>(q - zero_point) * scale;
}
void dequantize(const std::int8_t* q, std::size_t n, std::int32_t zero_point, float scale, float* out);
void dequantize(const std::uint8_t* q, std::size_t n, std::int32_t zero_point, float scale, float* out);
void dequantize(const std::int16_t* q, std::size_t n, std::int32_t zero_point, float scale, float* out);

// Softmax that subtracts the maximum first, so large logits do not overflow. in and out may alias.
// n == 0 does nothing.
void softmax(const float* in, std::size_t n, float* out);
std::vector<float> softmax(const std::vector<float>& logits);

}  // namespace camrt
