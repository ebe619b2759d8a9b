// target.pid1 on real processes: the target is PID 1 of its own PID namespace and sees its own
// /proc, made both ways (CAP_SYS_ADMIN, and a user namespace as without it); a SIGKILL to it takes
// everything inside with it, a setsid grandchild included; dash stays PID 1 in the shell-form demonstration;
// and where no namespace can be made (forced with LASTCALL_PID1_PRIVILEGE=none) nothing starts and
// the run is reported skipped, through the CLI too (--strict: exit 3).
#include "checks.hpp"
#include "child_process.hpp"
#include "child_reaper.hpp"
#include "endpoint.hpp"
#include "pid_namespace.hpp"
#include "proc_reader.hpp"
#include "process_family.hpp"
#include "scenario_loader.hpp"
#include "scenario_run.hpp"
#include "target_process.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace lastcall::harness {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using lastcall::testing::ChildProcess;
using lastcall::testing::fresh_test_dir;

constexpr const char* privilege_variable = "LASTCALL_PID1_PRIVILEGE";

// Sets LASTCALL_PID1_PRIVILEGE for one test ("" leaves it unset) and restores it after.
class ForcedPrivilege {
public:
    explicit ForcedPrivilege(const std::string& value) {
        if (value.empty()) ::unsetenv(privilege_variable);
        else ::setenv(privilege_variable, value.c_str(), 1);
    }
    ~ForcedPrivilege() { ::unsetenv(privilege_variable); }
    ForcedPrivilege(const ForcedPrivilege&) = delete;
    ForcedPrivilege& operator=(const ForcedPrivilege&) = delete;
};

std::string read_file(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool alive(pid_t pid) {
    const auto stat = read_proc_stat(pid);
    return stat && stat->alive();
}

std::string comm_of(pid_t pid) {
    auto text = read_file(fmt::format("/proc/{}/comm", pid));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

// Every descendant of `pid` alive now, as lastcall sees them (pids of its own namespace).
std::vector<pid_t> descendants_of(pid_t pid) {
    std::vector<pid_t> out;
    for (const auto child : ProcessFamily::children_of(pid)) {
        out.push_back(child);
        const auto below = descendants_of(child);
        out.insert(out.end(), below.begin(), below.end());
    }
    return out;
}

template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// One target started by TargetProcess as PID 1, with its own reaper, killed and reaped at the end.
class Pid1Target {
public:
    Pid1Target(const std::string& script, const fs::path& dir)
        : dir_(dir), family_(::getpid(), false, nullptr), reaper_(family_),
          process_(TargetLaunch{{"sh", "-c", script}, {}, dir, dir / "stdout", dir / "stderr", -1, true}, reaper_) {}
    ~Pid1Target() {
        if (!process_.poll_exit()) ::kill(process_.pid(), SIGKILL);
        wait_exit();
    }
    Pid1Target(const Pid1Target&) = delete;
    Pid1Target& operator=(const Pid1Target&) = delete;
    TargetProcess& process() { return process_; }
    std::string output() const { return read_file(dir_ / "stdout") + read_file(dir_ / "stderr"); }
    std::optional<TargetExit> wait_exit() {
        wait_until([&] { return process_.poll_exit().has_value(); });
        return process_.poll_exit();
    }

private:
    fs::path dir_;
    ProcessFamily family_;
    ChildReaper reaper_;
    TargetProcess process_;
};

// Both ways of making the namespace: "" as lastcall does (root here: CAP_SYS_ADMIN), "user" as
// without CAP_SYS_ADMIN (a user namespace around it).
class Pid1Namespace : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { forced_ = std::make_unique<ForcedPrivilege>(GetParam()); }
    std::unique_ptr<Pid1Target> start(const std::string& script) {
        try {
            return std::make_unique<Pid1Target>(script, fresh_test_dir());
        } catch (const PidNamespaceUnavailable& e) {
            unavailable_ = e.what();
            return nullptr;
        }
    }
    std::string unavailable_;

private:
    std::unique_ptr<ForcedPrivilege> forced_;
};

TEST_P(Pid1Namespace, TargetSeesItselfAsPid1AndOnlyItsOwnProcesses) {
    const auto target = start("echo \"pid $$\"; ls /proc");
    if (!target) GTEST_SKIP() << unavailable_;
    EXPECT_EQ(target->process().namespace_description(),
              GetParam() == "user" ? "pid namespace (pid 1) in a user namespace" : "pid namespace (pid 1)");
    EXPECT_NE(target->process().pid(), 1) << "outside, it has a pid of lastcall's namespace";
    const auto exit = target->wait_exit();
    ASSERT_TRUE(exit);
    const auto output = target->output();
    EXPECT_TRUE(exit->exited && exit->code == 0) << exit->describe() << "\n" << output;
    std::istringstream lines(output);
    std::string first;
    std::getline(lines, first);
    EXPECT_EQ(first, "pid 1") << output;
    // Its /proc lists its namespace: itself (1) and the `ls` it forked, not lastcall's processes.
    std::vector<int> pids;
    for (std::string entry; std::getline(lines, entry);) {
        int pid = 0;
        const auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), pid);
        if (ec == std::errc() && end == entry.data() + entry.size()) pids.push_back(pid);
    }
    EXPECT_EQ(pids, (std::vector<int>{1, 2})) << output;
}

