// The inference engine interface the pipeline drives (RKNN on the board, a Python callable on the host).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "camrt/types.hpp"

namespace camrt {

// One model with one uint8 NHWC input (N = 1) and one output of class scores.
// Per crop the pipeline writes the preprocessed crop into input_buffer() (input_info() layout, rows of
// w_stride pixels), calls run(), then reads scores().
class Engine {
   public:
    virtual ~Engine() = default;
    // Input tensor: height, width, channels (3) and w_stride in pixels (>= width).
    virtual TensorInfo input_info() const = 0;
    // Writable input buffer of input_info().size_bytes() bytes; stays valid for the engine's life.
    virtual std::uint8_t* input_buffer() = 0;
    // Runs the model on the current input buffer. Throws std::runtime_error on failure.
    virtual void run() = 0;
    // Dequantized float scores of the last run(), one per class (logits or probabilities,
    // see Config::softmax).
    virtual const std::vector<float>& scores() const = 0;
    // Number of classes the model outputs.
    virtual int num_classes() const = 0;
    // Short name for logs ("rknn", "python", ...).
    virtual std::string name() const = 0;
};

}  // namespace camrt
