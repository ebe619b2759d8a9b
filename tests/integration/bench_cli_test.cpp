// `lastcall bench` run as a user runs it, against real processes on 127.0.0.1: a correct
// lastcall-server (every request answered, exit 0), a dead port (failures are not throughput:
// exit 3, nothing passed off as latency), a route that answers 404 or too slowly (counted apart,
// exit 1), a server killed mid-run (--fault no-drain: cut requests and refusals counted, exit 1), a Ctrl+C or SIGTERM mid-run (stops at once, prints what it has), an open loop held to
// -c (skipped arrivals counted), and what -H, --method and --body put on the wire (a target that
// notes what reaches it). No figure of speed is judged.
#include "child_process.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"
#include "test_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace lastcall::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct BenchResult {
    ExitStatus status;
    std::string out;
    std::string err;
    nlohmann::json json;  // with --json
};

std::string read_file(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), {}};
}

BenchResult finish(ChildProcess& cli, const fs::path& dir) {
    BenchResult result;
    while (const auto line = cli.read_line(30s)) result.out += *line + "\n";
    result.status = cli.wait(30s).value_or(ExitStatus{false, 0, SIGKILL});
    result.err = read_file(dir / "bench.stderr");
    result.json = nlohmann::json::parse(result.out, nullptr, false);
    return result;
}

