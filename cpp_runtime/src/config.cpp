#include "camrt/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "camrt/json.hpp"
#include "camrt/read_capped.hpp"

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

// A name or value from the file, quoted in an error: never more than a short excerpt.
std::string quoted(const std::string& s) { return "'" + json::excerpt(s) + "'"; }

// A problem in a config or a manifest; parse_config and parse_manifest prefix it with what was being read.
class Invalid : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& msg) { throw Invalid(msg); }

enum class Kind { Bool, Number, String, Array, Object };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Bool: return "boolean";
        case Kind::Number: return "number";
        case Kind::String: return "string";
        case Kind::Array: return "array";
        case Kind::Object: return "object";
    }
    return "?";
}

bool is_kind(const json::Value& v, Kind k) {
    switch (k) {
        case Kind::Bool: return v.is_boolean();
        case Kind::Number: return v.is_number();
        case Kind::String: return v.is_string();
        case Kind::Array: return v.is_array();
        case Kind::Object: return v.is_object();
    }
    return false;
}

const json::Value& typed(const json::Value& v, Kind k, const std::string& key) {
    if (!is_kind(v, k)) fail(quoted(key) + " must be a " + kind_name(k) + ", got " + v.type_name());
    return v;
}

const std::string& string_of(const json::Value& v, const std::string& key) {
    return typed(v, Kind::String, key).get_ref<const std::string&>();
}

double number_in(const json::Value& v, const std::string& key, double lo, double hi) {
    const double d = typed(v, Kind::Number, key).get<double>();
    if (d < lo || d > hi) {
        fail(quoted(key) + " = " + num_str(d) + " is out of range [" + num_str(lo) + ", " + num_str(hi) + "]");
    }
    return d;
}

int int_in(const json::Value& v, const std::string& key, int lo, int hi) {
    const double d = typed(v, Kind::Number, key).get<double>();
    if (d != std::floor(d)) fail(quoted(key) + " = " + num_str(d) + " must be an integer");
    return static_cast<int>(number_in(v, key, lo, hi));
}

std::vector<std::string> labels_of(const json::Value& v) {
    const json::Value& items = typed(v, Kind::Array, "labels");
    if (items.empty() || items.size() > 1000) {
        fail("'labels' has " + std::to_string(items.size()) + " entries, allowed 1 to 1000");
    }
    std::vector<std::string> labels;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string key = "labels[" + std::to_string(i) + "]";
        const std::string& s = string_of(items[i], key);
        if (s.empty()) fail(quoted(key) + " is empty");
        if (!seen.insert(s).second) fail("'labels' lists " + quoted(s) + " twice");
        labels.push_back(s);
    }
    return labels;
}

ColorOrder color_order_of(const json::Value& v, const std::string& key) {
    const std::string& s = string_of(v, key);
    if (s == "RGB") return ColorOrder::RGB;
    if (s == "BGR") return ColorOrder::BGR;
    fail(quoted(key) + " = " + quoted(s) + " is not allowed (allowed: RGB, BGR)");
}

// "[a, b]", cut to a short excerpt.
std::string list_str(const std::vector<std::string>& items) {
    std::string all;
    for (const auto& s : items) all += (all.empty() ? "" : ", ") + s;
    return "[" + json::excerpt(all, 200) + "]";
}

// `noun` names what the text is ("config", "model manifest") in the size error.
json::Value parse_json(const std::string& json_text, const char* noun) {
    if (json_text.size() > kMaxConfigBytes) {
        fail("the text is " + std::to_string(json_text.size()) + " bytes; a " + noun + " is at most " +
             std::to_string(kMaxConfigBytes));
    }
    try {
        json::ParseLimits limits;
        limits.max_bytes = kMaxConfigBytes;
        limits.max_depth = kMaxConfigDepth;
        return json::parse(json_text, limits);
    } catch (const json::ParseError& e) {
        fail(e.what());
    }
}

