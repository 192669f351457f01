// FrameResult and its JSON line: the board's output, one line per frame (stdout and TCP).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "camrt/clock.hpp"
#include "camrt/config.hpp"
#include "camrt/types.hpp"
#include "camrt/voter.hpp"

namespace camrt {

struct CropResult {
    Rect rect;                  // crop in frame pixels
    std::vector<float> scores;  // per class, after softmax when Config::softmax (else as the engine gave)
    int vote = -1;              // class this crop voted for, -1 = abstained
};

// The result schema version this code writes ("schema" in each line); host_tools/results/SCHEMA.md is the
// schema's one description, shared with the OpenMV app.
constexpr int kResultSchema = 1;

struct FrameResult {
    std::uint64_t frame = 0;  // frame number given by the caller (the board program counts from 1)
    int decision = -1;        // reported class (after hysteresis), -1 = none
    float score = 0.0f;
    int raw_decision = -1;  // before hysteresis
    float raw_score = 0.0f;
    std::vector<float> mean;  // per class: mean score over the crops
    std::vector<CropResult> crops;
    VoteWhy vote;  // the voter's reasons (voter.hpp)
    StageTimes ms;
    double fps = 0.0;           // set by the caller: 1000 / ms between the starts of this frame and the previous one
    std::uint64_t dropped = 0;  // frames the source skipped so far (set by the caller; camera: stale buffers)
};

// One JSON object on one line, no trailing newline, keys always in this order (result schema 1,
// host_tools/results/SCHEMA.md):
//
// {"schema":1,"board":"rv1103","frame":12,"label":"bird","score":0.8731,"scores":{"bird":0.8,"not_bird":0.2},
//  "raw":{"label":"bird","score":0.8731},
//  "ms":{"capture":1.201,"preprocess":0.812,"inference":27.104,"postprocess":0.011,"total":29.128},"fps":9.98,
//  "dropped":0,
//  "vote":{"candidate":"bird","votes":3,"need":2,"score":0.8731,"threshold":0.6,"penalty":0.1,
//          "hysteresis":{"frames":3,"pending":null,"count":0}},
//  "crops":[{"x":0,"y":0,"w":480,"h":480,"vote":"bird","scores":{"bird":0.9123,"not_bird":0.0877}},...]}
//
//  label        label string of the reported decision, or null when none
//  score        its score, 4 decimals (voter.hpp: m[c*] - penalty * dissent, or the mean probability)
//  scores       per class, the mean over the crops, in label order
//  raw          the decision before hysteresis and its score (equal to label/score when hysteresis is off)
//  ms           per-stage milliseconds from CLOCK_MONOTONIC, 3 decimals (clock.hpp: StageTimes)
//  fps          2 decimals
//  dropped      integer, frames the source skipped since the program started (a camera's stale buffers
//               and the driver's sequence gaps; 0 for files)
//  vote         VoteWhy: candidate (label or null), votes, need, score, threshold, penalty, and the
//               hysteresis state: frames (the setting), pending (label or null), count
//  crops        one object per crop in plan order: rect x, y, w, h (frame pixels), vote (label or null),
//               scores: {label: score} in label order, 4 decimals
// Label strings are JSON-escaped. Throws std::invalid_argument when a class index or score count
// does not fit the labels.
std::string to_json_line(const FrameResult& result, const std::vector<std::string>& labels);

// A config key whose value a reload changed; values as compact JSON text ("2", "\"bird\"", "null").
struct ConfigChange {
    std::string key;
    std::string before;
    std::string after;
};

// The keys whose values differ between two configs, in config_to_json's key order.
std::vector<ConfigChange> config_changes(const Config& before, const Config& after);
// For the log: "k 2 -> 3, hysteresis 0 -> 3", or "nothing changed".
std::string describe_changes(const std::vector<ConfigChange>& changes);
// The event line of result schema 1 that tells readers of the output about a reload:
// {"schema":1,"board":"rv1103","event":"config","frame":57,"accepted":true,"changes":{"k":[2,3]},"message":"..."}
// frame: the last frame number written before it (0: none yet); accepted false: the file was rejected
// (changes empty, message says why).
std::string config_event_line(std::uint64_t frame, bool accepted, const std::vector<ConfigChange>& changes,
                              const std::string& message);

}  // namespace camrt
