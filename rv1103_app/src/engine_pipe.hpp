// An Engine served by another process over pipes (host builds): the model runs in a real runtime
// (ONNX Runtime, or the RKNN toolkit's simulator) behind host_tools/sim/rv1103/tensor_server.py.
// Protocol: see that file. The child gets its own process group, so a terminal's Ctrl-C reaches only
// this program, which then closes the pipe; the child sees EOF and exits.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "camrt/engine.hpp"

namespace rv1103 {

class PipeEngine : public camrt::Engine {
   public:
    // `command` runs under /bin/sh -c. w_stride_pad > 0 adds that many pixels to each input row, as the
    // RKNN runtime does, so the stride-aware path is exercised on the host too (padding is not sent).
    // Throws std::runtime_error when the server does not start or announces an unusable tensor.
    explicit PipeEngine(const std::string& command, int w_stride_pad = 0, int timeout_ms = 120000);
    ~PipeEngine() override;
    PipeEngine(const PipeEngine&) = delete;
    PipeEngine& operator=(const PipeEngine&) = delete;

    camrt::TensorInfo input_info() const override { return info_; }
    std::uint8_t* input_buffer() override { return buf_.data(); }
    void run() override;
    const std::vector<float>& scores() const override { return scores_; }
    int num_classes() const override { return static_cast<int>(scores_.size()); }
    std::string name() const override { return "pipe"; }
    // The server's own description ("ONNX Runtime CPU on birds_mnv3s_int8.onnx", ...).
    const std::string& runtime() const { return runtime_; }
    const std::string& note() const { return note_; }

   private:
    void stop_child();
    std::string child_status();
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    int timeout_ms_;
    camrt::TensorInfo info_;
    std::vector<std::uint8_t> buf_;
    std::vector<std::uint8_t> packed_;
    std::vector<float> scores_;
    std::string runtime_;
    std::string note_;
};

}  // namespace rv1103
