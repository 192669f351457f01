#include "signals.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>

#include "camrt/config_watcher.hpp"

namespace rv1103 {

namespace {
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop(int sig) { g_stop = sig; }
}  // namespace

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a sleep or poll returns at once with EINTR
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, nullptr);
    camrt::install_sighup_handler();
}

bool stop_requested() { return g_stop != 0; }
int stop_signal() { return static_cast<int>(g_stop); }

void sleep_unless_stopped(double seconds) {
    if (seconds <= 0) return;
    timespec ts{static_cast<time_t>(seconds), static_cast<long>((seconds - static_cast<time_t>(seconds)) * 1e9)};
    // SIGHUP also wakes the sleep: the caller then reloads without waiting for the next frame slot.
    nanosleep(&ts, nullptr);
}

}  // namespace rv1103
