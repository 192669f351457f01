// Runtime configuration (config.json on the board), parsed and validated with specific errors.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "camrt/types.hpp"
#include "camrt/voter.hpp"

namespace camrt {

// Every validation problem is a ConfigError whose message names the key, e.g.
//   "config: unknown key 'tresholds' (allowed: labels, thresholds, ...)"
//   "config: 'penalty' = 1.5 is out of range [0, 1]"
//   "config: 'labels' has 3 labels but the model has 2 outputs"
class ConfigError : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
};

// The JSON keys (all optional; labels only where no model manifest names them). config.json keeps what a
// technician tunes; the model's facts (labels, colour order) belong to its manifest (ModelManifest below),
// and a config that repeats one must agree with it.
//   labels         [string, ...]  class names in model output order; non-empty, unique, 1..1000; default:
//                  the manifest's (required when the model has none)
//   thresholds     {label: number in [0, 1]}  per-class threshold; absent labels take 0.5
//   penalty        number in [0, 1], default 0.1    (see voter.hpp)
//   k              integer in [1, n_crops], default min(2, n_crops)
//   n_crops        integer in [1, 16], default 3
//   hysteresis     integer in [0, 1000] frames, default 0 (off)
//   fallback       label or null, default null: what is reported when no class is decided
//   softmax        bool, default true: apply softmax to the engine's scores (false when the model
//                  already outputs probabilities)
//   color_order    "RGB" | "BGR": channel order of the model input; default: the manifest's, else "RGB"
//   output_port    integer in [0, 65535], default 7070; 0 disables the TCP output
//   model          string, default "model.rknn": model file, relative to the config's folder
//   max_fps        number in [0, 1000], default 0 (unlimited)
struct Config {
    std::vector<std::string> labels;
    std::vector<float> thresholds;  // one per label, same order
    float penalty = 0.1f;
    int k = 2;
    int n_crops = 3;
    int hysteresis = 0;
    int fallback = -1;  // label index, -1 = none
    bool softmax = true;
    ColorOrder color_order = ColorOrder::RGB;
    int output_port = 7070;
    std::string model = "model.rknn";
    double max_fps = 0.0;

    VoterParams voter_params() const;
    int label_index(const std::string& label) const;  // -1 when absent
};

// A config is a few hundred bytes; anything above this is refused before it is read or parsed (a huge file
// must not exhaust a 64 MB board). Nesting deeper than kMaxConfigDepth is refused too (a config needs 2).
constexpr std::size_t kMaxConfigBytes = 64 * 1024;
constexpr int kMaxConfigDepth = 16;

// A model's manifest as the board reads it: `X.json` beside the model file `X.rknn` (model/model.json in a
// release), in the model card's format: "labels" (required) and "input": {"colour_order": "RGB" | "BGR"}
// (default RGB); other keys are ignored, so a model card itself is a manifest. The host's deploy writes it
// from the card (host_tools/model_manifest.py). It owns the labels and the colour order.
struct ModelManifest {
    std::vector<std::string> labels;
    ColorOrder color_order = ColorOrder::RGB;
    std::string source;  // the file it came from, named in errors
};

// Parses manifest text (at most kMaxConfigBytes). Throws ConfigError "<source>: model manifest: <problem>".
ModelManifest parse_manifest(const std::string& json_text, const std::string& source);
// The manifest path of a model file: its extension replaced by .json (model/model.rknn -> model/model.json);
// "" when that would be the model file itself.
std::string manifest_path_for(const std::string& model_path);

// Parses and validates JSON text. Throws ConfigError (JSON syntax errors included, with line/column; names
// and values from the text are quoted as short excerpts, never whole). With a manifest, `labels` and
// `color_order` default to the manifest's, and a config that states other values is refused, naming both.
Config parse_config(const std::string& json_text, const ModelManifest* manifest = nullptr);
// Reads and parses a config file; the error message starts with the path. The size is checked before reading.
// The model's manifest is read from `manifest_path`, or when that is "", from beside the model the config
// names (`model`, relative to the config's folder). A manifest file that does not exist means no manifest
// (the config must then name the labels); one that cannot be read or parsed is an error naming it.
Config load_config(const std::string& path, const std::string& manifest_path = "");
// Throws ConfigError when the label count differs from the model's output count.
void check_model_classes(const Config& cfg, int model_classes);
// Serialises every field (parse_config(config_to_json(c)) gives c back).
std::string config_to_json(const Config& cfg);

}  // namespace camrt
