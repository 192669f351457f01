// Hot reload of the config file: on mtime/size/inode change or on a SIGHUP-raised flag.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "camrt/config.hpp"

namespace camrt {

// Installs a SIGHUP handler that only raises a process-wide flag (async-signal-safe); every
// ConfigWatcher::poll() then reloads once. Safe to call more than once.
void install_sighup_handler();
// Raises the same flag by hand (what the SIGHUP handler does).
void raise_reload_flag();

class ConfigWatcher {
   public:
    using Logger = std::function<void(const std::string&)>;

    // Loads the file once; throws ConfigError when the first load fails (nothing good to keep yet).
    // model_classes > 0 also checks the label count against the model. log receives one line per
    // reload or rejection (default: stderr with a "camrt: " prefix).
    explicit ConfigWatcher(std::string path, int model_classes = 0, Logger log = {});

    // Cheap check (one stat()). Reloads when the file's mtime, size or inode changed since the last
    // attempt, when the reload flag was raised, or when request_reload() was called.
    // Returns true when a new config was accepted. A bad or missing file is logged with its reason,
    // last_error() is set and the last good config stays in force (false is returned).
    bool poll();
    void request_reload() { forced_ = true; }

    const Config& current() const { return current_; }
    const std::string& path() const { return path_; }
    const std::string& last_error() const { return last_error_; }  // "" after a good load
    std::uint64_t generation() const { return generation_; }       // accepted loads, first = 1

   private:
    bool try_load();
    std::string path_;
    int model_classes_;
    Logger log_;
    Config current_;
    std::string last_error_;
    std::uint64_t generation_ = 0;
    bool forced_ = false;
    bool have_stat_ = false;
    std::int64_t mtime_ns_ = 0;
    std::int64_t size_ = -1;
    std::uint64_t inode_ = 0;
};

}  // namespace camrt
