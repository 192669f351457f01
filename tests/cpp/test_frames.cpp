#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "camrt/frames.hpp"

TEST_SUITE_BEGIN("frames");

using camrt::ColorOrder;
using camrt::FrameView;
using camrt::PixelFormat;
using camrt::Rect;
using camrt::TensorInfo;
using camrt::YuvRange;

namespace {

std::uint32_t rng_state = 12345;
int rnd(int lo, int hi) {  // inclusive
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + static_cast<int>((rng_state >> 8) % static_cast<std::uint32_t>(hi - lo + 1));
}

// Plain double-precision bilinear sample of channel c of an interleaved image at output (dx, dy),
// written from the formula (not from the library's tables).
double ref_sample(const std::vector<double>& img, int img_w, int ch, int c, const Rect& crop, int out_w, int out_h,
                  int dx, int dy) {
    auto coord = [](int d, int src, int dst, int& i0, int& i1, double& f) {
        double s = (d + 0.5) * src / dst - 0.5;
        s = std::max(s, 0.0);
        i0 = static_cast<int>(std::floor(s));
        f = s - i0;
        if (i0 >= src - 1) {
            i0 = src - 1;
            f = 0.0;
        }
        i1 = std::min(i0 + 1, src - 1);
    };
    int x0, x1, y0, y1;
    double fx, fy;
    coord(dx, crop.w, out_w, x0, x1, fx);
    coord(dy, crop.h, out_h, y0, y1, fy);
    auto px = [&](int x, int y) { return img[(static_cast<std::size_t>(crop.y + y) * img_w + (crop.x + x)) * ch + c]; };
    return (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x1, y0)) + fy * ((1 - fx) * px(x0, y1) + fx * px(x1, y1));
}

// BT.601 limited range, double precision.
void yuv_to_rgb(double y, double u, double v, double rgb[3]) {
    const double yy = 1.164383 * (y - 16.0);
    rgb[0] = yy + 1.596027 * (v - 128.0);
    rgb[1] = yy - 0.391762 * (u - 128.0) - 0.812968 * (v - 128.0);
    rgb[2] = yy + 2.017232 * (u - 128.0);
}

// BT.601 full range (JFIF), double precision.
void yuv_full_to_rgb(double y, double u, double v, double rgb[3]) {
    rgb[0] = y + 1.402 * (v - 128.0);
    rgb[1] = y - 0.344136 * (u - 128.0) - 0.714136 * (v - 128.0);
    rgb[2] = y + 1.772 * (u - 128.0);
}

int clamp_round(double v) { return static_cast<int>(std::lround(std::min(255.0, std::max(0.0, v)))); }

struct Packed {
    int w, h, stride;
    std::vector<std::uint8_t> bytes;
    std::vector<double> rgb;  // the same pixels as doubles, RGB order, no padding
};

Packed random_packed(int w, int h, int pad, bool bgr) {
    Packed p{w, h, w * 3 + pad, {}, {}};
    p.bytes.assign(static_cast<std::size_t>(p.stride) * h, 0xEE);
    p.rgb.resize(static_cast<std::size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c) {
                const int v = rnd(0, 255);
                p.rgb[(static_cast<std::size_t>(y) * w + x) * 3 + c] = v;
                const int byte_c = bgr ? 2 - c : c;
                p.bytes[static_cast<std::size_t>(y) * p.stride + x * 3 + byte_c] = static_cast<std::uint8_t>(v);
            }
        }
    }
    return p;
}

}  // namespace

TEST_CASE("RGB888 resize matches a double-precision reference within 1, honours w_stride") {
    const struct {
        int fw, fh, pad;
        Rect crop;
        int ow, oh, w_stride;
    } cases[] = {
        {641, 479, 5, {80, 0, 476, 476}, 96, 96, 96},      // downscale, padded frame rows
        {641, 479, 0, {164, 0, 476, 476}, 224, 224, 240},  // w_stride > width
        {101, 77, 3, {9, 3, 61, 61}, 96, 96, 100},         // upscale
        {300, 200, 1, {13, 7, 150, 150}, 97, 61, 99},      // non-square output, odd sizes
        {64, 64, 0, {0, 0, 64, 64}, 64, 64, 64},           // identity
        {300, 200, 0, {100, 0, 200, 200}, 64, 64, 64},     // touches the last row and column, no padding
        {50, 40, 0, {10, 0, 40, 40}, 96, 96, 96},          // upscale into the bottom-right corner
        {8, 8, 0, {7, 7, 1, 1}, 3, 3, 3},                  // a 1-pixel crop in the last pixel
    };
    for (const auto& cs : cases) {
        const Packed p = random_packed(cs.fw, cs.fh, cs.pad, false);
        FrameView f{p.bytes.data(), cs.fw, cs.fh, PixelFormat::RGB888, p.stride, nullptr, 0};
        const TensorInfo t{cs.oh, cs.ow, 3, cs.w_stride};
        std::vector<std::uint8_t> out(t.size_bytes(), 0xAB);
        camrt::crop_resize(f, cs.crop, out.data(), t, ColorOrder::RGB);
        int worst = 0;
        bool padding_kept = true;
        for (int y = 0; y < cs.oh; ++y) {
            for (int x = 0; x < cs.w_stride; ++x) {
                for (int c = 0; c < 3; ++c) {
                    const std::uint8_t got = out[(static_cast<std::size_t>(y) * cs.w_stride + x) * 3 + c];
                    if (x >= cs.ow) {
                        padding_kept = padding_kept && got == 0xAB;
                        continue;
                    }
                    const double ref = ref_sample(p.rgb, cs.fw, 3, c, cs.crop, cs.ow, cs.oh, x, y);
                    worst = std::max(worst, std::abs(got - clamp_round(ref)));
                }
            }
        }
        CHECK(worst <= 1);
        CHECK(padding_kept);
    }
}

