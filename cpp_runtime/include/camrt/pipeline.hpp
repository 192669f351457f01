// Pipeline: frame -> crop plan -> preprocess each crop -> engine -> softmax -> voter -> FrameResult.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "camrt/config.hpp"
#include "camrt/engine.hpp"
#include "camrt/frames.hpp"
#include "camrt/result.hpp"
#include "camrt/voter.hpp"

namespace camrt {

class Pipeline {
   public:
    // The engine must outlive the pipeline. Throws ConfigError when the config's label count differs
    // from engine.num_classes(), std::invalid_argument when the engine's input is not 3-channel.
    Pipeline(Engine& engine, Config cfg);

    // Swaps in a new config (e.g. from ConfigWatcher) after the same model check; the voter's
    // hysteresis history restarts. On error the old config stays and the exception propagates.
    void set_config(Config cfg);
    const Config& config() const { return cfg_; }
    Engine& engine() { return engine_; }

    // Crops are planned with config().n_crops for the engine's input size (FrameTooSmall when the frame
    // is smaller), each crop is written into the engine's input buffer in config().color_order, run,
    // its scores softmaxed when config().softmax, and the crops voted on.
    // capture_ms is copied into result.ms.capture and added to result.ms.total.
    FrameResult process(const FrameView& frame, std::uint64_t frame_index, double capture_ms = 0.0);

    // to_json_line(result, config().labels)
    std::string json_line(const FrameResult& result) const;

   private:
    Engine& engine_;
    Config cfg_;
    Voter voter_;
};

}  // namespace camrt
