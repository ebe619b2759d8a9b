// proxy: of a scenario (harness/proxy/ runs it).
#include "scenario_sections.hpp"

namespace lastcall::harness {

ProxyConfig read_proxy(const YamlReader& r, const YAML::Node& node) {
    r.expect_map(node, "proxy");
    r.check_keys(node, "proxy", {"endpoint_lag", "pool", "connect_timeout", "response_timeout", "retry", "after_removal"});
    ProxyConfig proxy;
    if (node["endpoint_lag"]) proxy.endpoint_lag = r.duration(node["endpoint_lag"], "proxy.endpoint_lag", ranges::endpoint_lag);
    if (const auto& pool = node["pool"]) {
        r.expect_map(pool, "proxy.pool");
        r.check_keys(pool, "proxy.pool", {"max", "idle_timeout"});
        if (pool["max"]) proxy.pool_max = r.integer(pool["max"], "proxy.pool.max", ranges::proxy_pool);
        if (pool["idle_timeout"]) proxy.pool_idle_timeout = r.duration(pool["idle_timeout"], "proxy.pool.idle_timeout", ranges::proxy_timeout);
    }
    if (node["connect_timeout"]) proxy.connect_timeout = r.duration(node["connect_timeout"], "proxy.connect_timeout", ranges::proxy_timeout);
    if (node["response_timeout"]) proxy.response_timeout = r.duration(node["response_timeout"], "proxy.response_timeout", ranges::proxy_timeout);
    if (node["retry"]) {
        proxy.retry = r.choice<ProxyConfig::Retry>(node["retry"], "proxy.retry",
                                                   {{"none", ProxyConfig::Retry::none}, {"idempotent", ProxyConfig::Retry::idempotent}});
    }
    // The only behaviour so far; named so that a scenario says what it relies on.
    if (node["after_removal"]) r.choice<bool>(node["after_removal"], "proxy.after_removal", {{"reject", true}});
    return proxy;
}

} // namespace lastcall::harness
