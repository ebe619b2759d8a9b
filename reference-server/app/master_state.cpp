#include "master_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace lastcall::server {

using namespace std::chrono_literals;

std::string WorkerId::text() const {
    return incarnation == 1 ? fmt::format("{}.{}", generation, slot) : fmt::format("{}.{}#{}", generation, slot, incarnation);
}

std::string WorkerExit::text() const {
    if (exited) return fmt::format("exit {}", code);
    const char* name = sigabbrev_np(signal);
    return name ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", signal);
}

std::string to_string(WorkerFate fate) {
    switch (fate) {
    case WorkerFate::serving: return "serving";
    case WorkerFate::drained: return "drained";
    case WorkerFate::killed: return "killed";
    case WorkerFate::crashed: return "crashed";
    }
    return "?";
}

std::string to_string(EndedWhile when) {
    switch (when) {
    case EndedWhile::running: return "running";
    case EndedWhile::reloading: return "reloading";
    case EndedWhile::stopping: return "stopping";
    }
    return "?";
}

namespace {

// The codes a worker's coordinator exits with after a shutdown of its own (phase.hpp).
bool is_shutdown_exit(const WorkerExit& e) { return e.exited && (e.code == 0 || e.code == 4 || e.code == 5 || e.code == 6); }

// Worst first: lost durability, then a lost worker, then fast, then incomplete.
int severity(int code) {
    switch (code) {
    case 6: return 4;
    case 7: return 3;
    case 5: return 2;
    case 4: return 1;
    default: return 0;
    }
}

coordinator::Duration respawn_delay(unsigned consecutive_deaths) {
    if (consecutive_deaths <= 1) return 0ms;
    const auto delay = 100ms * (1u << std::min(consecutive_deaths - 2, 6u));
    return std::min<coordinator::Duration>(delay, 5s);
}

} // namespace

MasterState::MasterState(coordinator::Clock& clock, MasterConfig config, MasterActions& actions)
    : clock_(clock), config_(std::move(config)), actions_(actions), boot_alarm_(clock.make_alarm()),
      graceful_alarm_(clock.make_alarm()), slot_crashes_(config_.workers + 1, 0) {}

void MasterState::start() {
    generation_ = 1;
    for (unsigned slot = 1; slot <= config_.workers; ++slot) spawn(generation_, slot, 1);
    boot_alarm_->arm(clock_.now() + config_.boot_timeout, [this] { on_boot_timeout(); });
}

void MasterState::spawn(unsigned generation, unsigned slot, unsigned incarnation) {
    WorkerRecord record;
    record.id = WorkerId{generation, slot, incarnation};
    record.spawned = clock_.now();
    workers_.push_back(record);
    actions_.spawn(record.id);
}

void MasterState::on_spawned(const WorkerId& id, pid_t pid) {
    for (auto& w : workers_) {
        if (w.id == id && w.pid == 0) w.pid = pid;
    }
}

WorkerRecord* MasterState::find(pid_t pid) {
    for (auto& w : workers_) {
        if (w.pid == pid && w.alive()) return &w;
    }
    return nullptr;
}

std::vector<WorkerRecord*> MasterState::alive(unsigned generation) {
    std::vector<WorkerRecord*> out;
    for (auto& w : workers_) {
        if (w.alive() && w.id.generation == generation) out.push_back(&w);
    }
    return out;
}

std::vector<WorkerRecord*> MasterState::alive_all() {
    std::vector<WorkerRecord*> out;
    for (auto& w : workers_) {
        if (w.alive()) out.push_back(&w);
    }
    return out;
}

void MasterState::on_ready(pid_t pid) {
    auto* w = find(pid);
    if (!w || w->ready) return;
    w->ready = clock_.now();
    slot_crashes_[w->id.slot] = 0;
    take_generation_ready(*w);
    deliver_handovers();
}

void MasterState::take_generation_ready(const WorkerRecord& w) {
    const auto generation = alive(generation_);
    const bool all_ready = std::all_of(generation.begin(), generation.end(), [](const WorkerRecord* g) { return g->ready.has_value(); });
    if (!all_ready || w.id.generation != generation_) return;
    if (stage_ == MasterStage::starting) {
        boot_alarm_->cancel();
        stage_ = MasterStage::running;
        handovers_.push_back(std::nullopt);  // the jobs an earlier run of the service left
        actions_.all_ready();
    } else if (stage_ == MasterStage::reloading) {
        boot_alarm_->cancel();
        reloads_.back().new_ready = clock_.now();
        for (auto* old : alive(old_generation_)) {
            old->retiring = true;
            actions_.retire(old->pid);
        }
        finish_reload(ReloadOutcome::completed);
    }
}

