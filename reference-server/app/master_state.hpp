#pragma once
// The policy of `lastcall-server --workers N`'s master, apart from processes and sockets so that
// tests drive it on fake time (as the coordinator's): which workers to start, forward a signal to,
// retire, replace, kill at the graceful timeout, and the exit code. The shell around it (spawning,
// the control channel, waitid) tells it what happened and carries out what it asks.
//
// Rules:
// - start: N workers; one that exits or is not ready within the boot timeout stops the start: the
//   others are killed and the master exits 3.
// - a graceful signal goes to every worker (the service stops) and arms the graceful timeout; a
//   fast signal, or a second graceful one, makes the shutdown fast; at the timeout every worker
//   still alive is killed and named a straggler.
// - a worker that dies while running is replaced in its slot (0, 100 ms, 200 ms ... 5 s apart when
//   it keeps dying); while stopping it is not.
// - a worker that exits 6 while running lost durability (its journal or the shared database
//   failed; never retried): it is not replaced, the whole service stops gracefully, as one process
//   would, and the master exits 6. A fresh worker on the database that just failed would be a retry.
// - the reload signal starts a new generation; once all of it is ready the old one retires. A new
//   worker that dies or misses the boot timeout aborts the reload (the old generation serves on).
//   One reload asked for during a reload runs after it; while stopping, none.
// - jobs: a worker that ends while the service runs leaves its unfinished jobs to one worker that
//   serves (hand_over_jobs: the worker claims them, so each resumes once); once the first
//   generation is ready, one of its workers takes every job of an earlier run of the service. While
//   stopping nothing is handed over: the jobs stay resumable for the next start.
// - exit code: the worst of 6 (a worker could not make state durable), 7 (a worker killed at the
//   timeout or crashed while stopping), 5 (fast), 4 (incomplete), 0.
#include "lastcall/coordinator/clock.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lastcall::server {

struct WorkerId {
    unsigned generation = 0;
    unsigned slot = 0;
    unsigned incarnation = 1;  // replacements in the same slot count up
    std::string text() const;  // "G.S", or "G.S#I" for a replacement
    friend bool operator==(const WorkerId&, const WorkerId&) = default;
};

struct WorkerExit {
    bool exited = true;  // false: ended by `signal`
    int code = 0;
    int signal = 0;
    std::string text() const;  // "exit 0", "killed by SIGKILL"
};

enum class WorkerFate { serving, drained, killed, crashed };
enum class EndedWhile { running, reloading, stopping };
std::string to_string(WorkerFate fate);
std::string to_string(EndedWhile when);

struct WorkerRecord {
    WorkerId id;
    pid_t pid = 0;
    coordinator::TimePoint spawned{};
    std::optional<coordinator::TimePoint> ready;
    std::optional<coordinator::TimePoint> ended;
    EndedWhile ended_while = EndedWhile::running;
    WorkerFate fate = WorkerFate::serving;
    WorkerExit exit;
    bool retiring = false;             // old generation of a reload, or told to stop with the service
    bool killed = false;             // SIGKILLed by the master (boot failure, aborted reload, timeout)
    bool killed_at_timeout = false;  // a straggler
    std::optional<WorkerId> replaced_by;
    bool alive() const { return !ended.has_value(); }
};

// What the master asks its shell to do. The shell reports back: on_spawned / on_ready / on_exit.
class MasterActions {
public:
    virtual ~MasterActions() = default;
    virtual void spawn(const WorkerId& id) = 0;
    // The service stops: tell the worker so (it closes the shared listener's queue), then signal it.
    virtual void stop(pid_t pid, int signal) = 0;
    // Retire for a reload: the service goes on in the new generation; the worker drains and exits.
    virtual void retire(pid_t pid) = 0;
    virtual void kill(pid_t pid) = 0;
    virtual void close_listener() = 0;
    virtual void open_listener() = 0;   // only after close_listener (the reload-gap fault)
    virtual void all_ready() = 0;       // the first generation is serving: announce it
    // The serving worker `to` claims the unfinished jobs of worker `from` (which has ended), or with
    // no `from`, every job of an earlier run of the service.
    virtual void hand_over_jobs(pid_t to, const std::optional<WorkerId>& from) = 0;
    virtual void exit(int code) = 0;    // every worker has ended
};

