#include "snapshots.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

#include "camrt/types.hpp"

// stb_image_write's implementation lives in stb_image_impl.cpp; only its declarations here.
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace rv1103 {

namespace {

void append(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), p, p + size);
}

}  // namespace

Snapshots::Snapshots(std::string dir, Logger log) : dir_(std::move(dir)), log_(std::move(log)) {}

void Snapshots::maybe_write(const camrt::FrameView& frame, std::uint64_t index) {
    if (dir_.empty()) return;
    struct stat st;
    if (::stat((dir_ + "/on").c_str(), &st) != 0) {
        if (active_) log_("snapshots: request ended after " + std::to_string(written_) + " frames");
        active_ = false;
        failed_ = false;
        written_ = 0;
        return;
    }
    if (!active_) {
        active_ = true;
        log_("snapshots: writing frames to " + dir_ + " (at most " + std::to_string(kMaxSnapshots) + ")");
    }
    if (failed_ || written_ >= kMaxSnapshots) return;
    try {
        camrt::TensorInfo info;
        info.height = frame.height;
        info.width = frame.width;
        info.channels = 3;
        info.w_stride = frame.width;
        rgb_.resize(info.size_bytes());
        camrt::crop_resize(frame, camrt::Rect{0, 0, frame.width, frame.height}, rgb_.data(), info);
        std::vector<std::uint8_t> jpeg;
        if (!stbi_write_jpg_to_func(append, &jpeg, frame.width, frame.height, 3, rgb_.data(), 80)) {
            throw std::runtime_error("JPEG encoding failed");
        }
        const std::string path = dir_ + "/" + std::to_string(index) + ".jpg";
        const std::string part = path + ".part";
        std::FILE* f = std::fopen(part.c_str(), "wb");
        if (f == nullptr) throw std::runtime_error("cannot create " + part);
        const bool ok = std::fwrite(jpeg.data(), 1, jpeg.size(), f) == jpeg.size();
        if (std::fclose(f) != 0 || !ok || std::rename(part.c_str(), path.c_str()) != 0) {
            std::remove(part.c_str());
            throw std::runtime_error("cannot write " + path);
        }
        ++written_;
        if (written_ == kMaxSnapshots) log_("snapshots: " + std::to_string(kMaxSnapshots) + " written, the limit");
    } catch (const std::exception& e) {
        failed_ = true;  // once per request: the program goes on classifying
        log_(std::string("snapshots: ") + e.what() + "; no more snapshots for this request");
    }
}

}  // namespace rv1103
