#include "master.hpp"

#include "job_store.hpp"
#include "log.hpp"
#include "master_report.hpp"
#include "master_state.hpp"
#include "server.hpp"
#include "shared_counter.hpp"
#include "state_layout.hpp"

#include "lastcall/coordinator/asio_clock.hpp"
#include "lastcall/coordinator/phase.hpp"
#include "lastcall/coordinator/shutdown_report.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lastcall::server {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

// Above the descriptors a worker is given (3 and 4), so that every dup2 into them clears CLOEXEC.
constexpr int first_private_fd = 10;

int private_copy(int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, first_private_fd);
    ::close(fd);
    return copy;
}

// Binds host:port (0: any free port) and listens; throws StartupError.
int open_listen_socket(const std::string& host, unsigned short port, unsigned short& bound_port) {
    sockaddr_storage address{};
    socklen_t size = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        size = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        size = sizeof(sockaddr_in6);
    } else {
        throw StartupError(fmt::format("bad --host '{}': not an IP address", host));
    }
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int yes = 1;
    if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, SOMAXCONN) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        const int error = errno;
        if (fd >= 0) ::close(fd);
        throw StartupError(fmt::format("cannot listen on {}:{}: {}", host, port, std::strerror(error)));
    }
    bound_port = ntohs(address.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    return private_copy(fd);
}

WorkerExit worker_exit(int status) {
    if (WIFEXITED(status)) return WorkerExit{true, WEXITSTATUS(status), 0};
    return WorkerExit{false, 0, WIFSIGNALED(status) ? WTERMSIG(status) : 0};
}

std::int64_t unix_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The processes and sockets around MasterState: it spawns, signals and reaps workers, reads their
// ready bytes, and owns the listening socket.
class MasterShell final : public MasterActions {
public:
    MasterShell(net::io_context& io, const ServerConfig& config, std::vector<std::string> argv)
        : io_(io), config_(config), argv_(std::move(argv)),
          listener_(open_listen_socket(config.host, config.port, port_)), started_(std::chrono::steady_clock::now()) {}
    ~MasterShell() override { close_listener(); }

    void attach(MasterState& state) { state_ = &state; }
    // The first shutdown signal's moment, for the report (the workers' phases are placed against it).
    void on_signal(int signal) {
        // Read before the signal is forwarded: a worker's own signal time is then never earlier,
        // and the workers' phases never start before the master's signal (seen under load).
        const auto now = unix_now_us();
        state_->on_signal(signal);
        if (state_->shutdown_signal() && signal_at_unix_us_ == 0) signal_at_unix_us_ = now;
    }
    std::optional<int> exit_code() const { return exit_code_; }

