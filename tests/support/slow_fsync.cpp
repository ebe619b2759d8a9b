// LD_PRELOAD shim: a disk that stalls. fsync and fdatasync of a file whose path contains
// $LASTCALL_SLOW_FSYNC_MATCH (any file when unset) first sleep $LASTCALL_SLOW_FSYNC_MS, as they do
// beside a build that fills the page cache (8.2 s was seen for one fsync of a 1-byte file).
#include <dlfcn.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace {

void stall_if_asked(int fd) {
    const char* ms = std::getenv("LASTCALL_SLOW_FSYNC_MS");
    if (!ms) return;
    const int saved_errno = errno;
    char link[64];
    char path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t length = ::readlink(link, path, sizeof path - 1);
    const char* match = std::getenv("LASTCALL_SLOW_FSYNC_MATCH");
    if (length > 0) {
        path[length] = '\0';
        if (!match || std::strstr(path, match)) {
            const long wait_ms = std::atol(ms);
            timespec left{wait_ms / 1000, (wait_ms % 1000) * 1000000L};
            while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
            }
        }
    }
    errno = saved_errno;
}

template <typename Function>
Function next_definition(const char* name) {
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" int fsync(int fd) {
    stall_if_asked(fd);
    static const auto real = next_definition<int (*)(int)>("fsync");
    return real(fd);
}

extern "C" int fdatasync(int fd) {
    stall_if_asked(fd);
    static const auto real = next_definition<int (*)(int)>("fdatasync");
    return real(fd);
}
