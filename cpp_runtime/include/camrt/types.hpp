// Small value types shared by every camrt component.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace camrt {

// A rectangle in frame pixels (x, y: top-left corner).
struct Rect {
    int x = 0;
    int y = 0;
    int w = 0;
    int h = 0;
    bool operator==(const Rect& o) const { return x == o.x && y == o.y && w == o.w && h == o.h; }
    bool operator!=(const Rect& o) const { return !(*this == o); }
};

// Camera frame layouts accepted by the preprocessing.
//   RGB888 / BGR888: packed 3 bytes per pixel.
//   NV12: Y plane (1 byte per pixel) followed by an interleaved U,V plane at half resolution.
//   YUYV: packed Y0 U Y1 V per two pixels (YUV 4:2:2).
// YUV is decoded with BT.601 coefficients in the frame's YuvRange.
enum class PixelFormat { RGB888, BGR888, NV12, YUYV };

// The YUV quantization range. Limited ("video"): Y 16..235, as OpenCV's COLOR_YUV2RGB_NV12 / _YUYV decode.
// Full ("JPEG"): Y and C 0..255, what the RV1103's ISP (rkisp) outputs by default and JPEG uses.
enum class YuvRange { Limited, Full };

// Channel order written into the model input.
enum class ColorOrder { RGB, BGR };

// The model's input tensor: uint8 NHWC with N = 1. A row of the buffer holds w_stride pixels
// (w_stride >= width; RKNN pads rows on RV1103), so the buffer is height * w_stride * channels bytes.
struct TensorInfo {
    int height = 0;
    int width = 0;
    int channels = 3;
    int w_stride = 0;  // pixels per buffer row
    std::size_t size_bytes() const {
        return static_cast<std::size_t>(height) * static_cast<std::size_t>(w_stride) *
               static_cast<std::size_t>(channels);
    }
};

// Names used in configs, logs and the Python bindings ("RGB888", "NV12", "RGB", ...).
const char* to_string(PixelFormat f);
const char* to_string(ColorOrder c);
// Throw std::invalid_argument naming the accepted values when the name is unknown.
PixelFormat pixel_format_from_string(const std::string& s);
ColorOrder color_order_from_string(const std::string& s);

}  // namespace camrt
