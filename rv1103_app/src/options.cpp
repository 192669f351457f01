#include "options.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace rv1103 {

namespace {

long long to_int(const std::string& opt, const std::string& v, long long lo, long long hi) {
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0) throw UsageError(opt + " needs an integer, got '" + v + "'");
    if (x < lo || x > hi) {
        throw UsageError(opt + " = " + v + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return x;
}

double to_double(const std::string& opt, const std::string& v, double lo, double hi) {
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno != 0) throw UsageError(opt + " needs a number, got '" + v + "'");
    if (!(x >= lo && x <= hi)) throw UsageError(opt + " = " + v + " is out of range");
    return x;
}

}  // namespace

std::string usage(bool have_rknn) {
    std::string u =
        "usage: rv1103_app [--config config.json] [--frames /dev/video11|FOLDER|FILE.y4m|IMAGE|FIFO]\n"
        "                  [--engine " +
        std::string(have_rknn ? "rknn|pipe" : "pipe") +
        "] [--model model.rknn] [--manifest model.json]\n"
        "                  [--engine-cmd CMD | --engine-socket PATH]\n"
        "                  [--pipe-w-stride-pad N] [--count N] [--fps F] [--port N|auto|0] [--bind ADDR]\n"
        "                  [--max-clients N] [--width W --height H] [--warmup-frames N]\n"
        "                  [--preview S [--preview-width W]]\n"
        "                  [--yuv-range auto|full|limited]\n"
        "                  [--loop] [--no-stdout] [--dump-attrs] [--snapshot-dir DIR]\n"
        "One JSON line per frame on stdout and to every TCP client. SIGHUP or a changed config file reloads\n"
        "the config (a bad file is rejected, the last good one stays); SIGTERM/SIGINT stop cleanly.\n"
        "--width/--height: camera size (default 768x432, 16:9 like the sensor). --dump-attrs: print what the\n"
        "RKNN runtime reports for the model (versions, tensor attributes) as JSON and exit.\n"
        "--manifest: the model's labels and colour order (default: model.json beside the model; a config may\n"
        "omit them then, and one that contradicts them is refused).\n";
    if (!have_rknn) u += "This build has no RKNN engine (configure with -DRKNN_RUNTIME_DIR=... for the board).\n";
    return u;
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw UsageError(a + " needs a value");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "--config") {
            o.config = value();
        } else if (a == "--frames") {
            o.frames = value();
        } else if (a == "--engine") {
            o.engine = value();
            if (o.engine != "rknn" && o.engine != "pipe")
                throw UsageError("--engine must be rknn or pipe, got '" + o.engine + "'");
        } else if (a == "--model") {
            o.model = value();
        } else if (a == "--manifest") {
            o.manifest = value();
            if (o.manifest.empty()) throw UsageError("--manifest needs a file");
            if (::access(o.manifest.c_str(), F_OK) != 0)
                throw UsageError("--manifest " + o.manifest + ": no such file");
        } else if (a == "--engine-cmd") {
            o.engine_cmd = value();
        } else if (a == "--engine-socket") {
            o.engine_socket = value();
        } else if (a == "--pipe-w-stride-pad") {
            o.pipe_w_stride_pad = static_cast<int>(to_int(a, value(), 0, 64));
        } else if (a == "--count") {
            o.count = to_int(a, value(), 1, 1LL << 40);
        } else if (a == "--fps") {
            o.fps = to_double(a, value(), 0.0, 1000.0);
        } else if (a == "--port") {
            const std::string v = value();
            o.port = v == "auto" ? -1 : static_cast<int>(to_int(a, v, 0, 65535));
        } else if (a == "--bind") {
            o.bind = value();
        } else if (a == "--max-clients") {
            o.max_clients = static_cast<int>(to_int(a, value(), 1, 64));
        } else if (a == "--width") {
            o.width = static_cast<int>(to_int(a, value(), 16, 4096));
        } else if (a == "--height") {
            o.height = static_cast<int>(to_int(a, value(), 16, 4096));
        } else if (a == "--preview") {
            o.preview = to_double(a, value(), 0.0, 3600.0);
        } else if (a == "--preview-width") {
            o.preview_width = static_cast<int>(to_int(a, value(), 16, 1280));
        } else if (a == "--loop") {
            o.loop = true;
        } else if (a == "--warmup-frames") {
            o.warmup = static_cast<int>(to_int(a, value(), 0, 1000));
        } else if (a == "--yuv-range") {
            o.yuv_range = value();
            if (o.yuv_range != "auto" && o.yuv_range != "full" && o.yuv_range != "limited")
                throw UsageError("--yuv-range must be auto, full or limited, got '" + o.yuv_range + "'");
        } else if (a == "--dump-attrs") {
            o.dump_attrs = true;
        } else if (a == "--no-stdout") {
            o.no_stdout = true;
        } else if (a == "--snapshot-dir") {
            o.snapshot_dir = value();
            if (o.snapshot_dir.empty()) throw UsageError("--snapshot-dir needs a folder");
        } else {
            throw UsageError("unknown option '" + a + "'");
        }
    }
    const bool served = !o.engine_cmd.empty() || !o.engine_socket.empty();
    if (!o.engine_cmd.empty() && !o.engine_socket.empty())
        throw UsageError("give --engine-cmd or --engine-socket, not both");
    if (o.engine == "pipe" && !served) throw UsageError("--engine pipe needs --engine-cmd or --engine-socket");
    if (served && o.engine.empty()) o.engine = "pipe";
    if (served && o.engine == "rknn") throw UsageError("--engine-cmd and --engine-socket are for --engine pipe only");
    return o;
}

}  // namespace rv1103
