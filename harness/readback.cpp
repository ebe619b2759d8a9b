#include "readback.hpp"

#include "probe_client.hpp"
#include "target_json.hpp"
#include "text_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <thread>

namespace lastcall::harness {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

std::string shown(const std::string& body) { return printable(body.size() > 200 ? body.substr(0, 200) + "..." : body); }

// The value at `pointer`, or nullptr; never throws (the pointer was checked by the loader, the
// document is whatever the target sent).
const json* at_pointer(const json& doc, const std::string& pointer) {
    try {
        return json_at(doc, json::json_pointer(pointer));
    } catch (const json::exception&) {
        return nullptr;
    }
}

bool unreserved(unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~'; }

} // namespace

ValueReadback read_json_value(const HostAddress& address, std::uint16_t port, const std::string& path, const std::string& pointer) {
    ProbeClient client(address, port);
    ValueReadback out;
    const auto response = client.request(path, std::chrono::milliseconds(2000), read_limit);
    out.status = response.status;
    out.body = shown(response.body);
    if (out.status != 200) {
        out.error = !response.ok() ? fmt::format("GET {}: {}", path, response.error_text) : fmt::format("GET {} answered {} '{}'", path, out.status, out.body);
        return out;
    }
    if (response.body_truncated) {
        out.error = fmt::format("GET {} answered more than {} bytes", path, read_limit);
        return out;
    }
    const auto doc = parse_target_json(response.body);
    if (doc.is_discarded()) {
        out.error = fmt::format("GET {} answered 200 with a body that is not JSON (or nested deeper than {}): '{}'", path,
                                max_target_json_depth, out.body);
        return out;
    }
    const auto* value = at_pointer(doc, pointer);
    if (!value) out.error = fmt::format("GET {} answered 200 with nothing at {}: '{}'", path, pointer.empty() ? "''" : pointer, out.body);
    else out.value = *value;
    return out;
}

std::string job_poll_path(const JobContract& job, const std::string& id_json) {
    const auto id = parse_target_json(id_json);
    std::string text = id.is_string() ? id.get<std::string>() : id_json;
    std::string encoded;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        encoded += unreserved(c) ? std::string(1, ch) : fmt::format("%{:02X}", c);
    }
    std::string path = job.poll;
    for (auto at = path.find("{id}"); at != std::string::npos; at = path.find("{id}", at + encoded.size())) path.replace(at, 4, encoded);
    return path;
}

bool job_done(const JobContract& job, std::string_view body, std::string& seen) {
    const auto doc = parse_target_json(body);
    if (doc.is_discarded()) {
        seen = "not JSON: '" + shown(std::string(body)) + "'";
        return false;
    }
    const auto* value = at_pointer(doc, job.done_pointer);
    if (!value) {
        seen = fmt::format("nothing at {}: '{}'", job.done_pointer, shown(std::string(body)));
        return false;
    }
    const auto text = value->is_string() ? value->get<std::string>() : json_text(*value);
    seen = fmt::format("{} is {}", job.done_pointer, shown(json_text(*value)));
    return text == job.done_equals;
}

std::map<JobRef, JobReadback> read_job_states(const HostAddress& address, std::uint16_t port, const std::vector<Workload>& workloads,
                                              const std::vector<JobRef>& jobs, Clock::time_point deadline, const std::atomic<bool>* interrupted) {
    ProbeClient client(address, port);
    std::map<JobRef, JobReadback> states;
    for (const auto& ref : jobs) {
        auto& state = states[ref];
        state.seen = "not read back";
        if (ref.workload >= workloads.size() || !workloads[ref.workload].job) continue;
        const auto& job = *workloads[ref.workload].job;
        const auto path = job_poll_path(job, ref.id);
        while (Clock::now() < deadline && !(interrupted && interrupted->load())) {
            const auto response = client.request(path, std::chrono::milliseconds(1000));
            if (!response.ok()) state.seen = fmt::format("GET {}: {}", path, response.error_text);
            else if (response.status != 200) state.seen = fmt::format("GET {} answered {}", path, response.status);
            else state.done = job_done(job, response.body, state.seen);
            if (state.done) break;
            std::this_thread::sleep_for(std::min<Clock::duration>(job.poll_interval, std::max(deadline - Clock::now(), Clock::duration::zero())));
        }
    }
    return states;
}

} // namespace lastcall::harness
