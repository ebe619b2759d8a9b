#pragma once
// What the proxy's sessions share (internal to harness/proxy; used on the proxy's one thread,
// except `schedule`, which the conductor sets).
#include "proxy/endpoint_schedule.hpp"
#include "proxy/proxy_record.hpp"
#include "proxy/upstream_pool.hpp"
#include "scenario.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <set>

namespace lastcall::harness::proxy {

class ProxySession;

struct ProxyState {
    ProxyState(const ProxyConfig& c, boost::asio::ip::tcp::endpoint upstream, SteadyClock::time_point start)
        : config(c), target(std::move(upstream)), run_start(start),
          pool(static_cast<std::size_t>(c.pool_max), c.pool_idle_timeout) {}

    std::int64_t since_start_us(SteadyClock::time_point t) const {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - run_start).count();
    }

    ProxyConfig config;
    boost::asio::ip::tcp::endpoint target;
    SteadyClock::time_point run_start;
    EndpointSchedule schedule;
    UpstreamPool pool;
    std::vector<ProxyRecord> records;
    std::uint32_t last_record = 0;
    std::uint32_t last_client = 0;
    std::set<ProxySession*> sessions;  // what stop() cuts
    std::vector<std::string> errors;   // exceptions inside the proxy: lastcall's failures
    bool stopping = false;
};

} // namespace lastcall::harness::proxy
