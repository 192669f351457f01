// The scalar kernel set: the reference the SIMD sets are tested against, and the code on targets without one.
#include "kernels.hpp"

namespace camrt {
namespace detail {

namespace {

void packed_row(const PackedRow& row) { packed_pixels_scalar(row, 0); }

void vblend(const std::uint8_t* a, const std::uint8_t* b, int n, int wy0, int wy1, std::uint16_t* out) {
    vblend_scalar_from(a, b, 0, n, wy0, wy1, out);
}

void nv12_row(const YuvRow& row) { yuv_pixels_scalar<true>(row, 0); }
void yuyv_row(const YuvRow& row) { yuv_pixels_scalar<false>(row, 0); }

}  // namespace

const KernelSet& scalar_kernels() {
    static const KernelSet k{"scalar", packed_row, vblend, nv12_row, yuyv_row};
    return k;
}

#if !defined(CAMRT_SIMD_KERNELS)
const KernelSet* simd_kernels() { return nullptr; }  // this build has no optimised set
#endif

}  // namespace detail
}  // namespace camrt
