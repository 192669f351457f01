// What the binding files of camrt._camrt share: one bind_<topic>() per file, and the checks that turn
// Python's unbounded integers and numpy's int64 shapes and strides into C++ ints with a clean ValueError.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <string>

#include "camrt/frames.hpp"

namespace camrt_py {

namespace nb = nanobind;

using U8Array = nb::ndarray<const std::uint8_t, nb::device::cpu>;
using U8Out = nb::ndarray<std::uint8_t, nb::device::cpu>;

[[noreturn]] inline void value_error(const std::string& msg) { throw nb::value_error(msg.c_str()); }

// v as an int when lo <= v <= hi, else ValueError "<what> = <v> is out of range [lo, hi]".
int checked_int(std::int64_t v, std::int64_t lo, std::int64_t hi, const char* what);

// A FrameView over the numpy array's own memory; refuses (never copies) layouts it cannot read in place.
camrt::FrameView frame_view(const U8Array& a, const std::string& fmt_name);

void bind_frames(nb::module_& m);    // Rect, TensorInfo, plan_crops, crop_resize, preprocess, ...
void bind_quant(nb::module_& m);     // dequantize, softmax
void bind_config(nb::module_& m);    // Config, parse_config, load_config, ConfigWatcher, SIGHUP
void bind_voter(nb::module_& m);     // Vote, Voter
void bind_pipeline(nb::module_& m);  // Engine, CallableEngine, FrameResult, Pipeline, to_json_line, clock

}  // namespace camrt_py
