#include "bench.hpp"

#include "load_generator.hpp"
#include "scenario_loader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <thread>

namespace lastcall::harness {

namespace {

struct BenchOptions {
    std::string host;
    std::uint16_t port = 80;
    std::string path = "/";
    int connections = 10;
    int threads = 2;
    Duration duration = std::chrono::seconds(10);
    double rate = 0;
    bool json = false;
};

BenchOptions parse(const std::vector<std::string>& args) {
    BenchOptions o;
    std::string url;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        if (a == "-c" || a == "--connections") o.connections = std::stoi(value());
        else if (a == "-t" || a == "--threads") o.threads = std::stoi(value());
        else if (a == "-d" || a == "--duration") {
            const auto d = parse_duration(value());
            if (!d) throw std::invalid_argument("bad duration '" + args[i] + "' (expected like 10s)");
            o.duration = *d;
        } else if (a == "--rate" || a == "-R") {
            const auto& v = value();
            const auto r = parse_rate(v.find('/') == std::string::npos ? v + "/s" : v);
            if (!r) throw std::invalid_argument("bad rate '" + v + "' (expected like 1000 or 1000/s)");
            o.rate = *r;
        } else if (a == "--json") o.json = true;
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
        else url = a;
    }
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("expected a URL like http://127.0.0.1:8080/fast");
    auto rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    o.path = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto authority = rest.substr(0, slash);
    const auto colon = authority.rfind(':');
    o.host = authority.substr(0, colon);
    if (colon != std::string::npos) o.port = static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1)));
    if (o.host == "localhost") o.host = "127.0.0.1";
    if (o.connections < 1 || o.threads < 1) throw std::invalid_argument("-c and -t must be at least 1");
    return o;
}

std::string human_time(std::uint64_t ns) {
    if (ns < 1000) return fmt::format("{}ns", ns);
    if (ns < 1'000'000) return fmt::format("{:.2f}us", static_cast<double>(ns) / 1e3);
    if (ns < 1'000'000'000) return fmt::format("{:.2f}ms", static_cast<double>(ns) / 1e6);
    return fmt::format("{:.2f}s", static_cast<double>(ns) / 1e9);
}

} // namespace

std::string bench_usage() {
    return "usage: lastcall bench URL [-c CONNECTIONS] [-t THREADS] [-d DURATION] [--rate R] [--json]\n"
           "  closed loop over CONNECTIONS keep-alive connections, or open loop at R requests/s\n"
           "  (latency from the intended start, so coordinated omission shows)\n";
}

int run_bench(const std::vector<std::string>& arguments) {
    const auto o = parse(arguments);
    Workload w;
    w.name = "bench";
    w.request.path = o.path;
    w.connections = o.connections;
    w.timeout = std::chrono::seconds(10);
    if (o.rate > 0) {
        w.mode = LoadMode::open;
        w.rate = o.rate;
    }
    const auto seconds = std::chrono::duration<double>(o.duration).count();
    const auto expected = static_cast<std::size_t>(o.rate > 0 ? o.rate * seconds * 1.1 : 200'000 * seconds);
    const auto start = std::chrono::steady_clock::now();
    LoadGenerator load({w}, LoadOptions{o.host, o.port, o.threads, start, std::min<std::size_t>(expected, 20'000'000)});
    if (!o.json) {
        fmt::print("Running {:.0f}s test @ http://{}:{}{}\n  {} threads and {} connections{}\n", seconds, o.host, o.port, o.path,
                   o.threads, o.connections, o.rate > 0 ? fmt::format(", {:.0f} requests/s", o.rate) : "");
    }
    load.start();
    std::this_thread::sleep_until(start + o.duration);
    load.stop({});
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    load.finish(std::chrono::milliseconds(0));
    const auto history = load.take_history();
    const auto latency = load.latency();

    std::uint64_t completed = 0, bytes = 0, connect = 0, read = 0, write = 0, status = 0, timeout = 0;
    for (const auto& r : history) {
        if (r.outcome == Outcome::unknown) continue;  // cut when the run ended
        ++completed;
        bytes += r.bytes;
        switch (r.failure) {
        case Failure::connect_refused:
        case Failure::connect_error: ++connect; break;
        case Failure::write_error: ++write; break;
        case Failure::timeout: ++timeout; break;
        case Failure::none: if (r.status < 200 || r.status >= 400) ++status; break;
        default: ++read; break;
        }
    }
    const double rps = static_cast<double>(completed) / elapsed;
    if (o.json) {
        nlohmann::json out = {{"url", fmt::format("http://{}:{}{}", o.host, o.port, o.path)}, {"threads", o.threads},
                              {"connections", o.connections}, {"rate", o.rate}, {"duration_s", elapsed}, {"requests", completed},
                              {"requests_per_sec", rps}, {"bytes", bytes},
                              {"latency_ns", {{"p50", latency.percentile(50)}, {"p90", latency.percentile(90)}, {"p99", latency.percentile(99)},
                                              {"p99.9", latency.percentile(99.9)}, {"max", latency.max()}, {"mean", latency.mean()}}},
                              {"errors", {{"connect", connect}, {"read", read}, {"write", write}, {"status", status}, {"timeout", timeout}}},
                              {"record_bytes", sizeof(RequestRecord)}};
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    fmt::print("  Latency (from intended start)\n");
    fmt::print("     50%  {:>10}\n     90%  {:>10}\n     99%  {:>10}\n   99.9%  {:>10}\n     max  {:>10}\n", human_time(latency.percentile(50)),
               human_time(latency.percentile(90)), human_time(latency.percentile(99)), human_time(latency.percentile(99.9)),
               human_time(latency.max()));
    fmt::print("  {} requests in {:.2f}s, {:.2f}MB read\n", completed, elapsed, static_cast<double>(bytes) / 1e6);
    if (connect + read + write + status + timeout > 0) {
        fmt::print("  Socket errors: connect {}, read {}, write {}, timeout {}\n  Non-2xx or 3xx responses: {}\n", connect, read, write,
                   timeout, status);
    }
    fmt::print("Requests/sec: {:10.2f}\n", rps);
    fmt::print("Recorded {} requests at {} bytes each ({:.1f}MB of history)\n", history.size(), sizeof(RequestRecord),
               static_cast<double>(history.size() * sizeof(RequestRecord)) / 1e6);
    return 0;
}

} // namespace lastcall::harness
