#include "camrt/config_watcher.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include "camrt/clock.hpp"

namespace camrt {

namespace {

// Lock-free atomics are async-signal-safe; the handler does nothing else.
std::atomic<int> g_reload_flag{0};
static_assert(std::atomic<int>::is_always_lock_free, "reload flag must be lock-free for the signal handler");

extern "C" void on_sighup(int) { g_reload_flag.store(1, std::memory_order_relaxed); }

void log_stderr(const std::string& line) { std::fprintf(stderr, "camrt: %s\n", line.c_str()); }

}  // namespace

void install_sighup_handler() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // blocking reads and sleeps resume after the signal
    sigaction(SIGHUP, &sa, nullptr);
}

void raise_reload_flag() { g_reload_flag.store(1, std::memory_order_relaxed); }

ConfigWatcher::ConfigWatcher(std::string path, int model_classes, Logger log, Clock clock, std::uint64_t settle_ns,
                             std::string manifest)
    : path_(std::move(path)),
      manifest_(std::move(manifest)),
      model_classes_(model_classes),
      log_(log ? std::move(log) : Logger(log_stderr)),
      clock_(clock ? std::move(clock) : Clock(monotonic_ns)),
      settle_ns_(settle_ns) {
    if (!try_load()) throw ConfigError(last_error_);
}

ConfigWatcher::Signature ConfigWatcher::stat_file() const {
    Signature s;
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0) {
        s.exists = true;
        s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
        s.size = static_cast<std::int64_t>(st.st_size);
        s.inode = static_cast<std::uint64_t>(st.st_ino);
    }
    return s;
}

bool ConfigWatcher::try_load() {
    // Stat first so that a write landing during the read shows up as a change at the next poll().
    loaded_ = stat_file();
    pending_ = false;
    try {
        Config next = load_config(path_, manifest_);
        if (model_classes_ > 0) {
            try {
                check_model_classes(next, model_classes_);
            } catch (const ConfigError& e) {
                throw ConfigError(path_ + ": " + e.what());
            }
        }
        current_ = std::move(next);
        last_error_.clear();
        ++generation_;
        return true;
    } catch (const ConfigError& e) {
        last_error_ = e.what();
        return false;
    } catch (const std::bad_alloc&) {  // low memory on a 64 MB board must not end the program
        last_error_ = path_ + ": out of memory while loading the config";
        return false;
    } catch (const std::exception& e) {
        last_error_ = path_ + ": " + e.what();
        return false;
    }
}

bool ConfigWatcher::poll() {
    bool changed = false;
    if (g_reload_flag.exchange(0, std::memory_order_relaxed) != 0) changed = true;
    if (forced_) {
        forced_ = false;
        changed = true;
    }
    if (!changed) {
        // A change is acted on once the file has kept one signature for settle_ns: a file caught between
        // its truncation and its last write changes again before then, and is not read half-written.
        // (A file that went away counts as a change too: reported once, the config stays.)
        const Signature now_sig = stat_file();
        if (now_sig == loaded_) {
            pending_ = false;
            return false;
        }
        const std::uint64_t now = clock_();
        if (!pending_ || now_sig != pending_sig_) {
            pending_ = true;
            pending_sig_ = now_sig;
            pending_since_ = now;
            if (settle_ns_ > 0) return false;
        }
        if (now - pending_since_ < settle_ns_) return false;
    }
    if (try_load()) {
        log_("config reloaded from " + path_ + " (generation " + std::to_string(generation_) + ")");
        return true;
    }
    if (last_error_.empty()) last_error_ = path_ + ": " + std::strerror(errno);
    log_("config rejected, keeping the last good one: " + last_error_);
    return false;
}

}  // namespace camrt