void MasterState::on_exit(pid_t pid, const WorkerExit& exit) {
    auto* w = find(pid);
    if (!w) return;
    w->ended = clock_.now();
    w->exit = exit;
    // A worker a reload retired ended because of it, even once the new generation serves.
    w->ended_while = stage_ == MasterStage::stopping                      ? EndedWhile::stopping
                     : stage_ == MasterStage::reloading || w->retiring ? EndedWhile::reloading
                                                                        : EndedWhile::running;
    const bool own_shutdown = is_shutdown_exit(exit);
    const bool lost_durability = exit.exited && exit.code == 6 && !w->retiring &&
                                 (stage_ == MasterStage::running || stage_ == MasterStage::reloading);
    if (lost_durability) w->fate = WorkerFate::drained;  // it shut down on its own, gracefully
    else if (w->killed && !own_shutdown) w->fate = WorkerFate::killed;
    else if (stage_ == MasterStage::stopping || w->retiring) w->fate = own_shutdown ? WorkerFate::drained : WorkerFate::crashed;
    else w->fate = WorkerFate::crashed;

    if (stage_ == MasterStage::starting && !w->ready) {
        abort_start();  // it failed to boot: the service cannot start
    } else if (lost_durability) {
        durability_lost_ = true;
        fast_ = false;
        stop_service(config_.graceful_signals.empty() ? SIGTERM : config_.graceful_signals.front());
        return;
    } else if (stage_ == MasterStage::reloading && w->id.generation == generation_ && !w->ready) {
        // A new worker that never got ready: the reload fails, the old generation serves on.
        abort_reload();
    } else if (stage_ == MasterStage::reloading && config_.reload_gap && w->id.generation == old_generation_) {
        if (alive(old_generation_).empty()) {
            actions_.open_listener();
            for (unsigned slot = 1; slot <= config_.workers; ++slot) spawn(generation_, slot, 1);
            boot_alarm_->arm(clock_.now() + config_.boot_timeout, [this] { on_boot_timeout(); });
        }
    } else if ((stage_ == MasterStage::running || stage_ == MasterStage::reloading || stage_ == MasterStage::starting) && !w->retiring) {
        // While starting, only a worker that was ready gets here: it was serving on the shared
        // listener (clients and readiness probes reach the first ready worker before the others
        // boot), so its death is a crash like one while running, not a failed start. A start
        // aborted for it failed prefork-worker-crash under CPU noise: the scenario's KILL at 1 s
        // after ready came while the second worker was still booting (master exit 3).
        replace(*w);
    }
    if (stage_ == MasterStage::running || stage_ == MasterStage::reloading || stage_ == MasterStage::starting) {
        handovers_.push_back(w->id);
        const auto handed = handed_to_.find(pid);
        if (handed != handed_to_.end()) handovers_.insert(handovers_.end(), handed->second.begin(), handed->second.end());
        deliver_handovers();
    }
    handed_to_.erase(pid);
    maybe_finish();
}

// To the newest worker that is ready and not leaving; kept until there is one.
void MasterState::deliver_handovers() {
    if (handovers_.empty() || (stage_ != MasterStage::running && stage_ != MasterStage::reloading)) return;
    const auto serving = std::find_if(workers_.rbegin(), workers_.rend(),
                                      [](const WorkerRecord& w) { return w.alive() && w.ready && !w.retiring; });
    if (serving == workers_.rend()) return;
    auto& handed = handed_to_[serving->pid];
    for (const auto& from : handovers_) {
        actions_.hand_over_jobs(serving->pid, from);
        handed.push_back(from);
    }
    handovers_.clear();
}

void MasterState::replace(WorkerRecord& dead) {
    const auto slot = dead.id.slot;
    const auto next = WorkerId{dead.id.generation, slot, dead.id.incarnation + 1};
    dead.replaced_by = next;
    // Not once stopping, nor into a generation that retired meanwhile.
    const auto still_wanted = [this, next] {
        const bool serving = (stage_ == MasterStage::running || stage_ == MasterStage::starting) && next.generation == generation_;
        const bool reloading = stage_ == MasterStage::reloading && (next.generation == generation_ || next.generation == old_generation_);
        return serving || reloading;
    };
    const auto delay = respawn_delay(++slot_crashes_[slot]);
    if (delay == coordinator::Duration::zero()) {
        if (still_wanted()) spawn(next.generation, next.slot, next.incarnation);
        return;
    }
    auto alarm = clock_.make_alarm();
    alarm->arm(clock_.now() + delay, [this, next, still_wanted] {
        if (still_wanted()) spawn(next.generation, next.slot, next.incarnation);
    });
    respawn_alarms_.push_back(std::move(alarm));
}

