// Command line of rv1103_app.
#pragma once

#include <stdexcept>
#include <string>

namespace rv1103 {

// Bad command line: main() prints the message and the usage, exit code 2.
class UsageError : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string config = "config.json";
    std::string frames = "/dev/video11";  // board camera (rkisp main path); a folder/.y4m/image/FIFO on the host
    std::string engine;                   // "rknn" | "pipe"; default rknn when built with it
    std::string model;                    // overrides the config's "model" (rknn engine)
    std::string manifest;                 // the model's manifest (labels, colour order); "" = beside the model
    std::string engine_cmd;               // pipe engine: command that serves the tensors on stdin/stdout
    std::string engine_socket;            // pipe engine: unix socket of a tensor service (emulated board)
    int pipe_w_stride_pad = 0;            // pipe engine: extra pixels per input row (RKNN-like stride)
    long long count = -1;                 // frames to process, -1 = until the source ends or a signal
    double fps = -1.0;                    // overrides the config's max_fps when >= 0
    int port = -2;                        // -2: the config's output_port; -1: auto (free port); 0: off
    std::string bind = "0.0.0.0";         // all interfaces: the host reads the lines over the network
    int max_clients = 4;                  // TCP clients at a time (each may hold 256 KiB of unsent lines)
    // V4L2 capture size: 16:9 like the RV1103's usual sensor (SC3336, 2304x1296), a third of it per side, so
    // the ISP scales both axes alike (640x480 from 16:9 squeezes subjects 25%); the three crops cover it.
    int width = 768;
    int height = 432;
    int warmup = 15;                 // V4L2: frames dropped after opening the camera (auto exposure settling)
    std::string yuv_range = "auto";  // V4L2: auto (as the driver reports) | full | limited
    bool loop = false;               // replay a folder / video forever
    bool no_stdout = false;          // JSON lines only on TCP (the init script uses this)
    std::string snapshot_dir;        // frames as DIR/<frame>.jpg while DIR/on exists (snapshots.hpp); "" = off
    double preview = 0.0;            // seconds between JPEG previews in the result lines; 0: none (preview.hpp)
    int preview_width = 160;         // pixels
    bool help = false;
    bool dump_attrs = false;  // print the RKNN runtime's tensor attributes for the model as JSON, then exit
};

// Throws UsageError with a specific message (unknown option, missing value, value out of range).
Options parse_options(int argc, char** argv);
std::string usage(bool have_rknn);

}  // namespace rv1103
