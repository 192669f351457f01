// FrameResult and its JSON line: the board's output, one line per frame (stdout and TCP).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "camrt/clock.hpp"
#include "camrt/types.hpp"

namespace camrt {

struct CropResult {
    Rect rect;                  // crop in frame pixels
    std::vector<float> scores;  // per class, after softmax when Config::softmax (else as the engine gave)
    int vote = -1;              // class this crop voted for, -1 = abstained
};

struct FrameResult {
    std::uint64_t frame = 0;  // frame index given by the caller
    int decision = -1;        // reported class (after hysteresis), -1 = none
    float score = 0.0f;
    int raw_decision = -1;  // before hysteresis
    float raw_score = 0.0f;
    std::vector<CropResult> crops;
    StageTimes ms;
    std::uint64_t dropped = 0;  // frames the source skipped so far (set by the caller; camera: stale buffers)
};

// One JSON object on one line, no trailing newline, keys always in this order:
//
// {"frame":12,"decision":"bird","score":0.8731,"raw":"bird",
//  "crops":[{"x":0,"y":0,"w":480,"h":480,"vote":"bird","scores":{"bird":0.9123,"not_bird":0.0877}},...],
//  "ms":{"capture":1.201,"preprocess":0.812,"inference":27.104,"postprocess":0.011,"total":29.128},
//  "dropped":0}
//
//  frame        integer, the caller's frame index
//  decision     label string of the reported decision, or null when none
//  score        its score, 4 decimals (voter.hpp: m[c*] - penalty * dissent, or the mean probability)
//  raw          decision before hysteresis (label or null); equals decision when hysteresis is off
//  crops        one object per crop in plan order: rect x, y, w, h (frame pixels), vote (label or null),
//               scores: {label: score} in label order, 4 decimals
//  ms           per-stage milliseconds from CLOCK_MONOTONIC, 3 decimals (clock.hpp: StageTimes)
//  dropped      integer, frames the source skipped since the program started (a camera's stale buffers
//               and the driver's sequence gaps; 0 for files)
// Label strings are JSON-escaped. Throws std::invalid_argument when a class index or score count
// does not fit the labels.
std::string to_json_line(const FrameResult& result, const std::vector<std::string>& labels);

}  // namespace camrt