void MasterState::on_signal(int signal) {
    if (stage_ == MasterStage::done) return;
    if (signal == config_.reload_signal && !is_graceful(signal) && !is_fast(signal)) {
        if (stage_ == MasterStage::running) begin_reload();
        else if (stage_ == MasterStage::reloading) reload_pending_ = true;
        return;
    }
    const bool graceful = is_graceful(signal);
    if (!graceful && !is_fast(signal)) return;
    if (stage_ == MasterStage::starting) {
        abort_start();
        return;
    }
    // The first fast signal is what a fast shutdown forwards; without one, the signal itself.
    const int fast_forward = !graceful ? signal : config_.fast_signals.empty() ? signal : config_.fast_signals.front();
    if (stage_ == MasterStage::stopping) {
        if (fast_) return;
        fast_ = true;  // a second graceful signal, or a fast one, escalates
        stop_all(fast_forward);
        return;
    }
    shutdown_signal_ = signal;
    fast_ = !graceful;
    stop_service(fast_ ? fast_forward : signal);
}

// Stops every worker with `forwarded` (no shutdown signal of the master's own when a worker lost
// durability: the report then says signal 0, as a single process's does).
void MasterState::stop_service(int forwarded) {
    stage_ = MasterStage::stopping;
    reload_pending_ = false;
    boot_alarm_->cancel();
    stop_all(forwarded);
    graceful_alarm_->arm(clock_.now() + config_.graceful_timeout, [this] { on_graceful_timeout(); });
    maybe_finish();
}

void MasterState::stop_all(int signal) {
    if (config_.no_forward) return;
    for (auto* w : alive_all()) {
        w->retiring = true;
        actions_.stop(w->pid, signal);
    }
}

void MasterState::begin_reload() {
    old_generation_ = generation_;
    ++generation_;
    stage_ = MasterStage::reloading;
    reloads_.push_back(ReloadRecord{generation_, clock_.now(), {}, {}});
    if (config_.reload_gap) {
        // The fault: stop the old generation and its listener first, start the new one after.
        actions_.close_listener();
        for (auto* old : alive(old_generation_)) {
            old->retiring = true;
            actions_.stop(old->pid, config_.graceful_signals.empty() ? SIGTERM : config_.graceful_signals.front());
        }
        return;
    }
    for (unsigned slot = 1; slot <= config_.workers; ++slot) spawn(generation_, slot, 1);
    boot_alarm_->arm(clock_.now() + config_.boot_timeout, [this] { on_boot_timeout(); });
}

void MasterState::abort_reload() {
    for (auto* fresh : alive(generation_)) {
        fresh->retiring = fresh->killed = true;
        actions_.kill(fresh->pid);
    }
    generation_ = old_generation_;
    finish_reload(ReloadOutcome::aborted);
}

void MasterState::finish_reload(ReloadOutcome outcome) {
    reloads_.back().outcome = outcome;
    stage_ = MasterStage::running;
    if (reload_pending_) {
        reload_pending_ = false;
        begin_reload();
    }
}

void MasterState::on_boot_timeout() {
    if (stage_ == MasterStage::starting) {
        abort_start();
    } else if (stage_ == MasterStage::reloading) {
        abort_reload();
    }
}

void MasterState::abort_start() {
    start_failed_ = true;
    stage_ = MasterStage::stopping;
    boot_alarm_->cancel();
    for (auto* w : alive_all()) {
        w->retiring = w->killed = true;
        actions_.kill(w->pid);
    }
    maybe_finish();
}

void MasterState::on_graceful_timeout() {
    if (config_.no_kill_escalation) return;
    for (auto* w : alive_all()) {
        w->killed = w->killed_at_timeout = true;
        actions_.kill(w->pid);
    }
}

void MasterState::maybe_finish() {
    if (stage_ != MasterStage::stopping || !alive_all().empty()) return;
    stage_ = MasterStage::done;
    graceful_alarm_->cancel();
    actions_.close_listener();
    actions_.exit(exit_code());
}

std::vector<std::string> MasterState::stragglers() const {
    std::vector<std::string> out;
    for (const auto& w : workers_) {
        if (w.killed_at_timeout) out.push_back(fmt::format("{} (pid {})", w.id.text(), w.pid));
    }
    return out;
}

int MasterState::exit_code() const {
    if (start_failed_) return 3;
    int worst = durability_lost_ ? 6 : fast_ ? 5 : 0;
    for (const auto& w : workers_) {
        if (w.ended_while != EndedWhile::stopping || !w.ended) continue;
        const int code = w.fate == WorkerFate::drained ? w.exit.code : 7;
        if (severity(code) > severity(worst)) worst = code;
    }
    return worst;
}

bool MasterState::is_graceful(int signal) const {
    return std::find(config_.graceful_signals.begin(), config_.graceful_signals.end(), signal) != config_.graceful_signals.end();
}

bool MasterState::is_fast(int signal) const {
    return std::find(config_.fast_signals.begin(), config_.fast_signals.end(), signal) != config_.fast_signals.end();
}

} // namespace lastcall::server
