#pragma once
// Durable, atomic checkpoints of acknowledged state. A write goes to a temp file which is fsynced,
// the current file is hard-linked to `.prev` (so the current name always exists), the temp file is
// renamed over the current one, and the directory is fsynced (a bare rename is not durable).
// A failed fsync is never retried: the kernel may have dropped the pages ("fsyncgate").
//
// The checksum covers the header fields and the payload. Generations only grow: after a fallback
// to `.prev`, the next write keeps that good generation as `.prev`, sets the corrupt file aside
// (`.corrupt`, never deleted) and takes a number above any the corrupt file may have claimed.
#include "lastcall/coordinator/clock.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lastcall::coordinator {

class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Checkpointer {
public:
    enum class Fallback { refuse, previous };
    // Points inside write(), in order; tests throw from a hook to simulate a crash there.
    enum class Step { temp_written, temp_synced, previous_kept, renamed, directory_synced };
    // Checks a payload whose checksum is right; throws (any std::exception) to refuse it.
    using Validate = std::function<void(const std::string& payload)>;

    struct Loaded {
        std::string payload;
        std::uint64_t generation = 0;
        std::filesystem::path from;
        std::string refused;  // non-empty after a fallback: why the current generation was refused
    };
    struct Written {
        std::uint64_t generation = 0;
        std::size_t bytes = 0;  // file size, header included
        Duration took{};
        Duration syncing{};  // of `took`, in fsync (the file's and the directory's)
    };

    explicit Checkpointer(std::filesystem::path file);

    // nullopt on a first start (no checkpoint at all). A corrupt, refused or missing current
    // generation throws CheckpointError naming the file unless `fallback` allows the previous one,
    // which must then be valid. Anything in the way of a later write (a directory where a file
    // goes) is refused first, fallback or not.
    std::optional<Loaded> load(Fallback fallback, const Validate& validate = {});
    // Throws CheckpointError unless write() can work later: regular files (or nothing) at every
    // path it uses, and a directory that takes a new, fsynced file.
    void check_writable() const;
    Written write(std::string_view payload);

    void on_step(std::function<void(Step)> hook) { on_step_ = std::move(hook); }
    const std::filesystem::path& file() const { return file_; }
    std::filesystem::path previous_file() const;
    std::filesystem::path temp_file() const;
    // Where a corrupt current generation is set aside by the first write after a fallback.
    std::filesystem::path corrupt_file() const;

    static std::string encode(std::string_view payload, std::uint64_t generation);
    // Throws CheckpointError naming what is wrong with `file`.
    static Loaded decode(const std::string& bytes, const std::filesystem::path& file);

private:
    void step(Step s) const { if (on_step_) on_step_(s); }
    Loaded decode_and_validate(const std::string& bytes, const std::filesystem::path& file,
                               const Validate& validate) const;
    void keep_previous_generation();

    std::filesystem::path file_;
    std::uint64_t generation_ = 0;   // the newest generation any file may claim
    bool current_is_corrupt_ = false;
    std::function<void(Step)> on_step_;
};

} // namespace lastcall::coordinator
