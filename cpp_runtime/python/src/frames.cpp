// Frames, crops and preprocessing: Rect, TensorInfo, plan_crops, crop_resize, preprocess, frame_address.
// Frames are read in place (no copy). Every size from Python (an int of any size, numpy's int64 shapes and
// strides) is range-checked before it becomes a C++ int: absurd values give a ValueError, never a wrap.
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include <climits>
#include <tuple>
#include <variant>
#include <vector>

#include "bindings.hpp"
#include "camrt/planner.hpp"

namespace camrt_py {

using namespace nb::literals;

int checked_int(std::int64_t v, std::int64_t lo, std::int64_t hi, const char* what) {
    if (v < lo || v > hi) {
        value_error(std::string(what) + " = " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
    }
    return static_cast<int>(v);
}

namespace {

std::string shape_str(const U8Array& a) {
    std::string s = "(";
    for (size_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// A side of a frame (rows or pixels per row) from a numpy shape.
int side(std::int64_t v, const std::string& what, const char* name) {
    if (v < 1 || v > camrt::kMaxSide) {
        value_error(what + ": " + name + " " + std::to_string(v) + " is not in 1.." + std::to_string(camrt::kMaxSide));
    }
    return static_cast<int>(v);
}

// A row stride in bytes from numpy (uint8: elements are bytes).
int row_stride(std::int64_t v, const std::string& what) {
    if (v <= 0) value_error(what + ": rows must have a positive stride");
    if (v > INT_MAX) value_error(what + ": row stride " + std::to_string(v) + " is above " + std::to_string(INT_MAX));
    return static_cast<int>(v);
}

camrt::Rect make_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h) {
    return camrt::Rect{checked_int(x, INT_MIN, INT_MAX, "x"), checked_int(y, INT_MIN, INT_MAX, "y"),
                       checked_int(w, INT_MIN, INT_MAX, "w"), checked_int(h, INT_MIN, INT_MAX, "h")};
}

// A crop from Python: a Rect, or any sequence (x, y, w, h) of integers (a tuple, a list, a numpy row).
using CropArg = std::variant<camrt::Rect, std::vector<std::int64_t>>;

camrt::Rect to_rect(const CropArg& c) {
    if (const auto* r = std::get_if<camrt::Rect>(&c)) return *r;
    const auto& v = std::get<std::vector<std::int64_t>>(c);
    if (v.size() != 4)
        value_error("a crop is a camrt.Rect or (x, y, w, h): got " + std::to_string(v.size()) + " values");
    return make_rect(v[0], v[1], v[2], v[3]);
}

camrt::ColorOrder to_order(const std::string& s) {
    try {
        return camrt::color_order_from_string(s);
    } catch (const std::invalid_argument& e) {
        value_error(e.what());
    }
}

void set_field(camrt::Rect& r, int camrt::Rect::*field, std::int64_t v, const char* name) {
    r.*field = checked_int(v, INT_MIN, INT_MAX, name);
}

}  // namespace

//   RGB888/BGR888: (H, W, 3), pixels packed, any positive row stride.
//   NV12:          (H * 3 / 2, W), the Y rows followed by the UV rows, any positive row stride.
//   YUYV:          (H, 2 * W) or (H, W, 2), packed rows, any positive row stride.
camrt::FrameView frame_view(const U8Array& a, const std::string& fmt_name) {
    camrt::FrameView f;
    try {
        f.format = camrt::pixel_format_from_string(fmt_name);
    } catch (const std::invalid_argument& e) {
        value_error(e.what());
    }
    f.data = a.data();
    const std::string what = fmt_name + " frame of shape " + shape_str(a);
    for (size_t i = 0; i < a.ndim(); ++i) {
        if (a.shape(i) == 0) value_error(what + ": the frame is empty");
    }
    if (a.ndim() >= 1 && a.stride(0) <= 0) value_error(what + ": rows must have a positive stride");
    switch (f.format) {
        case camrt::PixelFormat::RGB888:
        case camrt::PixelFormat::BGR888:
            if (a.ndim() != 3 || a.shape(2) != 3) value_error(what + ": expected (height, width, 3)");
            if (a.stride(2) != 1 || a.stride(1) != 3) {
                value_error(what + ": pixels must be packed (strides (*, 3, 1)); pass np.ascontiguousarray(frame)");
            }
            f.height = side(a.shape(0), what, "height");
            f.width = side(a.shape(1), what, "width");
            f.stride = row_stride(a.stride(0), what);
            break;
        case camrt::PixelFormat::NV12:
            if (a.ndim() != 2 || a.shape(0) % 3 != 0) value_error(what + ": expected (height * 3 / 2, width)");
            if (a.stride(1) != 1) value_error(what + ": rows must be contiguous");
            f.height = side(a.shape(0) / 3 * 2, what, "height");
            f.width = side(a.shape(1), what, "width");
            f.stride = row_stride(a.stride(0), what);
            f.uv = nullptr;  // the UV rows follow the Y rows at the same stride
            break;
        case camrt::PixelFormat::YUYV:
            if (a.ndim() == 2) {
                if (a.stride(1) != 1 || a.shape(1) % 2 != 0) value_error(what + ": expected (height, 2 * width)");
                f.width = side(a.shape(1) / 2, what, "width");
            } else if (a.ndim() == 3 && a.shape(2) == 2) {
                if (a.stride(2) != 1 || a.stride(1) != 2) value_error(what + ": pixels must be packed");
                f.width = side(a.shape(1), what, "width");
            } else {
                value_error(what + ": expected (height, 2 * width) or (height, width, 2)");
            }
            f.height = side(a.shape(0), what, "height");
            f.stride = row_stride(a.stride(0), what);
            break;
    }
    try {
        camrt::validate_frame(f);
    } catch (const std::invalid_argument& e) {
        value_error(what + ": " + e.what());
    }
    return f;
}

void bind_frames(nb::module_& m) {
    nb::class_<camrt::Rect>(m, "Rect", "A rectangle in frame pixels; x, y: the top-left corner.")
        .def(nb::init<>())
        .def(
            "__init__",
            [](camrt::Rect* r, std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h) {
                new (r) camrt::Rect(make_rect(x, y, w, h));
            },
            "x"_a, "y"_a, "w"_a, "h"_a)
        .def_prop_rw(
            "x", [](const camrt::Rect& r) { return r.x; },
            [](camrt::Rect& r, std::int64_t v) { set_field(r, &camrt::Rect::x, v, "x"); })
        .def_prop_rw(
            "y", [](const camrt::Rect& r) { return r.y; },
            [](camrt::Rect& r, std::int64_t v) { set_field(r, &camrt::Rect::y, v, "y"); })
        .def_prop_rw(
            "w", [](const camrt::Rect& r) { return r.w; },
            [](camrt::Rect& r, std::int64_t v) { set_field(r, &camrt::Rect::w, v, "w"); })
        .def_prop_rw(
            "h", [](const camrt::Rect& r) { return r.h; },
            [](camrt::Rect& r, std::int64_t v) { set_field(r, &camrt::Rect::h, v, "h"); })
        .def("astuple", [](const camrt::Rect& r) { return std::make_tuple(r.x, r.y, r.w, r.h); })
        .def("__eq__", [](const camrt::Rect& a,
                          nb::handle b) { return nb::isinstance<camrt::Rect>(b) && a == nb::cast<camrt::Rect>(b); })
        .def("__repr__", [](const camrt::Rect& r) {
            return "Rect(x=" + std::to_string(r.x) + ", y=" + std::to_string(r.y) + ", w=" + std::to_string(r.w) +
                   ", h=" + std::to_string(r.h) + ")";
        });

    nb::class_<camrt::TensorInfo>(m, "TensorInfo", "The model input: uint8 NHWC, rows w_stride pixels apart.")
        .def_ro("height", &camrt::TensorInfo::height)
        .def_ro("width", &camrt::TensorInfo::width)
        .def_ro("channels", &camrt::TensorInfo::channels)
        .def_ro("w_stride", &camrt::TensorInfo::w_stride);

    m.attr("MAX_SIDE") = camrt::kMaxSide;

    m.def(
        "plan_crops",
        [](std::int64_t frame_w, std::int64_t frame_h, std::int64_t n_crops, std::int64_t model_w,
           std::int64_t model_h) {
            return camrt::plan_crops(
                checked_int(frame_w, INT_MIN, INT_MAX, "frame_w"), checked_int(frame_h, INT_MIN, INT_MAX, "frame_h"),
                checked_int(n_crops, INT_MIN, INT_MAX, "n_crops"), checked_int(model_w, INT_MIN, INT_MAX, "model_w"),
                checked_int(model_h, INT_MIN, INT_MAX, "model_h"));
        },
        "frame_w"_a, "frame_h"_a, "n_crops"_a, "model_w"_a, "model_h"_a,
        "Square crops along the long side (see planner.hpp); FrameTooSmall for a frame below the model input.");

    m.def(
        "frame_address",
        [](U8Array frame, const std::string& fmt) {
            return reinterpret_cast<std::uintptr_t>(frame_view(frame, fmt).data);
        },
        "frame"_a.noconvert(), "fmt"_a, "Address of the pixels the C++ side reads (equals the array's: no copy).");

    m.def("preprocess_kernels", &camrt::preprocess_kernels,
          "The preprocessing kernels of this build: 'sse2', 'neon' or 'scalar' (all give the same bytes).");

    m.def(
        "crop_resize",
        [](U8Array frame, const std::string& fmt, const CropArg& crop, U8Out out, const std::string& order) {
            const camrt::FrameView f = frame_view(frame, fmt);
            const camrt::Rect r = to_rect(crop);
            if (out.ndim() != 3 || out.shape(2) != 3 || out.stride(2) != 1 || out.stride(1) != 3 ||
                out.stride(0) < static_cast<std::int64_t>(3 * out.shape(1)) || out.stride(0) % 3 != 0) {
                value_error(
                    "out must be a writable uint8 (height, width, 3) array with packed pixels and rows "
                    "w_stride * 3 bytes apart (e.g. buf[:, :width] of a (height, w_stride, 3) buffer)");
            }
            const std::string what = "out";
            const camrt::TensorInfo t{side(static_cast<std::int64_t>(out.shape(0)), what, "height"),
                                      side(static_cast<std::int64_t>(out.shape(1)), what, "width"), 3,
                                      side(out.stride(0) / 3, what, "w_stride")};
            const camrt::ColorOrder o = to_order(order);
            nb::gil_scoped_release release;
            camrt::crop_resize(f, r, out.data(), t, o);
        },
        "frame"_a.noconvert(), "fmt"_a, "crop"_a, "out"_a.noconvert(), "order"_a = "RGB",
        "Fused crop + bilinear resize + colour conversion of `frame` (RGB888, BGR888, NV12, YUYV) into `out`.");

    m.def(
        "preprocess",
        [](U8Array frame, const std::string& fmt, const CropArg& crop, std::int64_t width, std::int64_t height,
           const std::string& order) {
            const camrt::FrameView f = frame_view(frame, fmt);
            const camrt::Rect r = to_rect(crop);
            const int w = checked_int(width, 1, camrt::kMaxSide, "width");
            const int h = checked_int(height, 1, camrt::kMaxSide, "height");
            const camrt::TensorInfo t{h, w, 3, w};
            const camrt::ColorOrder o = to_order(order);
            std::uint8_t* buf = new std::uint8_t[t.size_bytes()];
            nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<std::uint8_t*>(p); });
            {
                nb::gil_scoped_release release;
                camrt::crop_resize(f, r, buf, t, o);
            }
            return nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<3>>(
                buf, {static_cast<size_t>(h), static_cast<size_t>(w), 3}, owner);
        },
        "frame"_a.noconvert(), "fmt"_a, "crop"_a, "width"_a, "height"_a, "order"_a = "RGB",
        "crop_resize into a new (height, width, 3) uint8 array.");
}

}  // namespace camrt_py
