// Writing a whole buffer to a descriptor, shared by the spool and the sinks.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace vigil::exporters {

// write(2) until all of p[0, n) is written; false on an error other than EINTR.
inline bool writeAllFd(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace vigil::exporters