std::vector<std::string> bench_argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv{LASTCALL_BINARY, "bench"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

BenchResult bench(const std::vector<std::string>& args, const fs::path& dir) {
    ChildProcess cli(bench_argv(args), dir / "bench.stderr");
    return finish(cli, dir);
}

std::string url(unsigned short port, const std::string& path) { return "http://127.0.0.1:" + std::to_string(port) + path; }

// A port nothing listens on: bound (so free a moment ago), then closed.
unsigned short dead_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

// Waits (bounded) until lastcall-server has taken `n` requests besides these polls of /status (its
// requests_total counts each as it arrives, a poll included). In a closed loop over c connections,
// more than c taken means a response has come back: the run is under way, whatever the machine's load.
bool wait_for_requests(unsigned short port, std::uint64_t n) {
    for (std::uint64_t polls = 1; polls <= 1000; ++polls) {
        const auto status = nlohmann::json::parse(http_get(port, "/status").body, nullptr, false);
        if (status.is_object() && status.value("requests_total", std::uint64_t{0}) >= n + polls) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST(BenchCli, CorrectServerEveryRequestAnsweredExit0) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench({url(server.port(), "/fast"), "-d", "1", "-c", "4", "-t", "2", "--json"}, dir);
    ASSERT_TRUE(r.status.exited) << describe(r.status) << r.err;
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    ASSERT_FALSE(r.json.is_discarded()) << r.out;
    EXPECT_EQ(r.json["version"], 1);
    EXPECT_FALSE(r.json.contains("record_bytes"));
    EXPECT_GT(r.json["requests"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(r.json["failed"]["total"], 0);
    EXPECT_EQ(r.json["non_2xx_3xx"], 0);
    EXPECT_EQ(r.json["mode"], "closed");
    EXPECT_EQ(r.json["latency_us"]["measured_from"], "send");
    for (const auto* key : {"min", "mean", "stdev", "max", "p50", "p75", "p90", "p99", "p99_9", "p99_99"}) {
        EXPECT_TRUE(r.json["latency_us"][key].is_number_unsigned() || r.json["latency_us"][key].is_number_integer()) << key << " " << r.out;
    }
    EXPECT_LE(r.json["latency_us"]["p50"].get<std::uint64_t>(), r.json["latency_us"]["max"].get<std::uint64_t>());
    EXPECT_GT(r.json["requests_per_sec"].get<double>(), 0);
    EXPECT_EQ(r.json["interrupted_by"], nullptr);
}

TEST(BenchCli, TextShowsThreadStatsDistributionAndTransfer) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench({url(server.port(), "/fast"), "-d", "1", "-c", "2", "-t", "1", "--latency"}, dir);
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    for (const auto* text : {"Thread Stats", "Latency  ", "Req/Sec", "+/- Stdev", "Latency measured from each request's send", "Latency Distribution",
                             "99.99%", "Requests/sec:", "Transfer/sec:"}) {
        EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
    }
    EXPECT_EQ(r.out.find("Failed"), std::string::npos) << r.out;
}

TEST(BenchCli, DeadPortIsNotThroughput) {
    const auto dir = fresh_test_dir();
    const auto port = dead_port();
    const auto r = bench({url(port, "/fast"), "-d", "1", "-c", "2", "-t", "1"}, dir);
    ASSERT_TRUE(r.status.exited) << describe(r.status);
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("No response completed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Failed: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("connect refused"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Requests/sec:       0.00"), std::string::npos) << r.out;
    // Said once: by the early stop after a second of refusals, or, when -d ended the run first, alone.
    const auto refusal = r.out.find(url(port, "/fast") + ": every connect was refused") != std::string::npos
                             ? "Nothing listens at " + url(port, "/fast") + ": every connect was refused"
                             : ": every connect to " + url(port, "/fast") + " was refused for ";
    EXPECT_NE(r.out.find(refusal), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("was refused"), r.out.rfind("was refused")) << r.out;
    EXPECT_EQ(r.out.find("0ns"), std::string::npos) << r.out;

    const auto j = bench({url(port, "/fast"), "-d", "1", "-c", "2", "-t", "1", "--json"}, dir);
    EXPECT_EQ(j.status.code, 3);
    ASSERT_FALSE(j.json.is_discarded()) << j.out;
    EXPECT_EQ(j.json["requests"], 0);
    EXPECT_EQ(j.json["requests_per_sec"], 0.0);
    EXPECT_GT(j.json["failed"]["connect_refused"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(j.json["failed"]["total"], j.json["failed"]["connect_refused"]);
    EXPECT_EQ(j.json["latency_us"]["p50"], nullptr);
    EXPECT_EQ(j.json["latency_us"]["max"], nullptr);
}

// A dead port used to be waited on for the whole -d: after a second of refusals with nothing
// served the run stops and says so (exit 3, no response at all), well before -d 20s.
TEST(BenchCli, DeadPortStopsAfterASecondOfRefusals) {
    const auto dir = fresh_test_dir();
    const auto r = bench({url(dead_port(), "/fast"), "-d", "20", "-c", "2", "-t", "1", "--json"}, dir);
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    ASSERT_FALSE(r.json.is_discarded()) << r.out;
    ASSERT_TRUE(r.json["stopped_early"].is_string()) << r.out;
    EXPECT_NE(r.json["stopped_early"].get<std::string>().find("was refused for "), std::string::npos) << r.out;
    EXPECT_LT(r.json["elapsed_s"].get<double>(), 20.0) << "stopped before -d: " << r.out;
}

// The new user's dead port under -R: "Stopped after 1.00s: every connect ... was refused", then
// "Nothing listens at ...: every connect was refused" and "Behind schedule ... lastcall could not
// keep up with 5000000/s". One cause, said once; the CPU not blamed (exit 3: nothing served).
TEST(BenchCli, DeadPortUnderARateSaysTheRefusalOnceAndBlamesNoCpu) {
    const auto dir = fresh_test_dir();
    const auto r = bench({url(dead_port(), "/fast"), "-d", "20", "-R", "5000000", "-t", "1"}, dir);
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("  Stopped after "), std::string::npos) << r.out;
    const auto said = [&](const std::string& text) {
        std::size_t n = 0;
        for (auto at = r.out.find(text); at != std::string::npos; at = r.out.find(text, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(said("was refused"), 1u) << r.out;
    EXPECT_EQ(said("Nothing listens"), 0u) << r.out;
    EXPECT_EQ(said("Behind schedule"), 0u) << r.out;
    EXPECT_EQ(said("could not keep up"), 0u) << r.out;
    // The pools grew a connection for each connect, all refused: "2 used at once" was said of none.
    EXPECT_EQ(said("used at once"), 0u) << r.out;
    EXPECT_EQ(said("  Connections: none made\n"), 1u) << r.out;
    // The JSON agrees with the text: the arrivals never started are counted, none as lastcall's lag.
    const auto json = bench({url(dead_port(), "/fast"), "-d", "20", "-R", "5000000", "-t", "1", "--json"}, dir);
    EXPECT_EQ(json.status.code, 3) << json.out << json.err;
    ASSERT_FALSE(json.json.is_discarded()) << json.out;
    EXPECT_EQ(json.json["arrivals_behind"], 0) << json.out;
    EXPECT_GT(json.json["arrivals_never_started"].get<std::uint64_t>(), 0u) << json.out;
    EXPECT_EQ(json.json["connections_used"], 0) << json.out;
}

// lastcall bench in a shell whose `ulimit -n` is 64 (the soft limit: the hard one stays as it was).
BenchResult bench_with_few_descriptors(const std::vector<std::string>& args, const fs::path& dir) {
    std::string command = "ulimit -Sn 64 && exec";
    for (const auto& word : bench_argv(args)) command += " '" + word + "'";
    ChildProcess cli({"/bin/sh", "-c", command}, dir / "bench.stderr");
    return finish(cli, dir);
}

// -c beyond `ulimit -n`: "Too many open files" was never named, nothing was served and the connects
// spun. Said before the run, with the limit and how to raise it (exit 2, nothing sent).
TEST(BenchCli, MoreConnectionsThanTheDescriptorLimitAreRefusedBeforeTheRun) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench_with_few_descriptors({url(server.port(), "/fast"), "-d", "2", "-c", "100", "-t", "1"}, dir);
    EXPECT_EQ(r.status.code, 2) << r.out << r.err;
    for (const char* text : {"lastcall bench: -c 100 needs about ", "this process may open 64 (`ulimit -n`, Too many open files past it)", "ulimit -n "}) {
        EXPECT_NE(r.err.find(text), std::string::npos) << text << " in:\n" << r.err;
    }
    EXPECT_EQ(r.out, "") << "no run";
}

// An open loop without -c opens connections as it needs them: past the limit mid-run, the run
// stops at once naming the system's error instead of retrying for the whole -d.
TEST(BenchCli, RunningOutOfDescriptorsMidRunStopsAndSaysSo) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench_with_few_descriptors({url(server.port(), "/slow?ms=3000"), "-d", "20", "--rate", "500", "-t", "1", "--json"}, dir);
    ASSERT_FALSE(r.json.is_discarded()) << r.out << r.err;
    EXPECT_NE(r.status.code, 0) << r.out;
    ASSERT_TRUE(r.json["stopped_early"].is_string()) << r.out;
    EXPECT_NE(r.json["stopped_early"].get<std::string>().find("Too many open files (`ulimit -n` is 64)"), std::string::npos) << r.out;
    EXPECT_LT(r.json["elapsed_s"].get<double>(), 20.0) << "stopped before -d: " << r.out;
    EXPECT_TRUE(r.json["stopped_for_own_limit"].get<bool>()) << r.out;
    EXPECT_GT(r.json["not_attempted"].get<std::uint64_t>(), 0u) << "the connects that found no descriptor: " << r.out;
    EXPECT_EQ(r.json["failed"]["connect_error"], 0) << "lastcall's EMFILE is not the target's failure: " << r.out;
}

// The new user's run: an open loop far beyond the descriptors. The stop said "Too many open files",
// then "Behind schedule ... lastcall could not keep up with 100000/s" (its CPU, it read) and
// "Failed: N (connect failed N)" (the target's, it read): lastcall's own EMFILE connects.
TEST(BenchCli, OutOfDescriptorsIsSaidOnceNeitherAsCpuNorAsTheTargetsFailures) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench_with_few_descriptors({url(server.port(), "/slow?ms=2000"), "-R", "100000", "-d", "2", "-t", "1"}, dir);
    EXPECT_NE(r.status.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Stopped after "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Too many open files"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Behind schedule"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("could not keep up"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("connect failed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  Not attempted: "), std::string::npos) << r.out;
}

// `bench http://localhost:P` printed `@ http://127.0.0.1:P/`: a URL the user never wrote. The
// URL as given, the address it went to beside it.
TEST(BenchCli, TheUrlIsNamedAsGivenWithTheAddressItResolvedTo) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto given = "http://localhost:" + std::to_string(server.port());
    const auto r = bench({given, "-d", "1", "-c", "1", "-t", "1"}, dir);
    EXPECT_EQ(r.status.code, 1) << "the reference server has no / (404): " << r.out << r.err;
    const auto header = "Running 1s test @ " + given + " (127.0.0.1:" + std::to_string(server.port()) + ")\n";
    EXPECT_EQ(r.out.rfind(header, 0), 0u) << r.out;
    const auto j = bench({given, "-d", "1", "-c", "1", "-t", "1", "--json"}, dir);
    ASSERT_FALSE(j.json.is_discarded()) << j.out;
    EXPECT_EQ(j.json["url"], given);
    EXPECT_EQ(j.json["address"], "127.0.0.1:" + std::to_string(server.port()));
}

TEST(BenchCli, Non2xxCountedApartExit1) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench({url(server.port(), "/nope"), "-d", "1", "-c", "2", "-t", "1", "--json"}, dir);
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    EXPECT_GT(r.json["non_2xx_3xx"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(r.json["non_2xx_3xx"], r.json["requests"]);  // each one a 404: answered, counted apart
    EXPECT_EQ(r.json["failed"]["total"], 0);
}

TEST(BenchCli, TimeoutCountedAsTimeout) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench({url(server.port(), "/slow?ms=3000"), "-d", "1500ms", "-c", "2", "-t", "1", "--timeout", "200ms", "--json"}, dir);
    EXPECT_EQ(r.status.code, 3) << r.out << r.err;
    EXPECT_GT(r.json["failed"]["timeout"].get<std::uint64_t>(), 0u) << r.out;
    EXPECT_EQ(r.json["failed"]["total"], r.json["failed"]["timeout"]) << r.out;
}

TEST(BenchCli, ServerDyingMidRunCountsCutRequestsAndRefusalsExit1) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {"--fault", "no-drain"});  // SIGTERM kills it mid-request
    ChildProcess cli(bench_argv({url(server.port(), "/slow?ms=200"), "-d", "3", "-c", "4", "-t", "1", "--json"}), dir / "bench.stderr");
    ASSERT_TRUE(wait_for_requests(server.port(), 5));  // some answered (200 ms each), four always in flight
    server.process().signal(SIGTERM);
    ASSERT_TRUE(server.process().wait(5s));
    const auto r = finish(cli, dir);
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    ASSERT_FALSE(r.json.is_discarded()) << r.out;
    EXPECT_GT(r.json["requests"].get<std::uint64_t>(), 0u) << r.out;
    const auto& f = r.json["failed"];
    EXPECT_GT(f["closed"].get<std::uint64_t>() + f["reset"].get<std::uint64_t>(), 0u) << r.out;  // the four it was answering
    EXPECT_GT(f["connect_refused"].get<std::uint64_t>(), 0u) << r.out;  // then nobody listens
    EXPECT_EQ(f["total"], f["closed"].get<std::uint64_t>() + f["reset"].get<std::uint64_t>() + f["connect_refused"].get<std::uint64_t>()) << r.out;
    EXPECT_EQ(r.json["latency_us"]["count"], r.json["requests"]);
}

// The run ends on the signal, not at -d 30: what it has is printed, marked interrupted.
void interrupt_mid_run(int signal, bool json, int expected_code) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    std::vector<std::string> args{url(server.port(), "/fast"), "-d", "30", "-c", "2", "-t", "1"};
    if (json) args.push_back("--json");
    ChildProcess cli(bench_argv(args), dir / "bench.stderr");
    // "Running 30s test @ ..." once the signals are lastcall's to wait for (stderr with --json).
    std::string out;
    if (!json) {
        const auto first = cli.read_line(10s);
        ASSERT_TRUE(first) << read_file(dir / "bench.stderr");
        out += *first + "\n";
    } else {
        for (int i = 0; i < 1000 && read_file(dir / "bench.stderr").find("Running") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
        ASSERT_NE(read_file(dir / "bench.stderr").find("Running"), std::string::npos);
    }
    ASSERT_TRUE(wait_for_requests(server.port(), 3));  // mid-run: responses have come back to its 2 connections
    cli.signal(signal);
    // Generous against a busy machine; without the fix the run lasts 30 s.
    const auto status = cli.wait(10s);
    ASSERT_TRUE(status) << "still running 10 s after the signal";
    while (const auto line = cli.read_line(2s)) out += *line + "\n";
    ASSERT_TRUE(status->exited) << describe(*status);
    EXPECT_EQ(status->code, expected_code) << out;
    if (json) {
        const auto j = nlohmann::json::parse(out, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << out;
        EXPECT_EQ(j["interrupted_by"], "SIGTERM");
        EXPECT_LT(j["elapsed_s"].get<double>(), 30.0);
        EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
    } else {
        EXPECT_NE(out.find("Interrupted by SIGINT"), std::string::npos) << out;
        EXPECT_NE(out.find("Requests/sec:"), std::string::npos) << out;
    }
}

TEST(BenchCli, SigintStopsTheRunPrintsWhatItHasExit130) { interrupt_mid_run(SIGINT, false, 130); }
TEST(BenchCli, SigtermStopsTheRunExit143) { interrupt_mid_run(SIGTERM, true, 143); }

TEST(BenchCli, OpenLoopHeldToConnectionsCountsSkippedArrivals) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    // One connection, 200 ms per response, 50 arrivals a second: most arrivals find it busy. Two
    // seconds, so that responses come back even on a machine busy enough to stall a process.
    const std::vector<std::string> args{url(server.port(), "/slow?ms=200"), "-d", "2", "-R", "50", "-c", "1", "-t", "1"};
    auto json_args = args;
    json_args.push_back("--json");
    const auto r = bench(json_args, dir);
    ASSERT_FALSE(r.json.is_discarded()) << r.out << r.err;
    EXPECT_GT(r.json["requests"].get<std::uint64_t>(), 0u) << r.out;
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;  // skipped arrivals are load not sent
    EXPECT_EQ(r.json["mode"], "open") << r.out;
    EXPECT_EQ(r.json["latency_us"]["measured_from"], "intended_start") << r.out;
    EXPECT_EQ(r.json["connections"], 1) << r.out;
    EXPECT_EQ(r.json["connections_used"], 1) << r.out;
    // 50 a second, each holding its connection 200 ms or more: about 10 needed, and said (the -c
    // configured was silently the limit once, at a fifth of the rate asked).
    EXPECT_GE(r.json["connections_needed"].get<std::uint64_t>(), 10u) << r.out;
    EXPECT_GT(r.json["skipped_arrivals"].get<std::uint64_t>(), 0u) << r.out;

    const auto text = bench(args, dir);
    EXPECT_NE(text.out.find("Skipped arrivals: "), std::string::npos) << text.out;
    EXPECT_TRUE(std::regex_search(text.out, std::regex(R"(Connections: 1 used at once \(limit -c 1\); 50/s at 2\d\d\.\d\dms each needs about \d+: raise -c to keep the schedule\n)")))
        << text.out;
    EXPECT_NE(text.out.find("intended start"), std::string::npos) << text.out;
}

TEST(BenchCli, OpenLoopWithoutLimitSkipsNothingAndSaysConnectionsNeeded) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench({url(server.port(), "/slow?ms=100"), "-d", "2", "-R", "40", "-t", "1", "--json"}, dir);
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    EXPECT_EQ(r.json["skipped_arrivals"], 0) << r.out;
    EXPECT_EQ(r.json["connections"], nullptr) << r.out;  // not given: as many as needed
    EXPECT_GE(r.json["connections_used"].get<std::uint64_t>(), 2u) << r.out;  // 100 ms each, one every 25 ms
    EXPECT_GE(r.json["connections_needed"].get<std::uint64_t>(), 4u) << r.out;
}

