// crop_resize: the checks, the sampling tables and the row walk; the arithmetic of each row is done by the
// kernel set the build chose (resize/kernels.hpp).
#include "camrt/frames.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "resize/kernels.hpp"

namespace camrt {

namespace {

using detail::kOne;

std::string size_str(std::int64_t w, std::int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

// Source taps along one axis for every output coordinate (relative to the crop start).
struct Axis {
    std::vector<int> i0, i1;
    std::vector<int> w1;  // weight of i1 in 1/kOne; weight of i0 is kOne - w1
};

void make_axis(int src_len, int dst_len, Axis& a) {
    a.i0.resize(dst_len);
    a.i1.resize(dst_len);
    a.w1.resize(dst_len);
    const double scale = static_cast<double>(src_len) / dst_len;
    for (int d = 0; d < dst_len; ++d) {
        double s = (d + 0.5) * scale - 0.5;  // half-pixel centres
        if (s < 0) s = 0;
        int i0 = static_cast<int>(std::floor(s));
        double f = s - i0;
        if (i0 >= src_len - 1) {
            i0 = src_len - 1;
            f = 0;
        }
        int w = static_cast<int>(std::lround(f * kOne));
        int i1 = std::min(i0 + 1, src_len - 1);
        if (w >= kOne) {  // rounding reached the next tap
            i0 = i1;
            w = 0;
        }
        a.i0[d] = i0;
        a.i1[d] = i1;
        a.w1[d] = w;
    }
}

// Bytes per row a frame's pixels need (first plane); at most 3 * kMaxSide, no overflow.
std::int64_t row_bytes(const FrameView& f) {
    switch (f.format) {
        case PixelFormat::RGB888:
        case PixelFormat::BGR888: return 3LL * f.width;
        case PixelFormat::NV12: return f.width;
        case PixelFormat::YUYV: return 2LL * f.width;
    }
    return 0;
}

// Packed 3-byte pixels: per output row, the two source rows and the per-column tables.
void resize_packed3(const detail::KernelSet& k, const FrameView& f, const Rect& crop, std::uint8_t* dst,
                    const TensorInfo& t, const Axis& ax, const Axis& ay, bool swap) {
    thread_local std::vector<int> xoff;          // byte offset of tap x0 in the crop row
    thread_local std::vector<std::uint32_t> wx;  // (w1 << 16) | w0
    xoff.resize(t.width);
    wx.resize(t.width);
    for (int dx = 0; dx < t.width; ++dx) {
        int x0 = ax.i0[dx];
        int w1 = ax.w1[dx];
        if (ax.i1[dx] == x0) {  // clamped at the right edge: same pixel as full weight on the left neighbour
            if (x0 > 0) {
                --x0;
                w1 = kOne;
            }  // (a 1-pixel-wide crop keeps x0 = 0, w1 = 0; its x1 tap then has zero weight)
        }
        xoff[dx] = x0 * 3;
        wx[dx] = (static_cast<std::uint32_t>(w1) << 16) | static_cast<std::uint32_t>(kOne - w1);
    }
    const std::size_t dst_row = static_cast<std::size_t>(t.w_stride) * 3;
    const std::size_t stride = static_cast<std::size_t>(f.stride);
    // Bytes of the frame from the start of row 0 to the end of the last row's pixels.
    const std::size_t frame_end =
        (static_cast<std::size_t>(f.height) - 1) * stride + 3 * static_cast<std::size_t>(f.width);
    detail::PackedRow row{};
    row.xoff = xoff.data();
    row.wx = wx.data();
    row.step = crop.w > 1 ? 3 : 0;
    row.width = t.width;
    row.swap = swap;
    for (int dy = 0; dy < t.height; ++dy) {
        const std::size_t y0 = static_cast<std::size_t>(crop.y) + static_cast<std::size_t>(ay.i0[dy]);
        const std::size_t y1 = static_cast<std::size_t>(crop.y) + static_cast<std::size_t>(ay.i1[dy]);
        const std::size_t left = static_cast<std::size_t>(crop.x) * 3;
        row.r0 = f.data + y0 * stride + left;
        row.r1 = f.data + y1 * stride + left;
        row.avail = frame_end - std::max(y0, y1) * stride - left;
        row.wy1 = (ay.w1[dy] + 4) >> 3;  // 8-bit vertical weight
        row.wy0 = 256 - row.wy1;
        row.out = dst + static_cast<std::size_t>(dy) * dst_row;
        k.packed_row(row);
    }
}

// YUV frames, per output row: (1) blend the two source rows vertically (8-bit weights, result halved to 15
// bits: value x 128) over the crop's columns: Y, and U/V as stored (NV12: the interleaved UV row of each tap
// row's 2x2 block; YUYV: the packed row); (2) per output pixel, blend horizontally and convert (kernels.hpp,
// YuvRow). Equivalent to converting the frame to RGB and resizing it, up to rounding and except where a
// colour clips.
void resize_yuv(const detail::KernelSet& k, const FrameView& f, const Rect& crop, std::uint8_t* dst,
                const TensorInfo& t, const Axis& ax, const Axis& ay, bool bgr) {
    const bool nv12 = f.format == PixelFormat::NV12;
    const std::size_t stride = static_cast<std::size_t>(f.stride);
    const std::uint8_t* uvp = f.uv ? f.uv : f.data + stride * static_cast<std::size_t>(f.height);
    const std::size_t uv_stride = f.uv ? static_cast<std::size_t>(f.uv_stride) : stride;
    const std::size_t dst_row = static_cast<std::size_t>(t.w_stride) * 3;
    // Per output column: tap x0 (x1 = x0 + 1 after moving a right-edge clamp onto the left neighbour),
    // the pixel pair of tap x0, the luma weights and the chroma weights over the pairs of x0 and x0 + 2
    // (an even x0 shares its pair with x0 + 1: all weight on the first pair).
    // Scratch is per thread, reached once per call (a TLS lookup is a function call in a shared object).
    struct Scratch {
        std::vector<int> x0, c0;
        std::vector<std::uint32_t> w;  // 4 per column: luma (w1 << 16 | w0), chroma, 0, chroma
        std::vector<std::uint16_t> vy, vc;
    };
    thread_local Scratch scratch;
    Scratch& sc = scratch;
    sc.x0.resize(t.width);
    sc.c0.resize(t.width);
    sc.w.resize(4 * static_cast<std::size_t>(t.width));
    for (int dx = 0; dx < t.width; ++dx) {
        int x0 = ax.i0[dx];
        int w1 = ax.w1[dx];
        if (ax.i1[dx] == x0 && x0 > 0) {
            --x0;
            w1 = kOne;
        }
        const int w0 = kOne - w1;
        const bool odd = (x0 & 1) != 0;  // crop.x is even, so parity within the crop is the frame's
        sc.x0[dx] = x0;
        sc.c0[dx] = x0 & ~1;
        const std::uint32_t luma = (static_cast<std::uint32_t>(w1) << 16) | static_cast<std::uint32_t>(w0);
        const std::uint32_t chroma = odd ? luma : static_cast<std::uint32_t>(kOne);
        sc.w[4 * dx] = luma;  // the SIMD weights of [Y0 Y1 | U0 U1 | 0 0 | V0 V1]
        sc.w[4 * dx + 1] = chroma;
        sc.w[4 * dx + 2] = 0;
        sc.w[4 * dx + 3] = chroma;
    }
    const int ncols = crop.w + (crop.w & 1);  // whole pixel pairs; stays inside the even-width frame
    const int vy_len = nv12 ? ncols : 2 * ncols;
    sc.vy.assign(static_cast<std::size_t>(vy_len) + 8, 0);  // + 8: SIMD loads run past the end
    sc.vc.assign(static_cast<std::size_t>(ncols) + 8, 0);
    detail::YuvRow row{};
    row.k = f.yuv_range == YuvRange::Full ? &detail::kFullRange : &detail::kLimitedRange;
    row.vy = sc.vy.data();
    row.vc = sc.vc.data();
    row.x0 = sc.x0.data();
    row.c0 = sc.c0.data();
    row.w = sc.w.data();
    row.width = t.width;
    row.bgr = bgr;
    const std::size_t left = static_cast<std::size_t>(crop.x) * (nv12 ? 1 : 2);
    for (int dy = 0; dy < t.height; ++dy) {
        const std::size_t y0 = static_cast<std::size_t>(crop.y) + static_cast<std::size_t>(ay.i0[dy]);
        const std::size_t y1 = static_cast<std::size_t>(crop.y) + static_cast<std::size_t>(ay.i1[dy]);
        const int wy1 = (ay.w1[dy] + 4) >> 3;
        const int wy0 = 256 - wy1;
        k.vblend(f.data + y0 * stride + left, f.data + y1 * stride + left, vy_len, wy0, wy1, sc.vy.data());
        if (nv12) {
            k.vblend(uvp + (y0 >> 1) * uv_stride + left, uvp + (y1 >> 1) * uv_stride + left, ncols, wy0, wy1,
                     sc.vc.data());
        }
        row.out = dst + static_cast<std::size_t>(dy) * dst_row;
        if (nv12) {
            k.nv12_row(row);
        } else {
            k.yuyv_row(row);
        }
    }
}

const detail::KernelSet& active_kernels() {
    static const detail::KernelSet* k = detail::simd_kernels() ? detail::simd_kernels() : &detail::scalar_kernels();
    return *k;
}

}  // namespace

void validate_frame(const FrameView& f) {
    if (f.data == nullptr) throw std::invalid_argument("frame has no data");
    if (f.width <= 0 || f.height <= 0) {
        throw std::invalid_argument("frame size " + size_str(f.width, f.height) + " must be positive");
    }
    if (f.width > kMaxSide || f.height > kMaxSide) {
        throw std::invalid_argument("frame size " + size_str(f.width, f.height) + " is above the limit of " +
                                    std::to_string(kMaxSide) + " pixels per side");
    }
    const std::int64_t min_stride = row_bytes(f);
    if (f.stride < min_stride) {
        throw std::invalid_argument(std::string(to_string(f.format)) + " frame of width " + std::to_string(f.width) +
                                    ": stride " + std::to_string(f.stride) + " is below " + std::to_string(min_stride) +
                                    " bytes");
    }
    if ((f.format == PixelFormat::NV12 || f.format == PixelFormat::YUYV) && (f.width % 2) != 0) {
        throw std::invalid_argument(std::string(to_string(f.format)) + " frame width " + std::to_string(f.width) +
                                    " must be even");
    }
    // The bytes the view spans must fit the address space (a 32-bit board's too): every offset computed
    // from them then fits size_t.
    std::uint64_t extent = static_cast<std::uint64_t>(f.height - 1) * static_cast<std::uint64_t>(f.stride) +
                           static_cast<std::uint64_t>(min_stride);
    std::uint64_t uv_extent = 0;
    if (f.format == PixelFormat::NV12) {
        if (f.height % 2 != 0) {
            throw std::invalid_argument("NV12 frame height " + std::to_string(f.height) + " must be even");
        }
        const int uv_stride = f.uv ? f.uv_stride : f.stride;
        if (f.uv != nullptr && f.uv_stride < f.width) {
            throw std::invalid_argument("NV12 uv_stride " + std::to_string(f.uv_stride) + " is below the width " +
                                        std::to_string(f.width));
        }
        uv_extent = static_cast<std::uint64_t>(f.height / 2 - 1) * static_cast<std::uint64_t>(uv_stride) +
                    static_cast<std::uint64_t>(f.width);
        if (f.uv == nullptr) {  // the UV plane follows the Y plane
            extent = static_cast<std::uint64_t>(f.height) * static_cast<std::uint64_t>(f.stride) + uv_extent;
            uv_extent = 0;
        }
    }
    constexpr std::uint64_t kMaxBytes = static_cast<std::uint64_t>(PTRDIFF_MAX);
    if (extent > kMaxBytes || uv_extent > kMaxBytes) {
        throw std::invalid_argument(std::string(to_string(f.format)) + " frame " + size_str(f.width, f.height) +
                                    " with stride " + std::to_string(f.stride) + " spans " + std::to_string(extent) +
                                    " bytes, more than this machine can address");
    }
}

void validate_tensor(const TensorInfo& dst) {
    if (dst.channels != 3) {
        throw std::invalid_argument("model input has " + std::to_string(dst.channels) +
                                    " channels; only 3 are supported");
    }
    if (dst.width <= 0 || dst.height <= 0) {
        throw std::invalid_argument("model input size " + size_str(dst.width, dst.height) + " must be positive");
    }
    if (dst.width > kMaxSide || dst.height > kMaxSide || dst.w_stride > kMaxSide) {
        throw std::invalid_argument("model input " + size_str(dst.width, dst.height) + " (w_stride " +
                                    std::to_string(dst.w_stride) + ") is above the limit of " +
                                    std::to_string(kMaxSide) + " pixels per side");
    }
    if (dst.w_stride < dst.width) {
        throw std::invalid_argument("model input w_stride " + std::to_string(dst.w_stride) + " is below its width " +
                                    std::to_string(dst.width));
    }
}

const char* preprocess_kernels() { return active_kernels().name; }

namespace detail {

void crop_resize_with(const KernelSet& k, const FrameView& frame, const Rect& crop, std::uint8_t* dst_buf,
                      const TensorInfo& dst, ColorOrder order) {
    validate_frame(frame);
    if (dst_buf == nullptr) throw std::invalid_argument("destination buffer is null");
    validate_tensor(dst);
    // In 64 bits: x + w must not wrap around for a crop near INT_MAX.
    if (crop.w <= 0 || crop.h <= 0 || crop.x < 0 || crop.y < 0 ||
        static_cast<std::int64_t>(crop.x) + crop.w > frame.width ||
        static_cast<std::int64_t>(crop.y) + crop.h > frame.height) {
        throw std::invalid_argument("crop " + std::to_string(crop.x) + "," + std::to_string(crop.y) + " " +
                                    size_str(crop.w, crop.h) + " does not fit the frame " +
                                    size_str(frame.width, frame.height));
    }
    const bool yuv = frame.format == PixelFormat::NV12 || frame.format == PixelFormat::YUYV;
    if (yuv && ((crop.x % 2) != 0 || (frame.format == PixelFormat::NV12 && (crop.y % 2) != 0))) {
        throw std::invalid_argument("crop origin " + std::to_string(crop.x) + "," + std::to_string(crop.y) +
                                    " must be even for " + to_string(frame.format));
    }
    thread_local Axis ax, ay;
    make_axis(crop.w, dst.width, ax);
    make_axis(crop.h, dst.height, ay);
    const bool want_bgr = order == ColorOrder::BGR;
    switch (frame.format) {
        case PixelFormat::RGB888: resize_packed3(k, frame, crop, dst_buf, dst, ax, ay, want_bgr); break;
        case PixelFormat::BGR888: resize_packed3(k, frame, crop, dst_buf, dst, ax, ay, !want_bgr); break;
        case PixelFormat::NV12:
        case PixelFormat::YUYV: resize_yuv(k, frame, crop, dst_buf, dst, ax, ay, want_bgr); break;
    }
}

}  // namespace detail

void crop_resize(const FrameView& frame, const Rect& crop, std::uint8_t* dst_buf, const TensorInfo& dst,
                 ColorOrder order) {
    detail::crop_resize_with(active_kernels(), frame, crop, dst_buf, dst, order);
}

}  // namespace camrt