// Reads a small file whole: the size is checked before anything is read (a huge file must not exhaust a
// 64 MB board), and the read itself stops past the cap, for a file that grows meanwhile. O_NONBLOCK: opening
// a FIFO must not wait for a writer (it is then refused as not a regular file). Returns false when the file
// does not exist and missing_ok; throws ConfigError "<path>: <problem>" otherwise.
bool read_small_file(const std::string& path, const char* noun, const char* what, bool missing_ok, std::string& text) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT && missing_ok) return false;
    if (fd < 0) throw ConfigError(path + ": cannot open the " + what + ": " + std::strerror(errno));
    std::string error;
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        error = std::string("cannot stat the ") + what + ": " + std::strerror(errno);
    } else if (S_ISDIR(st.st_mode)) {
        error = std::string("is a folder, not a ") + what;
    } else if (!S_ISREG(st.st_mode)) {
        error = "is not a regular file";
    } else if (static_cast<std::uint64_t>(st.st_size) > kMaxConfigBytes) {
        error = std::string("the ") + what + " is " + std::to_string(st.st_size) + " bytes; a " + noun +
                " is at most " + std::to_string(kMaxConfigBytes);
    } else if (const int r = read_capped(fd, kMaxConfigBytes, text); r > 0) {
        error = std::string("read error: ") + std::strerror(r);
    } else if (r < 0) {
        error = std::string("the ") + what + " is more than " + std::to_string(kMaxConfigBytes) + " bytes (the limit)";
    }
    ::close(fd);
    if (!error.empty()) throw ConfigError(path + ": " + error);
    return true;
}

