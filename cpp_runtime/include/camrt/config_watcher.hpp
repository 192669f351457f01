// Hot reload of the config file: on mtime/size/inode change (once it has settled) or on a SIGHUP-raised flag.
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
    // Monotonic nanoseconds (default camrt::monotonic_ns); tests pass a clock they move by hand.
    using Clock = std::function<std::uint64_t()>;
    // How long a changed file must keep the same mtime/size/inode before it is read. An editor or a
    // `cat > config.json` truncates the file, then writes it: read in between, a good config would be
    // rejected as empty or cut short. 100 ms covers a write of a few KiB by any tool.
    static constexpr std::uint64_t kSettleNs = 100000000ull;

    // Loads the file once; throws ConfigError when the first load fails (nothing good to keep yet).
    // model_classes > 0 also checks the label count against the model. log receives one line per
    // reload or rejection (default: stderr with a "camrt: " prefix). manifest: the model manifest every load
    // reads (load_config's manifest_path: "" = beside the model the config names); a program passes the one
    // of the model it runs, so that a config naming another model cannot change the labels.
    explicit ConfigWatcher(std::string path, int model_classes = 0, Logger log = {}, Clock clock = {},
                           std::uint64_t settle_ns = kSettleNs, std::string manifest = "");

    // Cheap check (one stat()). Reloads when the file's mtime, size or inode changed since the last
    // attempt and then stayed the same across polls for settle_ns; at once when the reload flag was
    // raised (SIGHUP) or request_reload() was called.
    // Returns true when a new config was accepted. A bad or missing file is logged with its reason,
    // last_error() is set and the last good config stays in force (false is returned).
    bool poll();
    void request_reload() { forced_ = true; }

    const Config& current() const { return current_; }
    const std::string& path() const { return path_; }
    const std::string& manifest() const { return manifest_; }
    const std::string& last_error() const { return last_error_; }  // "" after a good load
    std::uint64_t generation() const { return generation_; }       // accepted loads, first = 1

   private:
    // What stat() says of the file; exists = false when stat() failed (missing file).
    struct Signature {
        bool exists = false;
        std::int64_t mtime_ns = 0;
        std::int64_t size = -1;
        std::uint64_t inode = 0;
        bool operator==(const Signature& o) const {
            return exists == o.exists && mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
        }
        bool operator!=(const Signature& o) const { return !(*this == o); }
    };
    Signature stat_file() const;
    bool try_load();
    std::string path_;
    std::string manifest_;
    int model_classes_;
    Logger log_;
    Clock clock_;
    std::uint64_t settle_ns_;
    Config current_;
    std::string last_error_;
    std::uint64_t generation_ = 0;
    bool forced_ = false;
    Signature loaded_;                 // the file as it was when last read
    bool pending_ = false;             // a different signature was seen and is settling
    Signature pending_sig_;            // ... this one
    std::uint64_t pending_since_ = 0;  // clock_() when it was first seen
};

}  // namespace camrt
