// The board camera: V4L2 memory-mapped capture of NV12 frames (rkisp main path, /dev/video11 on the
// Luckfox Pico). rkipc holds the camera at boot: stop it first (RkLunch-stop.sh), see README.md.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "camrt/clock.hpp"
#include "frame_source.hpp"
#include "signals.hpp"

#if defined(__linux__)
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace rv1103 {

#if defined(__linux__)
namespace {

int xioctl(int fd, unsigned long req, void* arg) {
    int r;
    do {
        r = ::ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR);
    return r;
}

void log_line(const std::string& msg) { std::fprintf(stderr, "rv1103_app: %s\n", msg.c_str()); }

class V4l2Source : public FrameSource {
   public:
    explicit V4l2Source(const SourceOptions& o) : dev_(o.path), opts_(o) {
        if (o.yuv_range != "auto" && o.yuv_range != "full" && o.yuv_range != "limited")
            throw std::runtime_error("--yuv-range must be auto, full or limited, got '" + o.yuv_range + "'");
        open_device();
    }

    ~V4l2Source() override { release(); }

    bool next(SourceFrame& out) override {
        const std::uint64_t since = camrt::monotonic_ns();
        int quiet = 0;     // poll timeouts in a row on this opening
        double pause = 1;  // seconds before the next reopening
        for (;;) {
            if (stop_requested()) return false;
            if (camrt::elapsed_ms(since, camrt::monotonic_ns()) > kGiveUpMs) {
                throw std::runtime_error(dev_ + ": no frame for 30 s, even after reopening the device" +
                                         (last_error_.empty() ? "" : " (last error: " + last_error_ + ")"));
            }
            if (fd_ < 0) {
                try {
                    open_device();
                    log_line(dev_ + ": reopened (" + describe() + ")");
                    quiet = 0;
                } catch (const std::exception& e) {
                    last_error_ = e.what();
                    log_line(std::string("camera: ") + e.what() + "; trying again in " + std::to_string(int(pause)) +
                             " s");
                    sleep_unless_stopped(pause);
                    pause = pause < 8 ? pause * 2 : 8;
                    continue;
                }
            }
            try {
                if (grab(out, quiet)) return true;
            } catch (const std::exception& e) {  // a driver error: start over with a fresh opening
                last_error_ = e.what();
                log_line(std::string("camera: ") + e.what() + "; reopening " + dev_);
                release();
                continue;
            }
            if (quiet >= 2) {  // 4 s without a frame: the stream is stuck
                last_error_ = "no frame within " + std::to_string(2 * kPollMs / 1000) + " s";
                log_line(dev_ + ": " + last_error_ + " (sensor or ISP stopped?); reopening the device");
                release();
            }
        }
    }

    std::string describe() const override {
        return "V4L2 camera " + dev_ + " (" + std::to_string(width_) + "x" + std::to_string(height_) +
               " NV12, stride " + std::to_string(stride_) + ", " + std::to_string(bufs_.size()) + " mmap buffers, " +
               (range_ == camrt::YuvRange::Full ? "full" : "limited") + " range YUV (" + range_why_ + "), " +
               std::to_string(opts_.warmup) + " warm-up frames dropped)";
    }

   private:
    static constexpr int kPollMs = 2000;
    static constexpr double kGiveUpMs = 30000;

    // One poll; true with `out` filled, false on a timeout (quiet counts them). Throws on driver errors.
    bool grab(SourceFrame& out, int& quiet) {
        if (held_ >= 0) {
            const int h = held_;
            held_ = -1;
            queue(static_cast<std::uint32_t>(h));  // give the previous frame back to the driver
        }
        pollfd p{fd_, POLLIN, 0};
        int r;
        do {
            r = ::poll(&p, 1, kPollMs);
        } while (r < 0 && errno == EINTR && !stop_requested());
        if (r < 0 && errno == EINTR) return false;
        if (r < 0) throw std::runtime_error(dev_ + ": poll: " + std::strerror(errno));
        if (r == 0) {
            ++quiet;
            return false;
        }
        if (p.revents & (POLLERR | POLLHUP)) throw std::runtime_error(dev_ + ": the device reported an error");
        // Drain: every filled buffer is dequeued; all but the newest go straight back unread.
        v4l2_plane planes[VIDEO_MAX_PLANES]{};
        v4l2_buffer b = describe(0, planes);
        if (xioctl(fd_, VIDIOC_DQBUF, &b) < 0) {
            if (errno == EAGAIN) return false;
            throw std::runtime_error(dev_ + ": VIDIOC_DQBUF: " + std::strerror(errno));
        }
        for (;;) {
            v4l2_plane newer_planes[VIDEO_MAX_PLANES]{};
            v4l2_buffer newer = describe(0, newer_planes);
            if (xioctl(fd_, VIDIOC_DQBUF, &newer) < 0) break;  // EAGAIN: b is the newest
            queue(b.index);
            ++dropped_;
            b = newer;
        }
        if (have_seq_ && b.sequence > last_seq_ + 1) dropped_ += b.sequence - last_seq_ - 1;  // the driver's own
        have_seq_ = true;
        last_seq_ = b.sequence;
        held_ = static_cast<int>(b.index);
        if (warmup_left_ > 0) {  // auto exposure is still settling: not a frame to classify
            --warmup_left_;
            return false;
        }
        const Buffer& buf = bufs_[b.index];
        out.view = camrt::FrameView{};
        out.view.data = static_cast<const std::uint8_t*>(buf.plane[0]);
        out.view.width = width_;
        out.view.height = height_;
        out.view.format = camrt::PixelFormat::NV12;
        out.view.stride = static_cast<int>(stride_);
        out.view.yuv_range = range_;
        if (n_planes_ > 1) {  // NV12M: the UV plane is a separate buffer
            out.view.uv = static_cast<const std::uint8_t*>(buf.plane[1]);
            out.view.uv_stride = static_cast<int>(stride_);
        } else {  // NV12: UV follows the Y plane, whose height the driver may pad
            out.view.uv = out.view.data + static_cast<std::size_t>(stride_) * y_rows_;
            out.view.uv_stride = static_cast<int>(stride_);
        }
        out.name = dev_ + "#" + std::to_string(b.sequence);
        out.dropped = dropped_;
        quiet = 0;
        return true;
    }

    void open_device() {
        have_seq_ = false;
        warmup_left_ = opts_.warmup;
        fd_ = ::open(dev_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) {
            fail(std::string("cannot open: ") + std::strerror(errno) +
                 (errno == EBUSY ? " (is rkipc still running? run RkLunch-stop.sh)" : ""));
        }
        v4l2_capability cap{};
        if (xioctl(fd_, VIDIOC_QUERYCAP, &cap) < 0) fail("VIDIOC_QUERYCAP failed: not a V4L2 device");
        const std::uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
        if (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) {
            type_ = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;  // rkisp paths are multi-planar
        } else if (caps & V4L2_CAP_VIDEO_CAPTURE) {
            type_ = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        } else {
            fail("is not a video capture device");
        }
        if (!(caps & V4L2_CAP_STREAMING)) fail("does not support streaming I/O");
        driver_ = reinterpret_cast<const char*>(cap.driver);
        set_format(opts_.width, opts_.height);
        request_buffers(opts_.buffers);
        for (std::uint32_t i = 0; i < bufs_.size(); ++i) queue(i);
        int t = static_cast<int>(type_);
        if (xioctl(fd_, VIDIOC_STREAMON, &t) < 0) fail(std::string("VIDIOC_STREAMON: ") + std::strerror(errno));
        streaming_ = true;
    }

    struct Buffer {
        void* plane[2] = {nullptr, nullptr};
        std::size_t len[2] = {0, 0};
    };

    bool mplane() const { return type_ == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE; }

    [[noreturn]] void fail(const std::string& why) {
        release();
        throw std::runtime_error(dev_ + ": " + why);
    }

    void set_format(int width, int height) {
        v4l2_format f{};
        f.type = type_;
        if (mplane()) {
            f.fmt.pix_mp.width = static_cast<std::uint32_t>(width);
            f.fmt.pix_mp.height = static_cast<std::uint32_t>(height);
            f.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_NV12;
            f.fmt.pix_mp.field = V4L2_FIELD_NONE;
        } else {
            f.fmt.pix.width = static_cast<std::uint32_t>(width);
            f.fmt.pix.height = static_cast<std::uint32_t>(height);
            f.fmt.pix.pixelformat = V4L2_PIX_FMT_NV12;
            f.fmt.pix.field = V4L2_FIELD_NONE;
        }
        if (xioctl(fd_, VIDIOC_S_FMT, &f) < 0) fail(std::string("VIDIOC_S_FMT NV12: ") + std::strerror(errno));
        std::uint32_t fourcc;
        if (mplane()) {
            width_ = static_cast<int>(f.fmt.pix_mp.width);
            height_ = static_cast<int>(f.fmt.pix_mp.height);
            fourcc = f.fmt.pix_mp.pixelformat;
            n_planes_ = f.fmt.pix_mp.num_planes ? f.fmt.pix_mp.num_planes : 1;
            stride_ = f.fmt.pix_mp.plane_fmt[0].bytesperline;
            if (n_planes_ == 1 && stride_ > 0) y_rows_ = f.fmt.pix_mp.plane_fmt[0].sizeimage * 2 / 3 / stride_;
        } else {
            width_ = static_cast<int>(f.fmt.pix.width);
            height_ = static_cast<int>(f.fmt.pix.height);
            fourcc = f.fmt.pix.pixelformat;
            n_planes_ = 1;
            stride_ = f.fmt.pix.bytesperline;
            if (stride_ > 0) y_rows_ = f.fmt.pix.sizeimage * 2 / 3 / stride_;
        }
        if (fourcc != V4L2_PIX_FMT_NV12 && fourcc != V4L2_PIX_FMT_NV12M) fail("driver refused NV12");
        choose_range(mplane() ? f.fmt.pix_mp.quantization : f.fmt.pix.quantization,
                     mplane() ? f.fmt.pix_mp.colorspace : f.fmt.pix.colorspace);
        if (n_planes_ > 2) fail("unexpected plane count " + std::to_string(n_planes_));
        if (stride_ == 0) stride_ = static_cast<std::uint32_t>(width_);
        // sizeimage may be rounded up: never place the UV plane above the real frame height.
        if (y_rows_ < static_cast<std::uint32_t>(height_)) y_rows_ = static_cast<std::uint32_t>(height_);
        if (y_rows_ > static_cast<std::uint32_t>(height_) + 16) y_rows_ = static_cast<std::uint32_t>(height_);
    }

    // The YUV range of the frames: what the driver reports after VIDIOC_S_FMT, unless --yuv-range says.
    // A driver that reports the default: rkisp outputs full range (its default, and what rkipc's ISP tuning
    // expects); other drivers follow V4L2's rule (limited for YUV, full for the JPEG colorspace).
    void choose_range(std::uint32_t quantization, std::uint32_t colorspace) {
        if (opts_.yuv_range != "auto") {
            range_ = opts_.yuv_range == "full" ? camrt::YuvRange::Full : camrt::YuvRange::Limited;
            range_why_ = "--yuv-range";
        } else if (quantization == V4L2_QUANTIZATION_FULL_RANGE) {
            range_ = camrt::YuvRange::Full;
            range_why_ = "reported by the driver";
        } else if (quantization == V4L2_QUANTIZATION_LIM_RANGE) {
            range_ = camrt::YuvRange::Limited;
            range_why_ = "reported by the driver";
        } else if (driver_.rfind("rkisp", 0) == 0 || colorspace == V4L2_COLORSPACE_JPEG) {
            range_ = camrt::YuvRange::Full;
            range_why_ = driver_.rfind("rkisp", 0) == 0 ? "rkisp's default" : "JPEG colorspace";
        } else {
            range_ = camrt::YuvRange::Limited;
            range_why_ = "V4L2 default for YUV";
        }
    }

    // An MMAP buffer descriptor for QUERYBUF/QBUF; planes must outlive it (multi-planar devices fill it).
    v4l2_buffer describe(std::uint32_t index, v4l2_plane* planes) const {
        v4l2_buffer b{};
        b.type = type_;
        b.memory = V4L2_MEMORY_MMAP;
        b.index = index;
        if (mplane()) {
            b.m.planes = planes;
            b.length = n_planes_;
        }
        return b;
    }

    void request_buffers(int count) {
        v4l2_requestbuffers req{};
        req.count = static_cast<std::uint32_t>(count);
        req.type = type_;
        req.memory = V4L2_MEMORY_MMAP;
        if (xioctl(fd_, VIDIOC_REQBUFS, &req) < 0 || req.count < 2) {
            fail(std::string("VIDIOC_REQBUFS: ") + std::strerror(errno));
        }
        bufs_.resize(req.count);
        for (std::uint32_t i = 0; i < req.count; ++i) {
            v4l2_plane planes[VIDEO_MAX_PLANES]{};
            v4l2_buffer b = describe(i, planes);
            if (xioctl(fd_, VIDIOC_QUERYBUF, &b) < 0) fail(std::string("VIDIOC_QUERYBUF: ") + std::strerror(errno));
            for (std::uint32_t p = 0; p < (mplane() ? n_planes_ : 1u); ++p) {
                const std::size_t len = mplane() ? planes[p].length : b.length;
                const off_t off = mplane() ? planes[p].m.mem_offset : b.m.offset;
                void* ptr = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, off);
                if (ptr == MAP_FAILED) fail(std::string("mmap: ") + std::strerror(errno));
                bufs_[i].plane[p] = ptr;
                bufs_[i].len[p] = len;
            }
        }
    }

    void queue(std::uint32_t index) {
        v4l2_plane planes[VIDEO_MAX_PLANES]{};
        v4l2_buffer b = describe(index, planes);
        if (xioctl(fd_, VIDIOC_QBUF, &b) < 0) throw std::runtime_error(dev_ + ": VIDIOC_QBUF: " + std::strerror(errno));
    }

    void release() {
        if (fd_ < 0) return;
        if (streaming_) {
            int t = static_cast<int>(type_);
            xioctl(fd_, VIDIOC_STREAMOFF, &t);
            streaming_ = false;
        }
        for (auto& b : bufs_) {
            for (int p = 0; p < 2; ++p) {
                if (b.plane[p]) ::munmap(b.plane[p], b.len[p]);
            }
        }
        bufs_.clear();
        held_ = -1;
        ::close(fd_);
        fd_ = -1;
    }

    std::string dev_;
    int fd_ = -1;
    v4l2_buf_type type_ = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    bool streaming_ = false;
    int width_ = 0;
    int height_ = 0;
    std::uint32_t n_planes_ = 1;
    std::uint32_t stride_ = 0;
    std::uint32_t y_rows_ = 0;
    std::vector<Buffer> bufs_;
    int held_ = -1;
    SourceOptions opts_;
    std::string driver_;
    camrt::YuvRange range_ = camrt::YuvRange::Limited;
    std::string range_why_;
    std::uint64_t dropped_ = 0;
    bool have_seq_ = false;
    std::uint32_t last_seq_ = 0;
    int warmup_left_ = 0;
    std::string last_error_;
};

}  // namespace

std::unique_ptr<FrameSource> open_v4l2(const SourceOptions& opts) { return std::make_unique<V4l2Source>(opts); }

#else

std::unique_ptr<FrameSource> open_v4l2(const SourceOptions& opts) {
    throw std::runtime_error(opts.path + ": V4L2 capture needs Linux");
}

#endif

}  // namespace rv1103
