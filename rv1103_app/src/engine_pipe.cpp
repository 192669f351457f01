#include "engine_pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "camrt/clock.hpp"
#include "camrt/json.hpp"

namespace rv1103 {

namespace {

// Tensor protocol v1 (host_tools/sim/rv1103/tensor_protocol.py): every message is a 4-byte ASCII tag, a
// little-endian u32 payload length, then the payload.
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kMaxPayload = 64u << 20;  // the protocol's limit, both ways

// Reads exactly n bytes or throws; waits at most timeout_ms in total.
void read_exact(int fd, void* dst, std::size_t n, int timeout_ms, const char* what) {
    auto* p = static_cast<std::uint8_t*>(dst);
    const std::uint64_t deadline = camrt::monotonic_ns() + static_cast<std::uint64_t>(timeout_ms) * 1000000ull;
    while (n > 0) {
        const std::uint64_t now = camrt::monotonic_ns();
        if (now >= deadline) throw std::runtime_error(std::string("tensor service timed out while sending ") + what);
        pollfd pfd{fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>((deadline - now) / 1000000ull) + 1);
        if (r < 0 && errno == EINTR) continue;  // a signal: the caller's flags are checked after the frame
        if (r < 0) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        if (r == 0) continue;
        const ssize_t got = ::read(fd, p, n);
        if (got == 0)
            throw std::runtime_error(std::string("tensor service closed the connection while sending ") + what);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::runtime_error(std::string("read from tensor service: ") + std::strerror(errno));
        }
        p += got;
        n -= static_cast<std::size_t>(got);
    }
}

void write_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        // send() on a socket so that a vanished service is an error, not a SIGPIPE; write() on a pipe.
        ssize_t put = ::send(fd, p, n, MSG_NOSIGNAL);
        if (put < 0 && errno == ENOTSOCK) put = ::write(fd, p, n);
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) throw std::runtime_error(std::string("write to tensor service: ") + std::strerror(errno));
        p += put;
        n -= static_cast<std::size_t>(put);
    }
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t get_u32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void send_message(int fd, const char tag[4], const std::uint8_t* payload, std::size_t n) {
    if (n > kMaxPayload) {
        throw std::runtime_error("message of " + std::to_string(n) + " bytes exceeds the tensor protocol's 64 MiB");
    }
    std::uint8_t head[8];
    std::memcpy(head, tag, 4);
    put_u32(head + 4, static_cast<std::uint32_t>(n));
    write_all(fd, head, sizeof head);
    if (n) write_all(fd, payload, n);
}

// Receives one message; returns its tag. A FAIL message is thrown as the service's own text.
std::string receive_message(int fd, std::vector<std::uint8_t>& payload, int timeout_ms, const char* what) {
    std::uint8_t head[8];
    read_exact(fd, head, sizeof head, timeout_ms, what);
    const std::string tag(reinterpret_cast<const char*>(head), 4);
    const std::uint32_t n = get_u32(head + 4);
    if (n > kMaxPayload)
        throw std::runtime_error("tensor service sent an oversized message (" + std::to_string(n) + " bytes)");
    payload.resize(n);
    if (n) read_exact(fd, payload.data(), n, timeout_ms, what);
    if (tag == "FAIL") throw std::runtime_error(std::string(payload.begin(), payload.end()));
    return tag;
}

}  // namespace

PipeEngine::PipeEngine(const std::string& command, const std::string& socket_path, const std::string& model_path,
                       int w_stride_pad, int timeout_ms)
    : timeout_ms_(timeout_ms) {
    if (w_stride_pad < 0 || w_stride_pad > 64) throw std::runtime_error("pipe engine: w_stride pad must be 0..64");
    if (command.empty() == socket_path.empty()) throw std::runtime_error("pipe engine: give a command or a socket");
    if (socket_path.empty()) {
        start_child(command);
    } else {
        // The socket is the (emulated) board's NPU: like rknn_init on a board, it needs the model file itself.
        // (A service started with --engine-cmd may run its own --model when the config's file is absent.)
        if (!std::ifstream(model_path, std::ios::binary))
            throw std::runtime_error("cannot open the model " + model_path + " (missing or unreadable)");
        connect_socket(socket_path);
    }
    try {
        open_model(model_path);
    } catch (const std::exception& e) {
        const std::string status = child_status();
        stop_child();
        throw std::runtime_error(std::string("tensor service: ") + e.what() + status);
    }
    info_.w_stride = info_.width + w_stride_pad;
    buf_.assign(info_.size_bytes(), 0);
    packed_.resize(static_cast<std::size_t>(info_.height) * info_.width * info_.channels);
}

