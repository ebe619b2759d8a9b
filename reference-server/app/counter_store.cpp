#include "counter_store.hpp"

#include "log.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace lastcall::server {

using coordinator::Checkpointer;

CounterStore::CounterStore(Options options)
    : options_(std::move(options)),
      checkpointer_(options_.state_dir / "checkpoint.dat"),
      journal_(options_.state_dir / "counter.journal") {}

CounterStore::Recovered CounterStore::recover() {
    Recovered recovered;
    const auto validate = [this](const std::string& payload) {
        std::string extra;
        decode_checkpoint(payload, options_.validate_extra ? &extra : nullptr);
        if (options_.validate_extra) options_.validate_extra(extra);
    };
    recovered.checkpoint = checkpointer_.load(
        options_.checkpoint_fallback ? Checkpointer::Fallback::previous : Checkpointer::Fallback::refuse, validate);
    const auto from = recovered.checkpoint
                          ? decode_checkpoint(recovered.checkpoint->payload, options_.validate_extra ? &recovered.extra : nullptr)
                          : CounterState{};
    auto journal = journal_.open();
    const auto replayed = replay(from, journal.records, journal_.file());
    recovered.state = replayed.state;
    recovered.replayed = replayed.applied;
    recovered.torn_bytes = journal.torn_bytes;
    // Sequence numbers only grow, even past records a checkpoint already covers.
    if (!journal.records.empty() && journal.records.back().seq > recovered.state.seq) {
        recovered.state.seq = journal.records.back().seq;
    }
    value_ = recovered.state.value;
    durable_ = recovered.state;
    durable_value_ = recovered.state.value;
    previous_checkpoint_seq_ = from.seq;
    return recovered;
}

void CounterStore::start(std::function<void(const std::string&)> on_failure) {
    journal_.on_failure(std::move(on_failure));
    if (options_.compact_after_bytes > 0) journal_.on_grown(options_.compact_after_bytes, [this] { checkpoint_online(); });
    journal_.start(durable_.seq);
}

void CounterStore::increment(std::int64_t by, Done done) {
    std::unique_lock lock(append_mutex_);
    std::int64_t next = 0;
    if (__builtin_add_overflow(value_, by, &next)) {
        lock.unlock();
        done(Result{Failure::overflow, value_, fmt::format("the counter would overflow")});
        return;
    }
    if (options_.ack_before_durable) {
        // The fault: acknowledged from memory; only the shutdown checkpoint would make it durable.
        value_ = next;
        std::lock_guard durable_lock(durable_mutex_);
        durable_.value = next;
        durable_value_ = next;
        lock.unlock();
        done(Result{Failure::none, next, {}});
        return;
    }
    const auto seq = journal_.append(encode_increment({by, next}), [this, next, done = std::move(done)](std::uint64_t s, const std::string& error) {
        if (!error.empty()) {
            done(Result{Failure::not_durable, 0, error});
            return;
        }
        on_durable(s, next);
        done(Result{Failure::none, next, {}});
    });
    if (seq != 0) value_ = next;
}

void CounterStore::on_durable(std::uint64_t seq, std::int64_t value) {
    std::lock_guard lock(durable_mutex_);
    durable_ = CounterState{value, seq};
    durable_value_.store(value, std::memory_order_release);
}

CounterState CounterStore::durable_state() const {
    std::lock_guard lock(durable_mutex_);
    return durable_;
}

void CounterStore::freeze_snapshot() {
    if (!frozen_) frozen_ = durable_state();
}

std::string CounterStore::snapshot() {
    journal_.close();  // nothing may append or compact while the checkpoint is written
    const auto state = frozen_.value_or(durable_state());
    snapshot_seq_ = state.seq;
    return checkpoint_payload(state);
}

void CounterStore::checkpointed() {
    journal_.close();
    // The journal keeps what the checkpoint now in `.prev` does not cover; the discard-journal
    // fault drops everything, as if the new checkpoint covered it all.
    const auto keep_after = options_.discard_journal ? durable_state().seq : previous_checkpoint_seq_;
    try {
        journal_.compact(keep_after);
    } catch (const std::exception& e) {
        log::error("journal not compacted (its records stay valid)").field("error", e.what());
    }
    previous_checkpoint_seq_ = snapshot_seq_;
}

void CounterStore::close() {
    journal_.close();
    if (options_.discard_journal) journal_.compact(durable_state().seq);
}

std::string CounterStore::checkpoint_payload(const CounterState& state) const {
    auto payload = encode_checkpoint(state);
    if (options_.extra_state) payload += options_.extra_state();
    return payload;
}

void CounterStore::checkpoint_online() {
    // On the writer thread, between two group commits: appends wait, nothing else writes.
    const auto state = durable_state();
    try {
        const auto written = checkpointer_.write(checkpoint_payload(state));
        journal_.compact(previous_checkpoint_seq_);
        previous_checkpoint_seq_ = state.seq;
        log::info("checkpoint written, journal compacted")
            .field("generation", written.generation)
            .field("journal_seq", state.seq)
            .field("journal_bytes", journal_.size_bytes());
    } catch (const std::exception& e) {
        // Nothing acknowledged is at risk: the journal still holds every record.
        log::error("online checkpoint failed; the journal keeps every record").field("error", e.what());
    }
}

} // namespace lastcall::server
