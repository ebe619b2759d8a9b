#include "proxy/upstream_failure.hpp"

namespace lastcall::harness::proxy {

std::string_view to_string(UpstreamFailure failure) {
    switch (failure) {
    case UpstreamFailure::none: return "";
    case UpstreamFailure::refused: return "refused";
    case UpstreamFailure::connect_timeout: return "connect_timeout";
    case UpstreamFailure::connect_error: return "connect_error";
    case UpstreamFailure::reset: return "reset";
    case UpstreamFailure::eof_before_response: return "eof_before_response";
    case UpstreamFailure::eof_mid_response: return "eof_mid_response";
    case UpstreamFailure::timeout: return "timeout";
    case UpstreamFailure::bad_response: return "bad_response";
    }
    return "";
}

int proxy_status(UpstreamFailure failure) {
    return failure == UpstreamFailure::connect_timeout || failure == UpstreamFailure::timeout ? 504 : 502;
}

std::optional<Failure> client_failure(int status, std::string_view value) {
    if (status != 502 && status != 504) return std::nullopt;
    struct Word {
        UpstreamFailure upstream;
        Failure client;
    };
    static constexpr Word words[] = {
        {UpstreamFailure::refused, Failure::upstream_refused},
        {UpstreamFailure::connect_timeout, Failure::upstream_connect_timeout},
        {UpstreamFailure::connect_error, Failure::upstream_connect_error},
        {UpstreamFailure::reset, Failure::upstream_reset},
        {UpstreamFailure::eof_before_response, Failure::upstream_eof},
        {UpstreamFailure::timeout, Failure::upstream_timeout},
        {UpstreamFailure::bad_response, Failure::upstream_bad_response},
    };
    for (const auto& w : words) {
        if (value == to_string(w.upstream) && status == proxy_status(w.upstream)) return w.client;
    }
    return std::nullopt;
}

} // namespace lastcall::harness::proxy
