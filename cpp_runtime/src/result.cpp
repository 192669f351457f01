#include "camrt/result.hpp"

#include <stdexcept>

#include "camrt/json.hpp"

namespace camrt {

namespace {

void write_label(std::string& out, int idx, const std::vector<std::string>& labels) {
    if (idx < 0) {
        out += "null";
        return;
    }
    if (idx >= static_cast<int>(labels.size())) {
        throw std::invalid_argument("class index " + std::to_string(idx) + " has no label (" +
                                    std::to_string(labels.size()) + " labels)");
    }
    json::write_string(out, labels[idx]);
}

void write_ms(std::string& out, const char* key, double v, bool comma = true) {
    if (comma) out += ',';
    out += '"';
    out += key;
    out += "\":";
    json::write_fixed(out, v, 3);
}

}  // namespace

std::string to_json_line(const FrameResult& r, const std::vector<std::string>& labels) {
    std::string out;
    out.reserve(256 + 96 * r.crops.size());
    out += "{\"frame\":";
    out += std::to_string(r.frame);
    out += ",\"decision\":";
    write_label(out, r.decision, labels);
    out += ",\"score\":";
    json::write_fixed(out, r.score, 4);
    out += ",\"raw\":";
    write_label(out, r.raw_decision, labels);
    out += ",\"crops\":[";
    for (std::size_t i = 0; i < r.crops.size(); ++i) {
        const CropResult& c = r.crops[i];
        if (c.scores.size() != labels.size()) {
            throw std::invalid_argument("crop " + std::to_string(i) + " has " + std::to_string(c.scores.size()) +
                                        " scores for " + std::to_string(labels.size()) + " labels");
        }
        if (i) out += ',';
        out += "{\"x\":" + std::to_string(c.rect.x) + ",\"y\":" + std::to_string(c.rect.y) +
               ",\"w\":" + std::to_string(c.rect.w) + ",\"h\":" + std::to_string(c.rect.h) + ",\"vote\":";
        write_label(out, c.vote, labels);
        out += ",\"scores\":{";
        for (std::size_t k = 0; k < labels.size(); ++k) {
            if (k) out += ',';
            json::write_string(out, labels[k]);
            out += ':';
            json::write_fixed(out, c.scores[k], 4);
        }
        out += "}}";
    }
    out += "],\"ms\":{";
    write_ms(out, "capture", r.ms.capture, false);
    write_ms(out, "preprocess", r.ms.preprocess);
    write_ms(out, "inference", r.ms.inference);
    write_ms(out, "postprocess", r.ms.postprocess);
    write_ms(out, "total", r.ms.total);
    out += "},\"dropped\":";
    out += std::to_string(r.dropped);
    out += '}';
    return out;
}

}  // namespace camrt
