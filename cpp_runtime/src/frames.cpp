#include "camrt/frames.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#define CAMRT_SIMD 1
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#define CAMRT_SIMD 1
#endif

namespace camrt {

namespace {

constexpr int kBits = 11;  // weights in 1/2048 steps, as OpenCV's INTER_LINEAR
constexpr int kOne = 1 << kBits;

std::string size_str(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

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

// Packed 3-byte pixels, one pass per output pixel: the 2x2 taps of both source rows are blended
// vertically with 8-bit weights into 15-bit values (v = pixel * 128), then horizontally with 11-bit
// weights: out = (v0 * (2048 - wx) + v1 * wx + 2^17) >> 18. Worst-case error below 1 LSB against exact
// bilinear. The SSE2 path (x86-64) and the scalar path compute the same integers, so x86 and ARM give
// bit-identical results.
struct PackedTables {
    std::vector<int> xoff;          // byte offset of tap x0 in the crop row (tap x1 is 3 bytes further)
    std::vector<std::uint32_t> wx;  // (w1 << 16) | w0, 11-bit horizontal weights as an int16 pair
};

// step: bytes from tap x0 to tap x1 (3, or 0 for a 1-pixel-wide crop, so nothing outside it is read).
inline void blend_scalar(const std::uint8_t* a, const std::uint8_t* b, int step, int wy0, int wy1, std::uint32_t wpair,
                         std::uint8_t* out, bool swap) {
    const int w0 = static_cast<int>(wpair & 0xFFFF);
    const int w1 = static_cast<int>(wpair >> 16);
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

template <bool kSwap>
void resize_packed3(const FrameView& f, const Rect& crop, std::uint8_t* dst, const TensorInfo& t, const Axis& ax,
                    const Axis& ay) {
    thread_local PackedTables tab;
    tab.xoff.resize(t.width);
    tab.wx.resize(t.width);
    for (int dx = 0; dx < t.width; ++dx) {
        int x0 = ax.i0[dx];
        int w1 = ax.w1[dx];
        if (ax.i1[dx] == x0) {  // clamped at the right edge: same pixel as full weight on the left neighbour
            if (x0 > 0) {
                --x0;
                w1 = kOne;
            }  // (a 1-pixel-wide crop keeps x0 = 0, w1 = 0; its x1 tap then has zero weight)
        }
        tab.xoff[dx] = x0 * 3;
        tab.wx[dx] = (static_cast<std::uint32_t>(w1) << 16) | static_cast<std::uint32_t>(kOne - w1);
    }
    const std::size_t dst_row = static_cast<std::size_t>(t.w_stride) * 3;
#if defined(CAMRT_SIMD)
    const std::size_t frame_bytes_after_row0 = static_cast<std::size_t>(f.height - 1) * f.stride + f.width * 3;
#endif
    for (int dy = 0; dy < t.height; ++dy) {
        const int y0 = crop.y + ay.i0[dy];
        const int y1 = crop.y + ay.i1[dy];
        const std::uint8_t* r0 =
            f.data + static_cast<std::size_t>(y0) * f.stride + static_cast<std::size_t>(crop.x) * 3;
        const std::uint8_t* r1 =
            f.data + static_cast<std::size_t>(y1) * f.stride + static_cast<std::size_t>(crop.x) * 3;
        const int wy1 = (ay.w1[dy] + 4) >> 3;  // 8-bit vertical weight
        const int wy0 = 256 - wy1;
        std::uint8_t* out = dst + dy * dst_row;
        const int* __restrict xoff = tab.xoff.data();
        const std::uint32_t* __restrict wxp = tab.wx.data();
        int dx = 0;
#if defined(CAMRT_SIMD)
        // 8-byte loads read up to 2 bytes past the x1 tap: stay inside the frame's memory. Only the
        // last frame row can run out; its last pixels go through the scalar path.
        const std::size_t avail = frame_bytes_after_row0 - static_cast<std::size_t>(std::max(y0, y1)) * f.stride -
                                  static_cast<std::size_t>(crop.x) * 3;
        int simd_end = t.width - 1;  // the last pixel stores 3 bytes, scalar (never touches padding)
        while (simd_end > 0 && static_cast<std::size_t>(xoff[simd_end - 1]) + 8 > avail) --simd_end;
#endif
#if defined(__SSE2__)
        const __m128i zero = _mm_setzero_si128();
        const __m128i vw0 = _mm_set1_epi16(static_cast<short>(wy0));
        const __m128i vw1 = _mm_set1_epi16(static_cast<short>(wy1));
        const __m128i round = _mm_set1_epi32(1 << 17);
        for (; dx < simd_end; ++dx) {
            const int o = xoff[dx];
            __m128i a;
            __m128i b;
            std::uint64_t qa, qb;
            std::memcpy(&qa, r0 + o, 8);
            std::memcpy(&qb, r1 + o, 8);
            a = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<long long>(qa)), zero);
            b = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<long long>(qb)), zero);
            // v = (a * wy0 + b * wy1) >> 1 in 16-bit lanes: [x0.c0 x0.c1 x0.c2 x1.c0 x1.c1 x1.c2 . .]
            __m128i v = _mm_srli_epi16(_mm_add_epi16(_mm_mullo_epi16(a, vw0), _mm_mullo_epi16(b, vw1)), 1);
            // pair each channel's two taps: [x0.c0 x1.c0 x0.c1 x1.c1 x0.c2 x1.c2 . .]
            const __m128i p = _mm_unpacklo_epi16(v, _mm_srli_si128(v, 6));
            __m128i r = _mm_madd_epi16(p, _mm_set1_epi32(static_cast<int>(wxp[dx])));
            r = _mm_srai_epi32(_mm_add_epi32(r, round), 18);
            if (kSwap) r = _mm_shuffle_epi32(r, _MM_SHUFFLE(3, 0, 1, 2));
            r = _mm_packus_epi16(_mm_packs_epi32(r, r), zero);
            const std::uint32_t px = static_cast<std::uint32_t>(_mm_cvtsi128_si32(r));
            std::memcpy(out, &px, 4);  // the 4th byte is overwritten by the next pixel
            out += 3;
        }
#elif defined(__ARM_NEON)
        // The same integers as the SSE2 and scalar paths, with NEON (the RV1103's Cortex-A7 has it).
        const uint8x8_t order = kSwap ? uint8x8_t{2, 1, 0, 3, 4, 5, 6, 7} : uint8x8_t{0, 1, 2, 3, 4, 5, 6, 7};
        const std::uint16_t nw0 = static_cast<std::uint16_t>(wy0), nw1 = static_cast<std::uint16_t>(wy1);
        for (; dx < simd_end; ++dx) {
            const int o = xoff[dx];
            const uint16x8_t a = vmovl_u8(vld1_u8(r0 + o));
            const uint16x8_t b = vmovl_u8(vld1_u8(r1 + o));
            // v = (a * wy0 + b * wy1) >> 1: [x0.c0 x0.c1 x0.c2 x1.c0 | x1.c1 x1.c2 . .]
            const uint16x8_t v = vshrq_n_u16(vmlaq_n_u16(vmulq_n_u16(a, nw0), b, nw1), 1);
            const uint16x4_t t0 = vget_low_u16(v);                    // x0 taps
            const uint16x4_t t1 = vext_u16(t0, vget_high_u16(v), 3);  // x1 taps
            const std::uint32_t wp = wxp[dx];
            uint32x4_t r = vmull_n_u16(t0, static_cast<std::uint16_t>(wp & 0xFFFF));
            r = vmlal_n_u16(r, t1, static_cast<std::uint16_t>(wp >> 16));
            const uint16x4_t n16 = vmovn_u32(vrshrq_n_u32(r, 18));  // (r + 2^17) >> 18, <= 255
            const uint8x8_t n8 = vtbl1_u8(vmovn_u16(vcombine_u16(n16, n16)), order);
            const std::uint32_t px = vget_lane_u32(vreinterpret_u32_u8(n8), 0);
            std::memcpy(out, &px, 4);  // the 4th byte is overwritten by the next pixel
            out += 3;
        }
#endif
        for (; dx < t.width; ++dx) {
            blend_scalar(r0 + xoff[dx], r1 + xoff[dx], crop.w > 1 ? 3 : 0, wy0, wy1, wxp[dx], out, kSwap);
            out += 3;
        }
    }
}

