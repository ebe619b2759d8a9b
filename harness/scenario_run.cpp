#include "scenario_run.hpp"

#include "conductor.hpp"
#include "process_kills.hpp"
#include "proxy/upstream_answers.hpp"
#include "run_artifacts.hpp"
#include "signals.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <poll.h>
#include <thread>
#include <unistd.h>

namespace lastcall::harness {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

SupervisorOptions Conductor::supervisor_options(const std::string& workdir) const {
    const auto sub = [&](const std::string& text) { return substitute(text, result_.port, workdir, options_.server_path); };
    SupervisorOptions o;
    for (const auto& arg : scenario_.target.command) o.argv.push_back(sub(arg));
    for (const auto& arg : options_.extra_target_args) o.argv.push_back(sub(arg));
    for (const auto& [name, value] : scenario_.target.env) o.env[name] = sub(value);
    o.cwd = scenario_.target.cwd.empty() ? fs::path(workdir) : fs::path(sub(scenario_.target.cwd));
    o.address = address_;
    o.port = result_.port;
    o.ready = scenario_.target.ready;
    o.pid1 = scenario_.target.pid1;
    if (!scenario_.target.shutdown_report.empty()) o.report_source = sub(scenario_.target.shutdown_report);
    o.adopt_orphans = options_.adopt_orphans;
    o.interrupted = options_.interrupted;
    return o;
}

// The run directory, the port, the first generation up and ready. False: `start_error` says why.
bool Conductor::start_first_generation() {
    result_.seed = seed();
    result_.began_unix_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    try {
        dir_ = RunDirectory::create(options_.run_dir.value_or(options_.run_root), options_.run_dir.has_value(), scenario_.name,
                                    options_.repeat_index, options_.repeats);
    } catch (const RunDirectoryError& e) {
        result_.start_error = e.what();
        return false;
    }
    result_.run_dir = dir_->path();
    // Resolved once; "loopback" is decided from the address, not from how the host is spelled.
    auto resolved = resolve_host(scenario_.target.host);
    if (!resolved.address) {
        result_.start_error = fmt::format("{}: target.host {}: {}", scenario_.file, scenario_.target.host, resolved.error);
        return false;
    }
    address_ = *resolved.address;
    if (!address_.is_loopback() && !scenario_.target.allow_remote) {
        result_.start_error = fmt::format("{}: target.host {} is not a loopback address; set target.allow_remote: true to allow it",
                                          scenario_.file, address_.describe());
        return false;
    }
    result_.port = scenario_.target.port.value_or(pick_free_port(address_));
    if (result_.port == 0) {
        result_.start_error = fmt::format("{}: no free port on {}", scenario_.file, address_.describe());
        return false;
    }
    // Before the first spawn, so no end of the target's processes goes untold.
    std::string no_kernel;
    kernel_ = ProcConnector::open(&no_kernel);
    result_.process_events = kernel_ ? "kernel (netlink process connector): exact ends and statuses"
                                     : "scan (/proc every 50 ms; ends without status): " + no_kernel;
    auto options = supervisor_options(fs::absolute(dir_->workdir()).string());
    result_.target_command = options.argv;
    supervisor_ = std::make_unique<Supervisor>(std::move(options), *dir_, events_);
    const auto& ready = scenario_.target.ready;
    show_phase(RunPhase::starting, ready.http_path.empty() ? fmt::format("waiting for the target to accept a TCP connection on port {}", result_.port)
                                                           : fmt::format("waiting for the target to answer GET {} on port {} with 2xx", ready.http_path, result_.port));
    try {
        supervisor_->start_generation();
        result_.containment = supervisor_->containment();  // as it turned out (cgroup fallback, pid namespace)
    } catch (const TargetSkipped& e) {
        result_.containment = supervisor_->containment();
        result_.skipped = e.what();
        events_.record("skipped", {{"why", e.what()}});
        return false;
    } catch (const TargetStartError& e) {
        result_.containment = supervisor_->containment();
        result_.start_error = e.what();
        return false;
    } catch (const RunInterrupted&) {
        result_.interrupted = true;
        events_.record("interrupted");
        return false;
    }
    return true;
}

// False: the proxy could not start (`start_error`).
bool Conductor::start_observers() {
    run_start_ = Clock::now();
    events_.set_start(run_start_);
    result_.run_start_unix_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    events_.record("start", {{"seed", result_.seed}});
    std::uint16_t load_port = result_.port;
    if (scenario_.proxy) {
        try {
            proxy_ = std::make_unique<proxy::ReverseProxy>(address_, result_.port, *scenario_.proxy, run_start_);
        } catch (const std::exception& e) {
            result_.start_error = fmt::format("{}: lastcall's proxy could not start: {}", scenario_.file, e.what());
            return false;
        }
        load_port = proxy_->port();
        result_.proxied = true;
        events_.record("proxy", {{"port", load_port}, {"endpoint_lag_us", micros(scenario_.proxy->endpoint_lag)}});
    }
    LoadOptions load{address_.literal(), load_port, scenario_.threads, run_start_};
    load.address = address_;
    load.history_dir = result_.run_dir;  // beside what it becomes (history.jsonl), not in a tmpfs
    load.history_bytes = scenario_.history_bytes;
    load_ = std::make_unique<LoadGenerator>(scenario_.workloads, std::move(load));
    prober_ = std::make_unique<ReadinessProber>(address_, result_.port, scenario_.target.ready.http_path, run_start_);
    sampler_ = std::make_unique<ProcSampler>(supervisor_->current().pid, result_.port, run_start_,
                                             [this] { return static_cast<int>(supervisor_->family().observe().size()); });
    load_->start();
    return true;
}

bool Conductor::step(Clock::time_point now) {
    if (interrupted()) {
        result_.interrupted = true;
        events_.record("interrupted");
        return false;
    }
    if (now - run_start_ >= scenario_.max_duration) {
        result_.limit_reached = true;
        events_.record("limit", {{"max_duration_ms", micros(scenario_.max_duration) / 1000}});
        return false;
    }
    if (!exit_seen_ && supervisor_->poll_exit()) {
        exit_seen_ = true;
        if (died_before_the_first_signal()) return false;
        next_status_ = now;  // the exit is shown at once: the run may end on this very step
        show_status(now);
    }
    if (restart_pending_ && exit_seen_) restart();
    const TimelineConditions conditions{load_->live().in_flight, prober_->ready(), exit_seen_,
                                        std::any_of(result_.signals.begin(), result_.signals.end(),
                                                    [](const SignalSent& s) { return s.marks_shutdown(); })};
    for (const auto& due : timeline_.advance(now - run_start_, conditions)) {
        fire(due);
        if (over_) break;
    }
    if (over_ || result_.interrupted) return false;
    // Behind the proxy, clients still reach the exited target until the endpoint is removed.
    const bool proxy_routes = proxy_ && proxy_->removal_pending(now);
    if (exit_seen_ && !restart_pending_ && !timeline_.restart_planned() && !proxy_routes) return false;
    if (!exit_seen_ && timeline_.done() && load_->all_workloads_done()) {
        // A generation already told to shut down is left to it (until max_duration): a SIGTERM of
        // ours microseconds after the scenario's would be a second signal, which many servers
        // take as "stop now" (uvicorn, lastcall-server), and Python dies of it in its finalization.
        const int current = supervisor_->current().number;
        const bool told = std::any_of(result_.signals.begin(), result_.signals.end(), [current](const SignalSent& s) {
            return s.generation == current && s.marks_shutdown();
        });
        if (told && !result_.restarted) {  // after a restart, what is read back comes first
            show_status(now);
            return true;
        }
        const bool any_told = std::any_of(result_.signals.begin(), result_.signals.end(), [](const SignalSent& s) { return s.marks_shutdown(); });
        if (!any_told) result_.ended_by_lastcall = fmt::format("the timeline sent no shutdown signal; lastcall stopped the target itself (SIGTERM, "
                                                "SIGKILL 5 s later) when the timeline and the load were done, at {:.2f} s",
                                                static_cast<double>(since_start(now)) / 1e6);
        read_back();
        supervisor_->stop(std::chrono::seconds(5));
        return false;
    }
    show_status(now);
    return true;
}

// A target that was ready and then died on its own before the scenario's first signal (gunicorn
// whose workers cannot import the app: the master listens, then exits 3; a server that crashes
// under the load) never had its shutdown tried. It started, so it is not docs/design.md's exit 3 (could
// not be started): the service failed, and one failed check says how, when and the last of its
// stderr, instead of a row of checks that read as a bad shutdown.
bool Conductor::died_before_the_first_signal() {
    const auto& g = supervisor_->current();
    const bool signal_planned = std::any_of(scenario_.timeline.begin(), scenario_.timeline.end(),
                                            [](const TimelineEntry& e) { return std::holds_alternative<SignalAction>(e.action); });
    if (g.number != 1 || !g.exit || !signal_planned || !result_.signals.empty()) return false;
    result_.died_before_signal = fmt::format("the target {} at {:.2f} s, before the first signal; {}", g.exit->ended(),
                                             static_cast<double>(since_start(g.exited)) / 1e6, supervisor_->stderr_said(g.number));
    events_.record("died_before_signal", {{"generation", g.number}, {"status", g.exit->describe()}});
    show_phase(RunPhase::exited, fmt::format("{} at {:.2f}s, before the first signal", g.exit->describe(), static_cast<double>(since_start(g.exited)) / 1e6));
    return true;
}

void Conductor::play() {
    while (step(Clock::now())) {
        // One millisecond, or less if the target exits meanwhile.
        pollfd p{supervisor_->wait_fd(), POLLIN, 0};
        if (p.fd >= 0 && !exit_seen_) ::poll(&p, 1, 1);
        else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void Conductor::wrap_up() {
    if (load_ && !result_.interrupted) show_phase(RunPhase::finishing, "stopping the load, writing the run directory");
    if (load_) load_->finish(std::chrono::seconds(1));
    if (proxy_) proxy_->stop();
    if (supervisor_ && supervisor_->has_generation() && !supervisor_->poll_exit()) {
        // Out of time, interrupted, or a run that cannot go on: end the target at once.
        if (result_.limit_reached && !result_.interrupted) {
            result_.ended_by_lastcall = fmt::format("limits.max_duration ({}) was reached with the target still running: lastcall killed it (SIGKILL)",
                                                    format_duration(scenario_.max_duration));
        }
        if (result_.limit_reached || result_.interrupted) supervisor_->kill_now();
        else supervisor_->stop(std::chrono::seconds(5));
    }
    if (prober_) prober_->stop();
    if (sampler_) sampler_->stop();
    if (supervisor_) supervisor_->finish(std::chrono::milliseconds(500));
    if (supervisor_ && supervisor_->has_generation()) result_.port_released = port_bindable(address_, result_.port);
}

void Conductor::collect() {
    result_.duration_us = since_start(Clock::now());
    for (const auto& w : scenario_.workloads) result_.workload_names.push_back(w.name);
    result_.requests_by_workload.assign(scenario_.workloads.size(), 0);
    // Before the history: a SIGKILL's cut lasts until the killed process ended (process_kills.hpp).
    if (supervisor_) {
        const auto kernel_exits = kernel_ ? kernel_->exits() : std::vector<KernelExit>{};
        if (kernel_ && kernel_->lost_events()) result_.process_events += " (the kernel dropped some events: those ends are the scan's)";
        result_.processes = process_lives(supervisor_->family().members(), run_start_, kernel_exits);
        for (const auto& p : result_.processes) record_process_events(events_, p);
    }
    // Before the history: whether the target spoke HTTP is the proxy's to say (upstream_answers.hpp),
    // and the history names the load's request that got the proxy's 502 for the first not-HTTP answer.
    if (proxy_) {
        result_.proxy_records = proxy_->take_records();
        for (const auto& e : proxy_->errors()) events_.record("harness_error", {{"what", e}});
        result_.harness_errors += proxy_->errors().size();
        result_.answers = proxy::upstream_answers(result_.proxy_records);
    }
    if (load_) {
        const auto stats = load_->history_stats();
        record_history();
        const auto read_error = load_->history_stats().error;  // sorting reads the threads' files back
        result_.history_bytes = stats.bytes;
        result_.history_limit = stats.limit;
        result_.history_limit_lowered = stats.limit_lowered;
        result_.history_dropped = stats.dropped;
        if (result_.history_error.empty()) result_.history_error = read_error;
        if (stats.dropped > 0 || !result_.history_error.empty()) {
            events_.record("history_incomplete", {{"kept", stats.records}, {"dropped", stats.dropped}, {"bytes", stats.bytes},
                                                  {"limit", stats.limit}, {"limit_lowered", stats.limit_lowered}, {"error", result_.history_error}});
        }
        result_.open_loops = load_->open_loop_tallies();
        if (!proxy_) result_.answers = load_->answers();
        result_.stream_trails = load_->take_stream_trails();
        result_.latency = load_->latency();
        // lastcall's own failures are evidence too: never silent.
        for (const auto& e : load_->harness_errors()) events_.record("harness_error", {{"request", e.request_id}, {"what", e.what}});
        result_.harness_errors += load_->harness_errors().size();  // the proxy's, above, counted too
    }
    if (prober_) result_.probes = prober_->results();
    result_.readiness = readiness_changes(result_.probes);
    for (const auto& change : result_.readiness) {
        events_.record_at_us(change.t_us, "readiness", {{"ready", change.ready}, {"status", change.status}});
    }
    if (sampler_) result_.samples = sampler_->samples();
    if (!supervisor_) return;
    for (const auto& g : supervisor_->generations()) {
        GenerationSummary s{g.number, g.pid, since_start(g.spawned), g.became_ready ? since_start(g.ready) : -1,
                            g.exit ? since_start(g.exited) : -1, g.exit, g.killed_by_lastcall, g.report, g.orphans,
                            dir_->target_stdout(g.number), dir_->target_stderr(g.number)};
        result_.orphans.insert(result_.orphans.end(), g.orphans.begin(), g.orphans.end());
        result_.generations.push_back(std::move(s));
    }
    const auto judged = static_cast<std::size_t>(result_.judged_generation - 1);
    if (judged < result_.generations.size()) {
        const auto& g = result_.generations[judged];
        result_.exit = g.exit;
        result_.exit_us = g.exit_us;
        result_.report = g.report;
    }
    // A target that answered nothing with HTTP before the signal, and something else instead, was
    // never an HTTP service to shut down: a setup error (exit 3, as a target never ready), not a
    // row of checks blaming its shutdown for requests it could never have answered.
    const auto signal = std::find_if(result_.signals.begin(), result_.signals.end(), [](const SignalSent& s) { return s.marks_shutdown(); });
    if (result_.start_error.empty() && result_.died_before_signal.empty()) {
        std::vector<std::string> workload_names;
        for (const auto& w : scenario_.workloads) workload_names.push_back(w.name);
        result_.start_error = not_http_verdict(result_.answers, signal == result_.signals.end() ? -1 : signal->t_us, result_.requests, workload_names);
        if (!result_.start_error.empty()) events_.record("not_http", {{proxy_ ? "proxy_record" : "request", result_.answers.first_not_http_request},
                                                                      {"began", escape_bytes(result_.answers.first_not_http_bytes)}});
        if (proxy_) result_.start_error = proxy::seen_through_proxy(result_.start_error);
    }
    // As above, a target that took no request before the signal though some were attempted: the
    // checks would judge a shutdown with nothing in it (refusals after it look like clean ones).
    if (result_.start_error.empty() && result_.died_before_signal.empty()) {
        result_.start_error = answered_nothing_verdict(result_.answers, signal == result_.signals.end() ? -1 : signal->t_us);
        if (!result_.start_error.empty()) events_.record("answered_nothing", {{proxy_ ? "proxy_record" : "request", result_.answers.first_unconnected_request},
                                                                              {"connects_failed", result_.answers.unconnected}});
        if (proxy_) result_.start_error = proxy::seen_through_proxy(result_.start_error);
    }
}

// The threads' history files sorted into the run's one history (run_history.hpp), tallied on the
// way: memory stays bounded whatever the run's length. What the scenario's own process kills cut is
// marked `unknown` before anything counts it.
void Conductor::record_history() {
    // The counts are of what happened: the counters kept beside the history, which past
    // limits.history_bytes dropped records (harness_errors says so) but never stopped counting.
    const auto stats = load_->history_stats();
    result_.outcomes = stats.outcomes;
    for (const auto n : stats.outcomes) result_.requests += n;
    for (std::size_t i = 0; i < stats.by_workload.size() && i < result_.requests_by_workload.size(); ++i) result_.requests_by_workload[i] = stats.by_workload[i];
    std::size_t cut = 0;
    const auto cuts = kill_cuts(result_.signals, result_.processes);
    // A recorded request a process kill cut moves to `unknown` (a dropped one is counted as it
    // ended: its times went with it).
    const auto shutdown = std::find_if(result_.signals.begin(), result_.signals.end(), [](const SignalSent& s) { return s.marks_shutdown(); });
    const auto signal_us = shutdown == result_.signals.end() ? std::int64_t{-1} : shutdown->t_us;
    std::size_t held = 0;
    auto& answers = result_.answers;  // with proxy: the proxy's view, which names no workload (upstream_answers.hpp)
    const auto adjust = [&](RequestRecord& r) {
        if (proxy_ && r.proxy_record != 0 && r.proxy_record == answers.first_not_http_request && answers.first_not_http_us >= 0) {
            answers.first_not_http_workload = r.workload;
            answers.first_not_http_sent_us = r.sent_us;
        }
        if (refused_after_being_held(r, signal_us)) {  // history.hpp: no clean rejection
            ++held;
            --result_.outcomes[static_cast<std::size_t>(Outcome::rejected)];
            ++result_.outcomes[static_cast<std::size_t>(Outcome::dropped)];
            r.outcome = Outcome::dropped;
        }
        const auto was = static_cast<std::size_t>(r.outcome);
        if (!mark_cut_by_process_kills(r, cuts)) return;
        ++cut;
        --result_.outcomes[was];
        ++result_.outcomes[static_cast<std::size_t>(Outcome::unknown)];
    };
    // Sorting writes the history twice more (sorted runs, then the file kept) before the threads'
    // files go: where that would not fit, the run says so rather than fill the disk unasked.
    const auto bytes = stats.bytes;
    std::error_code ec;
    const auto space = std::filesystem::space(result_.run_dir, ec);
    if (!ec && space.available < 2 * bytes) {
        result_.history_error = fmt::format("the history ({} bytes) was not sorted: that needs twice as much free space in {}, which has {} bytes",
                                            bytes, result_.run_dir.string(), space.available);
        load_->for_each_record([&](const RequestRecord& r) {  // counted all the same
            auto copy = r;
            adjust(copy);
        });
    } else {
        try {
            result_.recorded = RunHistory::sort(result_.run_dir, [this](const RecordVisitor& visit) { return load_->for_each_record(visit); }, adjust);
            result_.history_error = result_.recorded->error();
        } catch (const std::runtime_error& e) {
            result_.history_error = e.what();
        }
    }
    if (cut > 0) events_.record("cut_by_process_kill", {{"requests", cut}});
    if (held > 0) events_.record("refused_after_being_held", {{"requests", held}});
}

void Conductor::write_artifacts() {
    if (!dir_) return;
    try {
        write_run_artifacts(*dir_, scenario_, result_, events_.sorted());
    } catch (const RunDirectoryError& e) {
        events_.record("artifact_error", {{"error", e.what()}});
        if (result_.start_error.empty()) result_.start_error = e.what();
    }
}

RunResult Conductor::execute() {
    if (start_first_generation() && start_observers()) play();
    wrap_up();
    collect();
    write_artifacts();
    return std::move(result_);
}

std::string substitute(std::string text, std::uint16_t port, const std::string& workdir, const std::string& server) {
    const std::pair<std::string, std::string> replacements[] = {
        {"{port}", std::to_string(port)}, {"{workdir}", workdir}, {"{server}", server}};
    for (const auto& [from, to] : replacements) {
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
    }
    return text;
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
    Conductor conductor(scenario, options);
    return conductor.execute();
}

} // namespace lastcall::harness
