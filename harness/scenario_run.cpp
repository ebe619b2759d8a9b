#include "scenario_run.hpp"
#include "signals.hpp"

#include "load_generator.hpp"
#include "samplers.hpp"
#include "scenario_loader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <ctime>
#include <deque>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lastcall::harness {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

std::uint16_t bound_port(std::uint16_t port, bool reuse) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (reuse) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::uint16_t result = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        socklen_t length = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
        result = ntohs(address.sin_port);
    }
    ::close(fd);
    return result;
}

bool is_loopback(const std::string& host) { return host.rfind("127.", 0) == 0 || host == "localhost" || host == "::1"; }

std::string timestamp() {
    const auto now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
    return text;
}

std::string last_lines(const fs::path& file, std::size_t count) {
    std::ifstream in(file);
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
        if (lines.size() > count) lines.pop_front();
    }
    std::string out;
    for (const auto& line : lines) out += "  | " + line + "\n";
    return out;
}

std::string signal_target_name(const SignalAction& a) {
    switch (a.to) {
    case SignalTarget::main: return "target";
    case SignalTarget::group: return "group";
    case SignalTarget::child: return fmt::format("child {}", a.child_index);
    }
    return "target";
}

class Run {
public:
    Run(const Scenario& scenario, const RunOptions& options) : scenario_(scenario), options_(options) {}
    RunResult execute();

private:
    struct Entry {
        const TimelineEntry* spec;
        std::optional<Clock::time_point> due;
        bool fired = false;
    };

    void prepare();
    void launch_target();
    void wait_ready();
    void tick(Clock::time_point now);
    bool condition_holds(const Condition& c) const;
    void fire(const TimelineEntry& entry, Clock::time_point now);
    bool restart_still_planned() const;
    void stop_target_ourselves();
    void read_back_state();
    void finish();
    void event(const std::string& type, json detail = json::object());
    std::int64_t since_start(Clock::time_point t) const {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - run_start_).count();
    }
    TargetProcess& target() { return *targets_.back(); }

    const Scenario& scenario_;
    const RunOptions& options_;
    RunResult result_;
    fs::path workdir_;
    TargetLaunch launch_;
    std::string report_source_;
    std::vector<std::unique_ptr<TargetProcess>> targets_;  // every generation, kept for the samplers
    Clock::time_point run_start_ = Clock::now();
    std::unique_ptr<LoadGenerator> load_;
    std::unique_ptr<ReadinessProber> prober_;
    std::unique_ptr<ProcSampler> sampler_;
    std::vector<Entry> entries_;
    std::vector<json> events_;
    std::optional<Clock::time_point> continue_at_;
    bool restart_pending_ = false;
    bool exited_ = false;
};

void Run::event(const std::string& type, json detail) {
    detail["t_us"] = since_start(Clock::now());
    detail["type"] = type;
    if (options_.event) options_.event(fmt::format("{:8.3f}s  {} {}", detail["t_us"].get<double>() / 1e6, type, detail.dump()));
    events_.push_back(std::move(detail));
}

void Run::prepare() {
    if (!is_loopback(scenario_.target.host) && !scenario_.target.allow_remote) {
        throw TargetStartError(fmt::format("{}: target.host {} is not a loopback address; set target.allow_remote: true to allow it",
                                           scenario_.file, scenario_.target.host));
    }
    result_.seed = options_.seed.value_or(scenario_.seed) + static_cast<std::uint64_t>(options_.repeat_index);
    const auto suffix = scenario_.repeat > 1 ? fmt::format("-r{}", options_.repeat_index + 1) : "";
    result_.run_dir = options_.run_dir ? *options_.run_dir / (scenario_.name + suffix)
                                       : options_.run_root / fmt::format("{}-{}{}", scenario_.name, timestamp(), suffix);
    fs::remove_all(result_.run_dir);
    workdir_ = result_.run_dir / "work";
    fs::create_directories(workdir_);
    result_.port = scenario_.target.port.value_or(bound_port(0, false));
    const auto sub = [&](const std::string& text) {
        return substitute(text, result_.port, fs::absolute(workdir_).string(), options_.server_path);
    };
    for (const auto& arg : scenario_.target.command) launch_.argv.push_back(sub(arg));
    for (const auto& arg : options_.extra_target_args) launch_.argv.push_back(sub(arg));
    for (const auto& [name, value] : scenario_.target.env) launch_.env[name] = sub(value);
    launch_.cwd = scenario_.target.cwd.empty() ? workdir_ : fs::path(sub(scenario_.target.cwd));
    launch_.stdout_file = result_.run_dir / "target.stdout";
    launch_.stderr_file = result_.run_dir / "target.stderr";
    if (!scenario_.target.shutdown_report.empty()) report_source_ = sub(scenario_.target.shutdown_report);
}