// A rate far beyond what one thread can start (a new user's -R 200000 delivered 13,486/s, exit 0,
// nothing said): the arrivals never started are counted, said, and the run exits 1.
TEST(BenchCli, OpenLoopThatFallsBehindItsScheduleSaysSoAndFails) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto r = bench({url(server.port(), "/fast"), "-d", "1", "-R", "5000000", "-t", "1", "--json"}, dir);
    EXPECT_EQ(r.status.code, 1) << r.out << r.err;
    EXPECT_GT(r.json["arrivals_behind"].get<std::uint64_t>(), 1'000'000u) << r.out;
    const auto text = bench({url(server.port(), "/fast"), "-d", "1", "-R", "5000000", "-t", "1"}, dir);
    EXPECT_NE(text.out.find("Behind schedule: "), std::string::npos) << text.out;
}

TEST(BenchCli, HeadersMethodAndBodyReachTheServer) {
    const auto dir = fresh_test_dir();
    const auto log = dir / "requests.jsonl";
    ChildProcess target({ECHO_TARGET, log.string()}, dir / "target.stderr");
    const auto ready = target.read_line(10s);
    ASSERT_TRUE(ready && ready->rfind("listening ", 0) == 0) << read_file(dir / "target.stderr");
    const auto port = static_cast<unsigned short>(std::stoi(ready->substr(10)));
    const auto r = bench({url(port, "/submit?x=1"), "-d", "500ms", "-c", "1", "-t", "1", "-m", "PUT", "-H", "X-Trace: abc 1", "-H",
                          "Authorization: Bearer t0k", "-H", "host: vhost.example", "-H", "User-Agent: wrk-like", "--body", "hello body", "--json"},
                         dir);
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    std::ifstream in(log);
    std::string first;
    ASSERT_TRUE(std::getline(in, first)) << r.out;
    const auto seen = nlohmann::json::parse(first);
    EXPECT_EQ(seen["method"], "PUT");
    EXPECT_EQ(seen["path"], "/submit?x=1");
    EXPECT_EQ(seen["headers"]["x-trace"], "abc 1");
    EXPECT_EQ(seen["headers"]["authorization"], "Bearer t0k");
    EXPECT_EQ(seen["body"], "hello body");
    EXPECT_EQ(seen["headers"]["host"], "vhost.example");
    const auto names = seen["names"].get<std::vector<std::string>>();
    EXPECT_EQ(std::count(names.begin(), names.end(), "host"), 1);  // replaced, not sent twice (RFC 9112 3.2: a 400)
    EXPECT_EQ(std::count(names.begin(), names.end(), "user-agent"), 1);
    EXPECT_EQ(seen["headers"]["user-agent"], "wrk-like");
    target.signal(SIGTERM);
    target.wait(5s);
}

