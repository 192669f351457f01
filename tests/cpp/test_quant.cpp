#include <cmath>
#include <cstdint>

#include "camrt/quant.hpp"
#include "check.hpp"

TEST("dequantize int8 and uint8") {
    const std::int8_t q8[] = {-128, -5, 0, 10, 127};
    float out[5];
    camrt::dequantize(q8, 5, -5, 0.5f, out);
    CHECK_NEAR(out[0], -61.5, 1e-6);
    CHECK_NEAR(out[1], 0.0, 1e-6);
    CHECK_NEAR(out[2], 2.5, 1e-6);
    CHECK_NEAR(out[3], 7.5, 1e-6);
    CHECK_NEAR(out[4], 66.0, 1e-6);
    const std::uint8_t qu[] = {0, 128, 200, 255};
    camrt::dequantize(qu, 4, 128, 0.25f, out);
    CHECK_NEAR(out[0], -32.0, 1e-6);
    CHECK_NEAR(out[1], 0.0, 1e-6);
    CHECK_NEAR(out[2], 18.0, 1e-6);
    CHECK_NEAR(out[3], 31.75, 1e-6);
}

TEST("softmax matches the closed form and sums to 1") {
    const auto p = camrt::softmax({1.0f, 2.0f, 3.0f});
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK_NEAR(p[0], std::exp(1.0) / z, 1e-6);
    CHECK_NEAR(p[1], std::exp(2.0) / z, 1e-6);
    CHECK_NEAR(p[2], std::exp(3.0) / z, 1e-6);
    CHECK_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6);
}

TEST("softmax is stable for huge logits") {
    const auto p = camrt::softmax({1000.0f, 1001.0f});
    CHECK(std::isfinite(p[0]) && std::isfinite(p[1]));
    CHECK_NEAR(p[1], std::exp(1.0) / (1.0 + std::exp(1.0)), 1e-6);
    const auto q = camrt::softmax({-1e30f, 0.0f});
    CHECK_NEAR(q[1], 1.0, 1e-6);
    CHECK(camrt::softmax(std::vector<float>{}).empty());
}

TEST("softmax in place") {
    float v[] = {0.0f, 0.0f, 0.0f, 0.0f};
    camrt::softmax(v, 4, v);
    for (float x : v) CHECK_NEAR(x, 0.25, 1e-7);
}
