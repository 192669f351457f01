// The optimised preprocessing kernels (SSE2 on x86-64, NEON on ARM) against the scalar reference: the same
// bytes, bit for bit, padding included, over random frames, crops, output sizes, strides and formats. The
// ARMv7 build runs this under qemu-arm, which is where the NEON set is checked; the ASan build checks that
// no kernel reads outside a frame allocated without any slack.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "camrt/frames.hpp"
#include "camrt/planner.hpp"
#include "resize/kernels.hpp"

TEST_SUITE_BEGIN("kernels");

using camrt::ColorOrder;
using camrt::FrameView;
using camrt::PixelFormat;
using camrt::Rect;
using camrt::TensorInfo;
namespace detail = camrt::detail;

namespace {

std::mt19937 rng(20240611);  // fixed seed: a failure reproduces
int rnd(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// A frame in memory of exactly the size it spans (no slack: an over-read is an ASan error).
struct Frame {
    std::vector<std::uint8_t> y, uv;  // uv: a separate NV12 plane, or empty
    FrameView view;
};

Frame make_frame(PixelFormat fmt, int w, int h, int pad, bool separate_uv, bool extremes) {
    const int bpp = fmt == PixelFormat::NV12 ? 1 : (fmt == PixelFormat::YUYV ? 2 : 3);
    const int stride = w * bpp + pad;
    auto value = [&] { return static_cast<std::uint8_t>(extremes ? (rnd(0, 1) ? 255 : 0) : rnd(0, 255)); };
    Frame f;
    const std::size_t y_bytes = static_cast<std::size_t>(h - 1) * stride + static_cast<std::size_t>(w) * bpp;
    if (fmt == PixelFormat::NV12 && !separate_uv) {  // UV rows follow the Y rows
        f.y.resize(static_cast<std::size_t>(h) * stride + static_cast<std::size_t>(h / 2 - 1) * stride + w);
    } else {
        f.y.resize(y_bytes);
    }
    for (auto& b : f.y) b = value();
    f.view = FrameView{f.y.data(), w, h, fmt, stride, nullptr, 0};
    if (fmt == PixelFormat::NV12 && separate_uv) {
        const int uv_stride = w + rnd(0, 7);
        f.uv.resize(static_cast<std::size_t>(h / 2 - 1) * uv_stride + w);
        for (auto& b : f.uv) b = value();
        f.view.uv = f.uv.data();
        f.view.uv_stride = uv_stride;
    }
    return f;
}

// crop_resize with both kernel sets into buffers prefilled alike; true when every byte agrees.
bool same_bytes(const detail::KernelSet& simd, const FrameView& f, const Rect& crop, const TensorInfo& t,
                ColorOrder order, std::string& where) {
    std::vector<std::uint8_t> a(t.size_bytes(), 0xA5), b(t.size_bytes(), 0xA5);
    detail::crop_resize_with(detail::scalar_kernels(), f, crop, a.data(), t, order);
    detail::crop_resize_with(simd, f, crop, b.data(), t, order);
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) {
            const std::size_t px = i / 3;
            where = std::string(camrt::to_string(f.format)) + " " + std::to_string(f.width) + "x" +
                    std::to_string(f.height) + " stride " + std::to_string(f.stride) + ", crop " +
                    std::to_string(crop.x) + "," + std::to_string(crop.y) + " " + std::to_string(crop.w) + "x" +
                    std::to_string(crop.h) + " -> " + std::to_string(t.width) + "x" + std::to_string(t.height) +
                    " (w_stride " + std::to_string(t.w_stride) + "): byte " + std::to_string(i) + " (row " +
                    std::to_string(px / t.w_stride) + ", column " + std::to_string(px % t.w_stride) + "): scalar " +
                    std::to_string(a[i]) + ", " + simd.name + " " + std::to_string(b[i]);
            return false;
        }
    }
    return true;
}

}  // namespace

TEST_CASE("the build uses the kernel set CMake chose for the target") {
    // CAMRT_EXPECT_KERNELS comes from cpp_runtime/CMakeLists.txt: sse2 natively, neon in the ARMv7 build.
    CHECK(std::string(camrt::preprocess_kernels()) == CAMRT_EXPECT_KERNELS);
    const detail::KernelSet* simd = detail::simd_kernels();
    CHECK(std::string(simd ? simd->name : "scalar") == CAMRT_EXPECT_KERNELS);
}

