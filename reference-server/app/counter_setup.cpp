#include "counter_setup.hpp"

#include "log.hpp"
#include "server.hpp"
#include "state_layout.hpp"

namespace lastcall::server {

namespace {

CounterStore::Options counter_options(const ServerConfig& config, StreamPositions& streams) {
    CounterStore::Options options;
    options.state_dir = config.state_dir;
    options.checkpoint_fallback = config.checkpoint_fallback;
    options.compact_after_bytes = config.journal_compact_bytes;
    options.ack_before_durable = config.faults.has(Fault::ack_before_durable);
    options.discard_journal = config.faults.has(Fault::checkpoint_early) || config.faults.has(Fault::skip_checkpoint);
    // Stream positions ride in the checkpoint; the forget-stream-positions fault leaves them out.
    if (!config.faults.has(Fault::forget_stream_positions)) options.extra_state = [&streams] { return streams.encode(); };
    options.validate_extra = [](const std::string& extra) { StreamPositions::decode(extra); };
    return options;
}

} // namespace

ServerCounter open_counter(const ServerConfig& config, StreamPositions& streams) {
    ServerCounter out;
    if (!config.shared_state_dir.empty()) {
        SharedCounter::Options options;
        options.file = config.shared_state_dir / "counter.db";
        options.ack_before_durable = config.faults.has(Fault::ack_before_durable);
        try {
            out.shared = std::make_unique<SharedCounter>(options);
        } catch (const std::exception& e) {
            throw StartupError(e.what());
        }
        return out;
    }
    check_state_layout(config.state_dir, StateLayout::single_process);
    out.store = std::make_unique<CounterStore>(counter_options(config, streams));
    try {
        out.recovered = out.store->recover();
    } catch (const std::exception& e) {
        throw StartupError(e.what());
    }
    if (!config.faults.has(Fault::forget_stream_positions)) streams.restore(StreamPositions::decode(out.recovered->extra));
    return out;
}

void log_recovery(const ServerCounter& counter, std::size_t stream_positions) {
    if (!counter.recovered) {
        log::info("shared counter opened").field("counter", counter.shared->durable_value());
        return;
    }
    const auto& recovered = *counter.recovered;
    auto line = log::info("counter recovered");
    line.field("counter", recovered.state.value)
        .field("journal_seq", recovered.state.seq)
        .field("journal_records_replayed", static_cast<std::uint64_t>(recovered.replayed))
        .field("journal_torn_bytes_cut", recovered.torn_bytes)
        .field("stream_positions", static_cast<std::uint64_t>(stream_positions));
    if (const auto& checkpoint = recovered.checkpoint) {
        line.field("checkpoint", checkpoint->from.string()).field("generation", checkpoint->generation);
        if (!checkpoint->refused.empty()) {
            log::warn("fell back to the previous checkpoint generation").field("refused", checkpoint->refused);
        }
    }
}

} // namespace lastcall::server
