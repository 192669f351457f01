#include "image_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "camrt/read_capped.hpp"
#include "stb_image_config.hpp"

namespace rv1103 {

namespace {

std::string lower_ext(const std::string& name) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) return "";
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

// The whole file, refused unread when it is above kMaxImageFileBytes (also when it only grows past it).
std::vector<std::uint8_t> read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    std::vector<std::uint8_t> bytes;
    std::string error;
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > kMaxImageFileBytes) {
        error = "file of " + std::to_string(st.st_size) + " bytes, above the limit of " +
                std::to_string(kMaxImageFileBytes);
    } else if (const int r = camrt::read_capped(fd, kMaxImageFileBytes, bytes); r > 0) {
        error = std::string("read error: ") + std::strerror(r);
    } else if (r < 0) {
        error = "file above the limit of " + std::to_string(kMaxImageFileBytes) + " bytes";
    }
    ::close(fd);
    if (!error.empty()) throw std::runtime_error(path + ": " + error);
    return bytes;
}

}  // namespace

void StbFree::operator()(std::uint8_t* p) const { stbi_image_free(p); }

bool is_image_name(const std::string& name) {
    const std::string ext = lower_ext(name);
    return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "ppm" || ext == "pgm" ||
           ext == "pnm";
}

const char* image_extensions() { return ".jpg .jpeg .png .bmp .ppm .pgm .pnm"; }

RgbImage decode_image_bytes(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int len = static_cast<int>(std::min<std::size_t>(bytes.size(), kMaxImageFileBytes));
    int w = 0, h = 0, comp = 0;
    // The header first: the pixel count is checked before any pixel is decoded.
    if (!stbi_info_from_memory(data, len, &w, &h, &comp)) {
        throw std::runtime_error(name + ": not a JPEG, PNG, BMP or binary PPM/PGM image (" + stbi_failure_reason() +
                                 ")");
    }
    if (w <= 0 || h <= 0 || static_cast<std::int64_t>(w) * h > kMaxImagePixels) {
        throw std::runtime_error(name + ": " + std::to_string(w) + "x" + std::to_string(h) +
                                 " pixels, above the limit of " + std::to_string(kMaxImagePixels) +
                                 " (a decompression bomb?)");
    }
    if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6')) {
        // stb 2.27 does not notice a binary PPM/PGM whose raster is cut short: the raster ends the file, after
        // a header of at least "P6 W H M\n".
        const std::size_t raster = static_cast<std::size_t>(w) * static_cast<std::size_t>(h) *
                                   static_cast<std::size_t>(comp) * (stbi_is_16_bit_from_memory(data, len) ? 2 : 1);
        const std::size_t header = 2 + 1 + std::to_string(w).size() + 1 + std::to_string(h).size() + 3;
        if (bytes.size() < raster + header) {
            throw std::runtime_error(name + ": PPM/PGM raster truncated (the file has " + std::to_string(bytes.size()) +
                                     " bytes, the " + std::to_string(w) + "x" + std::to_string(h) +
                                     " image needs more than " + std::to_string(raster + header) + ")");
        }
    }
    stbi_uc* px = stbi_load_from_memory(data, len, &w, &h, &comp, 3);
    if (px == nullptr) throw std::runtime_error(name + ": cannot decode (" + std::string(stbi_failure_reason()) + ")");
    RgbImage img;
    img.width = w;
    img.height = h;
    img.rgb.reset(px);
    return img;
}

RgbImage decode_image(const std::string& path) { return decode_image_bytes(path, read_file(path)); }

}  // namespace rv1103
