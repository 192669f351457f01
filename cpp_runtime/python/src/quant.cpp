// Quantization helpers: dequantize (int8 / uint8), softmax.
#include "camrt/quant.hpp"

#include "bindings.hpp"

namespace camrt_py {

using namespace nb::literals;

namespace {

template <typename T>
nb::ndarray<nb::numpy, float, nb::ndim<1>> dequant_impl(const nb::ndarray<const T, nb::ndim<1>, nb::c_contig>& q,
                                                        std::int64_t zero_point, float scale) {
    const std::int32_t zp = checked_int(zero_point, -65536, 65536, "zero_point");
    const size_t n = q.shape(0);
    float* out = new float[n];
    nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<float*>(p); });
    camrt::dequantize(q.data(), n, zp, scale, out);
    return nb::ndarray<nb::numpy, float, nb::ndim<1>>(out, {n}, owner);
}

}  // namespace

void bind_quant(nb::module_& m) {
    m.def("dequantize", &dequant_impl<std::int8_t>, "q"_a.noconvert(), "zero_point"_a, "scale"_a,
          "(q - zero_point) * scale as float32.");
    m.def("dequantize", &dequant_impl<std::uint8_t>, "q"_a.noconvert(), "zero_point"_a, "scale"_a);
    m.def(
        "softmax",
        [](nb::ndarray<const float, nb::ndim<1>, nb::c_contig> x) {
            const size_t n = x.shape(0);
            float* out = new float[n];
            nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<float*>(p); });
            camrt::softmax(x.data(), n, out);
            return nb::ndarray<nb::numpy, float, nb::ndim<1>>(out, {n}, owner);
        },
        "logits"_a, "Numerically stable softmax (float32).");
}

}  // namespace camrt_py