// Where load_config looks for the manifest when it is not told: beside the model the config names (its
// `model`, relative to the config's folder). "" when the text is not a config (parse_config says why).
std::string manifest_beside_model(const std::string& config_path, const std::string& json_text) {
    std::string model = Config().model;
    try {
        const json::Value root = parse_json(json_text, "config");
        const json::Value* v = json::member(root, "model");
        if (v != nullptr) {
            if (!v->is_string() || v->get_ref<const std::string&>().empty()) return "";
            model = v->get<std::string>();
        }
    } catch (const Invalid&) {
        return "";
    }
    if (model[0] != '/') {
        const auto slash = config_path.rfind('/');
        model = (slash == std::string::npos ? std::string(".") : config_path.substr(0, slash)) + "/" + model;
    }
    return manifest_path_for(model);
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

ModelManifest parse_manifest(const std::string& json_text, const std::string& source) {
    try {
        const json::Value root = parse_json(json_text, "model manifest");
        if (!root.is_object()) fail(std::string("the top level must be an object, got ") + root.type_name());
        ModelManifest m;
        m.source = source;
        const json::Value* labels = json::member(root, "labels");
        if (labels == nullptr) fail("'labels' is missing (the model's class names in output order)");
        m.labels = labels_of(*labels);
        if (const json::Value* input = json::member(root, "input")) {
            if (const json::Value* v = json::member(typed(*input, Kind::Object, "input"), "colour_order")) {
                m.color_order = color_order_of(*v, "input.colour_order");
            }
        }
        return m;
    } catch (const Invalid& e) {
        throw ConfigError(source + ": model manifest: " + e.what());
    }
}

std::string manifest_path_for(const std::string& model_path) {
    const auto slash = model_path.rfind('/');
    const auto dot = model_path.rfind('.');
    const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
    const std::string path = (has_ext ? model_path.substr(0, dot) : model_path) + ".json";
    return path == model_path ? std::string() : path;
}

namespace {

Config parse_config_checked(const std::string& json_text, const ModelManifest* manifest) {
    const json::Value root = parse_json(json_text, "config");
    if (!root.is_object()) fail(std::string("the top level must be an object, got ") + root.type_name());
    const std::set<std::string> known(std::begin(kKeys), std::end(kKeys));
    for (const auto& kv : root.items()) {
        if (!known.count(kv.key())) fail("unknown key " + quoted(kv.key()) + " (allowed: " + allowed_keys() + ")");
    }

    Config c;
    if (const json::Value* labels = json::member(root, "labels")) {
        c.labels = labels_of(*labels);
        if (manifest != nullptr && c.labels != manifest->labels) {
            fail("'labels' " + list_str(c.labels) + " contradict the model manifest's " + list_str(manifest->labels) +
                 " (" + manifest->source + ")");
        }
    } else if (manifest != nullptr) {
        c.labels = manifest->labels;
    } else {
        fail(
            "'labels' is missing (a list of class names in model output order; none is needed where a model "
            "manifest beside the model names them)");
    }
    c.thresholds.assign(c.labels.size(), 0.5f);

    if (const json::Value* v = json::member(root, "thresholds")) {
        for (const auto& kv : typed(*v, Kind::Object, "thresholds").items()) {
            const int idx = c.label_index(kv.key());
            if (idx < 0) {
                std::string all;
                for (const auto& l : c.labels) all += (all.empty() ? "" : ", ") + l;
                fail("'thresholds' names unknown label " + quoted(kv.key()) + " (labels: " + json::excerpt(all, 200) +
                     ")");
            }
            c.thresholds[idx] = static_cast<float>(number_in(kv.value(), "thresholds." + kv.key(), 0.0, 1.0));
        }
    }
    if (const json::Value* v = json::member(root, "penalty")) {
        c.penalty = static_cast<float>(number_in(*v, "penalty", 0.0, 1.0));
    }
    if (const json::Value* v = json::member(root, "n_crops")) c.n_crops = int_in(*v, "n_crops", 1, 16);
    c.k = std::min(2, c.n_crops);
    if (const json::Value* v = json::member(root, "k")) c.k = int_in(*v, "k", 1, c.n_crops);
    if (const json::Value* v = json::member(root, "hysteresis")) c.hysteresis = int_in(*v, "hysteresis", 0, 1000);
    if (const json::Value* v = json::member(root, "fallback")) {
        if (!v->is_null()) {
            const std::string& s = string_of(*v, "fallback");
            c.fallback = c.label_index(s);
            if (c.fallback < 0) fail("'fallback' = " + quoted(s) + " is not one of the labels");
        }
    }
    if (const json::Value* v = json::member(root, "softmax")) c.softmax = typed(*v, Kind::Bool, "softmax").get<bool>();
    if (manifest != nullptr) c.color_order = manifest->color_order;
    if (const json::Value* v = json::member(root, "color_order")) {
        const ColorOrder order = color_order_of(*v, "color_order");
        if (manifest != nullptr && order != manifest->color_order) {
            fail(std::string("'color_order' ") + to_string(order) + " contradicts the model manifest's colour order " +
                 to_string(manifest->color_order) + " (" + manifest->source + ")");
        }
        c.color_order = order;
    }
    if (const json::Value* v = json::member(root, "output_port")) c.output_port = int_in(*v, "output_port", 0, 65535);
    if (const json::Value* v = json::member(root, "model")) {
        c.model = string_of(*v, "model");
        if (c.model.empty()) fail("'model' is empty");
    }
    if (const json::Value* v = json::member(root, "max_fps")) c.max_fps = number_in(*v, "max_fps", 0.0, 1000.0);
    return c;
}

}  // namespace

Config parse_config(const std::string& json_text, const ModelManifest* manifest) {
    try {
        return parse_config_checked(json_text, manifest);
    } catch (const Invalid& e) {
        throw ConfigError(std::string("config: ") + e.what());
    }
}

Config load_config(const std::string& path, const std::string& manifest_path) {
    std::string text;
    read_small_file(path, "config", "config file", false, text);
    const std::string where = manifest_path.empty() ? manifest_beside_model(path, text) : manifest_path;
    ModelManifest manifest;
    std::string manifest_text;
    const bool have = !where.empty() && read_small_file(where, "model manifest", "model manifest", true, manifest_text);
    if (have) manifest = parse_manifest(manifest_text, where);
    try {
        return parse_config(text, have ? &manifest : nullptr);
    } catch (const ConfigError& e) {
        throw ConfigError(path + ": " + e.what());
    }
}

void check_model_classes(const Config& cfg, int model_classes) {
    if (static_cast<int>(cfg.labels.size()) != model_classes) {
        throw ConfigError("config: 'labels' has " + std::to_string(cfg.labels.size()) + " labels but the model has " +
                          std::to_string(model_classes) + " outputs");
    }
}

std::string config_to_json(const Config& cfg) {
    json::Value thr = json::Value::object();
    for (std::size_t i = 0; i < cfg.labels.size() && i < cfg.thresholds.size(); ++i) {
        thr[cfg.labels[i]] = json::float_value(cfg.thresholds[i]);
    }
    json::Value o = json::Value::object();
    o["labels"] = cfg.labels;
    o["thresholds"] = std::move(thr);
    o["penalty"] = json::float_value(cfg.penalty);
    o["k"] = cfg.k;
    o["n_crops"] = cfg.n_crops;
    o["hysteresis"] = cfg.hysteresis;
    o["fallback"] = cfg.fallback >= 0 && cfg.fallback < static_cast<int>(cfg.labels.size())
                        ? json::Value(cfg.labels[cfg.fallback])
                        : json::Value();
    o["softmax"] = cfg.softmax;
    o["color_order"] = to_string(cfg.color_order);
    o["output_port"] = cfg.output_port;
    o["model"] = cfg.model;
    o["max_fps"] = cfg.max_fps;
    return o.dump(-1, ' ', false, json::Value::error_handler_t::replace);
}

}  // namespace camrt