// YUV frames, per output row: (1) blend the two source rows vertically (8-bit weights, result halved
// to 15 bits: value x 128) over the crop's columns, a contiguous loop the compiler vectorises: Y, and
// U/V as stored (NV12: the interleaved UV row of each tap row's 2x2 block; YUYV: the packed row);
// (2) per output pixel, blend horizontally (11-bit weights) Y at x0, x0 + 1 and U, V of each tap's own
// pixel pair, keeping 6 fraction bits, then convert BT.601 limited range in fixed point (coefficients
// x 2^13), saturating to 0..255. NV12 on x86-64 does step (2) with SSE2 on the same integers as the
// scalar code. Equivalent to converting the frame to RGB and resizing it, up to rounding and except
// where a colour clips.
inline void vblend(const std::uint8_t* a, const std::uint8_t* b, int n, int wy0, int wy1, std::uint16_t* out) {
    int i = 0;
#if defined(__SSE2__)
    // 16-bit lanes suffice (a * wy0 + b * wy1 <= 255 * 256), which the compiler cannot know on its own.
    const __m128i zero = _mm_setzero_si128();
    const __m128i w0 = _mm_set1_epi16(static_cast<short>(wy0)), w1 = _mm_set1_epi16(static_cast<short>(wy1));
    for (; i + 16 <= n; i += 16) {
        const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
        const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
        const __m128i lo = _mm_add_epi16(_mm_mullo_epi16(_mm_unpacklo_epi8(va, zero), w0),
                                         _mm_mullo_epi16(_mm_unpacklo_epi8(vb, zero), w1));
        const __m128i hi = _mm_add_epi16(_mm_mullo_epi16(_mm_unpackhi_epi8(va, zero), w0),
                                         _mm_mullo_epi16(_mm_unpackhi_epi8(vb, zero), w1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_srli_epi16(lo, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 8), _mm_srli_epi16(hi, 1));
    }
#endif
    // Truncating to 16 bits first (exact: the sum is at most 255 * 256) lets the compiler use 16-bit lanes.
    const std::uint16_t w0s = static_cast<std::uint16_t>(wy0), w1s = static_cast<std::uint16_t>(wy1);
    for (; i < n; ++i) out[i] = static_cast<std::uint16_t>(static_cast<std::uint16_t>(a[i] * w0s + b[i] * w1s) >> 1);
}

constexpr std::int32_t kCY = 9539, kCRV = 13074, kCGU = 3209, kCGV = 6660, kCBU = 16525;  // x 2^13

inline std::uint8_t sat_u8(std::int32_t v) {
    v = (v + (1 << 18)) >> 19;
    return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Horizontal tap of a blended row: x 128 x 2048 = 2^18, >> 12 leaves 6 fraction bits.
inline std::int32_t htap(std::int32_t a, std::int32_t b, std::int32_t w0, std::int32_t w1) {
    return (a * w0 + b * w1 + (1 << 11)) >> 12;
}

template <PixelFormat kFmt>
void resize_yuv(const FrameView& f, const Rect& crop, std::uint8_t* dst, const TensorInfo& t, const Axis& ax,
                const Axis& ay, bool bgr) {
    const std::uint8_t* uvp = f.uv ? f.uv : f.data + static_cast<std::size_t>(f.stride) * f.height;
    const int uv_stride = f.uv ? f.uv_stride : f.stride;
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
    sc.vy.assign((kFmt == PixelFormat::NV12 ? ncols : 2 * ncols) + 8, 0);  // + 8: loads run past the end
    sc.vc.assign(ncols + 8, 0);
    // Plain local pointers: uint8 stores may alias anything, so vector members would be reloaded.
    std::uint16_t* const vyp = sc.vy.data();
    std::uint16_t* const vcp = sc.vc.data();
    const int* __restrict tx0 = sc.x0.data();
    const int* __restrict tc0 = sc.c0.data();
    const std::uint32_t* __restrict tw = sc.w.data();
    const int ri = bgr ? 2 : 0;
    const int bi = bgr ? 0 : 2;
    for (int dy = 0; dy < t.height; ++dy) {
        const int y0 = crop.y + ay.i0[dy];
        const int y1 = crop.y + ay.i1[dy];
        const int wy1 = (ay.w1[dy] + 4) >> 3;
        const int wy0 = 256 - wy1;
        std::uint8_t* out = dst + dy * dst_row;
        int dx = 0;
        if (kFmt == PixelFormat::NV12) {
            vblend(f.data + static_cast<std::size_t>(y0) * f.stride + crop.x,
                   f.data + static_cast<std::size_t>(y1) * f.stride + crop.x, ncols, wy0, wy1, vyp);
            vblend(uvp + static_cast<std::size_t>(y0 >> 1) * uv_stride + crop.x,
                   uvp + static_cast<std::size_t>(y1 >> 1) * uv_stride + crop.x, ncols, wy0, wy1, vcp);
#if defined(__SSE2__)
            const __m128i offs = _mm_set_epi32(128 << 6, 0, 128 << 6, 16 << 6);  // [Y U 0 V] offsets
            const __m128i coef = _mm_set_epi16(
                0, static_cast<short>(-kCGV), static_cast<short>(kCBU), static_cast<short>(kCY),
                static_cast<short>(-kCGU), static_cast<short>(kCY), static_cast<short>(kCRV), static_cast<short>(kCY));
            const __m128i lane1 = _mm_set_epi32(0, 0, -1, 0);
            const __m128i r11 = _mm_set1_epi32(1 << 11), r18 = _mm_set1_epi32(1 << 18);
            const __m128i zero = _mm_setzero_si128();
            // Y, U, V of output pixel dx with 6 fraction bits, offsets removed: int32 [Y, U, 0, V].
            auto gather = [&](int x) {
                std::uint32_t yp;
                std::uint64_t uvq;
                std::memcpy(&yp, vyp + tx0[x], 4);   // Y(x0), Y(x0 + 1)
                std::memcpy(&uvq, vcp + tc0[x], 8);  // U V of the pair of x0, then of x0 + 2
                const __m128i uv = _mm_shufflelo_epi16(_mm_cvtsi64_si128(static_cast<long long>(uvq)),
                                                       _MM_SHUFFLE(3, 1, 2, 0));  // [U0 U1 V0 V1]
                // [Y0 Y1 U0 U1 0 0 V0 V1] . [luma, chroma, 0, chroma] -> [Y, U, 0, V]
                const __m128i yuv = _mm_unpacklo_epi32(_mm_cvtsi32_si128(static_cast<int>(yp)), uv);
                const __m128i s = _mm_madd_epi16(yuv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(tw + 4 * x)));
                return _mm_sub_epi32(_mm_srai_epi32(_mm_add_epi32(s, r11), 12), offs);
            };
            const __m128i coef_rg = _mm_set_epi16(
                static_cast<short>(-kCGU), static_cast<short>(kCY), static_cast<short>(kCRV), static_cast<short>(kCY),
                static_cast<short>(-kCGU), static_cast<short>(kCY), static_cast<short>(kCRV), static_cast<short>(kCY));
            const __m128i coef_bg =
                _mm_set_epi16(0, static_cast<short>(-kCGV), static_cast<short>(kCBU), static_cast<short>(kCY), 0,
                              static_cast<short>(-kCGV), static_cast<short>(kCBU), static_cast<short>(kCY));
            const __m128i odd = _mm_set_epi32(-1, 0, -1, 0);
            // Two pixels per step; the step after them still has a pixel to overwrite the 4th byte.
            for (; dx + 2 < t.width; dx += 2) {
                const __m128i p = _mm_packs_epi32(gather(dx), gather(dx + 1));  // [Y U 0 V | Y U 0 V]
                // [Y V Y U] per pixel -> (R, G part 1); [Y U V 0] -> (B, G part 2)
                const __m128i q1 =
                    _mm_shufflehi_epi16(_mm_shufflelo_epi16(p, _MM_SHUFFLE(1, 0, 3, 0)), _MM_SHUFFLE(1, 0, 3, 0));
                const __m128i q2 =
                    _mm_shufflehi_epi16(_mm_shufflelo_epi16(p, _MM_SHUFFLE(2, 3, 1, 0)), _MM_SHUFFLE(2, 3, 1, 0));
                const __m128i z = _mm_madd_epi16(q2, coef_bg);  // [Ba G2a Bb G2b]
                __m128i x = _mm_madd_epi16(q1, coef_rg);        // [Ra G1a Rb G1b]
                x = _mm_add_epi32(x, _mm_and_si128(z, odd));    // [Ra Ga Rb Gb]
                __m128i a = _mm_unpacklo_epi64(x, z);           // [Ra Ga Ba .]
                __m128i b = _mm_unpackhi_epi64(x, z);           // [Rb Gb Bb .]
                a = _mm_srai_epi32(_mm_add_epi32(a, r18), 19);
                b = _mm_srai_epi32(_mm_add_epi32(b, r18), 19);
                if (bgr) {
                    a = _mm_shuffle_epi32(a, _MM_SHUFFLE(3, 0, 1, 2));
                    b = _mm_shuffle_epi32(b, _MM_SHUFFLE(3, 0, 1, 2));
                }
                const __m128i c = _mm_packus_epi16(_mm_packs_epi32(a, b), zero);
                const std::uint32_t pa = static_cast<std::uint32_t>(_mm_cvtsi128_si32(c));
                const std::uint32_t pb = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(c, 4)));
                std::memcpy(out, &pa, 4);
                std::memcpy(out + 3, &pb, 4);
                out += 6;
            }
            for (; dx < t.width - 1; ++dx) {  // the last pixel stores 3 bytes, scalar (never touches padding)
                __m128i p = _mm_packs_epi32(gather(dx), zero);
                // int16 [Y U 0 V | 0...] -> [Y V Y U | Y U V 0]: pairs for R, G (part 1), B, G (part 2)
                p = _mm_unpacklo_epi64(p, p);
                p = _mm_shufflelo_epi16(p, _MM_SHUFFLE(1, 0, 3, 0));
                p = _mm_shufflehi_epi16(p, _MM_SHUFFLE(2, 3, 1, 0));
                __m128i c = _mm_madd_epi16(p, coef);  // [R, G1, B, G2]
                c = _mm_add_epi32(c, _mm_and_si128(_mm_shuffle_epi32(c, _MM_SHUFFLE(3, 3, 3, 3)), lane1));
                c = _mm_srai_epi32(_mm_add_epi32(c, r18), 19);
                if (bgr) c = _mm_shuffle_epi32(c, _MM_SHUFFLE(3, 0, 1, 2));
                c = _mm_packus_epi16(_mm_packs_epi32(c, c), zero);
                const std::uint32_t px = static_cast<std::uint32_t>(_mm_cvtsi128_si32(c));
                std::memcpy(out, &px, 4);  // the 4th byte is overwritten by the next pixel
                out += 3;
            }
#endif
        } else {
            vblend(f.data + static_cast<std::size_t>(y0) * f.stride + 2 * crop.x,
                   f.data + static_cast<std::size_t>(y1) * f.stride + 2 * crop.x, 2 * ncols, wy0, wy1, vyp);
        }
        for (; dx < t.width; ++dx) {
            const std::uint32_t wl = tw[4 * dx], wc = tw[4 * dx + 1];
            const std::int32_t w0 = static_cast<std::int32_t>(wl & 0xFFFF), w1 = static_cast<std::int32_t>(wl >> 16);
            const std::int32_t c0w = static_cast<std::int32_t>(wc & 0xFFFF), c1w = static_cast<std::int32_t>(wc >> 16);
            const int x0 = tx0[dx], c0 = tc0[dx];
            std::int32_t Y, U, V;
            if (kFmt == PixelFormat::NV12) {
                Y = htap(vyp[x0], vyp[x0 + 1], w0, w1);
                U = htap(vcp[c0], vcp[c0 + 2], c0w, c1w);
                V = htap(vcp[c0 + 1], vcp[c0 + 3], c0w, c1w);
            } else {  // YUYV row: Y at 2x, U at 2 * pair + 1, V at 2 * pair + 3
                Y = htap(vyp[2 * x0], vyp[2 * x0 + 2], w0, w1);
                U = htap(vyp[2 * c0 + 1], vyp[2 * c0 + 5], c0w, c1w);
                V = htap(vyp[2 * c0 + 3], vyp[2 * c0 + 7], c0w, c1w);
            }
            const std::int32_t yy = kCY * (Y - (16 << 6));
            const std::int32_t u = U - (128 << 6), v = V - (128 << 6);
            out[ri] = sat_u8(yy + kCRV * v);
            out[1] = sat_u8(yy - kCGU * u - kCGV * v);
            out[bi] = sat_u8(yy + kCBU * u);
            out += 3;
        }
    }
}

}  // namespace

