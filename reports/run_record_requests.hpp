#pragma once
// A request of history.jsonl and a record of proxy.jsonl read back (run_record.hpp), each field
// checked for its type; what is wrong names the file and its line.
#include "history.hpp"
#include "proxy/proxy_record.hpp"
#include "run_record_fields.hpp"

#include <string>
#include <vector>

namespace lastcall::reports::record {

// One line of history.jsonl; its workload must be one of `workloads` (the run's). Throws RunRecordError.
harness::RequestRecord read_request(const json& line, const Source& at, const std::vector<std::string>& workloads);
harness::proxy::ProxyRecord read_proxy_record(const json& line, const Source& at);

} // namespace lastcall::reports::record
