#include "stream_end.hpp"

#include <fmt/format.h>

namespace lastcall::harness {

bool matches(const EventMatcher& m, const SseEvent& event) {
    if (!m.event && !m.data && !m.data_contains) return false;  // the loader refuses an empty matcher
    if (m.event && event.type != *m.event) return false;
    if (m.data && event.data != *m.data) return false;
    if (m.data_contains && event.data.find(*m.data_contains) == std::string_view::npos) return false;
    return true;
}

std::string describe(const EventMatcher& m) {
    std::string out;
    const auto add = [&out](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
    if (m.event) add(fmt::format("event: {}", *m.event));
    if (m.data) add(fmt::format("data: {}", *m.data));
    if (m.data_contains) add(fmt::format("data containing {}", *m.data_contains));
    return out;
}

void StreamConvention::on_event(const SseEvent& event) {
    if (events_ != UINT32_MAX) ++events_;
    if (contract_.shutdown_notice && matches(*contract_.shutdown_notice, event)) end_ = StreamEnd::shutdown;
    else if (contract_.end && matches(*contract_.end, event)) end_ = StreamEnd::complete;
}

} // namespace lastcall::harness
