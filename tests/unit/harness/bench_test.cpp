// `lastcall bench`'s pure parts: its command line, the summary it makes of a history (what counts
// as completed, failed or cut; where latency is measured from; wrk's Thread Stats), its exit codes
// and its JSON. The real runs are in integration/bench_cli_test.cpp.
#include "bench_options.hpp"
#include "bench_report.hpp"
#include "bench_summary.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace lastcall::harness {
namespace {

std::string error_of(const std::vector<std::string>& args) {
    try {
        parse_bench_options(args);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(BenchOptions, WrkSpellingsAndBareSeconds) {
    const auto o = parse_bench_options({"-t", "1", "-c", "3", "-d", "5", "--timeout", "250ms", "-H", "X-A:  one two ", "-H", "X-B: 2", "-m", "POST",
                                        "--body", "{}", "--latency", "http://localhost:8080/fast?x=1"});
    EXPECT_EQ(o.duration, std::chrono::seconds(5));
    EXPECT_EQ(o.timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(o.threads, 1);
    EXPECT_EQ(o.connections, 3);
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 8080);
    EXPECT_EQ(o.path, "/fast?x=1");
    EXPECT_EQ(o.method, "POST");
    EXPECT_EQ(o.body, "{}");
    ASSERT_EQ(o.headers.size(), 2u);
    EXPECT_EQ(o.headers[0], std::make_pair(std::string("X-A"), std::string("one two")));
    EXPECT_TRUE(o.latency_distribution);
    EXPECT_EQ(parse_bench_options({"http://h/", "-d", "1.5"}).duration, std::chrono::milliseconds(1500));
    EXPECT_EQ(parse_bench_options({"http://h/", "-d", "2m"}).duration, std::chrono::minutes(2));
    const auto v6 = parse_bench_options({"http://[::1]:8081/x"});
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 8081);
    EXPECT_EQ(v6.url(), "http://[::1]:8081/x");
    EXPECT_EQ(parse_bench_options({"http://[::1]/"}).port, 80);
    EXPECT_EQ(parse_bench_options({"http://h/", "-c", "1"}).threads, 1);  // the default 2 threads, held to -c
    EXPECT_EQ(parse_bench_options({"http://h/", "-R", "10", "-t", "4"}).threads, 4);  // open loop without -c
    EXPECT_EQ(parse_bench_options({"http://h/"}).max_history, std::uint64_t{1} << 30);
    EXPECT_EQ(parse_bench_options({"http://h/", "--max-history", "512k"}).max_history, 512u * 1024);
    EXPECT_EQ(parse_bench_options({"http://h/", "--max-history", "64M"}).max_history, 64u << 20);
    EXPECT_EQ(parse_bench_options({"http://h/", "--max-history", "2G"}).max_history, std::uint64_t{2} << 30);
    EXPECT_EQ(parse_bench_options({"http://h/", "--max-history", "0"}).max_history, 0u);  // count, keep nothing
}

TEST(BenchOptions, BadInputNamesTheOptionAndTheValue) {
    EXPECT_EQ(error_of({"http://h/", "-c", "abc"}), "-c abc: not a whole number");
    EXPECT_EQ(error_of({"http://h/", "-t", "2x"}), "-t 2x: not a whole number");
    EXPECT_EQ(error_of({"http://h/", "-c", "0"}), "-c 0: must be at least 1");
    EXPECT_EQ(error_of({"http://h/", "-c", "99999999999"}), "-c 99999999999: too large");
    EXPECT_EQ(error_of({"http://h/", "-d", "0"}), "-d 0: must be more than 0");
    EXPECT_EQ(error_of({"http://h/", "-d", "soon"}), "-d soon: not a duration (like 5, 5s, 250ms or 2m)");
    EXPECT_EQ(error_of({"http://h/", "-R", "fast"}), "-R fast: not a rate of more than 0 (like 1000 or 1000/s)");
    // Named as the user spelt it: "--rate 0" was reported as "-R 0".
    EXPECT_EQ(error_of({"http://h/", "--rate", "0"}), "--rate 0: not a rate of more than 0 (like 1000 or 1000/s)");
    EXPECT_EQ(error_of({"http://h/", "--rate=0"}), "--rate 0: not a rate of more than 0 (like 1000 or 1000/s)");
    EXPECT_EQ(error_of({"http://h/", "-R", "0"}), "-R 0: not a rate of more than 0 (like 1000 or 1000/s)");
    EXPECT_EQ(error_of({"http://h/", "-R", "10", "--rate", "0"}), "--rate 0: not a rate of more than 0 (like 1000 or 1000/s)");
    EXPECT_EQ(error_of({"http://h/", "--rate", "0", "-R", "10"}), "(accepted)");  // the last one given wins, either spelling
    EXPECT_EQ(parse_bench_options({"http://h/", "--rate", "0", "-R", "10"}).rate, 10.0);
    EXPECT_EQ(parse_bench_options({"http://h/", "-R", "0", "--rate", "20"}).rate, 20.0);
    EXPECT_EQ(error_of({"--rate"}), "--rate needs a value");
    // "expected a URL like http://..." read as if the URL were mistyped.
    EXPECT_EQ(error_of({"https://h/"}), "URL https://h/: https is not supported; lastcall bench speaks plain HTTP (http://...)");
    EXPECT_EQ(error_of({"http://h/", "-H", "NoColon"}), "-H NoColon: expected 'Name: value'");
    EXPECT_EQ(error_of({"http://h/", "-H", "content-length: 3"}), "-H content-length: 3: lastcall sets this header itself (from --body)");
    EXPECT_EQ(error_of({"http://h/", "-H", "Host: other"}), "(accepted)");  // replaces lastcall's
    EXPECT_EQ(error_of({"http://h/", "-H", "Bad Name: x"}), "-H Bad Name: x: the name is not an HTTP token");
    EXPECT_EQ(error_of({"http://h/", "-m", "GE T"}), "-m GE T: not an HTTP method (a token like GET or POST)");
    EXPECT_EQ(error_of({"http://h:70000/"}), "URL http://h:70000/: the port is past 65535");
    EXPECT_EQ(error_of({"http://h/", "-c", "1", "-t", "2"}), "-c 1 with -t 2: every thread needs a connection (-c at least -t)");
    EXPECT_EQ(error_of({"-c"}), "--connections needs a value");
    EXPECT_EQ(error_of({"--frob", "http://h/"}), "unknown option --frob");
    EXPECT_EQ(error_of({"-d", "1"}), "bench needs a URL, like http://127.0.0.1:8080/fast");
    EXPECT_EQ(error_of({"http://h/", "--body", "a", "--body-file", "/nonexistent"}), "--body and --body-file: give one body only");
    EXPECT_EQ(error_of({"http://h/", "--body-file", "/nonexistent/file"}), "--body-file /nonexistent/file: cannot be read");
    EXPECT_EQ(error_of({"http://h/", "--max-history", "lots"}), "--max-history lots: not a size (like 1073741824, 512k, 64M or 1G)");
    EXPECT_EQ(error_of({"http://h/", "--max-history", "5T"}), "--max-history 5T: not a size (like 1073741824, 512k, 64M or 1G)");
    EXPECT_EQ(error_of({"http://h/", "--max-history", "9999999G"}), "--max-history 9999999G: too large (at most 1 PiB)");
}

RequestRecord answered(std::uint64_t id, int thread, std::int64_t intended, std::int64_t sent, std::int64_t done, std::uint16_t status = 200) {
    RequestRecord r;
    r.id = (id << 8) | static_cast<std::uint64_t>(thread);
    r.intended_us = intended;
    r.sent_us = sent;
    r.done_us = done;
    r.status = status;
    r.bytes = 100;
    r.outcome = status / 100 == 2 ? Outcome::ok : Outcome::error;
    return r;
}

RequestRecord failed(Failure failure, Outcome outcome, std::int64_t done) {
    RequestRecord r;
    r.intended_us = done - 10;
    r.done_us = done;
    r.failure = failure;
    r.outcome = outcome;
    return r;
}

TEST(BenchSummary, FailuresAreNotCompletedAndCutRequestsAreNeither) {
    const std::vector<RequestRecord> history{
        answered(1, 0, 0, 0, 100), answered(2, 0, 100, 100, 300, 404),
        failed(Failure::connect_refused, Outcome::rejected, 50), failed(Failure::connect_error, Outcome::unknown, 60),
        failed(Failure::timeout, Outcome::dropped, 70), failed(Failure::reset, Outcome::dropped, 80),
        failed(Failure::eof_mid_response, Outcome::dropped, 90), failed(Failure::bad_chunk, Outcome::dropped, 95),
        failed(Failure::harness_error, Outcome::unknown, 2000),
        failed(Failure::eof_before_response, Outcome::unknown, 1000),  // after the stop at 1000: cut by the run's end
    };
    const auto s = summarize(history, {LatencyOrigin::send, 1, 1000});
    EXPECT_EQ(s.completed, 2u);
    EXPECT_EQ(s.non_2xx_3xx, 1u);
    EXPECT_EQ(s.bytes, 200u);
    EXPECT_EQ(s.failed.connect_refused, 1u);
    EXPECT_EQ(s.failed.connect_error, 1u);
    EXPECT_EQ(s.failed.timeout, 1u);
    EXPECT_EQ(s.failed.reset, 1u);
    EXPECT_EQ(s.failed.closed, 1u);
    EXPECT_EQ(s.failed.bad_response, 1u);
    EXPECT_EQ(s.failed.harness, 1u);  // lastcall's own fault is never passed off as cut
    EXPECT_EQ(s.failed.total(), 7u);
    EXPECT_EQ(s.cut_at_end, 1u);
    EXPECT_EQ(s.latency_us.count(), 2u);
}

// A connect the system gave lastcall no descriptor for (EMFILE) was never attempted: lastcall's
// limit, counted apart, where "connect failed" is the target's side.
TEST(BenchSummary, ConnectsWithoutADescriptorAreNotTheTargetsFailures) {
    BenchTally tally;
    tally.add(failed(Failure::connect_error, Outcome::unknown, 50), false, true);
    tally.add(failed(Failure::connect_error, Outcome::unknown, 60), false, false);
    tally.add(failed(Failure::connect_error, Outcome::unknown, 2000), true, true);  // after the stop too: never attempted, not cut
    BenchTally other;
    other.add(failed(Failure::connect_error, Outcome::unknown, 70), false, true);
    tally.merge(other);
    const auto s = tally.summary({LatencyOrigin::send, 1, 1000});
    EXPECT_EQ(s.not_attempted, 3u);
    EXPECT_EQ(s.failed.connect_error, 1u);
    EXPECT_EQ(s.failed.total(), 1u);
    EXPECT_EQ(s.cut_at_end, 0u);
}

// Stopped for lastcall's own limit: the stop says why once; the arrivals it left unstarted are not
// a rate lastcall's CPU could not keep.
TEST(BenchText, AStopForLastcallsOwnLimitBlamesNeitherTheCpuNorTheTarget) {
    BenchOptions o;
    o.host = "127.0.0.1";
    o.port = 8080;
    o.path = "/";
    o.rate = 100000;
    BenchRun run;
    run.elapsed_s = 1.24;
    run.stopped_early = "a connection could not be opened: Too many open files";
    run.summary.completed = 2000;
    run.summary.not_attempted = 406;
    run.arrivals_never_started = arrivals_never_started(o.rate, run.elapsed_s, 1, run.summary, 0);
    ASSERT_GT(run.arrivals_never_started, 0u);
    auto own = run;
    own.stopped_for_own_limit = true;
    const auto text = bench_text(o, own);
    EXPECT_EQ(text.find("Behind schedule"), std::string::npos) << text;
    EXPECT_EQ(text.find("Failed:"), std::string::npos) << text;
    EXPECT_NE(text.find("  Not attempted: 406 connects lastcall had no file descriptor for (not the target's failures)\n"), std::string::npos) << text;
    EXPECT_NE(bench_text(o, run).find("Behind schedule"), std::string::npos) << "any other stop still says it";
    const auto json = nlohmann::json::parse(bench_json(o, own));
    EXPECT_EQ(json["not_attempted"], 406);
    EXPECT_EQ(json["stopped_for_own_limit"], true);
    EXPECT_EQ(json["failed"]["total"], 0);
    EXPECT_EQ(json["arrivals_behind"], 0) << "the JSON blames lastcall's CPU no more than the text";
    EXPECT_EQ(json["arrivals_never_started"], run.arrivals_never_started);
    EXPECT_EQ(nlohmann::json::parse(bench_json(o, run))["arrivals_behind"], run.arrivals_never_started) << "any other stop: lastcall fell behind";
}

// A dead port under -R: the run stopped after a second of refusals said so, then "Nothing listens
// ... every connect was refused" (the cause twice) and "Behind schedule ... lastcall could not keep
// up" (its CPU, it read). Every connect refused, nothing served: the target's refusal, said once.
TEST(BenchText, ARunWhoseConnectsWereAllRefusedSaysSoOnceAndBlamesNoCpu) {
    BenchOptions o;
    o.host = "127.0.0.1";
    o.port = 8080;
    o.path = "/";
    o.rate = 200000;
    BenchRun run;
    run.elapsed_s = 1.05;
    run.stopped_early = "every connect to http://127.0.0.1:8080/ was refused for 1.0s and nothing was served: stopped rather than wait the whole -d";
    run.summary.failed.connect_refused = 21750;
    run.arrivals_never_started = arrivals_never_started(o.rate, run.elapsed_s, 1, run.summary, 0);
    ASSERT_GT(run.arrivals_never_started, 0u);
    const auto text = bench_text(o, run);
    EXPECT_EQ(text.find("Behind schedule"), std::string::npos) << text;
    EXPECT_EQ(text.find("Nothing listens"), std::string::npos) << "the stop said it: " << text;
    EXPECT_NE(text.find("  Stopped after 1.05s: every connect to http://127.0.0.1:8080/ was refused"), std::string::npos) << text;
    EXPECT_NE(text.find("  Failed: 21750 (connect refused 21750)\n"), std::string::npos) << text;

    auto short_run = run;  // -d shorter than the second of refusals that stops a run: said by itself
    short_run.stopped_early.clear();
    const auto short_text = bench_text(o, short_run);
    EXPECT_NE(short_text.find("  Nothing listens at http://127.0.0.1:8080/: every connect was refused\n"), std::string::npos) << short_text;
    EXPECT_EQ(short_text.find("Behind schedule"), std::string::npos) << short_text;

    // The JSON agrees: the arrivals never started are counted, none as lastcall falling behind.
    for (const auto& r : {run, short_run}) {
        const auto json = nlohmann::json::parse(bench_json(o, r));
        EXPECT_EQ(json["arrivals_behind"], 0);
        EXPECT_EQ(json["arrivals_never_started"], run.arrivals_never_started);
    }

    auto one_answered = run;  // a target that served something: a schedule not kept is lastcall's again
    one_answered.summary.completed = 1;
    EXPECT_NE(bench_text(o, one_answered).find("Behind schedule"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(bench_json(o, one_answered))["arrivals_behind"], run.arrivals_never_started);
}

TEST(BenchSummary, LatencyFromSendClosedLoopFromIntendedStartOpenLoop) {
    // Sent 400 us late (behind a slow response), answered 100 us after the send.
    const std::vector<RequestRecord> history{answered(1, 0, 1000, 1400, 1500)};
    EXPECT_EQ(summarize(history, {LatencyOrigin::send, 1, 10'000}).latency_us.max(), 100u);
    EXPECT_EQ(summarize(history, {LatencyOrigin::intended_start, 1, 10'000}).latency_us.max(), 500u);
}

TEST(BenchSummary, LatencyThreadStatsOverCompletedResponsesOnly) {
    const std::vector<RequestRecord> history{answered(1, 0, 0, 0, 10), answered(2, 0, 0, 0, 10), answered(3, 0, 0, 0, 10),
                                             answered(4, 0, 0, 0, 50), failed(Failure::timeout, Outcome::dropped, 9000)};
    const auto s = summarize(history, {LatencyOrigin::send, 1, 10'000});
    EXPECT_DOUBLE_EQ(s.latency.mean, 20);
    EXPECT_DOUBLE_EQ(s.latency.stdev, 20);
    EXPECT_DOUBLE_EQ(s.latency.max, 50);
    EXPECT_DOUBLE_EQ(s.latency.within_stdev_percent, 75);
}

TEST(BenchSummary, RequestsPerThreadSampledOverWholeWindows) {
    std::vector<RequestRecord> history;
    // Thread 0: 3 responses in window 0, 1 in window 1; thread 1: 2 and 2. A response after the
    // last whole window (250 ms into a 250 ms run) is counted but not sampled.
    for (const std::int64_t done : {10, 20, 30, 150'000}) history.push_back(answered(history.size() + 1, 0, 0, 0, done));
    for (const std::int64_t done : {10, 20, 110'000, 120'000, 210'000}) history.push_back(answered(history.size() + 1, 1, 0, 0, done));
    const auto s = summarize(history, {LatencyOrigin::send, 2, 250'000});
    EXPECT_EQ(s.completed, 9u);
    EXPECT_EQ(s.requests_per_thread.samples, 4u);
    EXPECT_DOUBLE_EQ(s.requests_per_thread.mean, 20.0);  // (30 + 10 + 20 + 20) / 4 per second
    EXPECT_DOUBLE_EQ(s.requests_per_thread.max, 30.0);
}

TEST(BenchSummary, SpreadIsWrkThreadStats) {
    const auto s = spread_of({10, 10, 10, 50});
    EXPECT_DOUBLE_EQ(s.mean, 20);
    EXPECT_DOUBLE_EQ(s.stdev, 20);
    EXPECT_DOUBLE_EQ(s.max, 50);
    EXPECT_DOUBLE_EQ(s.within_stdev_percent, 75);
    EXPECT_EQ(spread_of({}).samples, 0u);
}

TEST(BenchExitCode, SaysWhatHappened) {
    BenchSummary fine;
    fine.completed = 5;
    EXPECT_EQ(bench_exit_code(fine, 0, 0), 0);
    EXPECT_EQ(bench_exit_code(fine, 1, 0), 1);  // a skipped arrival is load not sent
    EXPECT_EQ(bench_exit_code(fine, 0, 2), 130);
    EXPECT_EQ(bench_exit_code(fine, 0, 15), 143);
    auto non_2xx = fine;
    non_2xx.non_2xx_3xx = 1;
    EXPECT_EQ(bench_exit_code(non_2xx, 0, 0), 1);
    auto some_failed = fine;
    some_failed.failed.timeout = 1;
    EXPECT_EQ(bench_exit_code(some_failed, 0, 0), 1);
    BenchSummary none;
    none.failed.connect_refused = 9;
    EXPECT_EQ(bench_exit_code(none, 0, 0), 3);
}

TEST(BenchJson, VersionedIntegerMicrosecondsNullWhenNothingCompleted) {
    auto o = parse_bench_options({"http://127.0.0.1:9/x"});
    BenchRun run;
    run.elapsed_s = 1;
    run.summary.failed.connect_refused = 7;
    auto j = nlohmann::json::parse(bench_json(o, run));
    EXPECT_EQ(j["version"], bench_json_version);
    EXPECT_FALSE(j.contains("record_bytes"));
    EXPECT_EQ(j["requests_per_sec"], 0.0);
    EXPECT_EQ(j["failed"]["total"], 7);
    EXPECT_EQ(j["latency_us"]["p50"], nullptr);
    EXPECT_EQ(j["latency_us"]["mean"], nullptr);

    run.summary = summarize({answered(1, 0, 0, 0, 1234), answered(2, 0, 0, 0, 1000)}, {LatencyOrigin::send, 1, 1'000'000});
    j = nlohmann::json::parse(bench_json(o, run));
    EXPECT_TRUE(j["latency_us"]["mean"].is_number_integer());
    EXPECT_EQ(j["latency_us"]["mean"], 1117);
    EXPECT_EQ(j["latency_us"]["max"], 1234);
    EXPECT_TRUE(j["latency_us"]["p99_99"].is_number_integer());
    EXPECT_EQ(j["latency_us"]["measured_from"], "send");
}

} // namespace
} // namespace lastcall::harness
