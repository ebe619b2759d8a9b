#pragma once
// `lastcall bench` command line: wrk's options (-c -t -d -H --timeout --latency) plus -m/--method,
// --body/--body-file, --rate (open loop) and --json, read by CLI11 (the `bench` subcommand of
// cli/bench_command.cpp). Bad input is a std::invalid_argument naming the option and the value.
#include "units.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace lastcall::harness {

struct BenchOptions {
    std::string host;
    std::uint16_t port = 80;
    std::string path = "/";
    std::string method = "GET";
    std::vector<std::pair<std::string, std::string>> headers;  // -H, in order
    std::string body;
    int connections = 10;
    bool connections_given = false;  // with --rate, -c is the limit of connections; unset: lastcall's own
    int threads = 2;  // at most -c unless given
    bool threads_given = false;
    Duration duration = std::chrono::seconds(10);
    Duration timeout = std::chrono::seconds(10);
    double rate = 0;  // > 0: open loop
    bool latency_distribution = false;
    bool json = false;
    // Every request is recorded to disk as it completes (history_spool.hpp): at most this many
    // bytes, past which records are dropped and the summary says how many (its figures come
    // from online totals and stay exact). --history FILE writes them out as history.jsonl lines.
    std::uint64_t max_history = std::uint64_t{1} << 30;
    std::string history_file;
    bool help = false;
    std::string given_url;  // the URL as written: what the output names (localhost stays localhost)
    std::string url() const;        // given_url, else the one the fields make
    std::string address() const;    // where the connects go: 127.0.0.1:8080, [::1]:8080
};

// The bench's options on a CLI11 app: CLI11 reads the words, options() makes them BenchOptions.
// Lives as long as the app's parse (the app writes into it).
class BenchCommandLine {
public:
    explicit BenchCommandLine(CLI::App& app);  // adds the options, the URL and the help text
    BenchCommandLine(const BenchCommandLine&) = delete;
    BenchCommandLine& operator=(const BenchCommandLine&) = delete;
    ~BenchCommandLine();
    // Throws std::invalid_argument with a message for the user ("-c abc: not a whole number").
    BenchOptions options() const;

private:
    struct Words;
    std::unique_ptr<Words> words_;
};

// The same on its own (the unit tests): help asked for is `help`, nothing else checked.
BenchOptions parse_bench_options(const std::vector<std::string>& arguments);
std::string bench_usage();  // what `lastcall bench --help` prints

} // namespace lastcall::harness