void validate_frame(const FrameView& f) {
    if (f.data == nullptr) throw std::invalid_argument("frame has no data");
    if (f.width <= 0 || f.height <= 0) {
        throw std::invalid_argument("frame size " + size_str(f.width, f.height) + " must be positive");
    }
    int min_stride = 0;
    switch (f.format) {
        case PixelFormat::RGB888:
        case PixelFormat::BGR888: min_stride = 3 * f.width; break;
        case PixelFormat::NV12: min_stride = f.width; break;
        case PixelFormat::YUYV: min_stride = 2 * f.width; break;
    }
    if (f.stride < min_stride) {
        throw std::invalid_argument(std::string(to_string(f.format)) + " frame of width " + std::to_string(f.width) +
                                    ": stride " + std::to_string(f.stride) + " is below " + std::to_string(min_stride) +
                                    " bytes");
    }
    if ((f.format == PixelFormat::NV12 || f.format == PixelFormat::YUYV) && (f.width % 2) != 0) {
        throw std::invalid_argument(std::string(to_string(f.format)) + " frame width " + std::to_string(f.width) +
                                    " must be even");
    }
    if (f.format == PixelFormat::NV12) {
        if (f.height % 2 != 0) {
            throw std::invalid_argument("NV12 frame height " + std::to_string(f.height) + " must be even");
        }
        if (f.uv != nullptr && f.uv_stride < f.width) {
            throw std::invalid_argument("NV12 uv_stride " + std::to_string(f.uv_stride) + " is below the width " +
                                        std::to_string(f.width));
        }
    }
}

