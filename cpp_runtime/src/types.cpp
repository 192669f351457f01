#include "camrt/types.hpp"

#include <stdexcept>

namespace camrt {

const char* to_string(PixelFormat f) {
    switch (f) {
        case PixelFormat::RGB888: return "RGB888";
        case PixelFormat::BGR888: return "BGR888";
        case PixelFormat::NV12: return "NV12";
        case PixelFormat::YUYV: return "YUYV";
    }
    return "?";
}

const char* to_string(ColorOrder c) { return c == ColorOrder::RGB ? "RGB" : "BGR"; }

PixelFormat pixel_format_from_string(const std::string& s) {
    for (PixelFormat f : {PixelFormat::RGB888, PixelFormat::BGR888, PixelFormat::NV12, PixelFormat::YUYV}) {
        if (s == to_string(f)) return f;
    }
    throw std::invalid_argument("unknown pixel format '" + s + "' (allowed: RGB888, BGR888, NV12, YUYV)");
}

ColorOrder color_order_from_string(const std::string& s) {
    if (s == "RGB") return ColorOrder::RGB;
    if (s == "BGR") return ColorOrder::BGR;
    throw std::invalid_argument("unknown colour order '" + s + "' (allowed: RGB, BGR)");
}

}  // namespace camrt
