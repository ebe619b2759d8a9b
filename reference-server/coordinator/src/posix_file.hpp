#pragma once
// Plain POSIX file operations shared by the checkpointer, the journal and the report writer, each
// failing with a FileError that names the path and errno's text. Internal to the library.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace lastcall::coordinator::posix {

class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws FileError "<what> <path>: <strerror(errno)>".
[[noreturn]] void fail_errno(std::string_view what, const std::filesystem::path& path);

class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    ~FileDescriptor();
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    // Closes and reports a failed close (which can be the first sign of a lost write).
    void close(const std::filesystem::path& path);

private:
    int fd_ = -1;
};

FileDescriptor open_or_fail(const std::filesystem::path& path, int flags, std::string_view what);
void write_all(int fd, std::string_view bytes, const std::filesystem::path& path);
// fsync(2); a failure is never retried: the kernel may have dropped the dirty pages ("fsyncgate").
void sync_or_fail(int fd, const std::filesystem::path& path);
void sync_directory(const std::filesystem::path& dir);
std::filesystem::path directory_of(const std::filesystem::path& file);

// nullopt only when the file does not exist; any other failure (a directory, no permission) throws:
// an unreadable state file must never be mistaken for a first start.
std::optional<std::string> read_if_exists(const std::filesystem::path& path);

// Durable replace: write `temp`, fsync it, rename over `path`, fsync the directory (a bare rename
// is not durable on ext4/xfs; cf. PostgreSQL's durable_rename).
void replace_durably(const std::filesystem::path& path, const std::filesystem::path& temp, std::string_view bytes);
// Atomic replace, not durable: write `temp`, close it, rename over `path`. A reader sees the old
// file or the whole new one, never a part (rename(2) is atomic for readers); after a power loss
// the new file may be missing or empty. For files nothing acknowledged depends on.
void replace_atomically(const std::filesystem::path& path, const std::filesystem::path& temp, std::string_view bytes);

// Throws FileError unless `path` is absent or a regular file: something in its place (a directory)
// would make a later write or rename there fail, when acknowledged state is at stake.
void require_regular_or_absent(const std::filesystem::path& path, std::string_view role);

// Runs `operation`; a FileError leaves as `Error` ("<what>: <message>"), so each user reports
// file failures in its own type (CheckpointError, JournalError) with the path and errno's text.
template <class Error, class Operation>
auto rethrow_as(std::string_view what, Operation operation) {
    try {
        return operation();
    } catch (const FileError& e) {
        throw Error(std::string(what) + ": " + e.what());
    }
}

} // namespace lastcall::coordinator::posix