    void spawn(const WorkerId& id) override {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return spawn_failed(id, "socketpair");
        const int master_end = private_copy(pair[0]);
        const int worker_end = private_copy(pair[1]);
        const auto state_dir = worker_state_dir(workers_dir(), id);
        std::error_code ignored;
        std::filesystem::remove(worker_report_path(workers_dir(), id), ignored);  // an earlier run's is not this one's
        auto args = argv_;
        for (const auto& extra : {"--workers", "0", "--listen-fd", "3", "--control-fd", "4", "--port", "0"}) args.emplace_back(extra);
        args.emplace_back("--state-dir");
        args.push_back(state_dir.string());
        args.emplace_back("--shared-state-dir");  // the counter and jobs all workers share
        args.push_back(config_.state_dir.string());
        args.emplace_back("--job-owner");
        args.push_back(job_owner(id));
        std::vector<char*> raw;
        for (auto& a : args) raw.push_back(a.data());
        raw.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, listener_, 3);
        posix_spawn_file_actions_adddup2(&actions, worker_end, 4);
        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        // The shutdown signals start blocked: one that comes before the worker handles them waits
        // for it (WorkerControl unblocks them), instead of killing a booting worker by default.
        sigset_t shutdown_signals;
        sigset_t every;
        sigemptyset(&shutdown_signals);
        for (int s : config_.signals.graceful) sigaddset(&shutdown_signals, s);
        for (int s : config_.signals.fast) sigaddset(&shutdown_signals, s);
        sigfillset(&every);
        posix_spawnattr_setsigmask(&attributes, &shutdown_signals);
        posix_spawnattr_setsigdefault(&attributes, &every);
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid = -1;
        const int error = ::posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, raw.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
        ::close(worker_end);
        if (error != 0) {
            ::close(master_end);
            return spawn_failed(id, std::strerror(error));
        }
        log::info("worker started").field("worker", id.text()).field("pid", static_cast<int>(pid));
        channels_[pid] = std::make_shared<net::posix::stream_descriptor>(io_, master_end);
        state_->on_spawned(id, pid);
        watch(pid);
    }

    void stop(pid_t pid, int signal) override {
        say(pid, 'C', signal);  // the word says what the signal means; the signal only wakes the worker
        ::kill(pid, signal);
    }

    void retire(pid_t pid) override {
        const int signal = config_.signals.graceful.empty() ? SIGTERM : config_.signals.graceful.front();
        say(pid, 'T', signal);
        ::kill(pid, signal);
    }

    void kill(pid_t pid) override {
        log::warn("killing a worker").field("pid", static_cast<int>(pid));
        ::kill(pid, SIGKILL);
    }

    void hand_over_jobs(pid_t to, const std::optional<WorkerId>& from) override {
        const auto owner = from ? job_owner(*from) : std::string("*");
        log::info("jobs handed over").field("to_pid", static_cast<int>(to)).field("from", owner);
        const auto found = channels_.find(to);
        const auto word = "J" + owner;  // one packet (SOCK_SEQPACKET)
        if (found != channels_.end()) ::send(found->second->native_handle(), word.data(), word.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }

    void close_listener() override {
        if (listener_ >= 0) ::close(listener_);
        listener_ = -1;
    }

    void open_listener() override {
        if (listener_ < 0) listener_ = open_listen_socket(config_.host, port_, port_);
    }

    void all_ready() override {
        fmt::print("listening {}:{}\n", config_.host, port_);
        std::fflush(stdout);
        log::info("master serving").field("port", static_cast<unsigned>(port_)).field("workers", config_.workers);
    }

    void exit(int code) override {
        const double total_ms = signal_at_unix_us_ ? static_cast<double>(unix_now_us() - signal_at_unix_us_) / 1000.0 : 0.0;
        try {
            coordinator::write_report_file(config_.state_dir / "shutdown-report.json",
                                           master_report_json(*state_, {started_, signal_at_unix_us_, workers_dir(), total_ms, code}));
        } catch (const std::exception& e) {
            log::error("cannot write the master report").field("error", e.what());
        }
        log::info("master exiting").field("exit_code", code);
        exit_code_ = code;
        io_.stop();
    }

    // After SIGCHLD: every worker that ended, in any order.
    void reap() {
        int status = 0;
        for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
            channels_.erase(pid);
            const auto exit = worker_exit(status);
            std::string id;
            for (const auto& w : state_->workers()) {
                if (w.pid == pid) id = w.id.text();
            }
            log::info("worker ended").field("worker", id).field("pid", static_cast<int>(pid)).field("how", exit.text());
            state_->on_exit(pid, exit);
        }
    }