void PipeEngine::start_child(const std::string& command) {
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
    to_service_ = in_pipe[1];
    from_service_ = out_pipe[0];
}

void PipeEngine::connect_socket(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("tensor service socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        const int err = errno;
        ::close(fd);
        throw std::runtime_error("cannot reach the tensor service at " + path + ": " + std::strerror(err));
    }
    to_service_ = from_service_ = fd;
}

void PipeEngine::open_model(const std::string& model_path) {
    std::vector<std::uint8_t> model;
    if (!model_path.empty()) {
        std::ifstream f(model_path, std::ios::binary);
        if (f) {
            model.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
            if (f.bad()) throw std::runtime_error("cannot read the model " + model_path);
        }
    }
    send_message(to_service_, "OPEN", model.data(), model.size());
    std::vector<std::uint8_t> reply;
    const std::string tag = receive_message(from_service_, reply, timeout_ms_, "its model description");
    if (tag != "MODL" || reply.size() < 32) throw std::runtime_error("unexpected reply '" + tag + "' to OPEN");
    const std::uint32_t version = get_u32(&reply[0]);
    if (version != kVersion) throw std::runtime_error("protocol version " + std::to_string(version) + ", expected 1");
    info_.height = static_cast<int>(get_u32(&reply[4]));
    info_.width = static_cast<int>(get_u32(&reply[8]));
    info_.channels = static_cast<int>(get_u32(&reply[12]));
    const std::uint32_t in_type = get_u32(&reply[16]);
    const std::uint32_t in_layout = get_u32(&reply[20]);
    const std::uint32_t classes = get_u32(&reply[24]);
    const std::uint32_t out_type = get_u32(&reply[28]);
    if (info_.height < 1 || info_.width < 1 || info_.height > 4096 || info_.width > 4096 || info_.channels != 3 ||
        in_type != 0 || in_layout != 0 || out_type != 0 || classes < 1 || classes > 1000) {
        throw std::runtime_error("unusable tensor " + std::to_string(info_.height) + "x" + std::to_string(info_.width) +
                                 "x" + std::to_string(info_.channels) + " with " + std::to_string(classes) +
                                 " classes");
    }
    scores_.assign(classes, 0.0f);
    namespace json = camrt::json;
    const json::Value about = json::parse(std::string(reply.begin() + 32, reply.end()));
    if (const auto* v = json::member(about, "runtime"); v && v->is_string())
        runtime_ = json::excerpt(v->get<std::string>(), 500);
    if (const auto* v = json::member(about, "note"); v && v->is_string())
        note_ = json::excerpt(v->get<std::string>(), 500);
}

PipeEngine::~PipeEngine() { stop_child(); }

void PipeEngine::run() {
    // Strip the row padding: the service takes packed NHWC.
    const std::size_t row = static_cast<std::size_t>(info_.width) * info_.channels;
    const std::size_t srow = static_cast<std::size_t>(info_.w_stride) * info_.channels;
    for (int r = 0; r < info_.height; ++r) {
        std::memcpy(packed_.data() + r * row, buf_.data() + r * srow, row);
    }
    send_message(to_service_, "RUN ", packed_.data(), packed_.size());
    std::vector<std::uint8_t> reply;
    const std::string tag = receive_message(from_service_, reply, timeout_ms_, "scores");
    if (tag != "OUT " || reply.size() != scores_.size() * 4) {
        throw std::runtime_error("tensor service answered '" + tag + "' with " + std::to_string(reply.size()) +
                                 " bytes, expected " + std::to_string(scores_.size()) + " float32 scores");
    }
    // The wire is little-endian float32, as are both the host and the ARMv7 board.
    static_assert(sizeof(float) == 4, "float32 wire format");
    std::memcpy(scores_.data(), reply.data(), reply.size());
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
    if (to_service_ >= 0) ::close(to_service_);  // EOF: the service ends this connection (and a child exits)
    if (from_service_ >= 0 && from_service_ != to_service_) ::close(from_service_);
    to_service_ = from_service_ = -1;
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
