// Frame views and the fused crop + bilinear resize + colour conversion into the model's input.
#pragma once

#include <cstdint>

#include "camrt/types.hpp"

namespace camrt {

// A borrowed view of one camera frame; camrt never copies or owns the pixels.
//   stride:    bytes per row of the first plane (RGB/BGR: >= 3*width, NV12 Y plane: >= width,
//              YUYV: >= 2*width).
//   uv, uv_stride: NV12 only, the interleaved UV plane and its bytes per row. When uv is null the
//              plane is taken to follow the Y plane: uv = data + stride * height, uv_stride = stride.
// NV12 and YUYV need an even width (and NV12 an even height).
struct FrameView {
    const std::uint8_t* data = nullptr;
    int width = 0;
    int height = 0;
    PixelFormat format = PixelFormat::RGB888;
    int stride = 0;
    const std::uint8_t* uv = nullptr;
    int uv_stride = 0;
    YuvRange yuv_range = YuvRange::Limited;  // NV12/YUYV only
};

// Frames and model inputs are at most this many pixels per side (cameras and NPU inputs are far below);
// the limit keeps every size and offset computation far from overflow.
constexpr int kMaxSide = 16384;

// Throws std::invalid_argument with the reason when the view is inconsistent (null data, a side not in
// 1..kMaxSide, stride too small, odd NV12/YUYV width, more bytes than the address space holds...).
void validate_frame(const FrameView& frame);
// Throws std::invalid_argument when the model input is not 3 channels, 1..kMaxSide per side, w_stride >= width.
void validate_tensor(const TensorInfo& dst);

// The preprocessing kernels this build uses: "sse2" (x86-64), "neon" (ARM) or "scalar". All three compute
// the same bytes.
const char* preprocess_kernels();

// Crops `crop` out of `frame`, resizes it bilinearly to dst.width x dst.height and writes it as uint8
// NHWC with dst.channels == 3 in `order`, row r starting at dst_buf + r * dst.w_stride * 3.
// One pass per output row; bytes between width and w_stride are left untouched.
//
// Sampling (the same convention as OpenCV's INTER_LINEAR): output pixel (dx, dy) reads the crop at
//   sx = (dx + 0.5) * crop.w / dst.width - 0.5, sy likewise, clamped to [0, crop side - 1],
// i.e. the 2x2 neighbourhood, in fixed point (vertical weights in 1/256, horizontal in 1/2048 steps),
// within 1 of exact bilinear after rounding. No area averaging. x86-64 uses SSE2, ARM NEON, other targets
// scalar code, all computing the same integers (bit-identical results; tests/cpp/test_kernels.cpp).
// YUV frames: Y, U and V are interpolated over the same 2x2 taps (each tap with the chroma of its own
// 2x2 block, as a full-frame conversion would give) and then converted to RGB (BT.601, the frame's
// yuv_range: limited or full).
//
// Throws std::invalid_argument when the frame or model input is invalid (validate_frame, validate_tensor),
// when the crop is outside the frame or empty, or (YUV) when the crop's x/y are odd.
void crop_resize(const FrameView& frame, const Rect& crop, std::uint8_t* dst_buf, const TensorInfo& dst,
                 ColorOrder order = ColorOrder::RGB);

}  // namespace camrt