TEST_CASE("identity crop copies pixels exactly; BGR in / RGB out swaps channels") {
    const Packed p = random_packed(40, 30, 2, true);  // bytes stored BGR, p.rgb holds RGB
    FrameView f{p.bytes.data(), 40, 30, PixelFormat::BGR888, p.stride, nullptr, 0};
    const TensorInfo t{20, 20, 3, 20};
    std::vector<std::uint8_t> out(t.size_bytes());
    camrt::crop_resize(f, Rect{8, 4, 20, 20}, out.data(), t, ColorOrder::RGB);
    bool same = true;
    for (int y = 0; y < 20; ++y)
        for (int x = 0; x < 20; ++x)
            for (int c = 0; c < 3; ++c)
                same = same && out[(y * 20 + x) * 3 + c] == p.rgb[((4 + y) * 40 + 8 + x) * 3 + c];
    CHECK(same);
    camrt::crop_resize(f, Rect{8, 4, 20, 20}, out.data(), t, ColorOrder::BGR);
    CHECK_EQ(static_cast<int>(out[0]), static_cast<int>(p.bytes[4 * p.stride + 8 * 3 + 0]));
    CHECK_EQ(static_cast<int>(out[2]), static_cast<int>(p.bytes[4 * p.stride + 8 * 3 + 2]));
}

namespace {

std::vector<std::uint8_t> solid_nv12(int w, int h, int stride, int y, int u, int v) {
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(stride) * h * 3 / 2, 0);
    for (int r = 0; r < h; ++r) std::fill_n(buf.begin() + r * stride, w, static_cast<std::uint8_t>(y));
    for (int r = 0; r < h / 2; ++r) {
        for (int x = 0; x < w; x += 2) {
            buf[static_cast<std::size_t>(h + r) * stride + x] = static_cast<std::uint8_t>(u);
            buf[static_cast<std::size_t>(h + r) * stride + x + 1] = static_cast<std::uint8_t>(v);
        }
    }
    return buf;
}

std::vector<std::uint8_t> solid_yuyv(int w, int h, int y, int u, int v) {
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(w) * h * 2);
    for (std::size_t i = 0; i < buf.size(); i += 4) {
        buf[i] = static_cast<std::uint8_t>(y);
        buf[i + 1] = static_cast<std::uint8_t>(u);
        buf[i + 2] = static_cast<std::uint8_t>(y);
        buf[i + 3] = static_cast<std::uint8_t>(v);
    }
    return buf;
}

// Textbook BT.601 studio-swing values of white, black and the primaries.
const struct {
    const char* name;
    int y, u, v, r, g, b;
} kColours[] = {
    {"white", 235, 128, 128, 255, 255, 255}, {"black", 16, 128, 128, 0, 0, 0},  {"red", 81, 90, 240, 255, 0, 0},
    {"green", 145, 54, 34, 0, 255, 0},       {"blue", 41, 240, 110, 0, 0, 255}, {"grey", 126, 128, 128, 128, 128, 128},
};

}  // namespace

