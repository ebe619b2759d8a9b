#pragma once
// Whether the target spoke HTTP, and took any request, as lastcall's proxy saw it. With `proxy:`
// the load talks to the proxy, which accepts every connection and always answers HTTP (its own
// 502/504 when the target did not): the load's own view (not_http.hpp) can never see a target that
// does not speak HTTP, or one that took nothing. The proxy's records can, in the same terms.
#include "not_http.hpp"
#include "proxy/proxy_record.hpp"

#include <string>
#include <vector>

namespace lastcall::harness::proxy {

// The records read as AnswersSeen: a request the target answered with a valid head (relayed) spoke
// HTTP at its end; one whose answer began with no status line is not HTTP (its id is the proxy
// record's, its workload AnswersSeen::unknown_workload until the caller finds the load's request
// that got the proxy's 502 for it); one that never had an open connection to the target is a failed
// connect, begun when the proxy forwarded it.
AnswersSeen upstream_answers(const std::vector<ProxyRecord>& records);

// A setup error's text (not_http_verdict, answered_nothing_verdict) over upstream_answers, saying
// that the proxy saw it and what the load got instead.
std::string seen_through_proxy(const std::string& verdict);

} // namespace lastcall::harness::proxy
