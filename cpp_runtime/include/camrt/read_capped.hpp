// Reading a file that must stay small (a config, a manifest, an image) without trusting its size: shared by the
// config loader and the board program's image reader.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace camrt {

// Reads the open file `fd` to its end, appending to `out` (a std::string or std::vector<std::uint8_t>), and
// stops as soon as more than `limit` bytes have come: a size checked before reading does not hold for a file
// that grows meanwhile. Returns 0 at the end of the file, -1 past the limit, or the errno of a failed read.
template <class Bytes>
int read_capped(int fd, std::size_t limit, Bytes& out) {
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;
        out.insert(out.end(), buf, buf + n);
        if (out.size() > limit) return -1;
    }
}

}  // namespace camrt