TEST_P(Pid1Namespace, SigkillToPid1TakesEverythingInsideWithIt) {
    // A child and a grandchild that left the process group and the session (setsid): only the
    // namespace holds them, and the kernel kills it when its PID 1 dies.
    const auto target = start("sh -c 'setsid sleep 301 & sleep 302' & sleep 303");
    if (!target) GTEST_SKIP() << unavailable_;
    const pid_t pid = target->process().pid();
    std::vector<pid_t> inside;
    ASSERT_TRUE(wait_until([&] {
        inside = descendants_of(pid);
        return inside.size() >= 4;
    })) << "the target's processes did not all start: " << inside.size();
    const auto setsid_one = std::find_if(inside.begin(), inside.end(), [](pid_t p) {
        const auto stat = read_proc_stat(p);
        return stat && stat->session == p;
    });
    ASSERT_NE(setsid_one, inside.end()) << "no process of its own session among the descendants";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);  // PID 1 alone, not its group
    const auto exit = target->wait_exit();
    ASSERT_TRUE(exit);
    EXPECT_FALSE(exit->exited);
    EXPECT_EQ(exit->signal, SIGKILL);
    // The outer wait returns once the namespace is empty: nothing is left by then.
    for (const auto p : inside) EXPECT_FALSE(alive(p)) << "pid " << p << " (" << comm_of(p) << ") outlived PID 1";
}

// scenarios/demonstrations/pid1-shell-form.yaml is only a demonstration while the shell stays
// PID 1 (no handler, no forwarding): a shell that exec'd the server would make the server PID 1, and
// the demonstration would show something else. Its own command, checked on the process.
TEST_P(Pid1Namespace, ShellFormDemonstrationKeepsTheShellAsPid1) {
    const auto scenario = load_scenario_file(LASTCALL_SCENARIOS_DIR "/demonstrations/pid1-shell-form.yaml");
    ASSERT_EQ(scenario.target.command.size(), 3u);
    ASSERT_EQ(scenario.target.command[0], "sh");
    const auto address = resolve_host("127.0.0.1").address;
    ASSERT_TRUE(address);
    const auto dir = fresh_test_dir("shell-form");
    const auto script = substitute(scenario.target.command[2], pick_free_port(*address), dir.string(), lastcall::testing::server_binary());
    const auto target = start(script);
    if (!target) GTEST_SKIP() << unavailable_;
    const pid_t shell = target->process().pid();
    // The server is a child of PID 1 once it exec'd (a fork not yet exec'd is still `sh`).
    const auto server_comm = fs::path(lastcall::testing::server_binary()).filename().string().substr(0, 15);
    ASSERT_TRUE(wait_until([&] {
        const auto children = ProcessFamily::children_of(shell);
        return children.size() == 1 && comm_of(children.front()) == server_comm;
    })) << "sh never started the server";
    EXPECT_EQ(comm_of(shell), "sh");
}

INSTANTIATE_TEST_SUITE_P(Ways, Pid1Namespace, ::testing::Values("", "user"),
                         [](const auto& param_info) { return param_info.param.empty() ? std::string("privileged") : std::string("user_namespace"); });

TEST(Pid1Unavailable, NothingStartsAndTheReasonNamesEachAttempt) {
    const ForcedPrivilege none("none");
    const auto dir = fresh_test_dir();
    ProcessFamily family(::getpid(), false, nullptr);
    ChildReaper reaper(family);
    const auto before = ProcessFamily::children_of(::getpid()).size();
    try {
        const TargetLaunch launch{{"sh", "-c", "echo started > started"}, {}, dir, dir / "stdout", dir / "stderr", -1, true};
        TargetProcess process(launch, reaper);
        FAIL() << "started outside a PID namespace";
    } catch (const PidNamespaceUnavailable& e) {
        const std::string why = e.what();
        EXPECT_NE(why.find("without CAP_SYS_ADMIN"), std::string::npos) << why;
        EXPECT_NE(why.find("user namespaces not allowed"), std::string::npos) << why;
    }
    EXPECT_EQ(ProcessFamily::children_of(::getpid()).size(), before);
    EXPECT_FALSE(fs::exists(dir / "started"));
}

