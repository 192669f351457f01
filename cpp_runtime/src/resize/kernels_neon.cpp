// The NEON kernel set (the RV1103's Cortex-A7, and AArch64): the same integers as kernels_scalar.cpp,
// several lanes at a time. Tested bit for bit against the scalar set under qemu-arm (ARMv7 build).
#include <arm_neon.h>

#include <cstring>

#include "kernels.hpp"

namespace camrt {
namespace detail {

namespace {

template <bool kSwap>
int packed_simd(const PackedRow& row) {
    const int end = packed_simd_end(row);
    const uint8x8_t order = kSwap ? uint8x8_t{2, 1, 0, 3, 4, 5, 6, 7} : uint8x8_t{0, 1, 2, 3, 4, 5, 6, 7};
    const std::uint16_t nw0 = static_cast<std::uint16_t>(row.wy0), nw1 = static_cast<std::uint16_t>(row.wy1);
    const std::uint8_t* const r0 = row.r0;  // locals: uint8 stores may alias the struct's fields
    const std::uint8_t* const r1 = row.r1;
    const int* __restrict xoff = row.xoff;
    const std::uint32_t* __restrict wx = row.wx;
    std::uint8_t* out = row.out;
    int dx = 0;
    for (; dx < end; ++dx, out += 3) {
        const int o = xoff[dx];
        const uint16x8_t a = vmovl_u8(vld1_u8(r0 + o));
        const uint16x8_t b = vmovl_u8(vld1_u8(r1 + o));
        // v = (a * wy0 + b * wy1) >> 1: [x0.c0 x0.c1 x0.c2 x1.c0 | x1.c1 x1.c2 . .]
        const uint16x8_t v = vshrq_n_u16(vmlaq_n_u16(vmulq_n_u16(a, nw0), b, nw1), 1);
        const uint16x4_t t0 = vget_low_u16(v);                    // x0 taps
        const uint16x4_t t1 = vext_u16(t0, vget_high_u16(v), 3);  // x1 taps
        const std::uint32_t wp = wx[dx];
        uint32x4_t r = vmull_n_u16(t0, static_cast<std::uint16_t>(wp & 0xFFFF));
        r = vmlal_n_u16(r, t1, static_cast<std::uint16_t>(wp >> 16));
        const uint16x4_t n16 = vmovn_u32(vrshrq_n_u32(r, 18));  // (r + 2^17) >> 18, <= 255
        const uint8x8_t n8 = vtbl1_u8(vmovn_u16(vcombine_u16(n16, n16)), order);
        const std::uint32_t px = vget_lane_u32(vreinterpret_u32_u8(n8), 0);
        std::memcpy(out, &px, 4);  // the 4th byte is overwritten by the next pixel
    }
    return dx;
}

void packed_row(const PackedRow& row) {
    const int done = row.swap ? packed_simd<true>(row) : packed_simd<false>(row);
    packed_pixels_scalar(row, done);
}

void vblend(const std::uint8_t* a, const std::uint8_t* b, int n, int wy0, int wy1, std::uint16_t* out) {
    // 16-bit lanes suffice: a * wy0 + b * wy1 <= 255 * 256.
    const std::uint16_t w0 = static_cast<std::uint16_t>(wy0), w1 = static_cast<std::uint16_t>(wy1);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8x16_t va = vld1q_u8(a + i);
        const uint8x16_t vb = vld1q_u8(b + i);
        const uint16x8_t lo = vmlaq_n_u16(vmulq_n_u16(vmovl_u8(vget_low_u8(va)), w0), vmovl_u8(vget_low_u8(vb)), w1);
        const uint16x8_t hi = vmlaq_n_u16(vmulq_n_u16(vmovl_u8(vget_high_u8(va)), w0), vmovl_u8(vget_high_u8(vb)), w1);
        vst1q_u16(out + i, vshrq_n_u16(lo, 1));
        vst1q_u16(out + i + 8, vshrq_n_u16(hi, 1));
    }
    vblend_scalar_from(a, b, i, n, wy0, wy1, out);
}

// R, G, B of four output pixels starting at `base`, saturated to 0..255 (in 16-bit lanes).
struct Rgb4 {
    uint16x4_t r, g, b;
};

Rgb4 nv12_four(const YuvRow& row, int base) {
    // Gather the taps (scattered per pixel: the compiler cannot vectorise this part).
    std::int32_t y0[4], y1[4], u0[4], u1[4], v0[4], v1[4];
    for (int j = 0; j < 4; ++j) {
        const int x0 = row.x0[base + j], c0 = row.c0[base + j];
        y0[j] = row.vy[x0];
        y1[j] = row.vy[x0 + 1];
        u0[j] = row.vc[c0];
        v0[j] = row.vc[c0 + 1];
        u1[j] = row.vc[c0 + 2];
        v1[j] = row.vc[c0 + 3];
    }
    const uint32x4x4_t w = vld4q_u32(row.w + 4 * base);  // val[0]: luma weights, val[1]: chroma weights
    const uint32x4_t low = vdupq_n_u32(0xFFFF);
    const int32x4_t lw0 = vreinterpretq_s32_u32(vandq_u32(w.val[0], low));
    const int32x4_t lw1 = vreinterpretq_s32_u32(vshrq_n_u32(w.val[0], 16));
    const int32x4_t cw0 = vreinterpretq_s32_u32(vandq_u32(w.val[1], low));
    const int32x4_t cw1 = vreinterpretq_s32_u32(vshrq_n_u32(w.val[1], 16));
    // htap: (a * w0 + b * w1 + 2^11) >> 12, the rounding shift
    const int32x4_t Y = vrshrq_n_s32(vmlaq_s32(vmulq_s32(vld1q_s32(y0), lw0), vld1q_s32(y1), lw1), 12);
    const int32x4_t U = vrshrq_n_s32(vmlaq_s32(vmulq_s32(vld1q_s32(u0), cw0), vld1q_s32(u1), cw1), 12);
    const int32x4_t V = vrshrq_n_s32(vmlaq_s32(vmulq_s32(vld1q_s32(v0), cw0), vld1q_s32(v1), cw1), 12);
    const YuvCoeffs& kc = *row.k;
    const int32x4_t yy = vmulq_n_s32(vsubq_s32(Y, vdupq_n_s32(kc.y_off)), kc.cy);
    const int32x4_t u = vsubq_s32(U, vdupq_n_s32(128 << 6));
    const int32x4_t v = vsubq_s32(V, vdupq_n_s32(128 << 6));
    // sat_u8: (x + 2^18) >> 19, then 0..255 (the 255 clamp happens when narrowing to 8 bits)
    Rgb4 c;
    c.r = vqmovun_s32(vrshrq_n_s32(vmlaq_n_s32(yy, v, kc.crv), 19));
    c.g = vqmovun_s32(vrshrq_n_s32(vmlsq_n_s32(vmlsq_n_s32(yy, u, kc.cgu), v, kc.cgv), 19));
    c.b = vqmovun_s32(vrshrq_n_s32(vmlaq_n_s32(yy, u, kc.cbu), 19));
    return c;
}

// NV12 step 2, eight pixels per step stored with vst3 (exactly 24 bytes: nothing past the row).
void nv12_row(const YuvRow& row) {
    const int width = row.width;
    const bool bgr = row.bgr;
    std::uint8_t* const out = row.out;
    int dx = 0;
    for (; dx + 8 <= width; dx += 8) {
        const Rgb4 a = nv12_four(row, dx);
        const Rgb4 b = nv12_four(row, dx + 4);
        const uint8x8_t r = vqmovn_u16(vcombine_u16(a.r, b.r));
        const uint8x8_t g = vqmovn_u16(vcombine_u16(a.g, b.g));
        const uint8x8_t bl = vqmovn_u16(vcombine_u16(a.b, b.b));
        uint8x8x3_t px;
        px.val[0] = bgr ? bl : r;
        px.val[1] = g;
        px.val[2] = bgr ? r : bl;
        vst3_u8(out + 3 * static_cast<std::size_t>(dx), px);
    }
    yuv_pixels_scalar<true>(row, dx);
}

// YUYV's step 2 has no SIMD version (the board camera gives NV12): the scalar code.
void yuyv_row(const YuvRow& row) { yuv_pixels_scalar<false>(row, 0); }

}  // namespace

const KernelSet* simd_kernels() {
    static const KernelSet k{"neon", packed_row, vblend, nv12_row, yuyv_row};
    return &k;
}

}  // namespace detail
}  // namespace camrt
