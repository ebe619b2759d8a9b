#include "server.hpp"

#include "app_state.hpp"
#include "counter_setup.hpp"
#include "job_store.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "routes.hpp"
#include "state_layout.hpp"
#include "worker_control.hpp"

#include "lastcall/coordinator/asio_clock.hpp"
#include "lastcall/coordinator/coordinator.hpp"
#include "lastcall/coordinator/io_context.hpp"
#include "lastcall/coordinator/signal_intake.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <spawn.h>
#include <thread>
#include <utility>
#include <vector>
#include <unistd.h>

extern char** environ;

namespace lastcall::server {

namespace net = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long each step of the start took, for the "started" line: a worker that boots slowly on a
// busy machine (a reload waits for it) says where the time went.
class BootClock {
public:
    void lap(const char* step) {
        const auto now = std::chrono::steady_clock::now();
        laps_.emplace_back(step, std::chrono::duration<double, std::milli>(now - last_).count());
        last_ = now;
    }
    void add_to(log::Line& line) const {
        for (const auto& [step, ms] : laps_) line.field(step, std::round(ms * 10) / 10);
    }

private:
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    std::vector<std::pair<const char*, double>> laps_;
};


coordinator::ShutdownConfig shutdown_config(const ServerConfig& config) {
    coordinator::ShutdownConfig shutdown{config.budgets, config.signals, config.state_dir / "shutdown-report.json"};
    auto& graceful = shutdown.signals.graceful;
    if (config.faults.has(Fault::no_drain)) shutdown.signals = {{}, {}};  // default dispositions: die at once
    if (config.faults.has(Fault::ignore_sigterm)) {
        graceful.erase(std::remove(graceful.begin(), graceful.end(), SIGTERM), graceful.end());
        ::signal(SIGTERM, SIG_IGN);
    }
    if (config.faults.has(Fault::slow_exit)) {
        auto& b = shutdown.budgets;
        b.global = b.drain = b.tasks = b.task_cancel_grace = b.cleanup = 24h;
    }
    return shutdown;
}

void start_orphan_child() {
    pid_t pid = 0;
    const char* argv[] = {"sleep", "600", nullptr};
    if (::posix_spawnp(&pid, "sleep", nullptr, nullptr, const_cast<char**>(argv), environ) == 0) {
        log::warn("fault orphan-child: started a child that will outlive the server").field("pid", static_cast<int>(pid));
    }
}

void register_resources(coordinator::Coordinator& coordinator, JobStore& jobs, ServerCounter& counter,
                        net::io_context& io, const ServerConfig& config) {
    // Registered first, closed last: tasks write to it until they stop.
    coordinator.resources().add_blocking("jobs-database", 2s, [&jobs] { jobs.close(); });
    coordinator.resources().add_blocking(counter.store ? "counter-journal" : "shared-counter", 2s,
                                         [&counter] { counter.counter().close(); });
    // No "stderr-log" resource: every log line is one write(2), in the kernel before the process
    // exits. fsync on it guarded only against power loss, for lines nobody acknowledged, and stalled
    // on unrelated writeback: 1976 ms under a busy disk, past its 1 s budget, so a correct drain
    // exited 4 (a soak with CPU and build noise). Under systemd or Docker stderr is a pipe anyway.
    if (config.faults.has(Fault::slow_exit)) {
        const auto slow = config.budgets.global + 2s;
        coordinator.resources().add("slow-flush", 24h, [&io, slow](coordinator::ResourceRegistry::Done done) {
            auto timer = std::make_shared<net::steady_timer>(io, slow);
            timer->async_wait([timer, done](const boost::system::error_code&) { done({}); });
        });
    }
}

// A prefork worker takes over the jobs its master hands it: those of a worker that ended, or ("*")
// every job an earlier run of the service left. The claim (one UPDATE: each job resumes once) runs
// on the database thread; the jobs then start on the io threads like any other.
void claim_jobs(AppState& app, const std::string& from) {
    net::post(app.database, [&app, from] {
        std::vector<Job> jobs;
        try {
            const auto& me = app.jobs.owner();
            jobs = from == "*" ? app.jobs.claim_all_but(me.substr(0, me.find('/') + 1)) : app.jobs.claim(from);
        } catch (const std::exception& e) {
            log::error("cannot claim jobs").field("from", from).field("error", e.what());
            return;
        }
        for (const auto& job : jobs) {
            app.jobs_resumed.fetch_add(1);
            log::info("job resumed")
                .field("id", job.id)
                .field("from", from)
                .field("done_steps", job.done_steps)
                .field("steps", job.steps);
            net::post(app.io, [&app, job] { start_job_task(app, job); });
        }
    });
}

void resume_unfinished_jobs(AppState& app) {
    for (const auto& job : app.jobs.unfinished()) {
        app.jobs.mark_resumed(job.id);
        app.jobs_resumed.fetch_add(1);
        log::info("job resumed").field("id", job.id).field("done_steps", job.done_steps).field("steps", job.steps);
        start_job_task(app, job);
    }
}

} // namespace

