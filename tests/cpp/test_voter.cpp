#include <doctest/doctest.h>

#include <stdexcept>

#include "camrt/voter.hpp"

TEST_SUITE_BEGIN("voter");

using camrt::Vote;
using camrt::Voter;
using camrt::VoterParams;

namespace {
VoterParams params(float penalty, int k, int hysteresis = 0, int fallback = -1) {
    VoterParams p;
    p.thresholds = {0.5f, 0.5f};
    p.penalty = penalty;
    p.k = k;
    p.hysteresis = hysteresis;
    p.fallback = fallback;
    return p;
}
}  // namespace

TEST_CASE("two of three agree: mean minus penalty per dissenting crop") {
    const Vote v = camrt::decide(params(0.1f, 2), {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.3f, 0.7f}});
    CHECK_EQ(v.crop_votes.size(), 3u);
    CHECK_EQ(v.crop_votes[0], 0);
    CHECK_EQ(v.crop_votes[2], 1);
    CHECK_EQ(v.raw_decision, 0);
    CHECK_EQ(v.decision, 0);
    CHECK(v.score == doctest::Approx((0.9 + 0.8 + 0.3) / 3 - 0.1).epsilon(1e-6));
    CHECK(v.mean[1] == doctest::Approx((0.1 + 0.2 + 0.7) / 3).epsilon(1e-6));
}

TEST_CASE("penalty pushes the score under the threshold: fallback or none") {
    const std::vector<std::vector<float>> s = {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.3f, 0.7f}};
    const Vote none = camrt::decide(params(0.2f, 2), s);  // 0.6667 - 0.2 = 0.4667 < 0.5
    CHECK_EQ(none.decision, -1);
    CHECK(none.score == doctest::Approx(0.0).epsilon(1e-9));
    const Vote fb = camrt::decide(params(0.2f, 2, 0, 1), s);
    CHECK_EQ(fb.decision, 1);
    CHECK(fb.score == doctest::Approx(1.0 / 3).epsilon(1e-6));
}

TEST_CASE("k-of-n agreement; k is capped at the crop count") {
    const std::vector<std::vector<float>> s = {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.3f, 0.7f}};
    CHECK_EQ(camrt::decide(params(0.0f, 3), s).decision, -1);  // only 2 of 3 agree
    CHECK_EQ(camrt::decide(params(0.0f, 2), s).decision, 0);
    CHECK_EQ(camrt::decide(params(0.0f, 2), {{0.2f, 0.8f}}).decision, 1);  // one crop, k=2 -> 1
}

TEST_CASE("thresholds make crops abstain; abstentions count as dissent") {
    VoterParams p = params(0.05f, 1);
    p.thresholds = {0.6f, 0.9f};
    const Vote v = camrt::decide(p, {{0.55f, 0.45f}, {0.7f, 0.3f}, {0.15f, 0.85f}});
    CHECK_EQ(v.crop_votes[0], -1);  // 0.55 < 0.6
    CHECK_EQ(v.crop_votes[1], 0);
    CHECK_EQ(v.crop_votes[2], -1);  // 0.85 < 0.9
    // candidate 0 with 1 vote, 2 dissenting: (0.55 + 0.7 + 0.15) / 3 - 0.1 = 0.3667 < 0.6
    CHECK_EQ(v.decision, -1);
    p.thresholds = {0.3f, 0.9f};  // now crops 0 and 1 vote 0, crop 2 still abstains: one dissent
    const Vote w = camrt::decide(p, {{0.55f, 0.45f}, {0.7f, 0.3f}, {0.15f, 0.85f}});
    CHECK_EQ(w.decision, 0);
    CHECK(w.score == doctest::Approx(1.4 / 3 - 0.05).epsilon(1e-6));
}

TEST_CASE("vote ties go to the higher mean") {
    const Vote v = camrt::decide(params(0.1f, 1), {{0.9f, 0.1f}, {0.4f, 0.6f}});
    CHECK_EQ(v.decision, 0);  // one vote each, mean 0.65 vs 0.35
    CHECK(v.score == doctest::Approx(0.65 - 0.1).epsilon(1e-6));
    const Vote w = camrt::decide(params(0.1f, 1), {{0.6f, 0.4f}, {0.1f, 0.9f}});
    CHECK_EQ(w.decision, 1);  // mean 0.35 vs 0.65
}

TEST_CASE("hysteresis: a change is reported after H consecutive frames") {
    Voter v(params(0.0f, 1, 2));
    const std::vector<std::vector<float>> a = {{0.9f, 0.1f}}, b = {{0.1f, 0.9f}};
    CHECK_EQ(v.vote(a).decision, 0);  // first frame sets the state
    Vote x = v.vote(b);
    CHECK_EQ(x.raw_decision, 1);
    CHECK_EQ(x.decision, 0);                               // 1 of 2
    CHECK(x.score == doctest::Approx(0.1).epsilon(1e-6));  // mean of the reported class this frame
    CHECK_EQ(x.why.pending, 1);  // why it still says 0: class 1 is pending, seen 1 of 2 frames
    CHECK_EQ(x.why.pending_count, 1);
    CHECK_EQ(x.why.hysteresis, 2);
    const Vote back = v.vote(a);
    CHECK_EQ(back.decision, 0);  // back to 0 cancels
    CHECK_EQ(back.why.pending, -1);
    CHECK_EQ(back.why.pending_count, 0);
    CHECK_EQ(v.vote(b).decision, 0);
    CHECK_EQ(v.vote(b).decision, 1);  // second in a row
    CHECK_EQ(v.vote(a).decision, 1);
    v.reset();
    CHECK_EQ(v.vote(a).decision, 0);  // state forgotten
}

TEST_CASE("the vote explains itself: candidate, votes, score against its threshold") {
    // Two of three crops vote 0, one votes 1: the penalty pulls the candidate's score under its threshold.
    VoterParams p = params(0.3f, 2, 0, 1);
    p.thresholds = {0.5f, 0.5f};
    const Vote v = camrt::decide(p, {{0.8f, 0.2f}, {0.7f, 0.3f}, {0.2f, 0.8f}});
    CHECK_EQ(v.why.candidate, 0);
    CHECK_EQ(v.why.votes, 2);
    CHECK_EQ(v.why.need, 2);
    CHECK(v.why.score == doctest::Approx(0.5667 - 0.3).epsilon(1e-3));
    CHECK(v.why.threshold == doctest::Approx(0.5));
    CHECK_EQ(v.raw_decision, 1);                                       // the fallback, not the candidate
    const Vote none = camrt::decide(params(0.1f, 2), {{0.3f, 0.2f}});  // below every threshold: no crop votes
    CHECK_EQ(none.why.candidate, -1);
    CHECK_EQ(none.why.votes, 0);
}

TEST_CASE("hysteresis off reports every raw decision") {
    Voter v(params(0.0f, 1, 1));
    CHECK_EQ(v.vote({{0.9f, 0.1f}}).decision, 0);
    CHECK_EQ(v.vote({{0.1f, 0.9f}}).decision, 1);
}

TEST_CASE("malformed input is refused") {
    CHECK_THROWS_WITH_AS(camrt::decide(params(0.1f, 2), {}), doctest::Contains("no crops"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(camrt::decide(params(0.1f, 2), {{0.5f, 0.3f, 0.2f}}), doctest::Contains("expected 2"),
                         std::invalid_argument);
}

TEST_SUITE_END();
