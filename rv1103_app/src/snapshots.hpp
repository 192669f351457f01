// Frame snapshots on request, for `host_tools tune record`: while the file DIR/on exists, each classified
// frame is also written as DIR/<frame>.jpg (RGB, JPEG quality 80; written as .part and renamed), so the host
// can pair the pictures with the frames' result lines. Off otherwise (one stat() per frame). At most
// kMaxSnapshots pictures per request, so a host that went away cannot fill the board's /tmp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "camrt/frames.hpp"

namespace rv1103 {

constexpr int kMaxSnapshots = 600;

class Snapshots {
   public:
    using Logger = std::function<void(const std::string&)>;
    Snapshots(std::string dir, Logger log);
    // Writes the frame when a request is on; never throws (a failure is logged once per request).
    void maybe_write(const camrt::FrameView& frame, std::uint64_t index);

   private:
    std::string dir_;
    Logger log_;
    bool active_ = false;
    bool failed_ = false;
    int written_ = 0;
    std::vector<std::uint8_t> rgb_;
};

}  // namespace rv1103
