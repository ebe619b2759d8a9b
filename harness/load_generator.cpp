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
    context_->history_dir = options_.history_dir.empty() ? std::filesystem::temp_directory_path() : options_.history_dir;
    history_limit_ = options_.history_bytes;
    std::error_code ec;
    const auto space = std::filesystem::space(context_->history_dir, ec);
    if (!ec && space.available / 2 < history_limit_) {
        history_limit_ = space.available / 2;
        history_limit_lowered_ = "half the free space in " + context_->history_dir.string();
    }
    context_->history_bytes_per_thread = history_limit_ / static_cast<std::uint64_t>(threads);
    context_->tally_origin = options_.tally_origin;
    for (int t = 0; t < threads; ++t) {
        workers_.push_back(std::make_unique<LoadWorker>(t, *context_, workloads_, address, options_.port));
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
        if (const int e = live.connect_errno.load(std::memory_order_relaxed); e != 0) total.connect_errno = e;
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
    for (const auto& w : workers_) values.insert(values.end(), w->reply_values().begin(), w->reply_values().end());
    return values;
}

std::vector<RequestRecord> LoadGenerator::take_history() {
    std::vector<RequestRecord> all;
    all.reserve(history_stats().records);
    for_each_record([&](const RequestRecord& r) { all.push_back(r); });
    std::stable_sort(all.begin(), all.end(),
                     [](const RequestRecord& a, const RequestRecord& b) { return a.intended_us < b.intended_us; });
    return all;
}

bool LoadGenerator::for_each_record(const std::function<void(const RequestRecord&)>& visit) const {
    bool read_all = true;
    for (const auto& w : workers_) read_all = w->history().for_each(visit) && read_all;
    return read_all;
}

HistoryStats LoadGenerator::history_stats() const {
    HistoryStats stats;
    stats.limit = history_limit_;
    stats.limit_lowered = history_limit_lowered_;
    for (const auto& w : workers_) {
        const auto& h = w->history();
        stats.records += h.records();
        stats.dropped += h.dropped();
        stats.bytes += h.bytes();
        for (std::size_t i = 0; i < stats.outcomes.size(); ++i) stats.outcomes[i] += h.appended_by_outcome()[i];
        const auto& by_workload = h.appended_by_workload();
        if (stats.by_workload.size() < by_workload.size()) stats.by_workload.resize(by_workload.size());
        for (std::size_t i = 0; i < by_workload.size(); ++i) stats.by_workload[i] += by_workload[i];
        if (stats.error.empty()) stats.error = h.error();
    }
    return stats;
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

BenchTally LoadGenerator::tally() const {
    BenchTally merged(options_.tally_origin);
    for (const auto& w : workers_) merged.merge(w->tally());
    return merged;
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

AnswersSeen LoadGenerator::answers() const {
    AnswersSeen all;
    for (const auto& w : workers_) all.merge(w->answers());
    return all;
}

std::vector<OpenLoopTally> LoadGenerator::open_loop_tallies() const {
    std::vector<OpenLoopTally> all(workloads_.size());
    for (std::size_t i = 0; i < workloads_.size(); ++i) {
        if (workloads_[i].mode != LoadMode::open) continue;
        for (const auto& w : workers_) {
            const auto t = w->open_loop_tally(i);
            all[i].started += t.started;
            all[i].skipped += t.skipped;
            all[i].behind += t.behind;
            all[i].scheduled = std::max(all[i].scheduled, t.scheduled);
        }
    }
    return all;
}

std::size_t LoadGenerator::open_loop_connections_used() const {
    std::size_t total = 0;
    for (const auto& w : workers_) total += w->open_loop_connections_used();
    return total;
}

std::uint64_t LoadGenerator::requests_back_to_back() const {
    std::uint64_t total = 0;
    for (const auto& w : workers_) total += w->requests_back_to_back();
    return total;
}

std::vector<HarnessError> LoadGenerator::harness_errors() const {
    std::vector<HarnessError> all;
    for (const auto& w : workers_) all.insert(all.end(), w->harness_errors().begin(), w->harness_errors().end());
    return all;
}

} // namespace lastcall::harness
