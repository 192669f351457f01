#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "camrt/quant.hpp"

TEST_SUITE_BEGIN("quant");

TEST_CASE("dequantize int8 and uint8") {
    const std::int8_t q8[] = {-128, -5, 0, 10, 127};
    float out[5];
    camrt::dequantize(q8, 5, -5, 0.5f, out);
    CHECK(out[0] == doctest::Approx(-61.5).epsilon(1e-6));
    CHECK(out[1] == doctest::Approx(0.0).epsilon(1e-6));
    CHECK(out[2] == doctest::Approx(2.5).epsilon(1e-6));
    CHECK(out[3] == doctest::Approx(7.5).epsilon(1e-6));
    CHECK(out[4] == doctest::Approx(66.0).epsilon(1e-6));
    const std::uint8_t qu[] = {0, 128, 200, 255};
    camrt::dequantize(qu, 4, 128, 0.25f, out);
    CHECK(out[0] == doctest::Approx(-32.0).epsilon(1e-6));
    CHECK(out[1] == doctest::Approx(0.0).epsilon(1e-6));
    CHECK(out[2] == doctest::Approx(18.0).epsilon(1e-6));
    CHECK(out[3] == doctest::Approx(31.75).epsilon(1e-6));
}

TEST_CASE("softmax matches the closed form and sums to 1") {
    const auto p = camrt::softmax({1.0f, 2.0f, 3.0f});
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(p[0] == doctest::Approx(std::exp(1.0) / z).epsilon(1e-6));
    CHECK(p[1] == doctest::Approx(std::exp(2.0) / z).epsilon(1e-6));
    CHECK(p[2] == doctest::Approx(std::exp(3.0) / z).epsilon(1e-6));
    CHECK(p[0] + p[1] + p[2] == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("softmax is stable for huge logits") {
    const auto p = camrt::softmax({1000.0f, 1001.0f});
    CHECK((std::isfinite(p[0]) && std::isfinite(p[1])));
    CHECK(p[1] == doctest::Approx(std::exp(1.0) / (1.0 + std::exp(1.0))).epsilon(1e-6));
    const auto q = camrt::softmax({-1e30f, 0.0f});
    CHECK(q[1] == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(camrt::softmax(std::vector<float>{}).empty());
}

TEST_CASE("softmax in place") {
    float v[] = {0.0f, 0.0f, 0.0f, 0.0f};
    camrt::softmax(v, 4, v);
    for (float x : v) CHECK(x == doctest::Approx(0.25).epsilon(1e-7));
}

TEST_SUITE_END();
