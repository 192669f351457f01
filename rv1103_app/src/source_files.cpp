// Host frame sources: a sorted image folder (image_io.hpp) and a YUV4MPEG2 (.y4m) video.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "frame_source.hpp"
#include "image_io.hpp"

namespace rv1103 {

namespace {

bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// A frame side from a Y4M header token: -1 unless it is a plain number (no overflow on absurd ones).
int header_side(const char* s) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(s, &end, 10);
    if (end == s || errno != 0 || v < 0 || v > 1000000) return -1;
    return static_cast<int>(v);
}

std::string base_name(const std::string& p) {
    const auto slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

class ImageFolderSource : public FrameSource {
   public:
    ImageFolderSource(std::string label, std::vector<std::string> files, bool loop)
        : label_(std::move(label)), files_(std::move(files)), loop_(loop) {}

    bool next(SourceFrame& out) override {
        // A file that does not decode is logged and skipped: one bad file must not end a long run.
        for (std::size_t tries = 0; tries < files_.size(); ++tries) {
            if (pos_ == files_.size()) {
                if (!loop_) return false;
                pos_ = 0;
            }
            const std::string& path = files_[pos_++];
            img_ = RgbImage{};  // free the last frame first: never two decoded images at once
            try {
                img_ = decode_image(path);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "rv1103_app: skipping frame: %s\n", e.what());
                continue;
            }
            out.view = camrt::FrameView{};
            out.view.data = img_.rgb.get();
            out.view.width = img_.width;
            out.view.height = img_.height;
            out.view.format = camrt::PixelFormat::RGB888;
            out.view.stride = img_.width * 3;
            out.name = base_name(path);
            return true;
        }
        if (pos_ == files_.size() && !loop_) return false;
        throw std::runtime_error(label_ + ": no file in the folder could be decoded");
    }

    std::string describe() const override {
        return "image folder " + label_ + " (" + std::to_string(files_.size()) + " files, " + image_extensions() + ")";
    }

   private:
    std::string label_;
    std::vector<std::string> files_;
    bool loop_;
    std::size_t pos_ = 0;
    RgbImage img_;
};

// YUV4MPEG2 with 4:2:0 chroma: each frame's I420 planes are re-packed as NV12 (the board camera's format),
// so host videos go through the same YUV path as the V4L2 camera.
class Y4mSource : public FrameSource {
   public:
    Y4mSource(std::string path, bool loop) : Y4mSource(std::move(path), loop, nullptr) {}
    // `f`: an already opened stream (a camera FIFO whose first bytes were peeked), or nullptr to open `path`.
    Y4mSource(std::string path, bool loop, std::FILE* f) : path_(std::move(path)), loop_(loop), f_(f) {
        if (!f_) f_ = std::fopen(path_.c_str(), "rb");
        if (!f_) throw std::runtime_error(path_ + ": cannot open: " + std::strerror(errno));
        char line[512];
        if (!std::fgets(line, sizeof line, f_) || std::strncmp(line, "YUV4MPEG2 ", 10) != 0) {
            std::fclose(f_);
            throw std::runtime_error(path_ + ": not a YUV4MPEG2 file (header must start with 'YUV4MPEG2 ')");
        }
        std::string colour = "420jpeg";
        for (char* tok = std::strtok(line + 10, " \n"); tok; tok = std::strtok(nullptr, " \n")) {
            if (tok[0] == 'W') w_ = header_side(tok + 1);
            if (tok[0] == 'H') h_ = header_side(tok + 1);
            if (tok[0] == 'C') colour = tok + 1;
            // ffmpeg's extension: XCOLORRANGE=FULL for full-range (JPEG) YUV; limited otherwise.
            if (std::strcmp(tok, "XCOLORRANGE=FULL") == 0) range_ = camrt::YuvRange::Full;
        }
        if (w_ <= 0 || h_ <= 0 || w_ % 2 || h_ % 2 || w_ > camrt::kMaxSide || h_ > camrt::kMaxSide) {
            std::fclose(f_);
            throw std::runtime_error(path_ + ": frame size " + std::to_string(w_) + "x" + std::to_string(h_) +
                                     " must be positive, even and at most " + std::to_string(camrt::kMaxSide));
        }
        if (colour.compare(0, 3, "420") != 0) {
            std::fclose(f_);
            throw std::runtime_error(path_ + ": colour space C" + colour + " unsupported (4:2:0 only)");
        }
        data_start_ = std::ftell(f_);
        i420_.resize(static_cast<std::size_t>(w_) * h_ * 3 / 2);
        nv12_.resize(i420_.size());
    }
    ~Y4mSource() override {
        if (f_) std::fclose(f_);
    }