TEST_CASE("vertical blend: the optimised set equals the scalar one for every length and weight") {
    const detail::KernelSet* simd = detail::simd_kernels();
    if (simd == nullptr) return;  // a scalar-only build: nothing to compare
    for (int n = 0; n <= 80; ++n) {
        for (int wy1 : {0, 1, 37, 128, 255, 256}) {
            std::vector<std::uint8_t> a(n), b(n);
            for (auto& v : a) v = static_cast<std::uint8_t>(rnd(0, 255));
            for (auto& v : b) v = static_cast<std::uint8_t>(rnd(0, 255));
            std::vector<std::uint16_t> x(n + 1, 0xBEEF), y(n + 1, 0xBEEF);  // + 1: nothing written past n
            detail::scalar_kernels().vblend(a.data(), b.data(), n, 256 - wy1, wy1, x.data());
            simd->vblend(a.data(), b.data(), n, 256 - wy1, wy1, y.data());
            CHECK(x == y);
        }
    }
}

TEST_CASE("random frames, crops and sizes: the optimised set equals the scalar one bit for bit") {
    const detail::KernelSet* simd = detail::simd_kernels();
    if (simd == nullptr) return;
    const PixelFormat formats[] = {PixelFormat::RGB888, PixelFormat::BGR888, PixelFormat::NV12, PixelFormat::YUYV};
    int compared = 0, failures = 0;
    std::string first_failure;
    for (int it = 0; it < 600; ++it) {
        const PixelFormat fmt = formats[it % 4];
        const bool yuv = fmt == PixelFormat::NV12 || fmt == PixelFormat::YUYV;
        int w = rnd(1, 160), h = rnd(1, 120);
        if (yuv) w += w & 1;
        if (fmt == PixelFormat::NV12) h += h & 1;
        Frame f = make_frame(fmt, w, h, rnd(0, 1) ? 0 : rnd(1, 9), rnd(0, 1) == 1, it % 5 == 0);
        if (yuv && (it / 4) % 2 == 1) f.view.yuv_range = camrt::YuvRange::Full;  // both ranges' coefficients
        Rect crop;
        switch (rnd(0, 3)) {
            case 0: crop = Rect{0, 0, w, h}; break;  // the whole frame: taps on the last row and column
            case 1: crop = Rect{w - 1, h - 1, 1, 1}; break;
            default:
                crop.w = rnd(1, w);
                crop.h = rnd(1, h);
                crop.x = rnd(0, w - crop.w);
                crop.y = rnd(0, h - crop.h);
        }
        if (yuv) crop.x &= ~1;
        if (fmt == PixelFormat::NV12) crop.y &= ~1;
        if (crop.x + crop.w > w || crop.y + crop.h > h) continue;  // an odd 1-pixel corner crop moved off
        const int ow = rnd(1, 130), oh = rnd(1, 100);
        const TensorInfo t{oh, ow, 3, ow + (rnd(0, 1) ? 0 : rnd(1, 6))};
        const ColorOrder order = rnd(0, 1) ? ColorOrder::RGB : ColorOrder::BGR;
        std::string where;
        if (!same_bytes(*simd, f.view, crop, t, order, where)) {
            if (failures++ == 0) first_failure = where;
        }
        ++compared;
    }
    INFO("first difference: " << first_failure);
    CHECK(failures == 0);
    CHECK(compared > 500);
}

TEST_CASE("the board's sizes: three crops of 640x480 into 64, 96 and 224 pixel inputs, bit for bit") {
    const detail::KernelSet* simd = detail::simd_kernels();
    if (simd == nullptr) return;
    for (PixelFormat fmt : {PixelFormat::BGR888, PixelFormat::NV12, PixelFormat::YUYV}) {
        const Frame f = make_frame(fmt, 640, 480, 0, false, false);
        for (int side : {64, 96, 224}) {
            for (const Rect& crop : camrt::plan_crops(640, 480, 3, side, side)) {
                std::string where;
                CHECK_MESSAGE(
                    same_bytes(*simd, f.view, crop, TensorInfo{side, side, 3, side + 4}, ColorOrder::RGB, where),
                    where);
            }
        }
    }
}

TEST_SUITE_END();
