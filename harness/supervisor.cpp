#include "supervisor.hpp"

#include "pid_namespace.hpp"
#include "probe_client.hpp"
#include "proc_reader.hpp"
#include "signal_router.hpp"
#include "signals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <fstream>
#include <poll.h>
#include <thread>
#include <unistd.h>

namespace lastcall::harness {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string last_lines(const fs::path& file, std::size_t count) {
    std::ifstream in(file);
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line.size() > 300 ? line.substr(0, 300) + "..." : line);
        if (lines.size() > count) lines.pop_front();
    }
    std::string out;  // empty when the file is: stderr_said() says so
    for (const auto& line : lines) out += "  | " + line + "\n";
    return out;
}

std::int64_t unix_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sleeps `period`, or less when `fd` becomes readable (a pidfd: the process exited).
void nap(int fd, std::chrono::milliseconds period) {
    if (fd < 0) {
        std::this_thread::sleep_for(period);
        return;
    }
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(period.count()));
}

} // namespace

Supervisor::Supervisor(SupervisorOptions options, const RunDirectory& dir, EventLog& events)
    : options_(std::move(options)), dir_(dir), events_(events) {
    std::string why;
    cgroup_ = RunCgroup::create(&why);
    containment_ = cgroup_ ? fmt::format("cgroup {}", cgroup_->path())
                           : fmt::format("process group and /proc scan{} (no cgroup: {})",
                                         options_.adopt_orphans ? ", lastcall as child subreaper" : "", why);
    family_ = std::make_unique<ProcessFamily>(::getpid(), options_.adopt_orphans, cgroup_.get());
    reaper_ = std::make_unique<ChildReaper>(*family_);
}

Supervisor::~Supervisor() {
    try {
        kill_now();
    } catch (...) {  // a destructor must not throw; the cgroup and PDEATHSIG still end the target
    }
}

void Supervisor::start_generation() {
    Generation g;
    g.number = static_cast<int>(generations_.size()) + 1;
    TargetLaunch launch{options_.argv, options_.env, options_.cwd, dir_.target_stdout(g.number), dir_.target_stderr(g.number),
                        cgroup_ ? cgroup_->procs_fd() : -1, options_.pid1};
    if (!options_.report_source.empty()) g.report_before = FileStamp::of(options_.report_source);
    process_.reset();
    try {
        try {
            process_ = std::make_unique<TargetProcess>(launch, *reaper_);
        } catch (const CgroupJoinError& e) {
            events_.record("containment", {{"cgroup", cgroup_->path()}, {"error", e.what()}, {"fallback", "process group and /proc scan"}});
            containment_ = fmt::format("process group and /proc scan ({})", e.what());
            launch.cgroup_procs_fd = -1;
            process_ = std::make_unique<TargetProcess>(launch, *reaper_);
        }
    } catch (const PidNamespaceUnavailable& e) {
        // Nothing ran: no empty output files that would say otherwise.
        std::error_code ec;
        fs::remove(launch.stdout_file, ec);
        fs::remove(launch.stderr_file, ec);
        throw TargetSkipped(e.what());
    } catch (const std::exception& e) {
        throw TargetStartError(e.what());
    }
    if (options_.pid1 && g.number == 1) containment_ += "; " + process_->namespace_description();
    g.pid = process_->pid();
    g.spawned = Clock::now();
    g.spawned_unix_us = unix_now_us();
    family_->add_root(g.pid, g.number);
    events_.record("spawn", {{"generation", g.number}, {"pid", g.pid}, {"argv", options_.argv}, {"containment", containment_}});
    generations_.push_back(std::move(g));
    wait_ready(generations_.back());
}