    bool next(SourceFrame& out) override {
        char line[256];
        if (!std::fgets(line, sizeof line, f_)) {
            if (!loop_ || index_ == 0) return false;
            std::fseek(f_, data_start_, SEEK_SET);
            if (!std::fgets(line, sizeof line, f_)) return false;
        }
        if (std::strncmp(line, "FRAME", 5) != 0) throw std::runtime_error(path_ + ": missing FRAME marker");
        if (std::fread(i420_.data(), 1, i420_.size(), f_) != i420_.size()) {
            std::fprintf(stderr, "rv1103_app: %s: last frame truncated, stopping\n", path_.c_str());
            return false;
        }
        const std::size_t ysz = static_cast<std::size_t>(w_) * h_;
        const std::size_t csz = ysz / 4;
        std::memcpy(nv12_.data(), i420_.data(), ysz);
        const std::uint8_t* u = i420_.data() + ysz;
        const std::uint8_t* v = u + csz;
        std::uint8_t* uv = nv12_.data() + ysz;
        for (std::size_t i = 0; i < csz; ++i) {
            uv[2 * i] = u[i];
            uv[2 * i + 1] = v[i];
        }
        out.view = camrt::FrameView{};
        out.view.data = nv12_.data();
        out.view.width = w_;
        out.view.height = h_;
        out.view.format = camrt::PixelFormat::NV12;
        out.view.stride = w_;
        out.view.yuv_range = range_;
        out.name = base_name(path_) + "#" + std::to_string(index_++);
        return true;
    }

    std::string describe() const override {
        return "Y4M video " + path_ + " (" + std::to_string(w_) + "x" + std::to_string(h_) + ", as NV12, " +
               (range_ == camrt::YuvRange::Full ? "full" : "limited") + " range)";
    }

