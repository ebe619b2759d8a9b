#include "lastcall/coordinator/checkpointer.hpp"

#include "posix_file.hpp"

#include <boost/crc.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <unistd.h>

namespace lastcall::coordinator {

namespace {

// Version 2 checksums the header fields too (version 1 covered the payload only, so an edited
// generation went unnoticed). Version 1 files are still read.
constexpr std::string_view magic_v2 = "LASTCALL-CHECKPOINT 2\n";
constexpr std::string_view magic_v1 = "LASTCALL-CHECKPOINT 1\n";

std::uint32_t crc32_of(std::string_view a, std::string_view b = {}) {
    boost::crc_32_type crc;
    crc.process_bytes(a.data(), a.size());
    crc.process_bytes(b.data(), b.size());
    return crc.checksum();
}

std::string covered_fields(std::uint64_t generation, std::size_t bytes) {
    return fmt::format("generation {}\nbytes {}\n", generation, bytes);
}

[[noreturn]] void corrupt(const std::filesystem::path& file, std::string_view why) {
    throw CheckpointError(fmt::format("checkpoint {} is corrupt: {}", file.string(), why));
}

// Reads "<key> <value>\n" at `pos`; returns the value.
std::string_view header_field(std::string_view bytes, std::size_t& pos, std::string_view key,
                              const std::filesystem::path& file) {
    const auto end = bytes.find('\n', pos);
    const auto line = bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (end == std::string_view::npos || line.substr(0, key.size() + 1) != fmt::format("{} ", key)) {
        corrupt(file, fmt::format("expected header field '{}'", key));
    }
    pos = end + 1;
    return line.substr(key.size() + 1);
}

template <class Number>
Number parse_number(std::string_view text, int base, std::string_view key, const std::filesystem::path& file) {
    Number value{};
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || ptr != text.data() + text.size()) corrupt(file, fmt::format("bad {} '{}'", key, text));
    return value;
}

// The generation a damaged file claims, if its header still says; 0 when it does not.
std::uint64_t claimed_generation(const std::string& bytes) {
    const auto at = bytes.find("\ngeneration ");
    if (at == std::string::npos) return 0;
    std::uint64_t value = 0;
    const char* begin = bytes.data() + at + 12;
    std::from_chars(begin, bytes.data() + bytes.size(), value);
    return value;
}

} // namespace

Checkpointer::Checkpointer(std::filesystem::path file) : file_(std::move(file)) {}

std::filesystem::path Checkpointer::previous_file() const { return file_.string() + ".prev"; }
std::filesystem::path Checkpointer::temp_file() const { return file_.string() + ".tmp"; }
std::filesystem::path Checkpointer::corrupt_file() const { return file_.string() + ".corrupt"; }

std::string Checkpointer::encode(std::string_view payload, std::uint64_t generation) {
    const auto fields = covered_fields(generation, payload.size());
    return fmt::format("{}{}crc32 {:08x}\n\n{}", magic_v2, fields, crc32_of(fields, payload), payload);
}

Checkpointer::Loaded Checkpointer::decode(const std::string& bytes, const std::filesystem::path& file) {
    const std::string_view all(bytes);
    const bool v2 = all.substr(0, magic_v2.size()) == magic_v2;
    if (!v2 && all.substr(0, magic_v1.size()) != magic_v1) {
        corrupt(file, fmt::format("it does not start with '{}'", magic_v2.substr(0, magic_v2.size() - 1)));
    }
    std::size_t pos = magic_v2.size();
    const auto generation = parse_number<std::uint64_t>(header_field(all, pos, "generation", file), 10, "generation", file);
    const auto size = parse_number<std::size_t>(header_field(all, pos, "bytes", file), 10, "bytes", file);
    const auto crc = parse_number<std::uint32_t>(header_field(all, pos, "crc32", file), 16, "crc32", file);
    if (all.substr(pos, 1) != "\n") corrupt(file, "header not terminated");
    const auto payload = all.substr(pos + 1);
    if (payload.size() != size) {
        corrupt(file, fmt::format("header says {} payload bytes, file has {}", size, payload.size()));
    }
    const auto actual = v2 ? crc32_of(covered_fields(generation, size), payload) : crc32_of(payload);
    if (actual != crc) corrupt(file, fmt::format("crc32 is {:08x}, header says {:08x}", actual, crc));
    return Loaded{std::string(payload), generation, file, {}};
}