void Supervisor::wait_ready(Generation& g) {
    const auto& ready = options_.ready;
    ProbeClient probe(options_.address, options_.port);
    const auto deadline = Clock::now() + ready.timeout;
    std::string last_answer = "no probe finished";
    while (Clock::now() < deadline) {
        if (interrupted()) throw RunInterrupted();
        if (const auto exit = poll_exit()) {
            const auto lived_us = std::chrono::duration_cast<std::chrono::microseconds>(g.exited - g.spawned).count();
            throw TargetStartError(fmt::format("the target {} {:.2f} s after it was started, before it was ready; {}", exit->ended(),
                                               static_cast<double>(lived_us) / 1e6, stderr_said(g.number)));
        }
        bool up = false;
        if (ready.http_path.empty()) {
            std::string why;
            up = probe.connect_only(std::chrono::milliseconds(100), &why);
            last_answer = up ? "connected" : why;
        } else {
            const auto response = probe.request(ready.http_path, std::chrono::milliseconds(500), 256);
            up = response.status / 100 == 2;
            last_answer = response.ok() ? fmt::format("GET {} answered {}", ready.http_path, response.status)
                                        : fmt::format("GET {}: {}", ready.http_path, response.error_text);
        }
        if (up) {
            g.ready = Clock::now();
            g.became_ready = true;
            events_.record("ready", {{"generation", g.number}, {"pid", g.pid}});
            return;
        }
        nap(wait_fd(), std::chrono::milliseconds(10));
    }
    throw TargetStartError(fmt::format("target was not ready within {} ms (last probe: {}); {}",
                                       std::chrono::duration_cast<std::chrono::milliseconds>(ready.timeout).count(), last_answer,
                                       stderr_said(g.number)));
}

std::string Supervisor::stderr_tail(int generation) const { return last_lines(dir_.target_stderr(generation), 20); }

std::string Supervisor::stderr_said(int generation) const {
    const auto tail = stderr_tail(generation);
    // Said when empty: a message ending in 'its stderr:' and nothing read as if cut off.
    return tail.empty() ? "its stderr is empty" : "its last stderr lines:\n" + tail;
}

int Supervisor::wait_fd() const { return process_ ? process_->pidfd() : -1; }

std::optional<TargetExit> Supervisor::poll_exit() {
    if (!process_ || generations_.empty()) return std::nullopt;
    auto& g = generations_.back();
    if (g.exit) return g.exit;
    if (const auto exit = process_->poll_exit()) on_exit(g, *exit);
    return g.exit;
}

void Supervisor::on_exit(Generation& g, const TargetExit& exit) {
    g.exit = exit;
    g.exited = reaper_->exit_time_of(g.pid).value_or(Clock::now());
    events_.record_at(g.exited, "exit",
                      {{"generation", g.number}, {"pid", g.pid}, {"status", exit.describe()}, {"exited", exit.exited}, {"code", exit.code},
                       {"signal", exit.signal}, {"by_lastcall", g.killed_by_lastcall}});
    if (!options_.report_source.empty()) {
        const auto exited_unix_us = unix_now_us() - std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - g.exited).count();
        g.report = read_target_report(options_.report_source, g.report_before, g.spawned_unix_us, exited_unix_us,
                                      dir_.shutdown_report(g.number));
        events_.record("shutdown_report", {{"generation", g.number}, {"state", std::string(to_string(g.report.state))},
                                           {"detail", g.report.detail}});
    }
}

Supervisor::SignalOutcome Supervisor::signal(const SignalAction& action) {
    SignalOutcome out;
    if (!process_ || poll_exit()) {
        out.target_gone = true;
        out.to = action.to == SignalTarget::group ? "group" : "target";
        out.delivery = {false, "the target had already exited"};
        return out;
    }
    const auto routed = route(action, process_->pid(), living_children);
    out.to = routed.to;
    out.pids = routed.pids;
    if (!routed.error.empty()) {
        out.delivery = {false, routed.error};
    } else if (routed.group) {
        out.delivery = process_->signal_group(action.signal);
    } else if (action.to == SignalTarget::main) {
        out.delivery = process_->signal_main(action.signal);
    } else {
        out.delivery = {true, {}};
        for (const auto pid : routed.pids) {
            const auto one = send_signal(pid, action.signal);
            if (!one.delivered && out.delivery.delivered) out.delivery = {false, fmt::format("pid {}: {}", pid, one.why)};
        }
    }
    return out;
}

void Supervisor::stop(std::chrono::milliseconds grace) {
    if (!process_ || poll_exit()) return;
    generations_.back().killed_by_lastcall = true;
    events_.record("cleanup", {{"action", fmt::format("SIGTERM, then SIGKILL after {} ms", grace.count())}});
    process_->signal_main(SIGTERM);
    const auto deadline = Clock::now() + grace;
    while (!poll_exit() && Clock::now() < deadline && !interrupted()) nap(wait_fd(), std::chrono::milliseconds(5));
    if (!poll_exit()) kill_now();
}