std::string pid1_scenario(bool pid1) {
    return fmt::format(R"(name: pid1-run
target:
  pid1: {}
  command: ["{{server}}", "--port", "{{port}}", "--state-dir", "{{workdir}}/state"]
  ready: {{http: /ready, timeout: 5s}}
  shutdown_report: "{{workdir}}/state/shutdown-report.json"
workloads:
  - name: fast
    request: {{path: /fast}}
    connections: 2
timeline:
  - at: 300ms
    signal: TERM
limits: {{max_duration: 10s}}
expect:
  exit: 0
)",
                       pid1 ? "true" : "false");
}

RunResult run_text(const std::string& text, const fs::path& dir) {
    const auto scenario = load_scenario_text(text, "pid1.yaml");
    RunOptions options;
    options.server_path = lastcall::testing::server_binary();
    options.run_dir = dir / "runs";
    return run_scenario(scenario, options);
}

// A server that handles TERM gets it as PID 1 too; run.json says where it ran.
TEST(Pid1Run, ReferenceServerAsPid1DrainsAndRunJsonSaysSo) {
    const auto dir = fresh_test_dir();
    const auto run = run_text(pid1_scenario(true), dir);
    if (!run.skipped.empty()) GTEST_SKIP() << run.skipped;
    ASSERT_EQ(run.start_error, "");
    ASSERT_TRUE(run.exit);
    EXPECT_TRUE(run.exit->exited && run.exit->code == 0) << run.exit->describe();
    EXPECT_NE(run.containment.find("pid namespace (pid 1)"), std::string::npos) << run.containment;
    const auto run_json = nlohmann::json::parse(read_file(run.run_dir / "run.json"), nullptr, false);
    ASSERT_FALSE(run_json.is_discarded());
    EXPECT_NE(run_json["containment"].get<std::string>().find("pid namespace (pid 1)"), std::string::npos) << run_json.dump();
    EXPECT_EQ(run_json["skipped"], "");
}

TEST(Pid1Run, WithoutANamespaceTheRunIsSkippedNotRunElsewhere) {
    const ForcedPrivilege none("none");
    const auto dir = fresh_test_dir();
    const auto run = run_text(pid1_scenario(true), dir);
    EXPECT_EQ(run.start_error, "");
    EXPECT_NE(run.skipped.find("no PID namespace for target.pid1"), std::string::npos) << run.skipped;
    EXPECT_TRUE(run.generations.empty()) << "a target was started";
    EXPECT_FALSE(fs::exists(run.run_dir / "target-1.stdout")) << "output files of a target that never ran";
    const auto run_json = nlohmann::json::parse(read_file(run.run_dir / "run.json"), nullptr, false);
    ASSERT_FALSE(run_json.is_discarded());
    EXPECT_EQ(run_json["skipped"], run.skipped);
    const auto checks = evaluate_checks(load_scenario_text(pid1_scenario(true), "pid1.yaml"), run);
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].name, "target.pid1");
    EXPECT_EQ(checks[0].status, CheckStatus::skip);
    // The same scenario without pid1 is not affected by the variable.
    const auto plain = run_text(pid1_scenario(false), fresh_test_dir("plain"));
    EXPECT_EQ(plain.skipped, "");
    EXPECT_EQ(plain.start_error, "");
}

// The CLI: a skipped run is said so and exits 0; with --strict it exits 3.
TEST(Pid1Run, CliSaysSkippedAndStrictExits3) {
    const auto dir = fresh_test_dir();
    std::ofstream(dir / "scenario.yaml") << pid1_scenario(true);
    for (const bool strict : {false, true}) {
        std::vector<std::string> argv{"/usr/bin/env", "LASTCALL_PID1_PRIVILEGE=none", LASTCALL_BINARY, "run",
                                      (dir / "scenario.yaml").string(), "--server", lastcall::testing::server_binary(),
                                      "--run-dir", (dir / "runs").string()};
        if (strict) argv.push_back("--strict");
        ChildProcess cli(argv, dir / "stderr");
        std::string output;
        while (const auto line = cli.read_line(std::chrono::seconds(30))) output += *line + "\n";
        const auto exit = cli.wait(std::chrono::seconds(10));
        ASSERT_TRUE(exit) << output;
        EXPECT_EQ(exit->code, strict ? 3 : 0) << output;
        EXPECT_NE(output.find("SKIP pid1-run: no PID namespace for target.pid1"), std::string::npos) << output;
        EXPECT_NE(output.find("1 run: 0 passed, 0 failed, 1 skipped"), std::string::npos) << output;
    }
}

} // namespace
} // namespace lastcall::harness