TEST_CASE("NV12 and YUYV solid colours decode to the known RGB values") {
    const TensorInfo t{8, 8, 3, 8};
    for (const auto& col : kColours) {
        for (PixelFormat fmt : {PixelFormat::NV12, PixelFormat::YUYV}) {
            std::vector<std::uint8_t> buf;
            FrameView f;
            if (fmt == PixelFormat::NV12) {
                buf = solid_nv12(32, 16, 40, col.y, col.u, col.v);
                f = FrameView{buf.data(), 32, 16, fmt, 40, nullptr, 0};
            } else {
                buf = solid_yuyv(32, 16, col.y, col.u, col.v);
                f = FrameView{buf.data(), 32, 16, fmt, 64, nullptr, 0};
            }
            std::vector<std::uint8_t> out(t.size_bytes());
            camrt::crop_resize(f, Rect{4, 2, 14, 14}, out.data(), t, ColorOrder::RGB);
            for (int i = 0; i < 64; ++i) {
                CHECK(std::abs(out[i * 3] - col.r) <= 2);
                CHECK(std::abs(out[i * 3 + 1] - col.g) <= 2);
                CHECK(std::abs(out[i * 3 + 2] - col.b) <= 2);
            }
            camrt::crop_resize(f, Rect{4, 2, 14, 14}, out.data(), t, ColorOrder::BGR);
            CHECK(std::abs(out[0] - col.b) <= 2);
            CHECK(std::abs(out[2] - col.r) <= 2);
        }
    }
}

TEST_CASE("full-range NV12 and YUYV solid colours decode to the JFIF values") {
    // Y, Cb, Cr from the JFIF forward matrix (Y = 0.299 R + 0.587 G + 0.114 B, Cb = 128 - 0.1687 R - 0.3313 G
    // + 0.5 B, Cr = 128 + 0.5 R - 0.4187 G - 0.0813 B), rounded and clamped to 0..255.
    const struct {
        const char* name;
        int y, u, v, r, g, b;
    } full[] = {
        {"white", 255, 128, 128, 255, 255, 255}, {"black", 0, 128, 128, 0, 0, 0},
        {"red", 76, 85, 255, 255, 0, 0},         {"green", 150, 44, 21, 0, 255, 0},
        {"blue", 29, 255, 107, 0, 0, 255},       {"grey", 128, 128, 128, 128, 128, 128},
    };
    const TensorInfo t{8, 8, 3, 8};
    for (const auto& col : full) {
        INFO(col.name);
        for (PixelFormat fmt : {PixelFormat::NV12, PixelFormat::YUYV}) {
            std::vector<std::uint8_t> buf = fmt == PixelFormat::NV12 ? solid_nv12(32, 16, 40, col.y, col.u, col.v)
                                                                     : solid_yuyv(32, 16, col.y, col.u, col.v);
            FrameView f{buf.data(), 32, 16, fmt, fmt == PixelFormat::NV12 ? 40 : 64, nullptr, 0, YuvRange::Full};
            std::vector<std::uint8_t> out(t.size_bytes());
            camrt::crop_resize(f, Rect{4, 2, 14, 14}, out.data(), t, ColorOrder::RGB);
            for (int i = 0; i < 64; ++i) {
                CHECK(std::abs(out[i * 3] - col.r) <= 2);
                CHECK(std::abs(out[i * 3 + 1] - col.g) <= 2);
                CHECK(std::abs(out[i * 3 + 2] - col.b) <= 2);
            }
            // Decoded as limited range, the same bytes come out with about 16% more contrast.
            f.yuv_range = YuvRange::Limited;
            camrt::crop_resize(f, Rect{4, 2, 14, 14}, out.data(), t, ColorOrder::RGB);
            if (col.y == 128 && col.r == 128) CHECK(std::abs(out[0] - 130) <= 1);  // 1.164 * (128 - 16)
        }
    }
}

