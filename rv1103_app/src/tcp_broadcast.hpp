// One-way TCP line broadcaster: every connected client gets every line; nobody can stall the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rv1103 {

class TcpBroadcast {
   public:
    // Listens on `bind_addr:port` (port 0 picks a free one; see port()). Throws std::runtime_error.
    // At most max_clients clients at a time (each may hold max_backlog_bytes of unsent lines): one more is
    // accepted and closed at once, logged (at most one line per 10 s for a flood).
    TcpBroadcast(const std::string& bind_addr, int port, std::size_t max_clients = 4,
                 std::size_t max_backlog_bytes = 256 * 1024);
    ~TcpBroadcast();
    TcpBroadcast(const TcpBroadcast&) = delete;
    TcpBroadcast& operator=(const TcpBroadcast&) = delete;

    int port() const { return port_; }
    std::size_t clients() const { return clients_.size(); }
    // Accepts pending clients, queues `line` (a '\n' is added) for each one and writes what the sockets take
    // now. A client whose queue grows past max_backlog_bytes is dropped (logged): it is too slow to keep up.
    void send_line(const std::string& line);
    // Accepts and flushes without new data (call it while idle so clients still get their backlog).
    void poll();
    void close_all();

   private:
    struct Client {
        int fd;
        std::string peer;
        std::string pending;
    };
    void accept_pending();
    bool flush(Client& c);  // false: the client is gone
    void drop(std::size_t i, const char* why);

    int listen_fd_ = -1;
    int port_ = 0;
    std::size_t max_clients_;
    std::size_t max_backlog_;
    std::uint64_t refused_ = 0;           // connections turned away since the last log line
    std::uint64_t last_refusal_log_ = 0;  // monotonic ns
    std::vector<Client> clients_;
};

}  // namespace rv1103
