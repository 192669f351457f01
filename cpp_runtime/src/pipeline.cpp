#include "camrt/pipeline.hpp"

#include <stdexcept>
#include <utility>

#include "camrt/clock.hpp"
#include "camrt/planner.hpp"
#include "camrt/quant.hpp"

namespace camrt {

namespace {
void check_engine(Engine& engine, const Config& cfg) {
    const TensorInfo t = engine.input_info();
    if (t.channels != 3) {
        throw std::invalid_argument("engine '" + engine.name() + "' input has " + std::to_string(t.channels) +
                                    " channels; the pipeline feeds 3");
    }
    check_model_classes(cfg, engine.num_classes());
}
}  // namespace

Pipeline::Pipeline(Engine& engine, Config cfg) : engine_(engine), cfg_(std::move(cfg)), voter_(cfg_.voter_params()) {
    check_engine(engine_, cfg_);
}

void Pipeline::set_config(Config cfg) {
    check_engine(engine_, cfg);
    cfg_ = std::move(cfg);
    voter_ = Voter(cfg_.voter_params());
}

FrameResult Pipeline::process(const FrameView& frame, std::uint64_t frame_index, double capture_ms) {
    const std::uint64_t t0 = monotonic_ns();
    FrameResult r;
    r.frame = frame_index;
    r.ms.capture = capture_ms;
    validate_frame(frame);
    const TensorInfo t = engine_.input_info();
    const std::vector<Rect> crops = plan_crops(frame.width, frame.height, cfg_.n_crops, t.width, t.height);
    std::uint8_t* input = engine_.input_buffer();
    if (input == nullptr) throw std::runtime_error("engine '" + engine_.name() + "' has no input buffer");

    std::vector<std::vector<float>> scores;
    scores.reserve(crops.size());
    std::uint64_t pre_ns = 0, inf_ns = 0;
    for (const Rect& crop : crops) {
        const std::uint64_t a = monotonic_ns();
        crop_resize(frame, crop, input, t, cfg_.color_order);
        const std::uint64_t b = monotonic_ns();
        engine_.run();
        scores.push_back(engine_.scores());
        const std::uint64_t c = monotonic_ns();
        pre_ns += b - a;
        inf_ns += c - b;
        if (static_cast<int>(scores.back().size()) != engine_.num_classes()) {
            throw std::runtime_error("engine '" + engine_.name() + "' returned " +
                                     std::to_string(scores.back().size()) + " scores, expected " +
                                     std::to_string(engine_.num_classes()));
        }
    }
    const std::uint64_t post0 = monotonic_ns();
    if (cfg_.softmax) {
        for (auto& s : scores) softmax(s.data(), s.size(), s.data());
    }
    const Vote v = voter_.vote(scores);
    r.decision = v.decision;
    r.score = v.score;
    r.raw_decision = v.raw_decision;
    r.raw_score = v.raw_score;
    r.mean = v.mean;
    r.vote = v.why;
    r.crops.reserve(crops.size());
    for (std::size_t i = 0; i < crops.size(); ++i) {
        r.crops.push_back(CropResult{crops[i], std::move(scores[i]), v.crop_votes[i]});
    }
    const std::uint64_t end = monotonic_ns();
    r.ms.preprocess = static_cast<double>(pre_ns) / 1e6;
    r.ms.inference = static_cast<double>(inf_ns) / 1e6;
    r.ms.postprocess = elapsed_ms(post0, end);
    r.ms.total = capture_ms + elapsed_ms(t0, end);
    return r;
}

std::string Pipeline::json_line(const FrameResult& result) const { return to_json_line(result, cfg_.labels); }

}  // namespace camrt
