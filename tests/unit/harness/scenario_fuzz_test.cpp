// The scenario loader against mutated scenario files (issue 7: 24 of 2,500 fuzzed files aborted
// lastcall). Every input must end in a Scenario that keeps the model's invariants or in a
// ScenarioError at a real file:line:column; nothing may crash or hang.
//
//   LASTCALL_FUZZ_INPUTS=N     how many inputs (default 5000, about a second in a Release build)
//   LASTCALL_FUZZ_SEED=S       the run's base seed (default 7); input i has seed S + i
//   LASTCALL_FUZZ_REPLAY=SEED  only the input with that seed, printed
// A failure, a crash (signal or sanitizer report) or an input slower than 10 s prints its seed.
#include "scenario_invariants.hpp"
#include "scenario_loader.hpp"
#include "scenario_mutator.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <unistd.h>

// Defined when the build has sanitizers: called before a sanitizer report ends the process.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace lastcall::harness {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A hang detector, not a speed test: the slowest input of 300,000 took 0.7 s in a Release build.
constexpr auto input_time_limit = std::chrono::seconds(10);

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* text = std::getenv(name);
    return text ? std::strtoull(text, nullptr, 0) : fallback;
}

std::vector<std::string> library_corpus() {
    std::vector<std::string> corpus;
    for (const auto* dir : {LASTCALL_SCENARIOS_DIR, LASTCALL_SCENARIOS_DIR "/examples", LASTCALL_SCENARIOS_DIR "/demonstrations"}) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().extension() == ".yaml") files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());  // the same corpus order, so the same inputs per seed
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
    }
    return corpus;
}

// What the loop is working on, for the watchdog and for a crash: a crash cannot report through
// GoogleTest, so the line that reproduces it is written before the process dies.
std::atomic<std::uint64_t> current_seed{0};
std::atomic<Clock::rep> current_started{0};
std::atomic<bool> running{false};
char crash_note_text[160] = "scenario fuzz: crashed outside an input\n";
struct sigaction previous_actions[NSIG];

void write_crash_note() { [[maybe_unused]] const auto n = ::write(STDERR_FILENO, crash_note_text, std::strlen(crash_note_text)); }

// Writes the note, puts back the handler that was there (the sanitizer's or the default) and
// returns: the faulting instruction runs again and faults into it, abort() raises again.
void on_crash(int signal) {
    write_crash_note();
    ::sigaction(signal, &previous_actions[signal], nullptr);
}