void Run::launch_target() {
    try {
        targets_.push_back(std::make_unique<TargetProcess>(launch_));
    } catch (const std::exception& e) {
        throw TargetStartError(e.what());
    }
    exited_ = false;
    event("spawn", {{"pid", target().pid()}, {"argv", launch_.argv}});
    wait_ready();
}

void Run::wait_ready() {
    const auto& ready = scenario_.target.ready;
    ProbeClient probe(scenario_.target.host, result_.port);
    const auto deadline = Clock::now() + ready.timeout;
    while (Clock::now() < deadline) {
        if (const auto exit = target().poll_exit()) {
            throw TargetStartError(fmt::format("target exited before it was ready ({}); last lines of its stderr:\n{}",
                                               exit->describe(), last_lines(launch_.stderr_file, 20)));
        }
        const bool up = ready.http_path.empty() ? probe.connect_only(std::chrono::milliseconds(100))
                                                : probe.get(ready.http_path, std::chrono::milliseconds(500)) / 100 == 2;
        if (up) {
            event("ready", {{"pid", target().pid()}});
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw TargetStartError(fmt::format("target was not ready within {} ms; last lines of its stderr:\n{}",
                                       std::chrono::duration_cast<std::chrono::milliseconds>(ready.timeout).count(),
                                       last_lines(launch_.stderr_file, 20)));
}

bool Run::condition_holds(const Condition& c) const {
    switch (c.kind) {
    case Condition::Kind::in_flight_at_least: return load_->live().in_flight >= c.threshold;
    case Condition::Kind::not_ready: return prober_ && !prober_->ready();
    case Condition::Kind::exited: return exited_;
    case Condition::Kind::after_signal: return !result_.signals.empty();
    }
    return false;
}

void Run::fire(const TimelineEntry& entry, Clock::time_point now) {
    std::visit(
        [&](const auto& action) {
            using A = std::decay_t<decltype(action)>;
            if constexpr (std::is_same_v<A, SignalAction>) {
                bool sent = false;
                if (action.to == SignalTarget::main) sent = target().signal_main(action.signal);
                if (action.to == SignalTarget::group) sent = target().signal_group(action.signal);
                if (action.to == SignalTarget::child) {
                    if (const auto child = target().child(action.child_index)) sent = ::kill(*child, action.signal) == 0;
                }
                result_.signals.push_back(SignalSent{since_start(now), action.signal, signal_target_name(action)});
                if (action.signal == SIGKILL && action.to != SignalTarget::child) {
                    load_->mark_target_killed(now);
                    result_.killed_by_scenario = true;
                }
                event("signal", {{"signal", signal_name(action.signal)}, {"to", signal_target_name(action)}, {"delivered", sent}});
            } else if constexpr (std::is_same_v<A, StopLoadAction>) {
                load_->stop(action.workloads);
                event("stop_load", {{"workloads", action.workloads}});
            } else if constexpr (std::is_same_v<A, StartLoadAction>) {
                load_->start_workload(action.workload);
                event("start_load", {{"workload", action.workload}});
            } else if constexpr (std::is_same_v<A, PauseAction>) {
                target().signal_main(SIGSTOP);
                continue_at_ = now + action.duration;
                result_.signals.push_back(SignalSent{since_start(now), SIGSTOP, "target"});
                event("signal", {{"signal", "SIGSTOP"}, {"to", "target"}, {"pause_ms", action.duration.count() / 1e6}});
            } else if constexpr (std::is_same_v<A, KillIfAliveAction>) {
                const bool alive = !target().poll_exit();
                if (alive) {
                    load_->mark_target_killed(now);
                    result_.killed_by_scenario = true;
                    target().signal_group(SIGKILL);
                    result_.signals.push_back(SignalSent{since_start(now), SIGKILL, "group"});
                }
                event("kill_if_alive", {{"was_alive", alive}});
            } else if constexpr (std::is_same_v<A, RestartTargetAction>) {
                restart_pending_ = true;
                event("restart_requested");
            }
        },
        entry.action);
}

bool Run::restart_still_planned() const {
    if (restart_pending_) return true;
    for (const auto& e : entries_) {
        if (!e.fired && std::holds_alternative<RestartTargetAction>(e.spec->action)) return true;
    }
    return false;
}

void Run::tick(Clock::time_point now) {
    if (!exited_) {
        if (const auto exit = target().poll_exit()) {
            exited_ = true;
            if (!result_.exit) {  // the run's verdicts are about the first generation, the one signalled
                result_.exit = *exit;
                result_.exit_us = since_start(now);
            }
            event("exit", {{"pid", target().pid()}, {"status", exit->describe()}, {"exited", exit->exited},
                           {"code", exit->code}, {"signal", exit->signal}});
        }
    }
    if (restart_pending_ && exited_) {
        restart_pending_ = false;
        result_.restarted = true;
        event("restart");
        launch_target();
        sampler_->retarget(target().pid());
    }
    if (continue_at_ && now >= *continue_at_) {
        continue_at_.reset();
        target().signal_main(SIGCONT);
        result_.signals.push_back(SignalSent{since_start(now), SIGCONT, "target"});
        event("signal", {{"signal", "SIGCONT"}, {"to", "target"}});
    }
    for (auto& e : entries_) {
        if (e.fired) continue;
        if (!e.due && e.spec->when && condition_holds(*e.spec->when)) e.due = now + e.spec->delay;
        if (e.due && now >= *e.due) {
            e.fired = true;
            fire(*e.spec, now);
        }
    }
}

// After a restart, reads back what the checks compare with the acknowledged history: the counter
// and the state of every job the first generation accepted (waiting, bounded, for resumed jobs).
void Run::read_back_state() {
    if (!result_.restarted) return;
    ProbeClient client(scenario_.target.host, result_.port);
    const auto& expect = scenario_.expect;
    if (expect.acked_writes_workload) {
        std::string body;
        const int status = client.get(expect.acked_writes_read, std::chrono::milliseconds(2000), &body);
        const auto at = body.find("\"value\":");
        if (status == 200 && at != std::string::npos) {
            result_.counter_after_restart = std::stoll(body.substr(at + 8));
        } else {
            result_.counter_readback_error = fmt::format("GET {} answered {} '{}'", expect.acked_writes_read, status, body);
        }
        event("readback", {{"path", expect.acked_writes_read}, {"status", status}, {"body", body}});
    }
    if (expect.jobs_accounted) {
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        for (const auto& r : load_->peek_job_ids()) {
            std::string state = "unknown";
            while (Clock::now() < deadline) {
                std::string body;
                const int status = client.get(fmt::format("/jobs/{}", r), std::chrono::milliseconds(1000), &body);
                const auto at = body.find("\"state\":\"");
                state = status == 200 && at != std::string::npos ? body.substr(at + 9, body.find('"', at + 9) - at - 9)
                                                                 : fmt::format("http {}", status);
                if (state == "completed") break;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            result_.job_states_after_restart[r] = state;
        }
        event("readback", {{"jobs", result_.job_states_after_restart.size()}});
    }
}

void Run::stop_target_ourselves() {
    // The scenario is over but the target still runs: end it the way an orchestrator would.
    event("cleanup", {{"action", "SIGTERM, then SIGKILL after 5 s"}});
    target().signal_main(SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!target().poll_exit() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!target().poll_exit()) target().signal_group(SIGKILL);
}

RunResult Run::execute() {
    prepare();
    launch_target();
    run_start_ = Clock::now();
    result_.run_start_unix_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    event("start");
    std::size_t expected = 1 << 16;
    for (const auto& w : scenario_.workloads) {
        if (w.mode == LoadMode::open) {
            expected += static_cast<std::size_t>(w.rate * std::chrono::duration<double>(scenario_.max_duration).count());
        }
    }
    load_ = std::make_unique<LoadGenerator>(
        scenario_.workloads, LoadOptions{scenario_.target.host, result_.port, scenario_.threads, run_start_, std::min<std::size_t>(expected, 4'000'000)});
    prober_ = std::make_unique<ReadinessProber>(scenario_.target.host, result_.port, scenario_.target.ready.http_path, run_start_);
    sampler_ = std::make_unique<ProcSampler>(target().pid(), run_start_, [this] {
        return static_cast<int>(targets_.back()->observe_descendants().size());
    });
    std::mt19937_64 rng(result_.seed);
    std::uniform_real_distribution<double> jitter(-1.0, 1.0);
    for (const auto& spec : scenario_.timeline) {
        Entry e{&spec, std::nullopt};
        if (spec.at) {
            auto at = *spec.at + spec.delay;
            if (scenario_.jitter > Duration::zero()) {
                at += Duration(static_cast<Duration::rep>(jitter(rng) * static_cast<double>(scenario_.jitter.count())));
            }
            e.due = run_start_ + std::max(at, Duration::zero());
        }
        entries_.push_back(e);
    }
    load_->start();

    auto next_status = run_start_;
    for (;;) {
        const auto now = Clock::now();
        if (options_.interrupted && options_.interrupted->load()) {
            result_.interrupted = true;
            event("interrupted");
            break;
        }
        if (now - run_start_ >= scenario_.max_duration) {
            result_.limit_reached = true;
            event("limit", {{"max_duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(scenario_.max_duration).count()}});
            break;
        }
        tick(now);
        if (exited_ && !restart_still_planned()) break;
        const bool timeline_done = std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) { return e.fired; });
        if (!exited_ && timeline_done && !continue_at_ && load_->all_workloads_done()) {
            read_back_state();
            stop_target_ourselves();
            tick(Clock::now());
            break;
        }
        if (options_.status && now >= next_status) {
            next_status = now + std::chrono::milliseconds(250);
            const auto live = load_->live();
            options_.status(fmt::format("{:6.1f}s  in-flight {:4}  done {:6}  ok {} ebs {} rejected {} dropped {} race {} error {} unknown {}",
                                        since_start(now) / 1e6, live.in_flight, live.completed, live.by_outcome[0], live.by_outcome[1],
                                        live.by_outcome[2], live.by_outcome[3], live.by_outcome[4], live.by_outcome[5], live.by_outcome[6]));
        }
        // Sleep one millisecond, or less if the target exits meanwhile.
        pollfd p{target().pidfd(), POLLIN, 0};
        if (p.fd >= 0) ::poll(&p, 1, 1);
        else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    finish();
    return result_;
}

void Run::finish() {
    load_->finish(std::chrono::seconds(1));
    if (!target().poll_exit()) {
        target().kill_everything();
        while (!target().poll_exit()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (!result_.exit) {
            result_.exit = target().exit_status();
            result_.exit_us = since_start(Clock::now());
            event("exit", {{"pid", target().pid()}, {"status", result_.exit->describe()}, {"by", "lastcall"}});
        }
    }
    prober_->stop();
    sampler_->stop();
    result_.readiness = prober_->changes();
    result_.duration_us = since_start(Clock::now());
    result_.port_released = bound_port(result_.port, true) == result_.port;
    result_.orphans = target().survivors();
    if (!result_.orphans.empty()) {
        event("orphans", {{"pids", result_.orphans}});
        target().kill_everything();  // reported, then cleaned up: lastcall leaves nothing behind
        // As a child subreaper (see cli/main.cpp) lastcall inherited them: reap what it killed.
        const auto deadline = Clock::now() + std::chrono::milliseconds(200);
        for (const auto pid : result_.orphans) {
            while (::waitpid(pid, nullptr, WNOHANG) == 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    for (const auto& change : result_.readiness) {
        events_.push_back({{"t_us", change.t_us}, {"type", "readiness"}, {"ready", change.ready}, {"status", change.status}});
    }
    std::stable_sort(events_.begin(), events_.end(), [](const json& a, const json& b) { return a["t_us"] < b["t_us"]; });

    auto& history = result_.history;
    history = load_->take_history();
    result_.requests = history.size();
    for (const auto& w : scenario_.workloads) result_.workload_names.push_back(w.name);
    result_.samples = sampler_->samples();
    result_.latency = load_->latency();
    {
        std::ofstream out(result_.run_dir / "history.jsonl");
        for (const auto& r : history) {
            ++result_.outcomes[static_cast<std::size_t>(r.outcome)];
            out << to_json_line(r, scenario_.workloads[r.workload].name) << '\n';
        }
    }
    {
        std::ofstream out(result_.run_dir / "events.jsonl");
        for (const auto& e : events_) out << e.dump() << '\n';
    }
    {
        std::ofstream out(result_.run_dir / "samples.jsonl");
        for (const auto& s : result_.samples) {
            out << json{{"t_us", s.t_us}, {"fds", s.fds}, {"threads", s.threads}, {"descendants", s.descendants}, {"rss_kib", s.rss_kib}}.dump()
                << '\n';
        }
    }
    if (!report_source_.empty() && fs::exists(report_source_)) {
        result_.shutdown_report_path = (result_.run_dir / "shutdown-report.json").string();
        fs::copy_file(report_source_, result_.shutdown_report_path, fs::copy_options::overwrite_existing);
        std::ifstream in(result_.shutdown_report_path);
        result_.shutdown_report.assign(std::istreambuf_iterator<char>(in), {});
    }
    json outcomes = json::object();
    for (int i = 0; i < outcome_count; ++i) outcomes[std::string(to_string(static_cast<Outcome>(i)))] = result_.outcomes[static_cast<std::size_t>(i)];
    json signals = json::array();
    for (const auto& s : result_.signals) signals.push_back({{"t_us", s.t_us}, {"signal", signal_name(s.signal)}, {"to", s.to}});
    json run = {
        {"version", 1},
        {"scenario", scenario_.name},
        {"file", scenario_.file},
        {"seed", result_.seed},
        {"port", result_.port},
        {"exit", result_.exit ? json{{"status", result_.exit->describe()}, {"exited", result_.exit->exited},
                                     {"code", result_.exit->code}, {"signal", result_.exit->signal}, {"t_us", result_.exit_us}}
                              : json(nullptr)},
        {"signals", signals},
        {"requests", result_.requests},
        {"outcomes", outcomes},
        {"port_released", result_.port_released},
        {"orphans", result_.orphans},
        {"limit_reached", result_.limit_reached},
        {"interrupted", result_.interrupted},
        {"duration_us", result_.duration_us},
        {"expect", scenario_.expect_yaml},
    };
    std::ofstream(result_.run_dir / "run.json") << run.dump(2) << '\n';
}

} // namespace

std::string substitute(std::string text, std::uint16_t port, const std::string& workdir, const std::string& server) {
    const std::pair<std::string, std::string> replacements[] = {
        {"{port}", std::to_string(port)}, {"{workdir}", workdir}, {"{server}", server}};
    for (const auto& [from, to] : replacements) {
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
    }
    return text;
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
    Run run(scenario, options);
    return run.execute();
}

} // namespace lastcall::harness
