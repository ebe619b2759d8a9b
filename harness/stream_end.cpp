#include "stream_end.hpp"

#include "json_field.hpp"

namespace lastcall::harness {

void EndEventConvention::on_event(const SseEvent& event) {
    if (events_ != UINT32_MAX) ++events_;
    if (event.type != "end") return;
    const auto reason = json_string_field(event.data, "reason");
    if (reason == "shutdown") end_ = StreamEnd::shutdown;
    else if (reason == "complete") end_ = StreamEnd::complete;
    else end_ = StreamEnd::other;
}

} // namespace lastcall::harness
