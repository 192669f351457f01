#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "camrt/pipeline.hpp"
#include "camrt/planner.hpp"

TEST_SUITE_BEGIN("pipeline");

namespace {

// A real (if tiny) model: scores = mean red and mean blue of the pixels inside the input's width
// (ignoring the w_stride padding), as logits scaled by 10. It records what it was fed.
class ColourEngine : public camrt::Engine {
   public:
    ColourEngine(int side, int w_stride) : info_{side, side, 3, w_stride}, buf_(info_.size_bytes(), 0xFF) {}
    camrt::TensorInfo input_info() const override { return info_; }
    std::uint8_t* input_buffer() override { return buf_.data(); }
    void run() override {
        double r = 0, b = 0;
        for (int y = 0; y < info_.height; ++y)
            for (int x = 0; x < info_.width; ++x) {
                const std::uint8_t* p = &buf_[(static_cast<std::size_t>(y) * info_.w_stride + x) * 3];
                r += p[0];
                b += p[2];
            }
        const double n = static_cast<double>(info_.height) * info_.width * 255.0;
        scores_ = {static_cast<float>(10.0 * r / n), static_cast<float>(10.0 * b / n)};
        ++runs;
    }
    const std::vector<float>& scores() const override { return scores_; }
    int num_classes() const override { return 2; }
    std::string name() const override { return "colour"; }
    int runs = 0;

   private:
    camrt::TensorInfo info_;
    std::vector<std::uint8_t> buf_;
    std::vector<float> scores_;
};

// 300x100 RGB frame: left 100 columns red, the rest blue.
std::vector<std::uint8_t> red_blue_frame() {
    std::vector<std::uint8_t> f(300 * 100 * 3, 0);
    for (int y = 0; y < 100; ++y)
        for (int x = 0; x < 300; ++x) f[(y * 300 + x) * 3 + (x < 100 ? 0 : 2)] = 255;
    return f;
}

}  // namespace

TEST_CASE("three crops through a real engine: votes, decision, rects, timings") {
    ColourEngine eng(32, 40);  // w_stride padding is 0xFF: it would tint both means if it were read
    camrt::Config cfg = camrt::parse_config(R"({"labels": ["red", "blue"], "penalty": 0.1, "k": 2})");
    camrt::Pipeline p(eng, cfg);
    const auto frame = red_blue_frame();
    const camrt::FrameView fv{frame.data(), 300, 100, camrt::PixelFormat::RGB888, 900, nullptr, 0};
    const camrt::FrameResult r = p.process(fv, 7, 1.5);
    CHECK_EQ(eng.runs, 3);
    CHECK_EQ(r.frame, 7u);
    CHECK_EQ(r.crops.size(), 3u);
    const auto plan = camrt::plan_crops(300, 100, 3, 32, 32);
    for (std::size_t i = 0; i < 3; ++i) CHECK(r.crops[i].rect == plan[i]);
    // Crop 0 is all red, crops 1 and 2 all blue: softmax of (10, 0) and (0, 10).
    const double hi = 1.0 / (1.0 + std::exp(-10.0));
    CHECK(r.crops[0].scores[0] == doctest::Approx(hi).epsilon(1e-4));
    CHECK(r.crops[1].scores[1] == doctest::Approx(hi).epsilon(1e-4));
    CHECK(r.crops[2].scores[1] == doctest::Approx(hi).epsilon(1e-4));
    CHECK_EQ(r.crops[0].vote, 0);
    CHECK_EQ(r.crops[2].vote, 1);
    CHECK_EQ(r.decision, 1);
    CHECK(r.score == doctest::Approx((2 * hi + (1 - hi)) / 3 - 0.1).epsilon(1e-4));
    CHECK(r.ms.capture == doctest::Approx(1.5).epsilon(1e-12));
    CHECK((r.ms.preprocess > 0 && r.ms.inference > 0 && r.ms.postprocess >= 0));
    CHECK(r.ms.total >= r.ms.capture + r.ms.preprocess + r.ms.inference);
    const std::string line = p.json_line(r);
    CHECK(line.rfind("{\"schema\":1,\"board\":\"rv1103\",\"frame\":7,\"label\":\"blue\",", 0) == 0);
    // The voter's reasons travel with the result: two of three crops voted blue, k = 2.
    CHECK_EQ(r.vote.candidate, 1);
    CHECK_EQ(r.vote.votes, 2);
    CHECK_EQ(r.vote.need, 2);
    CHECK(r.vote.score == doctest::Approx(r.score).epsilon(1e-6));
    CHECK_EQ(r.mean.size(), 2u);
}

TEST_CASE("colour order reaches the engine; set_config swaps it") {
    ColourEngine eng(32, 32);
    camrt::Pipeline p(eng, camrt::parse_config(R"({"labels": ["r", "b"], "n_crops": 1, "color_order": "BGR"})"));
    const auto frame = red_blue_frame();
    const camrt::FrameView fv{frame.data(), 300, 100, camrt::PixelFormat::RGB888, 900, nullptr, 0};
    CHECK_EQ(p.process(fv, 0).decision, 0);  // centre crop is blue, fed as BGR: channel 0 is blue
    p.set_config(camrt::parse_config(R"({"labels": ["r", "b"], "n_crops": 1})"));
    CHECK_EQ(p.process(fv, 1).decision, 1);
}

TEST_CASE("errors: label count, frame too small") {
    ColourEngine eng(32, 32);
    CHECK_THROWS_WITH_AS(camrt::Pipeline(eng, camrt::parse_config(R"({"labels": ["a", "b", "c"]})")),
                         doctest::Contains("has 3 labels but the model has 2 outputs"), camrt::ConfigError);
    camrt::Pipeline p(eng, camrt::parse_config(R"({"labels": ["a", "b"]})"));
    CHECK_THROWS_WITH_AS(p.set_config(camrt::parse_config(R"({"labels": ["a"]})")), doctest::Contains("has 1 labels"),
                         camrt::ConfigError);
    CHECK_EQ(p.config().labels.size(), 2u);  // old config kept
    std::vector<std::uint8_t> small(20 * 20 * 3);
    const camrt::FrameView fv{small.data(), 20, 20, camrt::PixelFormat::RGB888, 60, nullptr, 0};
    CHECK_THROWS_WITH_AS(p.process(fv, 0), doctest::Contains("frame 20x20 is smaller than the model input 32x32"),
                         camrt::FrameTooSmall);
}

TEST_SUITE_END();
