// Where frames come from: the board camera (V4L2), an image folder or a Y4M video (host runs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "camrt/frames.hpp"

namespace rv1103 {

struct SourceFrame {
    camrt::FrameView view;      // valid until the next call to next() or the source's destruction
    std::string name;           // file name, "y4m#12", "video11#40"...
    std::uint64_t dropped = 0;  // frames the source skipped so far (camera: stale buffers, driver gaps)
};

class FrameSource {
   public:
    virtual ~FrameSource() = default;
    // Fills `out` with the next frame. Returns false at the end of a finite source. Throws
    // std::runtime_error on a device/file error the loop cannot skip.
    virtual bool next(SourceFrame& out) = 0;
    virtual std::string describe() const = 0;
};

struct SourceOptions {
    std::string path;  // folder, image file, .y4m file, or /dev/videoN
    int width = 768;   // V4L2 only: requested capture size
    int height = 432;
    int buffers = 3;                 // V4L2 only: mmap buffers
    bool loop = false;               // folder / y4m: start again at the end
    int warmup = 15;                 // V4L2 only: frames dropped after (re)opening, while auto exposure settles
    std::string yuv_range = "auto";  // V4L2 only: "auto" (what the driver reports), "full" or "limited"
};

// Picks the source from the path: /dev/video* -> V4L2 NV12, *.y4m -> video, folder -> sorted images, a FIFO ->
// a stream of frames (Y4M, or binary PPM images one after another: the emulated camera),
// one image file -> that image. Throws std::runtime_error with the reason (missing path, empty folder,
// V4L2 not available in this build...).
std::unique_ptr<FrameSource> open_source(const SourceOptions& opts);

// The pieces open_source() chooses from (declared for tests and for callers that know what they want).
std::unique_ptr<FrameSource> open_image_folder(const std::string& path, bool loop);
std::unique_ptr<FrameSource> open_y4m(const std::string& path, bool loop);
// The camera is kept going: a frame that does not come within 2 s is waited for once more, then the
// device is closed and opened again (1, 2, 4... s apart); only after 30 s without a frame does next() throw.
// Each frame is the newest the driver holds: older filled buffers are given back unread and counted in
// SourceFrame::dropped, as are gaps in the driver's sequence numbers.
std::unique_ptr<FrameSource> open_v4l2(const SourceOptions& opts);

}  // namespace rv1103