TEST_CASE("NV12 and YUYV textured frames match convert-then-resize within 1, in both ranges") {
    for (const YuvRange range : {YuvRange::Limited, YuvRange::Full}) {
        INFO((range == YuvRange::Full ? "full range" : "limited range"));
        const auto yuv_to_rgb = range == YuvRange::Full ? yuv_full_to_rgb : ::yuv_to_rgb;
        const int w = 90, h = 70;
        // Mid-range values: no clamping, so interpolating YUV then converting equals converting then
        // interpolating up to rounding.
        std::vector<int> Y(w * h), U((w / 2) * (h / 2)), V((w / 2) * (h / 2));
        for (int& v : Y) v = rnd(60, 190);
        for (int& v : U) v = rnd(110, 146);
        for (int& v : V) v = rnd(110, 146);
        // Reference RGB frame: each pixel with its 2x2 block's chroma (NV12).
        std::vector<double> rgb(static_cast<std::size_t>(w) * h * 3);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                double px[3];
                yuv_to_rgb(Y[y * w + x], U[(y / 2) * (w / 2) + x / 2], V[(y / 2) * (w / 2) + x / 2], px);
                for (int c = 0; c < 3; ++c) rgb[(static_cast<std::size_t>(y) * w + x) * 3 + c] = px[c];
            }
        const int stride = w + 6;
        std::vector<std::uint8_t> y_plane(static_cast<std::size_t>(stride) * h),
            uv_plane(static_cast<std::size_t>(stride) * h / 2);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) y_plane[y * stride + x] = static_cast<std::uint8_t>(Y[y * w + x]);
        for (int y = 0; y < h / 2; ++y)
            for (int x = 0; x < w / 2; ++x) {
                uv_plane[y * stride + 2 * x] = static_cast<std::uint8_t>(U[y * (w / 2) + x]);
                uv_plane[y * stride + 2 * x + 1] = static_cast<std::uint8_t>(V[y * (w / 2) + x]);
            }
        const Rect crop{10, 4, 64, 64};
        const TensorInfo t{40, 40, 3, 44};
        std::vector<std::uint8_t> out(t.size_bytes());
        FrameView f{y_plane.data(),  w,      h,    PixelFormat::NV12, stride,
                    uv_plane.data(), stride, range};  // separate planes
        camrt::crop_resize(f, crop, out.data(), t);
        int worst = 0;
        for (int y = 0; y < 40; ++y)
            for (int x = 0; x < 40; ++x)
                for (int c = 0; c < 3; ++c)
                    worst = std::max(worst, std::abs(out[(y * 44 + x) * 3 + c] -
                                                     clamp_round(ref_sample(rgb, w, 3, c, crop, 40, 40, x, y))));
        CHECK(worst <= 1);

        // YUYV: chroma per pixel pair, taken here from the same U/V rows (rows y share the block of y/2).
        std::vector<std::uint8_t> yuyv(static_cast<std::size_t>(w) * 2 * h);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; x += 2) {
                std::uint8_t* q = &yuyv[(static_cast<std::size_t>(y) * w + x) * 2];
                q[0] = static_cast<std::uint8_t>(Y[y * w + x]);
                q[1] = static_cast<std::uint8_t>(U[(y / 2) * (w / 2) + x / 2]);
                q[2] = static_cast<std::uint8_t>(Y[y * w + x + 1]);
                q[3] = static_cast<std::uint8_t>(V[(y / 2) * (w / 2) + x / 2]);
            }
        FrameView g{yuyv.data(), w, h, PixelFormat::YUYV, w * 2, nullptr, 0, range};
        camrt::crop_resize(g, crop, out.data(), t);
        worst = 0;
        for (int y = 0; y < 40; ++y)
            for (int x = 0; x < 40; ++x)
                for (int c = 0; c < 3; ++c)
                    worst = std::max(worst, std::abs(out[(y * 44 + x) * 3 + c] -
                                                     clamp_round(ref_sample(rgb, w, 3, c, crop, 40, 40, x, y))));
        CHECK(worst <= 1);
    }
}

TEST_CASE("bad frames, crops and tensors are refused with the reason") {
    std::vector<std::uint8_t> buf(100 * 50 * 3);
    std::vector<std::uint8_t> out(32 * 32 * 3);
    FrameView f{buf.data(), 100, 50, PixelFormat::RGB888, 300, nullptr, 0};
    const TensorInfo t{32, 32, 3, 32};
    CHECK_THROWS_WITH_AS(camrt::crop_resize(f, Rect{60, 0, 50, 50}, out.data(), t),
                         doctest::Contains("does not fit the frame 100x50"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(camrt::crop_resize(f, Rect{0, 0, 0, 0}, out.data(), t), doctest::Contains("does not fit"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(camrt::crop_resize(f, Rect{0, 0, 50, 50}, out.data(), TensorInfo{32, 32, 3, 31}),
                         doctest::Contains("w_stride 31"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(camrt::crop_resize(f, Rect{0, 0, 50, 50}, out.data(), TensorInfo{32, 32, 1, 32}),
                         doctest::Contains("only 3"), std::invalid_argument);
    FrameView narrow{buf.data(), 100, 50, PixelFormat::RGB888, 299, nullptr, 0};
    CHECK_THROWS_WITH_AS(camrt::validate_frame(narrow), doctest::Contains("stride 299"), std::invalid_argument);
    FrameView nv{buf.data(), 100, 50, PixelFormat::NV12, 100, nullptr, 0};
    CHECK_THROWS_WITH_AS(camrt::crop_resize(nv, Rect{1, 0, 40, 40}, out.data(), t), doctest::Contains("even"),
                         std::invalid_argument);
    FrameView odd{buf.data(), 99, 50, PixelFormat::YUYV, 200, nullptr, 0};
    CHECK_THROWS_WITH_AS(camrt::validate_frame(odd), doctest::Contains("width 99 must be even"), std::invalid_argument);
}

TEST_SUITE_END();