void crop_resize(const FrameView& frame, const Rect& crop, std::uint8_t* dst_buf, const TensorInfo& dst,
                 ColorOrder order) {
    validate_frame(frame);
    if (dst_buf == nullptr) throw std::invalid_argument("destination buffer is null");
    if (dst.channels != 3) {
        throw std::invalid_argument("model input has " + std::to_string(dst.channels) +
                                    " channels; only 3 are supported");
    }
    if (dst.width <= 0 || dst.height <= 0) {
        throw std::invalid_argument("model input size " + size_str(dst.width, dst.height) + " must be positive");
    }
    if (dst.w_stride < dst.width) {
        throw std::invalid_argument("model input w_stride " + std::to_string(dst.w_stride) + " is below its width " +
                                    std::to_string(dst.width));
    }
    if (crop.w <= 0 || crop.h <= 0 || crop.x < 0 || crop.y < 0 || crop.x + crop.w > frame.width ||
        crop.y + crop.h > frame.height) {
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
        case PixelFormat::RGB888:
            if (want_bgr)
                resize_packed3<true>(frame, crop, dst_buf, dst, ax, ay);
            else
                resize_packed3<false>(frame, crop, dst_buf, dst, ax, ay);
            break;
        case PixelFormat::BGR888:
            if (want_bgr)
                resize_packed3<false>(frame, crop, dst_buf, dst, ax, ay);
            else
                resize_packed3<true>(frame, crop, dst_buf, dst, ax, ay);
            break;
        case PixelFormat::NV12: resize_yuv<PixelFormat::NV12>(frame, crop, dst_buf, dst, ax, ay, want_bgr); break;
        case PixelFormat::YUYV: resize_yuv<PixelFormat::YUYV>(frame, crop, dst_buf, dst, ax, ay, want_bgr); break;
    }
}

}  // namespace camrt
