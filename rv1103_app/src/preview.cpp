#include "preview.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "camrt/clock.hpp"

// stb_image_write's implementation lives in stb_image_impl.cpp; only its declarations here.
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace rv1103 {

PreviewEncoder::PreviewEncoder(double interval_s, int width, int quality)
    : width_(std::clamp(width, 16, 1280)), quality_(std::clamp(quality, 10, 95)) {
    if (interval_s > 0) interval_ns_ = static_cast<std::uint64_t>(interval_s * 1e9);
}

std::string PreviewEncoder::encode(const camrt::FrameView& frame, std::uint64_t now_ns) {
    const std::uint64_t t0 = camrt::monotonic_ns();
    camrt::validate_frame(frame);
    const int w = std::min(width_, frame.width);
    const long long scaled = (static_cast<long long>(w) * frame.height + frame.width / 2) / frame.width;
    const int h = static_cast<int>(std::max(1LL, scaled));
    camrt::TensorInfo dst;
    dst.width = w;
    dst.height = h;
    dst.channels = 3;
    dst.w_stride = w;
    rgb_.resize(dst.size_bytes());
    camrt::crop_resize(frame, camrt::Rect{0, 0, frame.width, frame.height}, rgb_.data(), dst, camrt::ColorOrder::RGB);
    jpeg_.clear();
    auto sink = [](void* ctx, void* data, int size) {
        auto* out = static_cast<std::vector<std::uint8_t>*>(ctx);
        const auto* bytes = static_cast<const std::uint8_t*>(data);
        out->insert(out->end(), bytes, bytes + size);
    };
    if (!stbi_write_jpg_to_func(sink, &jpeg_, w, h, 3, rgb_.data(), quality_))
        throw std::runtime_error("preview: JPEG encoding failed");
    const double ms = camrt::elapsed_ms(t0, camrt::monotonic_ns());
    next_ns_ = now_ns + interval_ns_;
    char tail[160];
    std::snprintf(tail, sizeof tail, "\",\"w\":%d,\"h\":%d,\"frame_w\":%d,\"frame_h\":%d,\"ms\":%.3f}", w, h,
                  frame.width, frame.height, ms);
    return "{\"jpeg\":\"" + base64(jpeg_.data(), jpeg_.size()) + tail;
}

std::string base64(const std::uint8_t* data, std::size_t n) {
    static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < n; i += 3) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < n) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (i + 1 < n ? std::uint32_t{data[i + 1]} << 8 : 0);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string with_member(const std::string& line, const std::string& key, const std::string& value_json) {
    const auto end = line.find_last_of('}');
    if (end == std::string::npos || end == 0) throw std::invalid_argument("not a JSON object");
    return line.substr(0, end) + ",\"" + key + "\":" + value_json + line.substr(end);
}

}  // namespace rv1103
