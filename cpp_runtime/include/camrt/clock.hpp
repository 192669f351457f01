// 64-bit monotonic time (CLOCK_MONOTONIC) for per-stage timings.
#pragma once

#include <cstdint>

namespace camrt {

// Nanoseconds from CLOCK_MONOTONIC as a 64-bit count (no 32-bit wrap on the ARMv7 board).
std::uint64_t monotonic_ns();

// Milliseconds between two monotonic_ns() readings.
inline double elapsed_ms(std::uint64_t start_ns, std::uint64_t end_ns) {
    return static_cast<double>(end_ns - start_ns) / 1e6;
}

// Measures consecutive stages: lap_ms() returns the time since construction or the previous lap.
class Stopwatch {
   public:
    Stopwatch() : last_(monotonic_ns()) {}
    double lap_ms() {
        const std::uint64_t now = monotonic_ns();
        const double ms = elapsed_ms(last_, now);
        last_ = now;
        return ms;
    }

   private:
    std::uint64_t last_;
};

// Per-stage wall times of one frame, in milliseconds.
//   capture:     getting the frame (set by the caller, 0 when not measured),
//   preprocess:  crop + resize + colour conversion, all crops,
//   inference:   Engine::run() plus reading its scores, all crops,
//   postprocess: softmax + voting,
//   total:       capture + the whole Pipeline::process call.
struct StageTimes {
    double capture = 0.0;
    double preprocess = 0.0;
    double inference = 0.0;
    double postprocess = 0.0;
    double total = 0.0;
};

}  // namespace camrt