void Supervisor::kill_now() {
    if (process_ && !poll_exit()) generations_.back().killed_by_lastcall = true;
    if (cgroup_) cgroup_->kill_all();
    if (process_ && !poll_exit()) process_->signal_group(SIGKILL);
    // A generation's process group is killed only while one of the family is still in it: an
    // empty group's number may already belong to someone else.
    const auto living = family_->alive();
    for (const auto& g : generations_) {
        const bool in_use = std::any_of(living.begin(), living.end(), [&](const FamilyMember& m) { return m.group == g.pid; });
        if (in_use) ::kill(-g.pid, SIGKILL);
    }
    for (const auto& m : living) ::kill(m.pid, SIGKILL);
}

void Supervisor::finish(std::chrono::milliseconds grace) {
    // Every generation has ended by now, or ends here.
    const auto kill_deadline = Clock::now() + std::chrono::seconds(2);
    while (process_ && !poll_exit()) {
        kill_now();
        if (Clock::now() > kill_deadline) break;  // unkillable (D state): leave it to PDEATHSIG and the cgroup
        nap(wait_fd(), std::chrono::milliseconds(5));
    }
    // What outlives its generation by more than `grace` is an orphan; most children end with it.
    // The grace counts from the exit, not from now: the load may have waited up to a second for
    // requests the orphans were still answering (http.server's CGI children), and an orphan that
    // ended in that second, reaped by lastcall, was an orphan all the same.
    const auto last_exit = generations_.empty() || !generations_.back().exit ? Clock::now() : generations_.back().exited;
    const auto deadline = last_exit + grace;
    while (!family_->alive().empty() && Clock::now() < deadline && !interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::vector<std::vector<FamilyMember>> alive;
    for (const auto& g : generations_) alive.push_back(family_->alive(g.number));
    auto reaped = reaper_->take_reaped_orphans();  // after the snapshot: what ended since is in here
    for (auto& g : generations_) {
        g.orphans.clear();
        // A process with a SIGKILL pending is dead already, only not gone: it sleeps in an
        // uninterruptible wait (a worker killed with its group inside an fsync, on a stalled disk)
        // and ends when the disk returns. It did not outlive its generation; it is dying with it
        // (sigkill-counter-prefork failed `orphans` under load on one such worker).
        for (const auto& m : alive[static_cast<std::size_t>(g.number - 1)]) {
            if (sigkill_pending(m.pid)) events_.record("dying", {{"generation", g.number}, {"pid", m.pid}, {"process", m.describe()}});
            else g.orphans.push_back(m);
        }
        // Likewise one reaped late, killed by SIGKILL, of a generation that a SIGKILL ended.
        const bool generation_killed = g.exit && !g.exit->exited && g.exit->signal == SIGKILL;
        for (const auto& r : reaped) {
            const bool listed = std::any_of(g.orphans.begin(), g.orphans.end(), [&](const FamilyMember& m) { return m.pid == r.who.pid; });
            const bool died_with_it = generation_killed && !r.exit.exited && r.exit.signal == SIGKILL;
            if (!listed && !died_with_it && r.who.generation == g.number && g.exit && r.when > g.exited + grace) g.orphans.push_back(r.who);
        }
        for (const auto& m : g.orphans) events_.record("orphan", {{"generation", g.number}, {"pid", m.pid}, {"process", m.describe()}});
    }
    // Then lastcall leaves nothing behind.
    const auto gone_deadline = Clock::now() + std::chrono::seconds(2);
    while (!family_->alive().empty() && Clock::now() < gone_deadline) {
        kill_now();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (const auto& m : family_->alive()) events_.record("unkillable", {{"pid", m.pid}, {"process", m.describe()}});
    auto killed = reaper_->take_reaped_orphans();
    reaped.insert(reaped.end(), killed.begin(), killed.end());
    record_reaped_orphans(reaped);
}

void Supervisor::record_reaped_orphans(const std::vector<ReapedOrphan>& reaped) {
    for (const auto& r : reaped) {
        events_.record_at(r.when, "reaped", {{"pid", r.who.pid}, {"parent", r.who.parent}, {"process", r.who.command},
                                              {"generation", r.who.generation}, {"status", r.exit.describe()}});
    }
}

} // namespace lastcall::harness
