#include "engine_pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "camrt/clock.hpp"
#include "camrt/json.hpp"

namespace rv1103 {

namespace {

// Reads exactly n bytes or throws; waits at most timeout_ms in total.
void read_exact(int fd, void* dst, std::size_t n, int timeout_ms, const char* what) {
    auto* p = static_cast<std::uint8_t*>(dst);
    const std::uint64_t deadline = camrt::monotonic_ns() + static_cast<std::uint64_t>(timeout_ms) * 1000000ull;
    while (n > 0) {
        const std::uint64_t now = camrt::monotonic_ns();
        if (now >= deadline) throw std::runtime_error(std::string("engine server timed out while sending ") + what);
        pollfd pfd{fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>((deadline - now) / 1000000ull) + 1);
        if (r < 0 && errno == EINTR) continue;  // a signal: the caller's flags are checked after the frame
        if (r < 0) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        if (r == 0) continue;
        const ssize_t got = ::read(fd, p, n);
        if (got == 0) throw std::runtime_error(std::string("engine server closed its output while sending ") + what);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::runtime_error(std::string("read from engine server: ") + std::strerror(errno));
        }
        p += got;
        n -= static_cast<std::size_t>(got);
    }
}

void write_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        const ssize_t put = ::write(fd, p, n);
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) throw std::runtime_error(std::string("write to engine server: ") + std::strerror(errno));
        p += put;
        n -= static_cast<std::size_t>(put);
    }
}

}  // namespace

PipeEngine::PipeEngine(const std::string& command, int w_stride_pad, int timeout_ms) : timeout_ms_(timeout_ms) {
    if (w_stride_pad < 0 || w_stride_pad > 64) throw std::runtime_error("pipe engine: w_stride pad must be 0..64");
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) < 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(out_pipe, O_CLOEXEC) < 0) {
        ::close(in_pipe[0]);
        ::close(in_pipe[1]);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        ::setpgid(0, 0);  // its own group: terminal signals go to the app, which then ends the child
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    ::setpgid(pid_, pid_);  // also here: no window where kill(-pid) would miss the group
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    to_child_ = in_pipe[1];
    from_child_ = out_pipe[0];

    // Hello line: one JSON object, at most 4 KiB.
    std::string line;
    try {
        char c = 0;
        while (line.size() < 4096) {
            read_exact(from_child_, &c, 1, timeout_ms_, "its ready line");
            if (c == '\n') break;
            line += c;
        }
    } catch (const std::exception& e) {
        const std::string status = child_status();
        stop_child();
        throw std::runtime_error(std::string("pipe engine did not start: ") + e.what() + status);
    }
    try {
        namespace json = camrt::json;
        const json::Value hello = json::parse(line);
        const json::Value* ready = json::member(hello, "ready");
        if (!ready || !ready->is_boolean() || !ready->get<bool>()) {
            const json::Value* err = json::member(hello, "error");
            throw std::runtime_error(err && err->is_string() ? json::excerpt(err->get<std::string>(), 500)
                                                             : "server said it is not ready");
        }
        auto num = [&](const char* key) {
            const json::Value* v = json::member(hello, key);
            if (!v || !v->is_number_integer()) {
                throw std::runtime_error(std::string("ready line lacks an integer '") + key + "'");
            }
            const long long n = v->get<long long>();
            return static_cast<int>(n < 0 ? -1 : (n > 1000000 ? 1000000 : n));
        };
        info_.height = num("h");
        info_.width = num("w");
        info_.channels = num("c");
        const int classes = num("classes");
        if (info_.height < 1 || info_.width < 1 || info_.height > 4096 || info_.width > 4096 || info_.channels != 3 ||
            classes < 1 || classes > 1000) {
            throw std::runtime_error("unusable tensor " + std::to_string(info_.height) + "x" +
                                     std::to_string(info_.width) + "x" + std::to_string(info_.channels) + " with " +
                                     std::to_string(classes) + " classes");
        }
        if (const auto* v = json::member(hello, "runtime"); v && v->is_string()) runtime_ = v->get<std::string>();
        if (const auto* v = json::member(hello, "note"); v && v->is_string()) note_ = v->get<std::string>();
        info_.w_stride = info_.width + w_stride_pad;
        buf_.assign(info_.size_bytes(), 0);
        packed_.resize(static_cast<std::size_t>(info_.height) * info_.width * info_.channels);
        scores_.assign(static_cast<std::size_t>(classes), 0.0f);
    } catch (const std::exception& e) {
        stop_child();
        throw std::runtime_error(std::string("pipe engine: ") + e.what());
    }
}

PipeEngine::~PipeEngine() { stop_child(); }

void PipeEngine::run() {
    // Strip the row padding: the server takes packed NHWC.
    const std::size_t row = static_cast<std::size_t>(info_.width) * info_.channels;
    const std::size_t srow = static_cast<std::size_t>(info_.w_stride) * info_.channels;
    for (int r = 0; r < info_.height; ++r) {
        std::memcpy(packed_.data() + r * row, buf_.data() + r * srow, row);
    }
    write_all(to_child_, packed_.data(), packed_.size());
    static_assert(sizeof(float) == 4, "float32 wire format");
    read_exact(from_child_, scores_.data(), scores_.size() * sizeof(float), timeout_ms_, "scores");
    // The wire is little-endian float32, as are both the host and the ARMv7 board.
}

std::string PipeEngine::child_status() {
    if (pid_ <= 0) return "";
    int st = 0;
    for (int i = 0; i < 20; ++i) {
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            if (WIFEXITED(st)) return " (server exited with code " + std::to_string(WEXITSTATUS(st)) + ")";
            if (WIFSIGNALED(st)) return " (server killed by signal " + std::to_string(WTERMSIG(st)) + ")";
            return "";
        }
        ::usleep(10000);
    }
    return "";
}

void PipeEngine::stop_child() {
    if (to_child_ >= 0) ::close(to_child_);  // EOF: the server ends by itself
    if (from_child_ >= 0) ::close(from_child_);
    to_child_ = from_child_ = -1;
    if (pid_ <= 0) return;
    int st = 0;
    for (int i = 0; i < 300; ++i) {  // up to 3 s, then insist
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        ::usleep(10000);
    }
    ::kill(-pid_, SIGTERM);
    ::usleep(200000);
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
}

}  // namespace rv1103