// Every request goes to the history on disk and --history writes it out whole: one JSON line per
// request the summary counted. Past --max-history records are dropped, the summary says how many,
// and its figures (from the online totals) still count every request.
TEST(BenchCli, HistoryWrittenOutWholeOrDroppedPastItsCapAndSaid) {
    const auto dir = fresh_test_dir();
    ReferenceServer server(dir / "state", {});
    const auto file = dir / "history.jsonl";
    const auto r = bench({url(server.port(), "/fast"), "-d", "1", "-c", "2", "-t", "2", "--json", "--history", file.string()}, dir);
    EXPECT_EQ(r.status.code, 0) << r.out << r.err;
    ASSERT_FALSE(r.json.is_discarded()) << r.out;
    const auto lines = read_file(file);
    const auto count = static_cast<std::uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
    EXPECT_EQ(count, r.json["requests"].get<std::uint64_t>() + r.json["cut_at_end"].get<std::uint64_t>());
    EXPECT_EQ(r.json["history"]["records"].get<std::uint64_t>(), count);
    EXPECT_EQ(r.json["history"]["dropped"], 0);
    EXPECT_GT(r.json["history"]["bytes"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(nlohmann::json::parse(lines.substr(0, lines.find('\n')), nullptr, false).value("outcome", ""), "ok") << lines.substr(0, 300);

    // --max-history 0: every record dropped, whatever the machine's speed (a cap reached part way is
    // HistorySpool.PastItsCapRecordsAreDroppedAndCounted and HarnessRun.HistoryPastItsLimit...).
    const auto capped = bench({url(server.port(), "/fast"), "-d", "1", "-c", "2", "-t", "2", "--max-history", "0"}, dir);
    EXPECT_EQ(capped.status.code, 0) << capped.out << capped.err;
    EXPECT_NE(capped.out.find("History: 0 of "), std::string::npos) << capped.out;
    EXPECT_NE(capped.out.find("dropped past --max-history 0.00B"), std::string::npos) << capped.out;
    const auto json = bench({url(server.port(), "/fast"), "-d", "1", "-c", "2", "-t", "2", "--max-history", "0", "--json"}, dir);
    ASSERT_FALSE(json.json.is_discarded()) << json.out;
    const auto& h = json.json["history"];
    EXPECT_EQ(h["records"], 0);
    EXPECT_EQ(h["bytes"], 0);
    EXPECT_EQ(h["max_bytes"], 0);
    EXPECT_EQ(h["dropped"].get<std::uint64_t>(), json.json["requests"].get<std::uint64_t>() + json.json["cut_at_end"].get<std::uint64_t>());
    EXPECT_GT(json.json["requests"].get<std::uint64_t>(), 0u) << "the summary counts every request, kept or not";
}

TEST(BenchCli, BadNumbersAreClearUsageErrors) {
    const auto dir = fresh_test_dir();
    const auto r = bench({"http://127.0.0.1:1/", "-c", "abc"}, dir);
    EXPECT_EQ(r.status.code, 2);
    EXPECT_NE(r.err.find("-c abc: not a whole number"), std::string::npos) << r.err;
    const auto d = bench({"http://127.0.0.1:1/", "-d", "soon"}, dir);
    EXPECT_EQ(d.status.code, 2);
    EXPECT_NE(d.err.find("-d soon: not a duration"), std::string::npos) << d.err;
    const auto rate = bench({"http://127.0.0.1:1/", "--rate", "0"}, dir);
    EXPECT_EQ(rate.status.code, 2);
    EXPECT_NE(rate.err.find("--rate 0: not a rate of more than 0"), std::string::npos) << "named as spelt: " << rate.err;
    const auto https = bench({"https://127.0.0.1:1/"}, dir);
    EXPECT_EQ(https.status.code, 2);
    EXPECT_NE(https.err.find("https is not supported"), std::string::npos) << https.err;
}

} // namespace
} // namespace lastcall::testing
