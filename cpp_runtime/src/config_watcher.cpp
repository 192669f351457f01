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

ConfigWatcher::ConfigWatcher(std::string path, int model_classes, Logger log)
    : path_(std::move(path)), model_classes_(model_classes), log_(log ? std::move(log) : Logger(log_stderr)) {
    if (!try_load()) throw ConfigError(last_error_);
}

bool ConfigWatcher::try_load() {
    // Stat first so that a write landing during the read shows up as a change at the next poll().
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0) {
        have_stat_ = true;
        mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
        size_ = static_cast<std::int64_t>(st.st_size);
        inode_ = static_cast<std::uint64_t>(st.st_ino);
    } else {
        have_stat_ = false;
    }
    try {
        Config next = load_config(path_);
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
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0) {
        const std::int64_t m = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
        if (!have_stat_ || m != mtime_ns_ || static_cast<std::int64_t>(st.st_size) != size_ ||
            static_cast<std::uint64_t>(st.st_ino) != inode_) {
            changed = true;
        }
    } else if (have_stat_) {
        changed = true;  // the file went away: report it once, keep the config
    }
    if (!changed) return false;
    if (try_load()) {
        log_("config reloaded from " + path_ + " (generation " + std::to_string(generation_) + ")");
        return true;
    }
    if (last_error_.empty()) last_error_ = path_ + ": " + std::strerror(errno);
    log_("config rejected, keeping the last good one: " + last_error_);
    return false;
}

}  // namespace camrt