Checkpointer::Loaded Checkpointer::decode_and_validate(const std::string& bytes, const std::filesystem::path& file,
                                                       const Validate& validate) const {
    auto loaded = decode(bytes, file);
    if (validate) {
        try {
            validate(loaded.payload);
        } catch (const std::exception& e) {
            corrupt(file, fmt::format("its checksum is right but its content is refused: {}", e.what()));
        }
    }
    return loaded;
}

void Checkpointer::check_writable() const {
    posix::rethrow_as<CheckpointError>("checkpoint", [this] {
        posix::require_regular_or_absent(file_, "checkpoint");
        posix::require_regular_or_absent(previous_file(), "previous checkpoint");
        posix::require_regular_or_absent(temp_file(), "checkpoint temp file");
        posix::require_regular_or_absent(previous_file().string() + ".tmp", "checkpoint link");
        posix::require_regular_or_absent(corrupt_file(), "corrupt checkpoint copy");
        // The directory takes a new file, fsynced, and its own fsync: what write() does later.
        auto probe = posix::open_or_fail(temp_file(), O_WRONLY | O_CREAT | O_TRUNC, "cannot create");
        posix::sync_or_fail(probe.get(), temp_file());
        probe.close(temp_file());
        ::unlink(temp_file().c_str());
        posix::sync_directory(posix::directory_of(file_));
    });
}

std::optional<Checkpointer::Loaded> Checkpointer::load(Fallback fallback, const Validate& validate) {
    check_writable();
    const auto current = posix::rethrow_as<CheckpointError>("checkpoint", [this] { return posix::read_if_exists(file_); });
    const auto previous = posix::rethrow_as<CheckpointError>("checkpoint", [this] { return posix::read_if_exists(previous_file()); });
    if (!current && !previous) return std::nullopt;

    std::string problem;
    if (current) {
        try {
            auto loaded = decode_and_validate(*current, file_, validate);
            generation_ = loaded.generation;
            current_is_corrupt_ = false;
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
    auto loaded = decode_and_validate(*previous, previous_file(), validate);
    loaded.refused = problem;
    // Never reuse a number the refused file may claim (normally the previous one + 1).
    generation_ = std::max(loaded.generation + 1, current ? claimed_generation(*current) : 0);
    current_is_corrupt_ = current.has_value();
    return loaded;
}

void Checkpointer::keep_previous_generation() {
    if (current_is_corrupt_) {
        // After a fallback `.prev` is the good generation that was loaded: keep it. Set the corrupt
        // file aside for the operator (a hard link: the current name never disappears).
        ::unlink(corrupt_file().c_str());
        if (::link(file_.c_str(), corrupt_file().c_str()) != 0) posix::fail_errno("cannot set aside corrupt", file_);
        return;
    }
    // Keep the current generation as .prev through a hard link: the current name never disappears.
    if (::access(file_.c_str(), F_OK) != 0) return;
    const auto link_temp = previous_file().string() + ".tmp";
    ::unlink(link_temp.c_str());
    if (::link(file_.c_str(), link_temp.c_str()) != 0) posix::fail_errno("cannot link previous generation", file_);
    if (::rename(link_temp.c_str(), previous_file().c_str()) != 0) posix::fail_errno("cannot keep", previous_file());
}

Checkpointer::Written Checkpointer::write(std::string_view payload) {
    return posix::rethrow_as<CheckpointError>("checkpoint", [&] {
        const auto started = std::chrono::steady_clock::now();
        const auto generation = generation_ + 1;
        const auto bytes = encode(payload, generation);
        const auto temp = temp_file();
        Duration syncing{};
        const auto timed_sync = [&syncing](auto&& sync) {
            const auto sync_started = std::chrono::steady_clock::now();
            sync();
            syncing += std::chrono::steady_clock::now() - sync_started;
        };
        {
            auto fd = posix::open_or_fail(temp, O_WRONLY | O_CREAT | O_TRUNC, "cannot create");
            posix::write_all(fd.get(), bytes, temp);
            step(Step::temp_written);
            timed_sync([&] { posix::sync_or_fail(fd.get(), temp); });
            step(Step::temp_synced);
            fd.close(temp);
        }
        keep_previous_generation();
        step(Step::previous_kept);
        if (::rename(temp.c_str(), file_.c_str()) != 0) posix::fail_errno("cannot rename into", file_);
        step(Step::renamed);
        timed_sync([&] { posix::sync_directory(posix::directory_of(file_)); });
        step(Step::directory_synced);
        generation_ = generation;
        current_is_corrupt_ = false;
        return Written{generation, bytes.size(), std::chrono::steady_clock::now() - started, syncing};
    });
}

} // namespace lastcall::coordinator
