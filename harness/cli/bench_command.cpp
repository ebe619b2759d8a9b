// `lastcall bench URL [options]`: the options are bench_options.hpp's, on this subcommand.
#include "shared_options.hpp"

#include "bench.hpp"

#include <memory>

namespace lastcall::cli {

Command add_bench_command(CLI::App& lastcall) {
    auto* command = lastcall.add_subcommand("bench", "load a URL as wrk does (lastcall bench --help; its own exit codes)");
    auto command_line = std::make_shared<harness::BenchCommandLine>(*command);
    return {command, [command_line] { return harness::run_bench(command_line->options()); }};
}

} // namespace lastcall::cli
