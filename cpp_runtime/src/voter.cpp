#include "camrt/voter.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace camrt {

Vote decide(const VoterParams& params, const std::vector<std::vector<float>>& crop_scores) {
    const std::size_t n_classes = params.thresholds.size();
    const std::size_t n = crop_scores.size();
    if (n == 0) throw std::invalid_argument("voter: no crops to vote on");
    if (n_classes == 0) throw std::invalid_argument("voter: no classes (empty thresholds)");
    Vote v;
    v.mean.assign(n_classes, 0.0f);
    std::vector<int> count(n_classes, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::vector<float>& p = crop_scores[i];
        if (p.size() != n_classes) {
            throw std::invalid_argument("voter: crop " + std::to_string(i) + " has " + std::to_string(p.size()) +
                                        " scores, expected " + std::to_string(n_classes));
        }
        std::size_t best = 0;
        for (std::size_t c = 0; c < n_classes; ++c) {
            v.mean[c] += p[c];
            if (p[c] > p[best]) best = c;
        }
        const int vote = p[best] >= params.thresholds[best] ? static_cast<int>(best) : -1;
        v.crop_votes.push_back(vote);
        if (vote >= 0) ++count[best];
    }
    for (float& m : v.mean) m /= static_cast<float>(n);

    int cand = -1;
    for (std::size_t c = 0; c < n_classes; ++c) {
        if (count[c] == 0) continue;
        if (cand < 0 || count[c] > count[cand] || (count[c] == count[cand] && v.mean[c] > v.mean[cand])) {
            cand = static_cast<int>(c);
        }
    }
    bool decided = false;
    const int need = std::min<int>(params.k, static_cast<int>(n));
    v.why.need = need;
    v.why.penalty = params.penalty;
    v.why.hysteresis = params.hysteresis;
    if (cand >= 0) {
        const int dissent = static_cast<int>(n) - count[cand];
        const float s = v.mean[cand] - params.penalty * static_cast<float>(dissent);
        v.why.candidate = cand;
        v.why.votes = count[cand];
        v.why.score = s;
        v.why.threshold = params.thresholds[cand];
        if (count[cand] >= need && s >= params.thresholds[cand]) {
            v.raw_decision = cand;
            v.raw_score = s;
            decided = true;
        }
    }
    if (!decided) {
        v.raw_decision = params.fallback;
        v.raw_score =
            params.fallback >= 0 && params.fallback < static_cast<int>(n_classes) ? v.mean[params.fallback] : 0.0f;
    }
    v.decision = v.raw_decision;
    v.score = v.raw_score;
    return v;
}

Voter::Voter(VoterParams params) : params_(std::move(params)) {}

void Voter::reset() {
    has_state_ = false;
    reported_ = -1;
    pending_ = -1;
    pending_count_ = 0;
}

Vote Voter::vote(const std::vector<std::vector<float>>& crop_scores) {
    Vote v = decide(params_, crop_scores);
    if (params_.hysteresis <= 1) return v;
    if (!has_state_) {
        has_state_ = true;
        reported_ = v.raw_decision;
        pending_count_ = 0;
        return v;
    }
    if (v.raw_decision == reported_) {
        pending_count_ = 0;  // a return to the reported class cancels a pending change
    } else {
        if (v.raw_decision == pending_ && pending_count_ > 0) {
            ++pending_count_;
        } else {
            pending_ = v.raw_decision;
            pending_count_ = 1;
        }
        if (pending_count_ >= params_.hysteresis) {
            reported_ = pending_;
            pending_count_ = 0;
        }
    }
    v.decision = reported_;
    if (pending_count_ > 0) {
        v.why.pending = pending_;
        v.why.pending_count = pending_count_;
    }
    if (reported_ == v.raw_decision) {
        v.score = v.raw_score;
    } else {
        v.score = reported_ >= 0 ? v.mean[reported_] : 0.0f;
    }
    return v;
}

}  // namespace camrt