struct MasterConfig {
    unsigned workers = 2;
    std::vector<int> graceful_signals;
    std::vector<int> fast_signals;
    int reload_signal = 1;  // SIGHUP
    coordinator::Duration graceful_timeout{};
    coordinator::Duration boot_timeout{};
    // Faulty modes, to be caught by the harness.
    bool no_forward = false;          // master-no-forward: workers never hear of the shutdown
    bool reload_gap = false;          // reload-gap: the old generation stops before the new one is started
    bool no_kill_escalation = false;  // no-kill-escalation: stragglers are never killed
};

enum class MasterStage { starting, running, reloading, stopping, done };
enum class ReloadOutcome { completed, aborted };

struct ReloadRecord {
    unsigned generation = 0;
    coordinator::TimePoint started{};
    std::optional<coordinator::TimePoint> new_ready;
    std::optional<ReloadOutcome> outcome;
};

class MasterState {
public:
    MasterState(coordinator::Clock& clock, MasterConfig config, MasterActions& actions);

    void start();
    void on_spawned(const WorkerId& id, pid_t pid);
    void on_ready(pid_t pid);
    void on_exit(pid_t pid, const WorkerExit& exit);
    void on_signal(int signal);

    MasterStage stage() const { return stage_; }
    bool fast() const { return fast_; }
    std::optional<int> shutdown_signal() const { return shutdown_signal_; }
    const std::deque<WorkerRecord>& workers() const { return workers_; }
    const std::vector<ReloadRecord>& reloads() const { return reloads_; }
    std::vector<std::string> stragglers() const;
    int exit_code() const;

private:
    WorkerRecord* find(pid_t pid);
    std::vector<WorkerRecord*> alive(unsigned generation);
    std::vector<WorkerRecord*> alive_all();
    void spawn(unsigned generation, unsigned slot, unsigned incarnation);
    void begin_reload();
    void abort_reload();
    void finish_reload(ReloadOutcome outcome);
    void stop_all(int signal);
    void take_generation_ready(const WorkerRecord& w);
    void deliver_handovers();
    void stop_service(int forwarded);
    void on_boot_timeout();
    void on_graceful_timeout();
    void abort_start();
    void replace(WorkerRecord& dead);
    void maybe_finish();
    bool is_graceful(int signal) const;
    bool is_fast(int signal) const;

    coordinator::Clock& clock_;
    MasterConfig config_;
    MasterActions& actions_;
    std::unique_ptr<coordinator::Alarm> boot_alarm_;
    std::unique_ptr<coordinator::Alarm> graceful_alarm_;
    std::vector<std::unique_ptr<coordinator::Alarm>> respawn_alarms_;
    MasterStage stage_ = MasterStage::starting;
    unsigned generation_ = 0;       // the generation that serves (or starts)
    unsigned old_generation_ = 0;   // while reloading: the one that retires once the new one is ready
    bool reload_pending_ = false;
    bool start_failed_ = false;
    std::vector<std::optional<WorkerId>> handovers_;  // jobs waiting for a serving worker to claim them
    // What each worker was handed: if it dies, perhaps before it claimed, they are handed on again
    // (a claim of jobs already taken takes nothing, so this never runs a job twice).
    std::map<pid_t, std::vector<std::optional<WorkerId>>> handed_to_;
    bool durability_lost_ = false;  // a worker exited 6 while running: the service stopped for it
    bool fast_ = false;
    std::optional<int> shutdown_signal_;
    std::deque<WorkerRecord> workers_;  // every worker ever started; a deque keeps references stable
    std::vector<ReloadRecord> reloads_;
    std::vector<unsigned> slot_crashes_;  // consecutive deaths per slot, for the backoff
};

} // namespace lastcall::server
