#include "camrt/clock.hpp"

#include <time.h>

namespace camrt {

std::uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    // Widen before multiplying: time_t and long are 32-bit on ARMv7.
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace camrt
