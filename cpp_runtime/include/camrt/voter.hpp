// Voter: per-crop class scores -> one decision per frame.
#pragma once

#include <vector>

namespace camrt {

struct VoterParams {
    std::vector<float> thresholds;  // per class, in [0, 1]; its size is the class count C
    float penalty = 0.1f;           // score taken off per dissenting crop, in [0, 1]
    int k = 2;                      // crops that must agree (capped at the number of crops)
    int hysteresis = 0;             // frames a new decision must persist before it is reported (0/1 = off)
    int fallback = -1;              // class reported when nothing is decided, -1 = no decision
};

// Why the voter decided as it did: the numbers behind rule steps 3-6 below (the result line's "vote").
struct VoteWhy {
    int candidate = -1;      // c*, the class most crops voted for; -1 = no crop voted
    int votes = 0;           // count[c*]
    int need = 0;            // min(k, n): votes the candidate needs
    float penalty = 0.0f;    // params.penalty
    float score = 0.0f;      // s = m[c*] - penalty * dissent (0 without a candidate)
    float threshold = 0.0f;  // thresholds[c*] that s must reach (0 without a candidate)
    int hysteresis = 0;      // params.hysteresis (0/1 = off)
    int pending = -1;        // a raw decision that differs from the reported one and waits, -1 = none
    int pending_count = 0;   // consecutive frames it has been seen so far (reported at `hysteresis`)
};

struct Vote {
    int decision = -1;            // reported class (after hysteresis), -1 = none
    float score = 0.0f;           // score of the reported class (see below)
    int raw_decision = -1;        // this frame's decision before hysteresis
    float raw_score = 0.0f;       // its score
    std::vector<int> crop_votes;  // per crop: class voted for, or -1 (abstained)
    std::vector<float> mean;      // per class: mean probability over the crops
    VoteWhy why;
};

// The rule, for n crops with class probabilities p[i][c] (each row normally sums to 1):
//  1. Crop vote: v_i = argmax_c p[i][c] (lowest index on ties); the crop abstains (v_i = -1) when
//     p[i][v_i] < thresholds[v_i].
//  2. m[c] = mean over the n crops of p[i][c]; count[c] = number of crops voting c.
//  3. Candidate c* = the class with the most votes (ties: higher m[c], then lower index).
//     No votes at all -> no candidate.
//  4. Dissent d = n - count[c*] (crops voting another class or abstaining);
//     score s = m[c*] - penalty * d.
//  5. raw decision = c* when count[c*] >= min(k, n) and s >= thresholds[c*], with raw score s.
//     Otherwise raw decision = fallback with raw score m[fallback] (or -1 with score 0 when
//     fallback = -1).
//  6. Hysteresis (H = hysteresis > 1): the first frame reports its raw decision. Afterwards the reported
//     decision changes only once the same new raw decision has been seen on H consecutive frames.
//     While the reported decision differs from the raw one, its score is m[reported] of the current frame
//     (0 for -1). With H <= 1 the raw decision is reported every frame.
// Throws std::invalid_argument when a crop has a different class count from thresholds or there are
// no crops.
Vote decide(const VoterParams& params, const std::vector<std::vector<float>>& crop_scores);

// decide() plus the hysteresis state across frames.
class Voter {
   public:
    explicit Voter(VoterParams params);
    Vote vote(const std::vector<std::vector<float>>& crop_scores);
    void reset();  // forget the hysteresis history
    const VoterParams& params() const { return params_; }

   private:
    VoterParams params_;
    bool has_state_ = false;
    int reported_ = -1;
    int pending_ = -1;
    int pending_count_ = 0;
};

}  // namespace camrt
