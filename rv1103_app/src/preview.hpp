// Small JPEG previews of the camera frames, for the host's live page (host_tools watch).
//
// Off unless asked for (--preview SECONDS): on a board every preview costs CPU time that the classifier
// shares (the RV1103 has one Cortex-A7 core). When on, at most one frame per interval gets a preview: the
// whole frame scaled to --preview-width pixels wide (camrt's bilinear crop_resize, colour converted to RGB),
// JPEG-encoded (stb_image_write, quality 70) and attached to THAT frame's result line as
//   "preview": {"jpeg": BASE64, "w": 160, "h": 120, "frame_w": 640, "frame_h": 480, "ms": 1.234}
// so the image and the result the page shows belong to the same frame; frame_w/frame_h scale the crop
// boxes (frame pixels) onto the image; ms is what the scaling and encoding took on this CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "camrt/frames.hpp"

namespace rv1103 {

class PreviewEncoder {
   public:
    // interval_s <= 0: off. width: 16..1280 pixels.
    PreviewEncoder(double interval_s, int width, int quality = 70);
    bool enabled() const { return interval_ns_ > 0; }
    // True when a frame taken at now_ns should get a preview.
    bool due(std::uint64_t now_ns) const { return enabled() && now_ns >= next_ns_; }
    // The JSON object above for `frame` (and schedules the next one); throws std::invalid_argument on a bad
    // frame, std::runtime_error when the encoder fails.
    std::string encode(const camrt::FrameView& frame, std::uint64_t now_ns);

   private:
    std::uint64_t interval_ns_ = 0;
    std::uint64_t next_ns_ = 0;
    int width_;
    int quality_;
    std::vector<std::uint8_t> rgb_;
    std::vector<std::uint8_t> jpeg_;
};

std::string base64(const std::uint8_t* data, std::size_t n);

// `line` is one JSON object ("{...}"): returns it with "key": value_json added as its last member.
std::string with_member(const std::string& line, const std::string& key, const std::string& value_json);

}  // namespace rv1103
