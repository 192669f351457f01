// The voter: Vote, Voter (thresholds, penalty, k-of-n, hysteresis, fallback; the rule is in voter.hpp).
#include "camrt/voter.hpp"

#include <nanobind/stl/vector.h>

#include <climits>
#include <cmath>

#include "bindings.hpp"
#include "camrt/config.hpp"

namespace camrt_py {

using namespace nb::literals;

namespace {

std::vector<std::vector<float>> scores_from(nb::handle h) {
    return nb::cast<std::vector<std::vector<float>>>(
        nb::module_::import_("numpy").attr("asarray")(h, "dtype"_a = "float32").attr("tolist")());
}

}  // namespace

void bind_voter(nb::module_& m) {
    nb::class_<camrt::VoteWhy>(m, "VoteWhy")
        .def_ro("candidate", &camrt::VoteWhy::candidate)
        .def_ro("votes", &camrt::VoteWhy::votes)
        .def_ro("need", &camrt::VoteWhy::need)
        .def_ro("penalty", &camrt::VoteWhy::penalty)
        .def_ro("score", &camrt::VoteWhy::score)
        .def_ro("threshold", &camrt::VoteWhy::threshold)
        .def_ro("hysteresis", &camrt::VoteWhy::hysteresis)
        .def_ro("pending", &camrt::VoteWhy::pending)
        .def_ro("pending_count", &camrt::VoteWhy::pending_count);
    nb::class_<camrt::Vote>(m, "Vote")
        .def_ro("decision", &camrt::Vote::decision)
        .def_ro("score", &camrt::Vote::score)
        .def_ro("raw_decision", &camrt::Vote::raw_decision)
        .def_ro("raw_score", &camrt::Vote::raw_score)
        .def_ro("crop_votes", &camrt::Vote::crop_votes)
        .def_ro("mean", &camrt::Vote::mean)
        .def_ro("why", &camrt::Vote::why);
    nb::class_<camrt::Voter>(m, "Voter")
        .def(
            "__init__",
            [](camrt::Voter* v, std::vector<float> thresholds, double penalty, std::int64_t k, std::int64_t hysteresis,
               std::int64_t fallback) {
                if (thresholds.empty() || thresholds.size() > 1000) {
                    value_error("thresholds: " + std::to_string(thresholds.size()) + " classes, allowed 1 to 1000");
                }
                camrt::VoterParams p;
                p.thresholds = std::move(thresholds);
                p.penalty = static_cast<float>(penalty);
                p.k = checked_int(k, 1, 1000, "k");
                p.hysteresis = checked_int(hysteresis, 0, 1000000, "hysteresis");
                p.fallback = checked_int(fallback, -1, static_cast<std::int64_t>(p.thresholds.size()) - 1, "fallback");
                if (!std::isfinite(p.penalty)) value_error("penalty must be a finite number");
                new (v) camrt::Voter(std::move(p));
            },
            "thresholds"_a, "penalty"_a = 0.1, "k"_a = 2, "hysteresis"_a = 0, "fallback"_a = -1)
        .def_static(
            "from_config", [](const camrt::Config& c) { return camrt::Voter(c.voter_params()); }, "config"_a)
        .def(
            "vote", [](camrt::Voter& v, nb::handle scores) { return v.vote(scores_from(scores)); }, "scores"_a,
            "scores: (n_crops, n_classes) probabilities. Rule in voter.hpp.")
        .def("reset", &camrt::Voter::reset);
}

}  // namespace camrt_py
