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

void write_scores(std::string& out, const std::vector<float>& scores, const std::vector<std::string>& labels,
                  const char* what) {
    if (scores.size() != labels.size()) {
        throw std::invalid_argument(std::string(what) + " has " + std::to_string(scores.size()) + " scores for " +
                                    std::to_string(labels.size()) + " labels");
    }
    out += '{';
    for (std::size_t k = 0; k < labels.size(); ++k) {
        if (k) out += ',';
        json::write_string(out, labels[k]);
        out += ':';
        json::write_fixed(out, scores[k], 4);
    }
    out += '}';
}

}  // namespace

std::string to_json_line(const FrameResult& r, const std::vector<std::string>& labels) {
    std::string out;
    out.reserve(384 + 96 * r.crops.size() + 24 * labels.size());
    out += "{\"schema\":" + std::to_string(kResultSchema) + ",\"board\":\"rv1103\",\"frame\":";
    out += std::to_string(r.frame);
    out += ",\"label\":";
    write_label(out, r.decision, labels);
    out += ",\"score\":";
    json::write_fixed(out, r.score, 4);
    out += ",\"scores\":";
    if (r.mean.empty()) {  // a result not made by the voter: the mean of its crops
        std::vector<float> mean(labels.size(), 0.0f);
        for (const CropResult& c : r.crops) {
            for (std::size_t k = 0; k < c.scores.size() && k < mean.size(); ++k) mean[k] += c.scores[k];
        }
        for (float& m : mean) m = r.crops.empty() ? 0.0f : m / static_cast<float>(r.crops.size());
        write_scores(out, mean, labels, "the mean");
    } else {
        write_scores(out, r.mean, labels, "the mean");
    }
    out += ",\"raw\":{\"label\":";
    write_label(out, r.raw_decision, labels);
    out += ",\"score\":";
    json::write_fixed(out, r.raw_score, 4);
    out += "},\"ms\":{";
    write_ms(out, "capture", r.ms.capture, false);
    write_ms(out, "preprocess", r.ms.preprocess);
    write_ms(out, "inference", r.ms.inference);
    write_ms(out, "postprocess", r.ms.postprocess);
    write_ms(out, "total", r.ms.total);
    out += "},\"fps\":";
    json::write_fixed(out, r.fps, 2);
    out += ",\"dropped\":" + std::to_string(r.dropped);
    const VoteWhy& w = r.vote;
    out += ",\"vote\":{\"candidate\":";
    write_label(out, w.candidate, labels);
    out += ",\"votes\":" + std::to_string(w.votes) + ",\"need\":" + std::to_string(w.need) + ",\"score\":";
    json::write_fixed(out, w.score, 4);
    out += ",\"threshold\":";
    json::write_fixed(out, w.threshold, 4);
    out += ",\"penalty\":";
    json::write_fixed(out, w.penalty, 4);
    out += ",\"hysteresis\":{\"frames\":" + std::to_string(w.hysteresis) + ",\"pending\":";
    write_label(out, w.pending, labels);
    out += ",\"count\":" + std::to_string(w.pending_count) + "}}";
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
        out += ",\"scores\":";
        write_scores(out, c.scores, labels, "crop");
        out += '}';
    }
    out += "]}";
    return out;
}

std::vector<ConfigChange> config_changes(const Config& before, const Config& after) {
    const json::Value a = json::Value::parse(config_to_json(before));
    const json::Value b = json::Value::parse(config_to_json(after));
    std::vector<ConfigChange> out;
    for (auto it = b.begin(); it != b.end(); ++it) {
        const json::Value* old = json::member(a, it.key().c_str());
        const json::Value none;
        const json::Value& was = old ? *old : none;
        if (was != it.value()) {
            out.push_back({it.key(), was.dump(-1, ' ', false, json::Value::error_handler_t::replace),
                           it.value().dump(-1, ' ', false, json::Value::error_handler_t::replace)});
        }
    }
    return out;
}

std::string describe_changes(const std::vector<ConfigChange>& changes) {
    if (changes.empty()) return "nothing changed";
    std::string out;
    for (const ConfigChange& c : changes) {
        if (!out.empty()) out += ", ";
        out += c.key + " " + c.before + " -> " + c.after;
    }
    return out;
}

std::string config_event_line(std::uint64_t frame, bool accepted, const std::vector<ConfigChange>& changes,
                              const std::string& message) {
    json::Value o = json::Value::object();
    o["schema"] = kResultSchema;
    o["board"] = "rv1103";
    o["event"] = "config";
    o["frame"] = frame;
    o["accepted"] = accepted;
    json::Value ch = json::Value::object();
    for (const ConfigChange& c : changes) {
        ch[c.key] = json::Value::array({json::Value::parse(c.before), json::Value::parse(c.after)});
    }
    o["changes"] = std::move(ch);
    o["message"] = message;
    return o.dump(-1, ' ', false, json::Value::error_handler_t::replace);
}

}  // namespace camrt