private:
    std::filesystem::path workers_dir() const { return config_.state_dir / "workers"; }
    // Unique to this run of the master (its pid and start time), so a new run tells its workers'
    // jobs from those an earlier run left.
    std::string job_owner(const WorkerId& id) const { return fmt::format("{}/{}", epoch_, id.text()); }

    void spawn_failed(const WorkerId& id, const std::string& why) {
        log::error("cannot start a worker").field("worker", id.text()).field("error", why);
        const pid_t stand_in = --failed_spawns_;  // never a real pid: counts as a worker that died at once
        state_->on_spawned(id, stand_in);
        state_->on_exit(stand_in, WorkerExit{true, 127, 0});
    }

    void say(pid_t pid, char word, int signal) {
        const auto found = channels_.find(pid);
        const char packet[2] = {word, static_cast<char>(signal)};  // one packet (SOCK_SEQPACKET)
        if (found != channels_.end()) ::send(found->second->native_handle(), packet, sizeof packet, MSG_NOSIGNAL | MSG_DONTWAIT);
    }

    void watch(pid_t pid) {
        const auto channel = channels_[pid];
        channel->async_wait(net::posix::descriptor_base::wait_read, [this, pid, channel](const boost::system::error_code& ec) {
            if (ec) return;
            char bytes[16];
            const auto n = ::recv(channel->native_handle(), bytes, sizeof bytes, MSG_DONTWAIT);
            if (n <= 0) return;  // the worker is gone; SIGCHLD tells the rest
            for (ssize_t i = 0; i < n; ++i) {
                if (bytes[i] == 'R') state_->on_ready(pid);
            }
            if (channels_.count(pid)) watch(pid);
        });
    }

    net::io_context& io_;
    const ServerConfig& config_;
    std::vector<std::string> argv_;
    unsigned short port_ = 0;
    int listener_ = -1;
    coordinator::TimePoint started_;
    MasterState* state_ = nullptr;
    std::map<pid_t, std::shared_ptr<net::posix::stream_descriptor>> channels_;
    std::optional<int> exit_code_;
    pid_t failed_spawns_ = 0;
    std::int64_t signal_at_unix_us_ = 0;
    const std::string epoch_ = fmt::format(
        "{}.{}", ::getpid(),
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
};

MasterConfig master_config(const ServerConfig& config) {
    MasterConfig m;
    m.workers = config.workers;
    m.graceful_signals = config.signals.graceful;
    m.fast_signals = config.signals.fast;
    m.reload_signal = SIGHUP;
    m.graceful_timeout = config.graceful_timeout.value_or(config.budgets.global + 2s);
    m.boot_timeout = config.worker_boot_timeout;
    m.no_forward = config.faults.has(Fault::master_no_forward);
    m.reload_gap = config.faults.has(Fault::reload_gap);
    m.no_kill_escalation = config.faults.has(Fault::no_kill_escalation);
    return m;
}

} // namespace

int run_master(const ServerConfig& config, const std::vector<std::string>& argv) {
    prepare_state_dir(config.state_dir, true);  // the workers' directories, inside it, then probe without an fsync
    std::error_code ec;
    std::filesystem::create_directories(config.state_dir / "workers", ec);
    if (ec) throw StartupError(fmt::format("state dir {} is not usable: {}", config.state_dir.string(), ec.message()));
    check_state_layout(config.state_dir, StateLayout::shared);
    try {
        SharedCounter::prepare(config.state_dir / "counter.db");  // before any worker: none races to create it
        JobStore(config.state_dir / "jobs.db").close();             // the same for the jobs' schema
    } catch (const std::exception& e) {
        throw StartupError(e.what());
    }
    net::io_context io(1);
    coordinator::AsioClock clock(io);
    MasterShell shell(io, config, argv);
    MasterState state(clock, master_config(config), shell);
    shell.attach(state);

    net::signal_set signals(io);
    for (int s : config.signals.graceful) signals.add(s);
    for (int s : config.signals.fast) signals.add(s);
    signals.add(SIGHUP);
    signals.add(SIGCHLD);
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
            if (error) return;
            if (signal_number == SIGCHLD) shell.reap();
            else shell.on_signal(signal_number);
            wait_signal();
        });
    };
    wait_signal();
    net::post(io, [&] {
        state.start();
        shell.reap();  // a worker that died before SIGCHLD was being watched
    });
    io.run();
    return shell.exit_code().value_or(coordinator::exit_code::refused_to_start);
}

} // namespace lastcall::server