   private:
    std::string path_;
    bool loop_;
    std::FILE* f_ = nullptr;
    long data_start_ = 0;
    int w_ = 0;
    int h_ = 0;
    camrt::YuvRange range_ = camrt::YuvRange::Limited;
    int index_ = 0;
    std::vector<std::uint8_t> i420_;
    std::vector<std::uint8_t> nv12_;
};

// A stream of binary PPM images (P6, maxval 255) one after another, as the netpbm format allows: what the
// emulated board's camera writes into a FIFO. Each frame is taken as it arrives; the stream's end is the end
// of frames (the writer decides about looping).
class PpmStreamSource : public FrameSource {
   public:
    PpmStreamSource(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
    ~PpmStreamSource() override { std::fclose(f_); }

    bool next(SourceFrame& out) override {
        int c = skip_space();
        if (c == EOF) return false;  // clean end between two images
        if (c != 'P' || std::fgetc(f_) != '6') throw std::runtime_error(path_ + ": not a binary PPM (P6) stream");
        const int w = number();
        const int h = number();
        const int maxval = number();
        if (w < 1 || h < 1 || w > 8192 || h > 8192 || maxval != 255) {
            throw std::runtime_error(path_ + ": unsupported PPM header " + std::to_string(w) + "x" + std::to_string(h) +
                                     " maxval " + std::to_string(maxval) + " (8-bit RGB up to 8192x8192)");
        }
        std::fgetc(f_);  // the single whitespace character that ends the header
        rgb_.resize(static_cast<std::size_t>(w) * h * 3);
        if (std::fread(rgb_.data(), 1, rgb_.size(), f_) != rgb_.size()) {
            std::fprintf(stderr, "rv1103_app: %s: last frame truncated, stopping\n", path_.c_str());
            return false;
        }
        out.view = camrt::FrameView{};
        out.view.data = rgb_.data();
        out.view.width = w;
        out.view.height = h;
        out.view.format = camrt::PixelFormat::RGB888;
        out.view.stride = w * 3;
        out.name = base_name(path_) + "#" + std::to_string(index_++);
        return true;
    }

    std::string describe() const override { return "PPM stream " + path_ + " (RGB888)"; }

   private:
    int skip_space() {
        int c = std::fgetc(f_);
        while (c != EOF && (std::isspace(c) || c == '#')) {
            if (c == '#') {
                while (c != EOF && c != '\n') c = std::fgetc(f_);
            }
            c = std::fgetc(f_);
        }
        return c;
    }
    int number() {
        int c = skip_space();
        long v = 0;
        if (c == EOF || !std::isdigit(c)) throw std::runtime_error(path_ + ": malformed PPM header");
        while (c != EOF && std::isdigit(c) && v < 100000) {
            v = v * 10 + (c - '0');
            c = std::fgetc(f_);
        }
        if (c != EOF) std::ungetc(c, f_);
        return static_cast<int>(v);
    }

    std::string path_;
    std::FILE* f_;
    std::uint64_t index_ = 0;
    std::vector<std::uint8_t> rgb_;
};

// A FIFO (the emulated camera, or any program writing frames): Y4M or a PPM stream, told by its first byte.
std::unique_ptr<FrameSource> open_stream(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    const int c = std::fgetc(f);
    if (c == EOF) {
        std::fclose(f);
        throw std::runtime_error(path + ": the stream ended before its first frame");
    }
    std::ungetc(c, f);
    if (c == 'Y') return std::make_unique<Y4mSource>(path, false, f);
    return std::make_unique<PpmStreamSource>(path, f);
}

}  // namespace

std::unique_ptr<FrameSource> open_image_folder(const std::string& path, bool loop) {
    std::vector<std::string> files;
    if (is_dir(path)) {
        DIR* d = ::opendir(path.c_str());
        if (!d) throw std::runtime_error(path + ": cannot list: " + std::strerror(errno));
        for (;;) {
            errno = 0;
            const dirent* e = ::readdir(d);
            if (!e) break;
            const std::string name = e->d_name;
            if (name[0] != '.' && is_image_name(name)) files.push_back(path + "/" + name);
        }
        const int err = errno;  // NULL is also an error return (e.g. EOVERFLOW from 32-bit code on 64-bit offsets)
        ::closedir(d);
        if (err != 0) throw std::runtime_error(path + ": cannot list: " + std::strerror(err));
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            throw std::runtime_error(path + ": no image files (" + image_extensions() + ") in the folder");
        }
    } else {
        if (!is_image_name(path)) {
            throw std::runtime_error(path + ": not a folder, .y4m video, /dev/video device or supported image");
        }
        files.push_back(path);
    }
    return std::make_unique<ImageFolderSource>(path, std::move(files), loop);
}

std::unique_ptr<FrameSource> open_y4m(const std::string& path, bool loop) {
    return std::make_unique<Y4mSource>(path, loop);
}

std::unique_ptr<FrameSource> open_source(const SourceOptions& opts) {
    if (opts.path.empty()) throw std::runtime_error("no frame source given");
    if (opts.path.compare(0, 10, "/dev/video") == 0) {
        return open_v4l2(opts);
    }
    struct stat st {};
    if (::stat(opts.path.c_str(), &st) != 0) throw std::runtime_error(opts.path + ": no such file or folder");
    if (S_ISFIFO(st.st_mode)) return open_stream(opts.path);
    if (ends_with(opts.path, ".y4m")) return open_y4m(opts.path, opts.loop);
    return open_image_folder(opts.path, opts.loop);
}

}  // namespace rv1103
