#pragma once
// The target's generations: spawn (own process group, the run's cgroup where there is one),
// readiness, signals, stop, kill, and every descendant however it detaches — found, named when it
// outlives its generation, killed and reaped. One generation runs at a time; a restart starts the
// next one after the current one exited. Each generation keeps its own output files and its own
// shutdown report, bound to it (target_report.hpp).
#include "child_reaper.hpp"
#include "endpoint.hpp"
#include "event_log.hpp"
#include "process_family.hpp"
#include "run_cgroup.hpp"
#include "run_directory.hpp"
#include "scenario.hpp"
#include "target_process.hpp"
#include "target_report.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lastcall::harness {

// The target could not be started, or never became ready: lastcall exits 3.
class TargetStartError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The run cannot be made as the scenario asks (target.pid1 where no PID namespace can be made):
// it is reported skipped with the reason, never run some other way.
class TargetSkipped : public TargetStartError {
public:
    using TargetStartError::TargetStartError;
};

// Ctrl+C arrived while the supervisor waited.
class RunInterrupted : public std::runtime_error {
public:
    RunInterrupted() : std::runtime_error("interrupted") {}
};

struct SupervisorOptions {
    std::vector<std::string> argv;  // substituted
    std::map<std::string, std::string> env;
    std::filesystem::path cwd;
    HostAddress address;  // where the target listens, resolved once
    std::uint16_t port = 0;
    ReadyCheck ready;
    bool pid1 = false;  // target.pid1: each generation is PID 1 of its own PID namespace
    std::filesystem::path report_source;  // where the target writes its shutdown report; empty: none
    // lastcall is the child subreaper and starts nothing but targets: every child it did not spawn
    // is an orphan of the target (the CLI sets this; a test process that runs scenarios does not).
    bool adopt_orphans = false;
    const std::atomic<bool>* interrupted = nullptr;
};

struct Generation {
    using Time = std::chrono::steady_clock::time_point;
    int number = 0;  // 1-based
    pid_t pid = -1;
    Time spawned{}, ready{}, exited{};
    std::int64_t spawned_unix_us = 0;
    bool became_ready = false;
    std::optional<TargetExit> exit;
    bool killed_by_lastcall = false;  // the run was over (or interrupted) and lastcall ended it
    FileStamp report_before;
    TargetReportReading report;
    std::vector<FamilyMember> orphans;  // its processes still alive after it exited
};

class Supervisor {
public:
    Supervisor(SupervisorOptions options, const RunDirectory& dir, EventLog& events);
    ~Supervisor();  // kills and reaps everything still alive
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Starts the next generation and waits until it is ready. Throws TargetStartError (it exited,
    // or was not ready in time: the message has the probe's last answer and its stderr's last
    // lines), TargetSkipped (target.pid1 without a namespace) or RunInterrupted.
    void start_generation();

    const Generation& current() const { return generations_.back(); }
    const std::vector<Generation>& generations() const { return generations_; }
    bool has_generation() const { return !generations_.empty(); }
    // The current generation's exit; the first time it is seen it is recorded (event, report).
    std::optional<TargetExit> poll_exit();
    int wait_fd() const;  // readable when the current generation exits; -1 if unsupported
    // The last lines of a generation's stderr, each as `  | line` (what a start error quotes).
    std::string stderr_tail(int generation) const;
    // The tail introduced ("its last stderr lines:\n..."), or "its stderr is empty".
    std::string stderr_said(int generation) const;

    struct SignalOutcome {
        Delivery delivery;
        bool target_gone = false;  // the target had already exited: nothing left to signal
        std::string to;            // "target", "group", "child 2 (pid 1234)", "workers (pids 4242, 4243)"
        std::vector<pid_t> pids;   // the processes it went to (empty for the group)
    };
    SignalOutcome signal(const SignalAction& action);
    // The scenario is over and the target still runs: SIGTERM, then SIGKILL to the whole family
    // after `grace`. Returns early on Ctrl+C (then kills at once).
    void stop(std::chrono::milliseconds grace);
    void kill_now();  // the whole family, at once
    // After the run: gives the family up to `grace` to end on its own, names what outlived its
    // generation, kills everything, reaps it and records the orphans lastcall reaped as events.
    void finish(std::chrono::milliseconds grace);

    ProcessFamily& family() { return *family_; }
    const std::string& containment() const { return containment_; }

private:
    void wait_ready(Generation& g);
    void on_exit(Generation& g, const TargetExit& exit);
    void record_reaped_orphans(const std::vector<ReapedOrphan>& reaped);
    bool interrupted() const { return options_.interrupted && options_.interrupted->load(); }

    SupervisorOptions options_;
    const RunDirectory& dir_;
    EventLog& events_;
    std::unique_ptr<RunCgroup> cgroup_;
    std::string containment_;
    std::unique_ptr<ProcessFamily> family_;
    std::unique_ptr<ChildReaper> reaper_;
    std::vector<Generation> generations_;
    std::unique_ptr<TargetProcess> process_;  // the current generation
};

} // namespace lastcall::harness
