#include "image_io.hpp"

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

#ifdef RV1103_HAVE_JPEG
#include <jpeglib.h>
#endif

namespace rv1103 {

namespace {

std::string lower_ext(const std::string& name) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) return "";
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(path + ": cannot open");
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Netpbm header tokens: whitespace separated, '#' starts a comment to the end of the line.
struct PnmReader {
    const std::vector<std::uint8_t>& b;
    std::size_t pos = 0;
    void skip_space() {
        while (pos < b.size()) {
            if (b[pos] == '#') {
                while (pos < b.size() && b[pos] != '\n') ++pos;
            } else if (std::isspace(b[pos])) {
                ++pos;
            } else {
                break;
            }
        }
    }
    long number(const std::string& path, const char* what) {
        skip_space();
        long v = 0;
        std::size_t digits = 0;
        while (pos < b.size() && std::isdigit(b[pos]) && digits < 9) {
            v = v * 10 + (b[pos++] - '0');
            ++digits;
        }
        if (digits == 0) throw std::runtime_error(path + ": bad or missing " + what + " in the PNM header");
        return v;
    }
};

#ifdef RV1103_HAVE_JPEG
struct JpegErr {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<JpegErr*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);  // libjpeg is C: no exception may cross it
}

// Returns "" on success, else libjpeg's message. No C++ objects with destructors live across setjmp.
std::string decode_jpeg_into(const std::vector<std::uint8_t>& bytes, RgbImage& out) {
    jpeg_decompress_struct cinfo;
    JpegErr err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_jpeg_error;
    err.message[0] = '\0';
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return err.message[0] ? err.message : "JPEG decoding failed";
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    out.width = static_cast<int>(cinfo.output_width);
    out.height = static_cast<int>(cinfo.output_height);
    out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out.rgb.data() + static_cast<std::size_t>(cinfo.output_scanline) * out.width * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return "";
}
#endif

}  // namespace

bool jpeg_supported() {
#ifdef RV1103_HAVE_JPEG
    return true;
#else
    return false;
#endif
}

bool is_image_name(const std::string& name) {
    const std::string ext = lower_ext(name);
    if (ext == "ppm" || ext == "pgm" || ext == "pnm") return true;
    return jpeg_supported() && (ext == "jpg" || ext == "jpeg");
}

RgbImage decode_pnm(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    if (bytes.size() < 2 || bytes[0] != 'P' || bytes[1] < '2' || bytes[1] > '6' || bytes[1] == '4') {
        throw std::runtime_error(path + ": not a PGM/PPM file (expected magic P2, P3, P5 or P6)");
    }
    const char kind = static_cast<char>(bytes[1]);
    const bool colour = kind == '3' || kind == '6';
    const bool binary = kind == '5' || kind == '6';
    PnmReader r{bytes, 2};
    const long w = r.number(path, "width");
    const long h = r.number(path, "height");
    const long maxval = r.number(path, "maxval");
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384) {
        throw std::runtime_error(path + ": image size " + std::to_string(w) + "x" + std::to_string(h) +
                                 " outside 1..16384");
    }
    if (maxval < 1 || maxval > 255) {
        throw std::runtime_error(path + ": maxval " + std::to_string(maxval) + " unsupported (8-bit only, 1..255)");
    }
    RgbImage img;
    img.width = static_cast<int>(w);
    img.height = static_cast<int>(h);
    const std::size_t pixels = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    const std::size_t samples = pixels * (colour ? 3 : 1);
    std::vector<std::uint8_t> raw(samples);
    if (binary) {
        ++r.pos;  // exactly one whitespace byte separates the header from the raster
        if (bytes.size() < r.pos + samples) {
            throw std::runtime_error(path + ": raster truncated (" +
                                     std::to_string(bytes.size() - std::min(bytes.size(), r.pos)) + " of " +
                                     std::to_string(samples) + " bytes)");
        }
        std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(r.pos),
                  bytes.begin() + static_cast<std::ptrdiff_t>(r.pos + samples), raw.begin());
    } else {
        for (std::size_t i = 0; i < samples; ++i) {
            const long v = r.number(path, "sample");
            if (v > maxval) throw std::runtime_error(path + ": sample above maxval");
            raw[i] = static_cast<std::uint8_t>(v);
        }
    }
    if (maxval != 255) {
        for (auto& v : raw) v = static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
    }
    if (colour) {
        img.rgb = std::move(raw);
    } else {
        img.rgb.resize(pixels * 3);
        for (std::size_t i = 0; i < pixels; ++i) img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = raw[i];
    }
    return img;
}

RgbImage decode_image(const std::string& path) {
    const std::string ext = lower_ext(path);
    const std::vector<std::uint8_t> bytes = read_file(path);
    if (ext == "jpg" || ext == "jpeg") {
#ifdef RV1103_HAVE_JPEG
        RgbImage img;
        const std::string err = decode_jpeg_into(bytes, img);
        if (!err.empty()) throw std::runtime_error(path + ": " + err);
        return img;
#else
        throw std::runtime_error(path + ": JPEG support not built in (needs libjpeg-turbo at build time); use PPM/PGM");
#endif
    }
    return decode_pnm(path, bytes);
}

}  // namespace rv1103
