// proxy: of a scenario: defaults, every key, and errors at their line and column.
#include "scenario_error_of.hpp"
#include "scenario_loader.hpp"

#include <gtest/gtest.h>

namespace lastcall::harness {
namespace {

using testing::error_of;
const std::string head = testing::minimal_head;

TEST(ScenarioProxy, AbsentMeansNoProxyAndEveryKeyIsRead) {
    EXPECT_FALSE(load_scenario_text(head, "s.yaml").proxy.has_value());
    const auto defaults = load_scenario_text(head + "proxy: {}\n", "s.yaml").proxy;
    ASSERT_TRUE(defaults.has_value());
    EXPECT_EQ(defaults->endpoint_lag, std::chrono::seconds(1));
    EXPECT_EQ(defaults->pool_max, 32);
    EXPECT_EQ(defaults->retry, ProxyConfig::Retry::none);
    const auto s = load_scenario_text(head + "proxy: {endpoint_lag: 250ms, pool: {max: 0, idle_timeout: 2s}, connect_timeout: 300ms, "
                                             "response_timeout: 5s, retry: idempotent, after_removal: reject}\n",
                                      "s.yaml");
    ASSERT_TRUE(s.proxy.has_value());
    EXPECT_EQ(s.proxy->endpoint_lag, std::chrono::milliseconds(250));
    EXPECT_EQ(s.proxy->pool_max, 0);
    EXPECT_EQ(s.proxy->pool_idle_timeout, std::chrono::seconds(2));
    EXPECT_EQ(s.proxy->connect_timeout, std::chrono::milliseconds(300));
    EXPECT_EQ(s.proxy->response_timeout, std::chrono::seconds(5));
    EXPECT_EQ(s.proxy->retry, ProxyConfig::Retry::idempotent);
}

TEST(ScenarioProxy, ErrorsSayWhereAndWhat) {
    EXPECT_EQ(error_of(head + "proxy: {endpoint_lags: 1s}\n"), "3:9: unknown key 'endpoint_lags' in proxy (did you mean 'endpoint_lag'?)");
    EXPECT_EQ(error_of(head + "proxy: 1s\n").substr(0, 5), "3:8: ");
    EXPECT_EQ(error_of(head + "proxy: {retry: always}\n").substr(0, 6), "3:16: ");
    EXPECT_EQ(error_of(head + "proxy: {after_removal: forward}\n").substr(0, 6), "3:24: ");
    EXPECT_EQ(error_of(head + "proxy: {pool: {max: 5000}}\n").substr(0, 6), "3:21: ");
    EXPECT_EQ(error_of(head + "proxy: {connect_timeout: 0s}\n").substr(0, 6), "3:26: ");
}

} // namespace
} // namespace lastcall::harness
