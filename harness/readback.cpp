#include "readback.hpp"

#include "json_field.hpp"
#include "probe_client.hpp"

#include <fmt/format.h>

#include <thread>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;

namespace {

std::string shown(const std::string& body) { return body.size() > 200 ? body.substr(0, 200) + "..." : body; }

} // namespace

CounterReadback read_counter(const HostAddress& address, std::uint16_t port, const std::string& path) {
    ProbeClient client(address, port);
    CounterReadback out;
    const auto response = client.request(path, std::chrono::milliseconds(2000));
    out.status = response.status;
    out.body = shown(response.body);
    if (out.status != 200) {
        out.error = !response.ok() ? fmt::format("GET {}: {}", path, response.error_text) : fmt::format("GET {} answered {} '{}'", path, out.status, out.body);
        return out;
    }
    out.value = json_int_field(response.body, "value");
    if (!out.value) out.error = fmt::format("GET {} answered 200 without an integer \"value\": '{}'", path, out.body);
    return out;
}

std::map<std::int64_t, std::string> read_job_states(const HostAddress& address, std::uint16_t port, const std::vector<std::int64_t>& ids,
                                                    Clock::time_point deadline, const std::atomic<bool>* interrupted) {
    ProbeClient client(address, port);
    std::map<std::int64_t, std::string> states;
    for (const auto id : ids) {
        std::string state = "not read back";
        while (Clock::now() < deadline && !(interrupted && interrupted->load())) {
            const auto response = client.request(fmt::format("/jobs/{}", id), std::chrono::milliseconds(1000));
            if (!response.ok()) state = response.error_text;
            else if (response.status != 200) state = fmt::format("http {}", response.status);
            else if (const auto value = json_string_field(response.body, "state")) state = std::string(*value);
            else state = "unreadable: " + shown(response.body);
            if (state == "completed") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        states[id] = state;
    }
    return states;
}

} // namespace lastcall::harness
