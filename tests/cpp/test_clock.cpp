#include <doctest/doctest.h>
#include <time.h>

#include "camrt/clock.hpp"

TEST_SUITE_BEGIN("clock");

TEST_CASE("monotonic clock is 64-bit nanoseconds and never goes back") {
    const std::uint64_t a = camrt::monotonic_ns();
    std::uint64_t prev = a;
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t t = camrt::monotonic_ns();
        CHECK(t >= prev);
        prev = t;
    }
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    // Same clock as CLOCK_MONOTONIC, seconds part matches (the widening did not truncate).
    CHECK(static_cast<std::uint64_t>(ts.tv_sec) - camrt::monotonic_ns() / 1000000000ULL <= 1);
}

TEST_CASE("stopwatch laps measure a sleep") {
    camrt::Stopwatch sw;
    timespec req{0, 20 * 1000 * 1000};
    nanosleep(&req, nullptr);
    const double ms = sw.lap_ms();
    CHECK(ms >= 19.0);
    CHECK(ms < 2000.0);
    CHECK(sw.lap_ms() < ms);
    CHECK(camrt::elapsed_ms(1000000, 3500000) == doctest::Approx(2.5).epsilon(1e-9));
}

TEST_SUITE_END();
