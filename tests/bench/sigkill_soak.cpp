// SIGKILL under increment load, N times in a row on one state directory, recording every value an
// acknowledged increment returned. Each restart reads the counter back: an acknowledged value above
// it was lost. Over all rounds, a value returned twice was handed out twice. Run by
// scripts/sigkill-counter; exit 0 only when nothing was lost and nothing repeated.
// Usage: sigkill_soak [--kills N] [--connections C] [--seed S] [--server PATH] [-- SERVER_ARGS...]
#include "increment_load.hpp"
#include "raw_http.hpp"
#include "reference_server.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

namespace {

using namespace lastcall::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

long counter_of(unsigned short port) {
    const auto body = http_get(port, "/counter").body;
    const auto at = body.find(':');
    return at == std::string::npos ? -1 : std::atol(body.c_str() + at + 1);
}

} // namespace

int main(int argc, char** argv) {
    int kills = 100, connections = 16;
    unsigned seed = 1;
    std::vector<std::string> server_args;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--kills" && i + 1 < argc) kills = std::atoi(argv[++i]);
        else if (arg == "--connections" && i + 1 < argc) connections = std::atoi(argv[++i]);
        else if (arg == "--seed" && i + 1 < argc) seed = static_cast<unsigned>(std::atoi(argv[++i]));
        else if (arg == "--server" && i + 1 < argc) ::setenv("LASTCALL_TEST_SERVER", argv[++i], 1);
        else if (arg == "--") server_args.assign(argv + i + 1, argv + argc), i = argc;
        else {
            std::fprintf(stderr, "usage: sigkill_soak [--kills N] [--connections C] [--seed S] [--server PATH] [-- SERVER_ARGS...]\n");
            return 2;
        }
    }
    const auto state = fs::temp_directory_path() / "lastcall-sigkill-soak" / std::to_string(::getpid());
    fs::remove_all(state);
    fs::create_directories(state.parent_path());
    std::mt19937 random(seed);
    std::vector<long> all_values;
    std::vector<long> previous_round;
    std::size_t lost = 0, acked = 0;
    for (int round = 0; round <= kills; ++round) {
        ReferenceServer server(state, server_args);
        const auto recovered = counter_of(server.port());
        const auto lost_now = std::count_if(previous_round.begin(), previous_round.end(), [&](long v) { return v > recovered; });
        lost += static_cast<std::size_t>(lost_now);
        if (round == kills) {  // the last start only reads back, and hands out a few more values
            IncrementLoad load(server.port(), 4, 50);
            load.stop();
            const auto values = load.values();
            all_values.insert(all_values.end(), values.begin(), values.end());
            server.process().signal(SIGTERM);
            server.process().wait(5s);
            break;
        }
        IncrementLoad load(server.port(), connections);
        // A random moment: between 20 and 600 ms into the load.
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 600)(random)));
        server.process().signal(SIGKILL);
        server.process().wait(10s);
        load.stop();
        previous_round = load.values();
        acked += previous_round.size();
        all_values.insert(all_values.end(), previous_round.begin(), previous_round.end());
        std::printf("kill %d: %zu acknowledged before the kill, counter after the previous kill %ld, lost %ld\n", round + 1,
                    previous_round.size(), recovered, static_cast<long>(lost_now));
        std::fflush(stdout);
    }
    const auto repeated = repeated_values(all_values);
    std::printf("kills %d acknowledged %zu lost %zu handed_out_twice %zu\n", kills, acked, lost, repeated);
    fs::remove_all(state);
    return lost == 0 && repeated == 0 ? 0 : 1;
}
