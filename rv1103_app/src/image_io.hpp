// Still images for host runs (frame folders): JPEG, PNG, BMP and binary PPM/PGM, decoded by stb_image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rv1103 {

// Frees what stb_image allocated.
struct StbFree {
    void operator()(std::uint8_t* p) const;
};

// A decoded image, packed RGB888 (grey images are expanded to R = G = B), in the decoder's own buffer
// (no copy: a large image is in memory once).
struct RgbImage {
    int width = 0;
    int height = 0;
    std::unique_ptr<std::uint8_t, StbFree> rgb;  // width * height * 3 bytes
};

// Files above this size are not read; images above this many pixels are not decoded (a decompression bomb:
// a small file announcing a huge image is refused from its header). 4096 x 4096 is about 50 MB decoded.
constexpr std::size_t kMaxImageFileBytes = 64u << 20;
constexpr std::int64_t kMaxImagePixels = 4096LL * 4096LL;

// The frame-file rule: .jpg .jpeg .png .bmp .ppm .pgm .pnm, any case (the emulated twin's rule too).
bool is_image_name(const std::string& name);
// The extensions is_image_name() accepts, for messages (".jpg .jpeg ...").
const char* image_extensions();
// Reads and decodes a file. Throws std::runtime_error naming the file and the problem (unreadable, too big,
// not an image, corrupt, more than kMaxImagePixels pixels).
RgbImage decode_image(const std::string& path);
// Decodes image bytes; `name` is used in errors.
RgbImage decode_image_bytes(const std::string& name, const std::vector<std::uint8_t>& bytes);

}  // namespace rv1103
