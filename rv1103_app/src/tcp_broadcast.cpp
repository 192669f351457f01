#include "tcp_broadcast.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "camrt/clock.hpp"

namespace rv1103 {

namespace {
void set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        throw std::runtime_error(std::string("fcntl(O_NONBLOCK): ") + std::strerror(errno));
    }
}
}  // namespace

TcpBroadcast::TcpBroadcast(const std::string& bind_addr, int port, std::size_t max_clients,
                           std::size_t max_backlog_bytes)
    : max_clients_(max_clients), max_backlog_(max_backlog_bytes) {
    if (port < 0 || port > 65535) throw std::runtime_error("TCP port out of range 0..65535: " + std::to_string(port));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, bind_addr.c_str(), &addr.sin_addr) != 1) {
        throw std::runtime_error("not an IPv4 address to listen on: " + bind_addr);
    }
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(listen_fd_, 8) < 0) {
        const std::string err = std::strerror(errno);
        ::close(listen_fd_);
        listen_fd_ = -1;
        throw std::runtime_error("cannot listen on " + bind_addr + ":" + std::to_string(port) + ": " + err);
    }
    set_nonblocking(listen_fd_);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
}

TcpBroadcast::~TcpBroadcast() { close_all(); }

void TcpBroadcast::close_all() {
    for (auto& c : clients_) ::close(c.fd);
    clients_.clear();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
}

void TcpBroadcast::accept_pending() {
    if (listen_fd_ < 0) return;
    for (;;) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = accept(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len);
        if (fd < 0) return;  // EAGAIN: nobody else waiting (other errors: try again next frame)
        try {
            set_nonblocking(fd);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rv1103_app: tcp: %s\n", e.what());
            ::close(fd);
            continue;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
        const std::string who = std::string(ip) + ":" + std::to_string(ntohs(peer.sin_port));
        if (clients_.size() >= max_clients_) {
            ::close(fd);
            ++refused_;
            const std::uint64_t now = camrt::monotonic_ns();
            if (last_refusal_log_ == 0 || now - last_refusal_log_ >= 10'000'000'000ULL) {
                std::fprintf(stderr,
                             "rv1103_app: tcp client %s refused: %zu clients connected, the limit (%llu refused)\n",
                             who.c_str(), clients_.size(), static_cast<unsigned long long>(refused_));
                last_refusal_log_ = now;
                refused_ = 0;
            }
            continue;
        }
        Client c{fd, who, {}};
        std::fprintf(stderr, "rv1103_app: tcp client %s connected\n", c.peer.c_str());
        clients_.push_back(std::move(c));
    }
}

bool TcpBroadcast::flush(Client& c) {
    while (!c.pending.empty()) {
        // MSG_NOSIGNAL: a client that hung up must not kill the program with SIGPIPE.
        const ssize_t n = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.pending.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;  // socket full: keep the rest for later
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

void TcpBroadcast::drop(std::size_t i, const char* why) {
    std::fprintf(stderr, "rv1103_app: tcp client %s dropped: %s\n", clients_[i].peer.c_str(), why);
    ::close(clients_[i].fd);
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
}

void TcpBroadcast::poll() {
    accept_pending();
    for (std::size_t i = clients_.size(); i-- > 0;) {
        // A readable socket that returns 0 bytes has hung up; anything clients send is ignored.
        char sink[256];
        const ssize_t r = ::recv(clients_[i].fd, sink, sizeof sink, MSG_DONTWAIT);
        if (r == 0) {
            drop(i, "closed by peer");
            continue;
        }
        if (!flush(clients_[i])) drop(i, "send failed");
    }
}

void TcpBroadcast::send_line(const std::string& line) {
    accept_pending();
    for (std::size_t i = clients_.size(); i-- > 0;) {
        Client& c = clients_[i];
        if (c.pending.size() + line.size() + 1 > max_backlog_) {
            drop(i, "too slow (send backlog full)");
            continue;
        }
        c.pending += line;
        c.pending += '\n';
        if (!flush(c)) drop(i, "send failed");
    }
}

}  // namespace rv1103
