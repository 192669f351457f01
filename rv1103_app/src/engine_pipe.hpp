// An Engine served by the emulated board's tensor service (host builds): the model runs in a real runtime
// (ONNX Runtime, or the RKNN toolkit's simulator) behind host_tools/sim/rv1103/tensor_server.py, which
// stands in for the NPU. The wire protocol (length-prefixed binary messages: OPEN with the model file's
// bytes, RUN with one input tensor) is documented in host_tools/sim/rv1103/tensor_protocol.py.
// Two ways to reach the service: a unix socket it listens on (the emulated board places one in its root),
// or a command started here whose stdin/stdout carry the same messages. A started command gets its own
// process group, so a terminal's Ctrl-C reaches only this program, which then closes the pipe; the child
// sees EOF and exits.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "camrt/engine.hpp"

namespace rv1103 {

class PipeEngine : public camrt::Engine {
   public:
    // `command` runs under /bin/sh -c; `socket_path` is a listening unix socket. Exactly one is non-empty.
    // `model_path`: the model file whose bytes are sent with OPEN (the service finds its runtime twin by
    // content); a path that does not exist sends an empty OPEN (the service's default model).
    // w_stride_pad > 0 adds that many pixels to each input row, as the RKNN runtime does, so the
    // stride-aware path is exercised on the host too (padding is not sent).
    // Throws std::runtime_error when the service does not answer or announces an unusable tensor.
    PipeEngine(const std::string& command, const std::string& socket_path, const std::string& model_path,
               int w_stride_pad = 0, int timeout_ms = 300000);
    ~PipeEngine() override;
    PipeEngine(const PipeEngine&) = delete;
    PipeEngine& operator=(const PipeEngine&) = delete;

    camrt::TensorInfo input_info() const override { return info_; }
    std::uint8_t* input_buffer() override { return buf_.data(); }
    void run() override;
    const std::vector<float>& scores() const override { return scores_; }
    int num_classes() const override { return static_cast<int>(scores_.size()); }
    std::string name() const override { return "pipe"; }
    // The service's own description ("onnxruntime 1.32.0", "ONNX Runtime CPU on birds_mnv3s_int8.onnx"...).
    const std::string& runtime() const { return runtime_; }
    const std::string& note() const { return note_; }

   private:
    void start_child(const std::string& command);
    void connect_socket(const std::string& path);
    void open_model(const std::string& model_path);
    void stop_child();
    std::string child_status();
    pid_t pid_ = -1;
    int to_service_ = -1;
    int from_service_ = -1;  // the same descriptor as to_service_ for a socket
    int timeout_ms_;
    camrt::TensorInfo info_;
    std::vector<std::uint8_t> buf_;
    std::vector<std::uint8_t> packed_;
    std::vector<float> scores_;
    std::string runtime_;
    std::string note_;
};

}  // namespace rv1103
