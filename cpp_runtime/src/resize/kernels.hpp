// The per-row kernels of crop_resize (internal to camrt). frames.cpp builds the tables and walks the rows;
// a kernel set does the arithmetic of one output row. Three sets compute the same integers:
//   kernels_scalar.cpp  the reference, built everywhere
//   kernels_sse2.cpp    x86-64 (SSE2), built when the compiler targets it
//   kernels_neon.cpp    ARMv7/AArch64 NEON (the RV1103's Cortex-A7), built when the compiler targets it
// The build picks one (cpp_runtime/CMakeLists.txt, CAMRT_SIMD); tests/cpp/test_kernels.cpp checks that it
// gives the scalar set's bytes, bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "camrt/frames.hpp"

namespace camrt {
namespace detail {

constexpr int kBits = 11;  // horizontal weights in 1/2048 steps, as OpenCV's INTER_LINEAR
constexpr int kOne = 1 << kBits;

// One output row of a packed 3-byte frame (RGB888/BGR888). Per output pixel dx: the 2x2 taps of rows
// r0/r1 are blended vertically with 8-bit weights into 15-bit values (v = pixel * 128), then horizontally
// with 11-bit weights: out = (v0 * (2048 - wx) + v1 * wx + 2^17) >> 18 (error below 1 LSB against exact
// bilinear). Output pixels are 3 bytes each, written from `out`; nothing past the row's last pixel.
struct PackedRow {
    const std::uint8_t* r0;  // the two source rows, at the crop's left edge
    const std::uint8_t* r1;
    std::size_t avail;        // bytes readable from r0 and from r1 (a kernel may load up to 8 bytes at a tap)
    int wy0, wy1;             // vertical weights, wy0 + wy1 = 256
    const int* xoff;          // per output pixel: byte offset of tap x0 in the row (tap x1 is `step` further)
    const std::uint32_t* wx;  // per output pixel: (w1 << 16) | w0, the horizontal weights
    int step;                 // 3, or 0 for a 1-pixel-wide crop (its x1 tap has zero weight)
    int width;                // output pixels
    bool swap;                // write channels 2, 1, 0
    std::uint8_t* out;
};

// YUV frames, step 2 of each output row (step 1, vblend, blended the two source rows into vy / vc).
// Per output pixel: Y at x0 and x0 + 1 and U, V of each tap's own pixel pair are blended horizontally
// (11-bit weights, 6 fraction bits kept), then converted with BT.601 limited range in fixed point
// (coefficients x 2^13), saturating to 0..255.
// YUV -> RGB coefficients x 2^13 and the luma offset with 6 fraction bits (BT.601, limited or full range).
struct YuvCoeffs {
    std::int32_t cy, crv, cgu, cgv, cbu;
    std::int32_t y_off;
};

struct YuvRow {
    const YuvCoeffs* k;       // the frame's range
    const std::uint16_t* vy;  // NV12: blended Y row; YUYV: blended packed row
    const std::uint16_t* vc;  // NV12: blended interleaved UV row (unused for YUYV)
    const int* x0;            // per output pixel: tap x0 within the crop
    const int* c0;            // per output pixel: x0's pixel pair (x0 & ~1)
    const std::uint32_t* w;   // 4 per output pixel: luma (w1 << 16 | w0), chroma, 0, chroma
    int width;
    bool bgr;
    std::uint8_t* out;
};

struct KernelSet {
    const char* name;  // "scalar", "sse2", "neon"
    void (*packed_row)(const PackedRow& row);
    // out[i] = (a[i] * wy0 + b[i] * wy1) >> 1 for i < n (wy0 + wy1 = 256, so 16 bits suffice)
    void (*vblend)(const std::uint8_t* a, const std::uint8_t* b, int n, int wy0, int wy1, std::uint16_t* out);
    void (*nv12_row)(const YuvRow& row);
    void (*yuyv_row)(const YuvRow& row);
};

const KernelSet& scalar_kernels();
// The optimised set this build has (SSE2 or NEON), or nullptr.
const KernelSet* simd_kernels();

// crop_resize with a given kernel set (crop_resize uses the optimised one when the build has it).
void crop_resize_with(const KernelSet& k, const FrameView& frame, const Rect& crop, std::uint8_t* dst_buf,
                      const TensorInfo& dst, ColorOrder order);

// ---- the scalar arithmetic, shared so that every set finishes its rows (tails) with the same code

// Limited ("video") range: Y 16..235, C 16..240: R = 1.164 (Y - 16) + 1.596 (V - 128), ...
constexpr YuvCoeffs kLimitedRange{9539, 13074, 3209, 6660, 16525, 16 << 6};
// Full range (JPEG / "full swing", what the RV1103's ISP gives by default): R = Y + 1.402 (V - 128),
// G = Y - 0.344136 (U - 128) - 0.714136 (V - 128), B = Y + 1.772 (U - 128).
constexpr YuvCoeffs kFullRange{8192, 11485, 2819, 5850, 14516, 0};

inline std::uint8_t sat_u8(std::int32_t v) {
    v = (v + (1 << 18)) >> 19;
    return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Horizontal tap of a blended row: x 128 x 2048 = 2^18, >> 12 leaves 6 fraction bits.
inline std::int32_t htap(std::int32_t a, std::int32_t b, std::int32_t w0, std::int32_t w1) {
    return (a * w0 + b * w1 + (1 << 11)) >> 12;
}

// Packed pixels [from, row.width) of a row. (Row fields are copied to locals: uint8 stores may alias
// anything, so the compiler would reload them from the struct at every pixel.)
inline void packed_pixels_scalar(const PackedRow& row, int from) {
    const std::uint8_t* const r0 = row.r0;
    const std::uint8_t* const r1 = row.r1;
    const int* __restrict xoff = row.xoff;
    const std::uint32_t* __restrict wx = row.wx;
    const int wy0 = row.wy0, wy1 = row.wy1, step = row.step, width = row.width;
    const bool swap = row.swap;
    std::uint8_t* out = row.out + 3 * static_cast<std::size_t>(from);
    for (int dx = from; dx < width; ++dx, out += 3) {
        const std::uint8_t* a = r0 + xoff[dx];
        const std::uint8_t* b = r1 + xoff[dx];
        const int w0 = static_cast<int>(wx[dx] & 0xFFFF);
        const int w1 = static_cast<int>(wx[dx] >> 16);
        int c[3];
        for (int k = 0; k < 3; ++k) {
            const int v0 = (a[k] * wy0 + b[k] * wy1) >> 1;
            const int v1 = (a[k + step] * wy0 + b[k + step] * wy1) >> 1;
            c[k] = (v0 * w0 + v1 * w1 + (1 << 17)) >> 18;
        }
        out[0] = static_cast<std::uint8_t>(swap ? c[2] : c[0]);
        out[1] = static_cast<std::uint8_t>(c[1]);
        out[2] = static_cast<std::uint8_t>(swap ? c[0] : c[2]);
    }
}

// For SIMD packed kernels that load 8 bytes at each tap x0 and store 4 bytes per pixel: the output pixels
// [0, end) they may do. Loads stay within row.avail (only the frame's last row can run out: its last pixels
// go to the scalar code) and the last pixel is always left to the scalar code (it stores 3 bytes, so
// nothing past the row, e.g. the tensor's w_stride padding, is touched).
inline int packed_simd_end(const PackedRow& row) {
    int end = row.width - 1;
    while (end > 0 && static_cast<std::size_t>(row.xoff[end - 1]) + 8 > row.avail) --end;
    return end;
}

// YUV pixels [from, row.width) of a row; kNv12 false: YUYV.
template <bool kNv12>
inline void yuv_pixels_scalar(const YuvRow& row, int from) {
    const std::uint16_t* const vy = row.vy;
    const std::uint16_t* const vc = row.vc;
    const int* __restrict tx0 = row.x0;
    const int* __restrict tc0 = row.c0;
    const std::uint32_t* __restrict tw = row.w;
    const int width = row.width;
    const int ri = row.bgr ? 2 : 0;
    const int bi = row.bgr ? 0 : 2;
    const YuvCoeffs kc = *row.k;
    std::uint8_t* out = row.out + 3 * static_cast<std::size_t>(from);
    for (int dx = from; dx < width; ++dx, out += 3) {
        const std::uint32_t wl = tw[4 * dx], wc = tw[4 * dx + 1];
        const std::int32_t w0 = static_cast<std::int32_t>(wl & 0xFFFF), w1 = static_cast<std::int32_t>(wl >> 16);
        const std::int32_t c0w = static_cast<std::int32_t>(wc & 0xFFFF), c1w = static_cast<std::int32_t>(wc >> 16);
        const int x0 = tx0[dx], c0 = tc0[dx];
        std::int32_t Y, U, V;
        if (kNv12) {
            Y = htap(vy[x0], vy[x0 + 1], w0, w1);
            U = htap(vc[c0], vc[c0 + 2], c0w, c1w);
            V = htap(vc[c0 + 1], vc[c0 + 3], c0w, c1w);
        } else {  // YUYV row: Y at 2x, U at 2 * pair + 1, V at 2 * pair + 3
            Y = htap(vy[2 * x0], vy[2 * x0 + 2], w0, w1);
            U = htap(vy[2 * c0 + 1], vy[2 * c0 + 5], c0w, c1w);
            V = htap(vy[2 * c0 + 3], vy[2 * c0 + 7], c0w, c1w);
        }
        const std::int32_t yy = kc.cy * (Y - kc.y_off);
        const std::int32_t u = U - (128 << 6), v = V - (128 << 6);
        out[ri] = sat_u8(yy + kc.crv * v);
        out[1] = sat_u8(yy - kc.cgu * u - kc.cgv * v);
        out[bi] = sat_u8(yy + kc.cbu * u);
    }
}

inline void vblend_scalar_from(const std::uint8_t* a, const std::uint8_t* b, int from, int n, int wy0, int wy1,
                               std::uint16_t* out) {
    // Truncating to 16 bits first (exact: the sum is at most 255 * 256) lets the compiler use 16-bit lanes.
    const std::uint16_t w0s = static_cast<std::uint16_t>(wy0), w1s = static_cast<std::uint16_t>(wy1);
    for (int i = from; i < n; ++i) {
        out[i] = static_cast<std::uint16_t>(static_cast<std::uint16_t>(a[i] * w0s + b[i] * w1s) >> 1);
    }
}

}  // namespace detail
}  // namespace camrt
