// The SSE2 kernel set (x86-64): the same integers as kernels_scalar.cpp, several lanes at a time.
#include <emmintrin.h>

#include <cstring>

#include "kernels.hpp"

namespace camrt {
namespace detail {

namespace {

template <bool kSwap>
int packed_simd(const PackedRow& row) {
    const int end = packed_simd_end(row);
    const __m128i zero = _mm_setzero_si128();
    const __m128i vw0 = _mm_set1_epi16(static_cast<short>(row.wy0));
    const __m128i vw1 = _mm_set1_epi16(static_cast<short>(row.wy1));
    const __m128i round = _mm_set1_epi32(1 << 17);
    const std::uint8_t* const r0 = row.r0;  // locals: uint8 stores may alias the struct's fields
    const std::uint8_t* const r1 = row.r1;
    const int* __restrict xoff = row.xoff;
    const std::uint32_t* __restrict wx = row.wx;
    std::uint8_t* out = row.out;
    int dx = 0;
    for (; dx < end; ++dx, out += 3) {
        const int o = xoff[dx];
        const __m128i a = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r0 + o)), zero);
        const __m128i b = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r1 + o)), zero);
        // v = (a * wy0 + b * wy1) >> 1 in 16-bit lanes: [x0.c0 x0.c1 x0.c2 x1.c0 x1.c1 x1.c2 . .]
        const __m128i v = _mm_srli_epi16(_mm_add_epi16(_mm_mullo_epi16(a, vw0), _mm_mullo_epi16(b, vw1)), 1);
        // pair each channel's two taps: [x0.c0 x1.c0 x0.c1 x1.c1 x0.c2 x1.c2 . .]
        const __m128i p = _mm_unpacklo_epi16(v, _mm_srli_si128(v, 6));
        __m128i r = _mm_madd_epi16(p, _mm_set1_epi32(static_cast<int>(wx[dx])));
        r = _mm_srai_epi32(_mm_add_epi32(r, round), 18);
        if (kSwap) r = _mm_shuffle_epi32(r, _MM_SHUFFLE(3, 0, 1, 2));
        r = _mm_packus_epi16(_mm_packs_epi32(r, r), zero);
        const std::uint32_t px = static_cast<std::uint32_t>(_mm_cvtsi128_si32(r));
        std::memcpy(out, &px, 4);  // the 4th byte is overwritten by the next pixel
    }
    return dx;
}

void packed_row(const PackedRow& row) {
    const int done = row.swap ? packed_simd<true>(row) : packed_simd<false>(row);
    packed_pixels_scalar(row, done);
}

void vblend(const std::uint8_t* a, const std::uint8_t* b, int n, int wy0, int wy1, std::uint16_t* out) {
    // 16-bit lanes suffice (a * wy0 + b * wy1 <= 255 * 256), which the compiler cannot know on its own.
    const __m128i zero = _mm_setzero_si128();
    const __m128i w0 = _mm_set1_epi16(static_cast<short>(wy0)), w1 = _mm_set1_epi16(static_cast<short>(wy1));
    int i = 0;
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
    vblend_scalar_from(a, b, i, n, wy0, wy1, out);
}

short s16(std::int32_t v) { return static_cast<short>(v); }

// NV12 step 2. The blended rows have 8 spare entries past the crop, so the 8-byte loads stay inside them.
void nv12_row(const YuvRow& row) {
    const YuvCoeffs kc = *row.k;
    const __m128i offs = _mm_set_epi32(128 << 6, 0, 128 << 6, kc.y_off);  // [Y U 0 V] offsets
    const __m128i coef =
        _mm_set_epi16(0, s16(-kc.cgv), s16(kc.cbu), s16(kc.cy), s16(-kc.cgu), s16(kc.cy), s16(kc.crv), s16(kc.cy));
    const __m128i lane1 = _mm_set_epi32(0, 0, -1, 0);
    const __m128i r11 = _mm_set1_epi32(1 << 11), r18 = _mm_set1_epi32(1 << 18);
    const __m128i zero = _mm_setzero_si128();
    const std::uint16_t* vyp = row.vy;
    const std::uint16_t* vcp = row.vc;
    const int* __restrict tx0 = row.x0;
    const int* __restrict tc0 = row.c0;
    const std::uint32_t* __restrict tw = row.w;
    // Y, U, V of output pixel x with 6 fraction bits, offsets removed: int32 [Y, U, 0, V].
    auto gather = [&](int x) {
        std::uint32_t yp;
        std::uint64_t uvq;
        std::memcpy(&yp, vyp + tx0[x], 4);   // Y(x0), Y(x0 + 1)
        std::memcpy(&uvq, vcp + tc0[x], 8);  // U V of the pair of x0, then of x0 + 2
        const __m128i uv = _mm_shufflelo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&uvq)),
                                               _MM_SHUFFLE(3, 1, 2, 0));  // [U0 U1 V0 V1]
        // [Y0 Y1 U0 U1 0 0 V0 V1] . [luma, chroma, 0, chroma] -> [Y, U, 0, V]
        const __m128i yuv = _mm_unpacklo_epi32(_mm_cvtsi32_si128(static_cast<int>(yp)), uv);
        const __m128i s = _mm_madd_epi16(yuv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(tw + 4 * x)));
        return _mm_sub_epi32(_mm_srai_epi32(_mm_add_epi32(s, r11), 12), offs);
    };
    const __m128i coef_rg = _mm_set_epi16(s16(-kc.cgu), s16(kc.cy), s16(kc.crv), s16(kc.cy), s16(-kc.cgu), s16(kc.cy),
                                          s16(kc.crv), s16(kc.cy));
    const __m128i coef_bg =
        _mm_set_epi16(0, s16(-kc.cgv), s16(kc.cbu), s16(kc.cy), 0, s16(-kc.cgv), s16(kc.cbu), s16(kc.cy));
    const __m128i odd = _mm_set_epi32(-1, 0, -1, 0);
    const bool bgr = row.bgr;
    std::uint8_t* out = row.out;
    int dx = 0;
    // Two pixels per step; the step after them still has a pixel to overwrite the 4th byte.
    for (; dx + 2 < row.width; dx += 2) {
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
    for (; dx < row.width - 1; ++dx) {  // the last pixel stores 3 bytes, scalar (never touches padding)
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
    yuv_pixels_scalar<true>(row, dx);
}

// YUYV's step 2 has no SIMD version (the board camera gives NV12): the scalar code.
void yuyv_row(const YuvRow& row) { yuv_pixels_scalar<false>(row, 0); }

}  // namespace

const KernelSet* simd_kernels() {
    static const KernelSet k{"sse2", packed_row, vblend, nv12_row, yuyv_row};
    return &k;
}

}  // namespace detail
}  // namespace camrt