int run_server(const ServerConfig& config) {
    BootClock boot;
    const bool prefork_worker = config.control_fd >= 0;
    prepare_state_dir(config.state_dir, !prefork_worker);
    boot.lap("state_dir_ms");
    StreamPositions streams;
    auto counter = open_counter(config, streams);
    boot.lap("counter_ms");
    CounterStore* store = counter.store.get();  // null in a prefork worker: no checkpoint to take
    std::unique_ptr<JobStore> jobs;
    try {
        // A prefork worker's jobs are the service's: one file, each job owned by the worker running it.
        const auto& dir = config.shared_state_dir.empty() ? config.state_dir : config.shared_state_dir;
        jobs = std::make_unique<JobStore>(dir / "jobs.db", config.job_owner);
    } catch (const std::exception& e) {
        throw StartupError(e.what());
    }
    boot.lap("jobs_ms");

    coordinator::IoContext io(static_cast<int>(config.threads));
    coordinator::AsioClock clock(io);
    coordinator::Coordinator coordinator(clock, shutdown_config(config));
    if (store) coordinator.set_checkpointer(&store->checkpointer());
    // Draining tells the connections in batches that any io thread takes, so that all of them close
    // idle connections from the start (told one by one from the coordinator's thread, that thread
    // spent the first 5-25 ms of a 10,000-connection drain posting while the other closed).
    coordinator.set_connection_spread([&io](std::function<void()> batch) { net::post(io, std::move(batch)); });
    // Declared after the store: destroyed (joined) before it.
    net::thread_pool database(1);
    AppState app{config, coordinator, *jobs, database, counter.counter(), io, {}, streams};

    boost::system::error_code address_error;
    const auto address = net::ip::make_address(config.host, address_error);
    if (address_error) throw StartupError(fmt::format("bad --host '{}': {}", config.host, address_error.message()));
    std::unique_ptr<Listener> listener;
    try {
        listener = config.listen_fd >= 0 ? std::make_unique<Listener>(io, app, config.listen_fd)
                                         : std::make_unique<Listener>(io, app, net::ip::tcp::endpoint(address, config.port));
    } catch (const boost::system::system_error& e) {
        throw StartupError(fmt::format("cannot listen on {}:{}: {}", config.host, config.port, e.code().message()));
    } catch (const std::runtime_error& e) {
        throw StartupError(e.what());
    }
    app.connection_closed = [&listener] { listener->connection_closed(); };

    int exit_code = coordinator::exit_code::clean;
    coordinator.set_hooks(coordinator::CoordinatorHooks{
        .stop_accepting =
            [&] {
                if (store && config.faults.has(Fault::checkpoint_early)) store->freeze_snapshot();
                if (coordinator.retiring()) listener->retire();
                else listener->stop();
            },
        .drain_ended = [&] { listener->close_now(); },
        .snapshot = [&]() -> std::optional<std::string> {
            if (!store || config.faults.has(Fault::skip_checkpoint)) return std::nullopt;
            return store->snapshot();
        },
        .checkpointed = [&](std::uint64_t) { store->checkpointed(); },
        .exited =
            [&](const coordinator::ShutdownReport& report, const std::string& report_error) {
                if (!report_error.empty()) log::error("cannot write shutdown report").field("error", report_error);
                log::info("shutdown complete")
                    .field("exit_code", report.exit_code)
                    .field("mode", coordinator::to_string(report.mode))
                    .field("total_ms", std::chrono::duration<double, std::milli>(report.total).count());
                exit_code = report.exit_code;
                io.stop();
            },
    });
    register_resources(coordinator, *jobs, counter, io, config);
    counter.counter().start([&coordinator](const std::string& error) {
        log::error("counter not durable (journal or shared database failed): acknowledgements stop, shutting down")
            .field("error", error);
        coordinator.fail_durability(error);
    });
    // A prefork worker takes its signals with what its master said before them.
    std::optional<coordinator::SignalIntake> signals;
    std::optional<WorkerControl> control;
    if (config.control_fd >= 0) control.emplace(io, config.control_fd, coordinator);
    else signals.emplace(io, coordinator);
    if (config.faults.has(Fault::orphan_child)) start_orphan_child();

    const auto endpoint = listener->local_endpoint();
    if (!control) {  // a worker's master says it once for all of them
        fmt::print("listening {}:{}\n", endpoint.address().to_string(), endpoint.port());
        std::fflush(stdout);
    }
    log_recovery(counter, streams.size());
    boot.lap("listen_ms");
    {
        auto started = log::info("started");  // written when it goes out of scope, below
        started.field("port", static_cast<unsigned>(endpoint.port()))
            .field("pid", static_cast<int>(::getpid()))
            .field("threads", config.threads)
            .field("counter", counter.counter().durable_value())
            .field("faults", config.faults.names());
        boot.add_to(started);
    }
    // A prefork worker resumes only what its master hands over, so that no job runs twice.
    if (config.shared_state_dir.empty()) resume_unfinished_jobs(app);
    listener->start();
    if (control) {
        control->on_claim([&app](const std::string& from) { claim_jobs(app, from); });
        control->send_ready();
    }

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < config.threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& thread : threads) thread.join();
    // Everything that had to be closed or made durable already was. What the io_context still
    // holds goes now, before the coordinator it releases into (a crash the double-signal scenario
    // caught when it went later); then every local ends normally, so sanitizers see a real exit.
    io.destroy_pending_work();
    return exit_code;
}

} // namespace lastcall::server
