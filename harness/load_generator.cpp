#include "load_generator.hpp"

#include "load_worker.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

namespace {

HostAddress target_address(const LoadOptions& options) {
    if (options.address) return *options.address;
    auto resolved = resolve_host(options.host);
    if (!resolved.address) throw std::invalid_argument(resolved.error);
    return *resolved.address;
}

} // namespace

LoadGenerator::LoadGenerator(std::vector<Workload> workloads, LoadOptions options)
    : workloads_(std::move(workloads)), options_(std::move(options)), context_(std::make_unique<WorkerContext>()) {
    const int threads = std::max(1, options_.threads);
    const auto address = target_address(options_);
    context_->run_start = options_.run_start;
    context_->killed_at_us = &killed_at_us_;
    context_->restarted_at_us = &restarted_at_us_;
    context_->threads = static_cast<std::size_t>(threads);
    context_->fault_hook = options_.fault_hook;
    context_->open_loop_connections = options_.open_loop_connections;
    for (int t = 0; t < threads; ++t) {
        workers_.push_back(std::make_unique<LoadWorker>(t, *context_, workloads_, address, options_.port,
                                                        options_.expected_records / static_cast<std::size_t>(threads) + 1024));
    }
}

LoadGenerator::~LoadGenerator() {
    if (!finished_) finish(std::chrono::seconds(0));
}

void LoadGenerator::start() {
    for (auto& worker : workers_) worker->start();
}

void LoadGenerator::stop(const std::vector<std::string>& names) {
    for (auto& worker : workers_) worker->stop(names);
}

void LoadGenerator::start_workload(const std::string& name) {
    for (auto& worker : workers_) worker->start_workload(name);
}

void LoadGenerator::mark_target_restarted(SteadyTime when) {
    restarted_at_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(when - options_.run_start).count());
}

void LoadGenerator::mark_target_killed(SteadyTime when) {
    restarted_at_us_.store(-1);
    killed_at_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(when - options_.run_start).count());
}

void LoadGenerator::finish(std::chrono::nanoseconds grace) {
    if (finished_) return;
    finished_ = true;
    for (auto& worker : workers_) worker->stop_everything();
    // Bounded wait for what is in flight to resolve on its own (the target may still answer).
    const auto deadline = Clock::now() + grace;
    while (live().in_flight > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(1), deadline - Clock::now()));
    }
    for (auto& worker : workers_) worker->cut_and_release();
    for (auto& worker : workers_) worker->join();
}

LiveCounts LoadGenerator::live() const {
    LiveCounts total;
    for (const auto& w : workers_) {
        const auto& live = w->live();
        total.in_flight += live.in_flight.load(std::memory_order_relaxed);
        total.completed += live.completed.load(std::memory_order_relaxed);
        for (std::size_t i = 0; i < outcome_count; ++i) total.by_outcome[i] += live.by_outcome[i].load(std::memory_order_relaxed);
    }
    return total;
}

bool LoadGenerator::all_workloads_done() const {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) {
        const auto& live = w->live();
        return live.pending_starts.load() <= 0 && live.running_loops.load() <= 0 && live.in_flight.load() <= 0;
    });
}

std::vector<KeptReplyValue> LoadGenerator::peek_reply_values() const {
    // The workers are idle (all_workloads_done): their records are not being written.
    std::vector<KeptReplyValue> values;
    for (const auto& w : workers_) {
        for (const auto& r : w->records()) {
            if (!r.reply_value.empty()) values.push_back({r.workload, r.reply_value});
        }
    }
    return values;
}

std::vector<RequestRecord> LoadGenerator::take_history() {
    std::vector<RequestRecord> all;
    for (auto& w : workers_) {
        auto& records = w->records();
        all.insert(all.end(), records.begin(), records.end());
        records.clear();
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const RequestRecord& a, const RequestRecord& b) { return a.intended_us < b.intended_us; });
    return all;
}

std::vector<StreamTrail> LoadGenerator::take_stream_trails() {
    std::vector<StreamTrail> all;
    for (auto& w : workers_) {
        auto& trails = w->stream_trails();
        all.insert(all.end(), std::make_move_iterator(trails.begin()), std::make_move_iterator(trails.end()));
        trails.clear();
    }
    return all;
}

Histogram LoadGenerator::latency() const {
    Histogram merged;
    for (const auto& w : workers_) merged.merge(w->latency());
    return merged;
}

std::uint64_t LoadGenerator::skipped_arrivals() const {
    std::uint64_t total = 0;
    for (const auto& w : workers_) total += w->skipped_arrivals();
    return total;
}

std::size_t LoadGenerator::open_loop_connections_used() const {
    std::size_t total = 0;
    for (const auto& w : workers_) total += w->open_loop_connections_used();
    return total;
}

std::vector<HarnessError> LoadGenerator::harness_errors() const {
    std::vector<HarnessError> all;
    for (const auto& w : workers_) all.insert(all.end(), w->harness_errors().begin(), w->harness_errors().end());
    return all;
}

} // namespace lastcall::harness
