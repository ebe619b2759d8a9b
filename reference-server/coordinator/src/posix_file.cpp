#include "posix_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lastcall::coordinator::posix {

void fail_errno(std::string_view what, const std::filesystem::path& path) {
    throw FileError(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

FileDescriptor::~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
}

void FileDescriptor::close(const std::filesystem::path& path) {
    if (fd_ < 0) return;
    if (::close(std::exchange(fd_, -1)) != 0) fail_errno("cannot close", path);
}

FileDescriptor open_or_fail(const std::filesystem::path& path, int flags, std::string_view what) {
    FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
    if (fd.get() < 0) fail_errno(what, path);
    return fd;
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
    while (!bytes.empty()) {
        const auto written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            fail_errno("cannot write", path);
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
}

void sync_or_fail(int fd, const std::filesystem::path& path) {
    if (::fsync(fd) != 0) fail_errno("fsync failed (not retried) for", path);
}

std::filesystem::path directory_of(const std::filesystem::path& file) {
    return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

void sync_directory(const std::filesystem::path& dir) {
    auto fd = open_or_fail(dir, O_RDONLY | O_DIRECTORY, "cannot open directory");
    if (::fsync(fd.get()) != 0) fail_errno("fsync failed (not retried) for directory", dir);
}

std::optional<std::string> read_if_exists(const std::filesystem::path& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail_errno("cannot read", path);
    }
    std::string bytes;
    char buffer[64 * 1024];
    for (;;) {
        const auto n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno("cannot read", path);  // EISDIR lands here
        if (n == 0) return bytes;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
}

void replace_durably(const std::filesystem::path& path, const std::filesystem::path& temp, std::string_view bytes) {
    auto fd = open_or_fail(temp, O_WRONLY | O_CREAT | O_TRUNC, "cannot create");
    write_all(fd.get(), bytes, temp);
    sync_or_fail(fd.get(), temp);
    fd.close(temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) fail_errno("cannot rename into", path);
    sync_directory(directory_of(path));
}

void replace_atomically(const std::filesystem::path& path, const std::filesystem::path& temp, std::string_view bytes) {
    auto fd = open_or_fail(temp, O_WRONLY | O_CREAT | O_TRUNC, "cannot create");
    write_all(fd.get(), bytes, temp);
    fd.close(temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) fail_errno("cannot rename into", path);
}

void require_regular_or_absent(const std::filesystem::path& path, std::string_view role) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) return;
        fail_errno(fmt::format("cannot inspect {}", role), path);
    }
    if (S_ISREG(info.st_mode)) return;
    const char* kind = S_ISDIR(info.st_mode) ? "a directory" : "not a regular file";
    throw FileError(fmt::format("{} {} is {}: it could not be written at shutdown", role, path.string(), kind));
}

} // namespace lastcall::coordinator::posix
