#pragma once
// The counter behind POST /counter/incr, durable before it is acknowledged. An increment is
// applied in memory, appended to the write-ahead journal, and reported done only once the journal's
// group commit has fsynced it; GET /counter answers the durable value (never one a crash could take
// back). The checkpoint compacts the journal: after checkpoint N is durable, the journal keeps only
// the records after checkpoint N-1, so that a fallback to `.prev` still replays to the full state.
// Start = checkpoint (or its previous generation) + journal replay.
#include "counter.hpp"
#include "counter_state.hpp"

#include "lastcall/coordinator/checkpointer.hpp"
#include "lastcall/coordinator/journal.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace lastcall::server {

class CounterStore final : public Counter {
public:
    struct Options {
        std::filesystem::path state_dir;
        bool checkpoint_fallback = false;
        std::uint64_t compact_after_bytes = 4 * 1024 * 1024;  // online checkpoint + compaction
        bool ack_before_durable = false;  // fault: acknowledge from memory, no journal
        bool discard_journal = false;     // fault: shutdown discards the journal as if a checkpoint covered it
        // The server's other state, carried in every checkpoint after the counter's lines (stream
        // positions): what to append, and a check of what a loaded checkpoint holds there (throws to
        // refuse it, like a bad counter line). Empty functions: the checkpoint holds the counter alone.
        std::function<std::string()> extra_state;
        std::function<void(const std::string&)> validate_extra;
    };
    struct Recovered {
        CounterState state;
        std::optional<coordinator::Checkpointer::Loaded> checkpoint;
        std::size_t replayed = 0;
        std::uint64_t torn_bytes = 0;
        std::string extra;  // the loaded checkpoint's extra state (empty without one)
    };
    explicit CounterStore(Options options);

    // Loads the checkpoint and replays the journal. Throws std::runtime_error naming the file that
    // is corrupt, missing a record, or in the way of a later write.
    Recovered recover();
    // Starts group commit; `on_failure` is told once if a journal write or fsync fails.
    void start(std::function<void(const std::string&)> on_failure) override;
    // Done runs on the journal's writer thread, or at once on the caller's.
    void increment(std::int64_t by, Done done) override;
    // At once: this process is the only writer, so what it knows is all there is.
    void read(Done done) override { done(Result{Failure::none, durable_value(), {}}); }

    std::int64_t durable_value() const override { return durable_value_.load(std::memory_order_acquire); }
    Stats stats() const override { return Stats{journal_.syncs(), journal_.records_synced(), journal_.size_bytes()}; }
    // Remembers the state as it is now for the checkpoint-early fault.
    void freeze_snapshot();
    // Stops the journal (what is pending is written first) and returns the checkpoint payload.
    std::string snapshot();
    // The checkpoint taken by snapshot() is durable: compact the journal.
    void checkpointed();
    // Flushes and stops the journal (a resource closed at shutdown).
    void close() override;

    coordinator::Checkpointer& checkpointer() { return checkpointer_; }
    const coordinator::Journal& journal() const { return journal_; }

private:
    void on_durable(std::uint64_t seq, std::int64_t value);
    CounterState durable_state() const;
    void checkpoint_online();
    std::string checkpoint_payload(const CounterState& state) const;

    Options options_;
    coordinator::Checkpointer checkpointer_;
    coordinator::Journal journal_;

    std::mutex append_mutex_;  // value_ and the journal's order of appends move together
    std::int64_t value_ = 0;
    mutable std::mutex durable_mutex_;
    CounterState durable_;
    std::atomic<std::int64_t> durable_value_{0};
    std::optional<CounterState> frozen_;
    std::uint64_t previous_checkpoint_seq_ = 0;  // what the checkpoint in `.prev` covers after the next write
    std::uint64_t snapshot_seq_ = 0;
};

} // namespace lastcall::server
