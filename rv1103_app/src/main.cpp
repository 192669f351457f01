// rv1103_app: the board program. Frames -> camrt pipeline (three-crop voting) -> one JSON line per frame
// on stdout and to every TCP client. Config hot reload (file change or SIGHUP), clean stop on SIGTERM/SIGINT.
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "camrt/clock.hpp"
#include "camrt/config.hpp"
#include "camrt/config_watcher.hpp"
#include "camrt/frames.hpp"
#include "camrt/pipeline.hpp"
#include "camrt/planner.hpp"
#include "camrt/result.hpp"
#include "engine_factory.hpp"
#include "frame_source.hpp"
#include "options.hpp"
#include "preview.hpp"
#include "signals.hpp"
#include "snapshots.hpp"
#include "tcp_broadcast.hpp"

namespace {

// This run's id, in every output line ("run", result schema 1): a reader that reconnects tells a restarted
// program by it, where frame numbers alone mislead once the new run has passed the old one's last frame.
std::string new_run_id() {
    std::random_device rd;
    char id[17];
    std::snprintf(id, sizeof id, "%08x%08x", static_cast<unsigned>(rd()), static_cast<unsigned>(rd()));
    return id;
}

void log(const std::string& msg) { std::fprintf(stderr, "rv1103_app: %s\n", msg.c_str()); }

std::string resolve_model(const rv1103::Options& o, const camrt::Config& cfg) {
    if (!o.model.empty()) return o.model;
    if (!cfg.model.empty() && cfg.model[0] == '/') return cfg.model;
    const auto slash = o.config.rfind('/');
    return (slash == std::string::npos ? std::string(".") : o.config.substr(0, slash)) + "/" + cfg.model;
}

// The model manifest every config load reads (labels, colour order): --manifest, else the one beside --model,
// else "" (load_config looks beside the model the config names).
std::string manifest_of(const rv1103::Options& o) {
    if (!o.manifest.empty()) return o.manifest;
    return o.model.empty() ? std::string() : camrt::manifest_path_for(o.model);
}

// -2: from the config; -1: any free port; 0: off.
int wanted_port(const rv1103::Options& o, const camrt::Config& cfg) { return o.port == -2 ? cfg.output_port : o.port; }

std::unique_ptr<rv1103::TcpBroadcast> open_tcp(const rv1103::Options& o, int port) {
    if (port == 0) {
        log("TCP output off");
        return nullptr;
    }
    auto tcp =
        std::make_unique<rv1103::TcpBroadcast>(o.bind, port < 0 ? 0 : port, static_cast<std::size_t>(o.max_clients));
    log("listening on " + o.bind + ":" + std::to_string(tcp->port()) + " (JSON lines, at most " +
        std::to_string(o.max_clients) + " clients)");
    return tcp;
}

int run(const rv1103::Options& opts) {
    if (opts.dump_attrs) {  // for a board's record of its runtime (tests/support/fake_rknn/fixtures)
        const std::string model =
            opts.model.empty() ? resolve_model(opts, camrt::load_config(opts.config, manifest_of(opts))) : opts.model;
        const std::string text = rv1103::dump_attrs(model) + "\n";
        return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
    }
    rv1103::install_signal_handlers();
    // The first config must be good: there is nothing to fall back on yet.
    const camrt::Config first = camrt::load_config(opts.config, manifest_of(opts));
    const std::string model_path = resolve_model(opts, first);
    // Reloads keep the manifest of the model that runs (a config naming another model needs a restart).
    const std::string manifest = opts.manifest.empty() ? camrt::manifest_path_for(model_path) : opts.manifest;
    std::string engine_desc;
    std::unique_ptr<camrt::Engine> engine = rv1103::make_engine(opts, model_path, engine_desc);
    log("engine " + engine_desc);
    log(std::string("preprocessing: ") + camrt::preprocess_kernels() + " kernels");

    std::string rejected;  // the watcher's last rejection, until it is told to the output's readers
    camrt::ConfigWatcher watcher(
        opts.config, engine->num_classes(),
        [&rejected](const std::string& m) {
            log("config: " + m);
            if (m.rfind("config rejected", 0) == 0) rejected = m;
        },
        {}, camrt::ConfigWatcher::kSettleNs, manifest);
    camrt::Pipeline pipeline(*engine, watcher.current());

    rv1103::SourceOptions so;
    so.path = opts.frames;
    so.width = opts.width;
    so.height = opts.height;
    so.loop = opts.loop;
    so.warmup = opts.warmup;
    so.yuv_range = opts.yuv_range;
    std::unique_ptr<rv1103::FrameSource> source = rv1103::open_source(so);
    log("frames from " + source->describe());

    int port = wanted_port(opts, pipeline.config());
    std::unique_ptr<rv1103::TcpBroadcast> tcp = open_tcp(opts, port);

    const std::string run_id = new_run_id();
    const std::string run_json = "\"" + run_id + "\"";
    log("run " + run_id);

    rv1103::PreviewEncoder preview(opts.preview, opts.preview_width);
    if (preview.enabled())
        log("JPEG previews in the result lines, every " + std::to_string(opts.preview) + " s, " +
            std::to_string(opts.preview_width) + " px wide");

    bool stdout_on = !opts.no_stdout;
    rv1103::Snapshots snapshots(opts.snapshot_dir, log);
    std::uint64_t index = 0;
    long long emitted = 0;
    std::uint64_t next_slot = camrt::monotonic_ns();
    std::uint64_t last_start = 0;  // monotonic_ns() at the start of the last frame classified, 0 = none yet
    rv1103::SourceFrame frame;
    // Every line, result or event (a config reload), gets this run's id and goes to stdout and every TCP client.
    auto emit = [&](const std::string& json) {
        std::string line = rv1103::with_member(json, "run", run_json);
        if (stdout_on) {
            line += '\n';
            stdout_on = std::fwrite(line.data(), 1, line.size(), stdout) == line.size() && std::fflush(stdout) == 0;
            line.pop_back();
            // e.g. the reader of a pipe went away: keep serving TCP, stop writing stdout
            if (!stdout_on) log("stdout closed; JSON lines continue on TCP only");
        }
        if (tcp) tcp->send_line(line);
    };
    while (!rv1103::stop_requested()) {
        const bool reloaded = watcher.poll();
        if (!rejected.empty()) {
            emit(camrt::config_event_line(index, false, {}, rejected));
            rejected.clear();
        }
        if (reloaded) {
            const camrt::Config before = pipeline.config();
            try {
                pipeline.set_config(watcher.current());
                const std::vector<camrt::ConfigChange> changes = camrt::config_changes(before, pipeline.config());
                log("config: changed: " + camrt::describe_changes(changes));
                emit(camrt::config_event_line(index, true, changes, "config reloaded"));
                const int want = wanted_port(opts, pipeline.config());
                if (want != port) {  // the new config moves the TCP output
                    tcp.reset();
                    port = want;
                    try {
                        tcp = open_tcp(opts, port);
                    } catch (const std::exception& e) {
                        log(std::string("config: ") + e.what() + "; TCP output off until the next reload");
                    }
                }
                if (pipeline.config().model != first.model && opts.model.empty()) {
                    log("config: 'model' changed to " + pipeline.config().model +
                        "; restart to load it (still running " + model_path + ")");
                }
            } catch (const std::exception& e) {
                const std::string why =
                    std::string("config rejected by the pipeline, keeping the last good one: ") + e.what();
                log("config: " + why);
                emit(camrt::config_event_line(index, false, {}, why));
            }
        }
        const std::uint64_t t0 = camrt::monotonic_ns();
        if (!source->next(frame)) {
            log("end of frames");
            break;
        }
        const double capture_ms = camrt::elapsed_ms(t0, camrt::monotonic_ns());
        const std::uint64_t this_index = ++index;  // frames count from 1 (result schema)
        std::string line;
        try {
            camrt::FrameResult result = pipeline.process(frame.view, this_index, capture_ms);
            result.dropped = frame.dropped;
            snapshots.maybe_write(frame.view, this_index);
            // fps from the time between frame starts (the first frame: from its own total)
            const double period_ms = last_start ? camrt::elapsed_ms(last_start, t0) : result.ms.total;
            result.fps = period_ms > 0 ? 1000.0 / period_ms : 0.0;
            last_start = t0;
            line = pipeline.json_line(result);
        } catch (const std::invalid_argument& e) {  // FrameTooSmall, odd NV12 size...: skip this frame
            log("frame " + std::to_string(this_index) + " (" + frame.name + ") skipped: " + e.what());
            continue;
        }
        if (preview.due(t0)) {
            try {  // the preview of this very frame, in its own line
                line = rv1103::with_member(line, "preview", preview.encode(frame.view, t0));
            } catch (const std::exception& e) {
                log(std::string("preview skipped: ") + e.what());
            }
        }
        emit(line);
        if (opts.count > 0 && ++emitted >= opts.count) break;

        const double fps = opts.fps >= 0 ? opts.fps : pipeline.config().max_fps;
        if (fps > 0) {
            next_slot += static_cast<std::uint64_t>(1e9 / fps);
            const std::uint64_t now = camrt::monotonic_ns();
            if (next_slot > now) {
                rv1103::sleep_unless_stopped(static_cast<double>(next_slot - now) / 1e9);
            } else {
                next_slot = now;  // running late: do not try to catch up with a burst
            }
            if (tcp) tcp->poll();
        }
    }
    // Clean stop, in reverse order of creation: sockets, source, pipeline, engine.
    if (tcp) tcp->close_all();
    tcp.reset();
    source.reset();
    const int sig = rv1103::stop_signal();
    log("stopped" + std::string(sig ? " by signal " + std::to_string(sig) : "") + " after " + std::to_string(index) +
        " frames");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    rv1103::Options opts;
    try {
        opts = rv1103::parse_options(argc, argv);
    } catch (const rv1103::UsageError& e) {
        std::fprintf(stderr, "rv1103_app: error: %s\n%s", e.what(), rv1103::usage(rv1103::have_rknn()).c_str());
        return 2;
    }
    if (opts.help) {
        std::fputs(rv1103::usage(rv1103::have_rknn()).c_str(), stdout);
        return 0;
    }
    try {
        return run(opts);
    } catch (const rv1103::UsageError& e) {
        log(std::string("error: ") + e.what());
        return 2;
    } catch (const camrt::ConfigError& e) {
        log(std::string("error: ") + e.what());
        return 2;
    } catch (const std::exception& e) {
        log(std::string("error: ") + e.what());
        return 1;
    }
}
