#include "camrt/config.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "camrt/json.hpp"

namespace camrt {

namespace {

const char* const kKeys[] = {"labels",   "thresholds", "penalty",     "k",           "n_crops", "hysteresis",
                             "fallback", "softmax",    "color_order", "output_port", "model",   "max_fps"};

std::string allowed_keys() {
    std::string s;
    for (const char* k : kKeys) {
        if (!s.empty()) s += ", ";
        s += k;
    }
    return s;
}

std::string num_str(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

[[noreturn]] void fail(const std::string& msg) { throw ConfigError("config: " + msg); }

const json::Value& typed(const json::Value& v, json::Type t, const std::string& key) {
    if (v.type() != t) {
        fail("'" + key + "' must be a " + json::type_name(t) + ", got " + json::type_name(v.type()));
    }
    return v;
}

double number_in(const json::Value& v, const std::string& key, double lo, double hi) {
    const double d = typed(v, json::Type::Number, key).as_number();
    if (d < lo || d > hi) {
        fail("'" + key + "' = " + num_str(d) + " is out of range [" + num_str(lo) + ", " + num_str(hi) + "]");
    }
    return d;
}

int int_in(const json::Value& v, const std::string& key, int lo, int hi) {
    const double d = typed(v, json::Type::Number, key).as_number();
    if (d != std::floor(d)) fail("'" + key + "' = " + num_str(d) + " must be an integer");
    return static_cast<int>(number_in(v, key, lo, hi));
}

}  // namespace

VoterParams Config::voter_params() const {
    VoterParams p;
    p.thresholds = thresholds;
    p.penalty = penalty;
    p.k = k;
    p.hysteresis = hysteresis;
    p.fallback = fallback;
    return p;
}

int Config::label_index(const std::string& label) const {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] == label) return static_cast<int>(i);
    }
    return -1;
}

Config parse_config(const std::string& json_text) {
    json::Value root;
    try {
        root = json::parse(json_text);
    } catch (const json::ParseError& e) {
        fail(e.what());
    }
    if (root.type() != json::Type::Object)
        fail(std::string("the top level must be an object, got ") + json::type_name(root.type()));
    const std::set<std::string> known(std::begin(kKeys), std::end(kKeys));
    for (const auto& kv : root.as_object()) {
        if (!known.count(kv.first)) fail("unknown key '" + kv.first + "' (allowed: " + allowed_keys() + ")");
    }

    Config c;
    const json::Value* labels = root.find("labels");
    if (labels == nullptr) fail("'labels' is missing (a list of class names in model output order)");
    const auto& items = typed(*labels, json::Type::Array, "labels").as_array();
    if (items.empty() || items.size() > 1000) {
        fail("'labels' has " + std::to_string(items.size()) + " entries, allowed 1 to 1000");
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string key = "labels[" + std::to_string(i) + "]";
        const std::string& s = typed(items[i], json::Type::String, key).as_string();
        if (s.empty()) fail("'" + key + "' is empty");
        if (c.label_index(s) >= 0) fail("'labels' lists '" + s + "' twice");
        c.labels.push_back(s);
    }
    c.thresholds.assign(c.labels.size(), 0.5f);

    if (const json::Value* v = root.find("thresholds")) {
        for (const auto& kv : typed(*v, json::Type::Object, "thresholds").as_object()) {
            const int idx = c.label_index(kv.first);
            if (idx < 0) {
                std::string all;
                for (const auto& l : c.labels) all += (all.empty() ? "" : ", ") + l;
                fail("'thresholds' names unknown label '" + kv.first + "' (labels: " + all + ")");
            }
            c.thresholds[idx] = static_cast<float>(number_in(kv.second, "thresholds." + kv.first, 0.0, 1.0));
        }
    }
    if (const json::Value* v = root.find("penalty")) c.penalty = static_cast<float>(number_in(*v, "penalty", 0.0, 1.0));
    if (const json::Value* v = root.find("n_crops")) c.n_crops = int_in(*v, "n_crops", 1, 16);
    c.k = std::min(2, c.n_crops);
    if (const json::Value* v = root.find("k")) c.k = int_in(*v, "k", 1, c.n_crops);
    if (const json::Value* v = root.find("hysteresis")) c.hysteresis = int_in(*v, "hysteresis", 0, 1000);
    if (const json::Value* v = root.find("fallback")) {
        if (!v->is_null()) {
            const std::string& s = typed(*v, json::Type::String, "fallback").as_string();
            c.fallback = c.label_index(s);
            if (c.fallback < 0) fail("'fallback' = '" + s + "' is not one of the labels");
        }
    }
    if (const json::Value* v = root.find("softmax")) c.softmax = typed(*v, json::Type::Bool, "softmax").as_bool();
    if (const json::Value* v = root.find("color_order")) {
        const std::string& s = typed(*v, json::Type::String, "color_order").as_string();
        if (s == "RGB")
            c.color_order = ColorOrder::RGB;
        else if (s == "BGR")
            c.color_order = ColorOrder::BGR;
        else
            fail("'color_order' = '" + s + "' is not allowed (allowed: RGB, BGR)");
    }
    if (const json::Value* v = root.find("output_port")) c.output_port = int_in(*v, "output_port", 0, 65535);
    if (const json::Value* v = root.find("model")) {
        c.model = typed(*v, json::Type::String, "model").as_string();
        if (c.model.empty()) fail("'model' is empty");
    }
    if (const json::Value* v = root.find("max_fps")) c.max_fps = number_in(*v, "max_fps", 0.0, 1000.0);
    return c;
}

Config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open the config file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw ConfigError(path + ": read error");
    try {
        return parse_config(ss.str());
    } catch (const ConfigError& e) {
        throw ConfigError(path + ": " + e.what());
    }
}

void check_model_classes(const Config& cfg, int model_classes) {
    if (static_cast<int>(cfg.labels.size()) != model_classes) {
        fail("'labels' has " + std::to_string(cfg.labels.size()) + " labels but the model has " +
             std::to_string(model_classes) + " outputs");
    }
}

std::string config_to_json(const Config& cfg) {
    using json::Value;
    Value::Array labels;
    for (const auto& l : cfg.labels) labels.push_back(Value::string(l));
    Value::Object thr;
    for (std::size_t i = 0; i < cfg.labels.size() && i < cfg.thresholds.size(); ++i) {
        thr.emplace_back(cfg.labels[i], Value::number(cfg.thresholds[i]));
    }
    Value::Object o;
    o.emplace_back("labels", Value::array(std::move(labels)));
    o.emplace_back("thresholds", Value::object(std::move(thr)));
    o.emplace_back("penalty", Value::number(cfg.penalty));
    o.emplace_back("k", Value::number(cfg.k));
    o.emplace_back("n_crops", Value::number(cfg.n_crops));
    o.emplace_back("hysteresis", Value::number(cfg.hysteresis));
    o.emplace_back("fallback", cfg.fallback >= 0 && cfg.fallback < static_cast<int>(cfg.labels.size())
                                   ? Value::string(cfg.labels[cfg.fallback])
                                   : Value());
    o.emplace_back("softmax", Value::boolean(cfg.softmax));
    o.emplace_back("color_order", Value::string(to_string(cfg.color_order)));
    o.emplace_back("output_port", Value::number(cfg.output_port));
    o.emplace_back("model", Value::string(cfg.model));
    o.emplace_back("max_fps", Value::number(cfg.max_fps));
    return json::dump(Value::object(std::move(o)));
}

}  // namespace camrt
