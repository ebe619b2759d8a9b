#include "config.hpp"
#include "master.hpp"
#include "server.hpp"

#include "lastcall/coordinator/phase.hpp"

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace lastcall;
    namespace exit_code = coordinator::exit_code;
    server::ServerConfig config;
    try {
        config = server::parse_config(argc, argv);
    } catch (const server::UsageError& e) {
        fmt::print(stderr, "lastcall-server: {}\nRun 'lastcall-server --help' for the options.\n", e.what());
        return exit_code::usage;
    }
    if (config.show_help) {
        fmt::print("{}", server::usage_text());
        return 0;
    }
    if (config.show_version) {
        fmt::print("lastcall-server 0.1.0\n");
        return 0;
    }
    try {
        if (config.workers > 0) return server::run_master(config, std::vector<std::string>(argv, argv + argc));
        return server::run_server(config);
    } catch (const server::StartupError& e) {
        fmt::print(stderr, "lastcall-server: {}\n", e.what());
    }
    return exit_code::refused_to_start;
}
