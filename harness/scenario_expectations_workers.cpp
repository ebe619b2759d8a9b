// expect.zero_downtime and expect.workers_drained: the bounds of the master/worker checks.
#include "scenario_sections.hpp"

namespace lastcall::harness {

std::optional<Expectations::ZeroDowntime> read_zero_downtime(const YamlReader& r, const YAML::Node& node) {
    if (node.IsScalar()) {
        if (!r.boolean(node, "zero_downtime")) return std::nullopt;
        return Expectations::ZeroDowntime{};
    }
    r.expect_map(node, "zero_downtime");
    r.check_keys(node, "zero_downtime", {"within", "max_latency"});
    Expectations::ZeroDowntime z;
    if (node["within"]) z.within = r.duration(node["within"], "zero_downtime.within", ranges::expectation);
    if (node["max_latency"]) z.max_latency = r.duration(node["max_latency"], "zero_downtime.max_latency", ranges::expectation);
    return z;
}

std::optional<Expectations::WorkersDrained> read_workers_drained(const YamlReader& r, const YAML::Node& node) {
    if (node.IsScalar()) {
        if (!r.boolean(node, "workers_drained")) return std::nullopt;
        return Expectations::WorkersDrained{};
    }
    r.expect_map(node, "workers_drained");
    r.check_keys(node, "workers_drained", {"killed", "crashed", "exit"});
    Expectations::WorkersDrained w;
    if (node["killed"]) w.killed = r.integer(node["killed"], "workers_drained.killed", ranges::expected_count);
    if (node["crashed"]) w.crashed = r.integer(node["crashed"], "workers_drained.crashed", ranges::expected_count);
    if (const auto& exit = node["exit"]) {
        w.exit.clear();
        if (exit.IsSequence()) {
            for (const auto& code : exit) w.exit.push_back(static_cast<int>(r.integer(code, "workers_drained.exit", ranges::exit_code)));
            if (w.exit.empty()) r.fail(exit, "workers_drained.exit needs at least one code");
        } else {
            w.exit.push_back(static_cast<int>(r.integer(exit, "workers_drained.exit", ranges::exit_code)));
        }
    }
    return w;
}

} // namespace lastcall::harness
