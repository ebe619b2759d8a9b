#include "lastcall/coordinator/checkpointer.hpp"

#include <boost/crc.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace lastcall::coordinator {

namespace {

constexpr std::string_view magic = "LASTCALL-CHECKPOINT 1\n";

std::uint32_t crc32_of(std::string_view bytes) {
    boost::crc_32_type crc;
    crc.process_bytes(bytes.data(), bytes.size());
    return crc.checksum();
}

[[noreturn]] void fail_errno(std::string_view what, const std::filesystem::path& path) {
    throw CheckpointError(fmt::format("checkpoint: {} {}: {}", what, path.string(), std::strerror(errno)));
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() { if (fd_ >= 0) ::close(fd_); }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

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

void fsync_directory(const std::filesystem::path& dir) {
    FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) fail_errno("cannot open directory", dir);
    if (::fsync(fd.get()) != 0) fail_errno("cannot fsync directory", dir);
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return std::move(out).str();
}

// Reads "<key> <value>\n" at `pos`; returns the value.
std::string_view header_field(std::string_view bytes, std::size_t& pos, std::string_view key,
                              const std::filesystem::path& file) {
    const auto end = bytes.find('\n', pos);
    const auto line = bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (end == std::string_view::npos || line.substr(0, key.size() + 1) != fmt::format("{} ", key)) {
        throw CheckpointError(fmt::format("checkpoint {} is corrupt: expected header field '{}'", file.string(), key));
    }
    pos = end + 1;
    return line.substr(key.size() + 1);
}

template <class Number>
Number parse_number(std::string_view text, int base, std::string_view key, const std::filesystem::path& file) {
    Number value{};
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        throw CheckpointError(fmt::format("checkpoint {} is corrupt: bad {} '{}'", file.string(), key, text));
    }
    return value;
}

} // namespace

Checkpointer::Checkpointer(std::filesystem::path file) : file_(std::move(file)) {}

std::filesystem::path Checkpointer::previous_file() const { return file_.string() + ".prev"; }
std::filesystem::path Checkpointer::temp_file() const { return file_.string() + ".tmp"; }

std::string Checkpointer::encode(std::string_view payload, std::uint64_t generation) {
    return fmt::format("{}generation {}\nbytes {}\ncrc32 {:08x}\n\n{}", magic, generation, payload.size(),
                       crc32_of(payload), payload);
}

Checkpointer::Loaded Checkpointer::decode(const std::string& bytes, const std::filesystem::path& file) {
    const std::string_view all(bytes);
    if (all.substr(0, magic.size()) != magic) {
        throw CheckpointError(
            fmt::format("checkpoint {} is corrupt: it does not start with '{}'", file.string(), magic.substr(0, magic.size() - 1)));
    }
    std::size_t pos = magic.size();
    const auto generation = parse_number<std::uint64_t>(header_field(all, pos, "generation", file), 10, "generation", file);
    const auto size = parse_number<std::size_t>(header_field(all, pos, "bytes", file), 10, "bytes", file);
    const auto crc = parse_number<std::uint32_t>(header_field(all, pos, "crc32", file), 16, "crc32", file);
    if (all.substr(pos, 1) != "\n") {
        throw CheckpointError(fmt::format("checkpoint {} is corrupt: header not terminated", file.string()));
    }
    const auto payload = all.substr(pos + 1);
    if (payload.size() != size) {
        throw CheckpointError(fmt::format("checkpoint {} is corrupt: header says {} payload bytes, file has {}",
                                          file.string(), size, payload.size()));
    }
    if (const auto actual = crc32_of(payload); actual != crc) {
        throw CheckpointError(fmt::format("checkpoint {} is corrupt: crc32 is {:08x}, header says {:08x}",
                                          file.string(), actual, crc));
    }
    return Loaded{std::string(payload), generation, file};
}

std::optional<Checkpointer::Loaded> Checkpointer::load(Fallback fallback) {
    const auto current = read_file(file_);
    const auto previous = read_file(previous_file());
    if (!current && !previous) return std::nullopt;

    std::string problem;
    if (current) {
        try {
            auto loaded = decode(*current, file_);
            generation_ = loaded.generation;
            return loaded;
        } catch (const CheckpointError& e) {
            problem = e.what();
        }
    } else {
        problem = fmt::format("checkpoint {} is missing but its previous generation {} exists", file_.string(),
                              previous_file().string());
    }
    if (fallback == Fallback::refuse || !previous) {
        throw CheckpointError(fallback == Fallback::refuse && previous
                                  ? fmt::format("{}; refusing to start (the operator may fall back to {})", problem,
                                                previous_file().string())
                                  : fmt::format("{}; refusing to start", problem));
    }
    auto loaded = decode(*previous, previous_file());
    generation_ = loaded.generation;
    return loaded;
}

Checkpointer::Written Checkpointer::write(std::string_view payload) {
    const auto started = std::chrono::steady_clock::now();
    const auto generation = generation_ + 1;
    const auto bytes = encode(payload, generation);
    const auto temp = temp_file();
    {
        FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0) fail_errno("cannot create", temp);
        write_all(fd.get(), bytes, temp);
        step(Step::temp_written);
        if (::fsync(fd.get()) != 0) fail_errno("fsync failed (not retried) for", temp);
        step(Step::temp_synced);
        if (::close(fd.release()) != 0) fail_errno("cannot close", temp);
    }
    // Keep the current generation as .prev through a hard link: the current name never disappears.
    if (std::filesystem::exists(file_)) {
        const auto link_temp = previous_file().string() + ".tmp";
        ::unlink(link_temp.c_str());
        if (::link(file_.c_str(), link_temp.c_str()) != 0) fail_errno("cannot link previous generation", file_);
        if (::rename(link_temp.c_str(), previous_file().c_str()) != 0) fail_errno("cannot keep", previous_file());
    }
    step(Step::previous_kept);
    if (::rename(temp.c_str(), file_.c_str()) != 0) fail_errno("cannot rename into", file_);
    step(Step::renamed);
    fsync_directory(file_.has_parent_path() ? file_.parent_path() : std::filesystem::path("."));
    step(Step::directory_synced);
    generation_ = generation;
    return Written{generation, bytes.size(), std::chrono::steady_clock::now() - started};
}

} // namespace lastcall::coordinator