class CrashNote {
public:
    CrashNote() {
        struct sigaction action {};
        action.sa_handler = on_crash;
        for (const int signal : signals) ::sigaction(signal, &action, &previous_actions[signal]);
        if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(write_crash_note);
    }
    ~CrashNote() {
        for (const int signal : signals) ::sigaction(signal, &previous_actions[signal], nullptr);
        if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
    }
    static void set(std::uint64_t seed) {
        std::snprintf(crash_note_text, sizeof crash_note_text, "scenario fuzz: crashed on the input with seed %llu (LASTCALL_FUZZ_REPLAY=%llu)\n",
                      static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    }

private:
    static constexpr int signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
};

// Ends the process when one input runs longer than input_time_limit: a hang reports its seed
// instead of running into ctest's timeout.
class Watchdog {
public:
    Watchdog()
        : thread_([this] {
              while (!stop_) {
                  std::this_thread::sleep_for(std::chrono::milliseconds(50));
                  const auto started = Clock::time_point(Clock::duration(current_started.load()));
                  if (running && Clock::now() - started > input_time_limit) {
                      std::fprintf(stderr, "scenario fuzz: the input with seed %llu took longer than %lld s (LASTCALL_FUZZ_REPLAY=%llu)\n",
                                   static_cast<unsigned long long>(current_seed.load()),
                                   static_cast<long long>(input_time_limit.count()), static_cast<unsigned long long>(current_seed.load()));
                      std::_Exit(1);
                  }
              }
          }) {}
    ~Watchdog() {
        stop_ = true;
        thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Whether line:column is in `text` or just past the end of a line (columns count bytes, as
// yaml-cpp's marks do).
bool position_within(const std::string& text, int line, int column) {
    if (line < 1 || column < 1) return false;
    int at_line = 1;
    int bytes = 0;
    for (const char c : text) {
        if (c == '\n') {
            if (at_line == line) break;
            ++at_line;
            bytes = 0;
        } else if (at_line == line) {
            ++bytes;
        }
    }
    return at_line == line && column <= bytes + 1;
}

// "" when the error is as it must be; otherwise what is wrong with it.
std::string check_error(const ScenarioError& e, const std::string& text) {
    const std::string what = e.what();
    const auto prefix = fmt::format("fuzz.yaml:{}:{}: ", e.line(), e.column());
    if (!what.starts_with(prefix)) return "the message does not start with fuzz.yaml:line:column: " + what;
    if (!position_within(text, e.line(), e.column())) return fmt::format("position {}:{} is not in the input: {}", e.line(), e.column(), what);
    if (what.size() == prefix.size()) return "no message after the position";
    if (what.find("internal error") != std::string::npos) return "a reader touched a node it had not checked: " + what;
    // Several errors are one a line, each at its own position in the input.
    std::istringstream lines(what);
    for (std::string line; std::getline(lines, line);) {
        const bool clean = std::none_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
        if (!clean) return "a message holds control characters: " + what;
        int at_line = 0, at_column = 0;
        if (line.starts_with("fuzz.yaml: (reading stopped after these ")) continue;
        if (std::sscanf(line.c_str(), "fuzz.yaml:%d:%d: ", &at_line, &at_column) != 2) return "a line does not start with fuzz.yaml:line:column: " + what;
        if (!position_within(text, at_line, at_column)) return fmt::format("position {}:{} is not in the input: {}", at_line, at_column, what);
    }
    return {};
}

struct Outcome {
    bool accepted = false;
    std::string problem;  // empty: fine
    std::string message;  // the error, when rejected
};

Outcome load_one(const std::string& text) {
    try {
        const auto scenario = load_scenario_text(text, "fuzz.yaml");
        std::string problem;
        for (const auto& violation : testing::invariant_violations(scenario)) problem += violation + "; ";
        return {true, problem.empty() ? "" : "accepted, but: " + problem, {}};
    } catch (const ScenarioError& e) {
        return {false, check_error(e, text), e.what()};
    } catch (const std::exception& e) {
        return {false, std::string("threw something other than ScenarioError: ") + e.what(), {}};
    } catch (...) {
        return {false, "threw something that is not an exception", {}};
    }
}

std::string shown(const std::string& text) {
    std::string out;
    for (const char c : text.substr(0, 2000)) {
        const auto u = static_cast<unsigned char>(c);
        out += c == '\n' || (u >= 0x20 && u < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
    }
    return text.size() > 2000 ? out + fmt::format("... ({} bytes)", text.size()) : out;
}

TEST(ScenarioFuzz, MutatedScenarioFilesLoadOrFailWithAPosition) {
    const testing::ScenarioMutator mutator(library_corpus());
    ASSERT_GT(mutator.corpus().size(), 20u) << "the corpus from " << LASTCALL_SCENARIOS_DIR << " is missing";
    const auto replay = std::getenv("LASTCALL_FUZZ_REPLAY");
    const auto base_seed = replay ? env_number("LASTCALL_FUZZ_REPLAY", 0) : env_number("LASTCALL_FUZZ_SEED", 7);
    const auto inputs = replay ? 1 : env_number("LASTCALL_FUZZ_INPUTS", 5000);

    const CrashNote crash_note;
    const Watchdog watchdog;
    std::size_t accepted = 0, failures = 0;
    Clock::duration slowest{};
    std::uint64_t slowest_seed = base_seed;
    const auto began = Clock::now();
    for (std::uint64_t i = 0; i < inputs && failures < 5; ++i) {
        const auto seed = base_seed + i;
        const auto text = mutator.input(seed);
        if (replay) std::fprintf(stderr, "input:\n%s\n", shown(text).c_str());
        CrashNote::set(seed);
        current_seed = seed;
        current_started = Clock::now().time_since_epoch().count();
        running = true;
        const auto started = Clock::now();
        const auto outcome = load_one(text);
        const auto took = Clock::now() - started;
        running = false;
        if (took > slowest) {
            slowest = took;
            slowest_seed = seed;
        }
        accepted += outcome.accepted ? 1 : 0;
        if (replay) std::printf("-> %s\n", outcome.accepted ? "accepted" : outcome.message.c_str());
        if (!outcome.problem.empty()) {
            ++failures;
            ADD_FAILURE() << outcome.problem << "\nreproduce: LASTCALL_FUZZ_REPLAY=" << seed
                          << " build/tests/unit_tests --gtest_filter=ScenarioFuzz.*\ninput:\n" << shown(text);
        }
    }
    const auto total = std::chrono::duration<double>(Clock::now() - began).count();
    std::printf("scenario fuzz: %llu inputs from seed %llu: %zu accepted, %llu rejected, %.2f s; slowest %.1f ms (seed %llu)\n",
                static_cast<unsigned long long>(inputs), static_cast<unsigned long long>(base_seed), accepted,
                static_cast<unsigned long long>(inputs - accepted), total,
                std::chrono::duration<double, std::milli>(slowest).count(), static_cast<unsigned long long>(slowest_seed));
}

} // namespace
} // namespace lastcall::harness
