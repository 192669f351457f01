// Still-image decoding for host runs: PPM/PGM (read here) and JPEG (libjpeg-turbo, when built with it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rv1103 {

// A decoded image, packed RGB888 (grey images are expanded to R = G = B).
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;  // width * height * 3
};

// True when this build decodes JPEG (RV1103_HAVE_JPEG).
bool jpeg_supported();
// Whether the file name has an extension decode_image() understands in this build.
bool is_image_name(const std::string& name);
// Decodes P2/P3/P5/P6 (maxval 1..255) or JPEG. Throws std::runtime_error naming the file and the problem.
RgbImage decode_image(const std::string& path);
RgbImage decode_pnm(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace rv1103
