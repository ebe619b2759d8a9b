// Which requests the session may serve at once (routes.hpp: waits): those whose reply needs no
// delay, no journal fsync and no database are served without a coroutine; the others must not be,
// or a /slow would block the io thread for its delay and a counter increment would be acknowledged
// before the fsync that covers it.
#include "routes.hpp"

#include <gtest/gtest.h>

namespace lastcall::server {
namespace {

struct Case {
    const char* method;
    const char* target;
    bool waits;
};

const Case cases[] = {
    {"GET", "/fast", false},
    {"GET", "/fast?ms=0", false},
    {"GET", "/fast?ms=oops", false},  // answered 400 at once
    {"GET", "/fast?ms=5", true},
    {"GET", "/slow", true},  // 3000 ms by default
    {"GET", "/slow?ms=0", false},
    {"POST", "/counter/incr", true},
    {"GET", "/counter", true},
    {"POST", "/set/add", true},
    {"GET", "/set", true},
    {"POST", "/jobs", true},
    {"GET", "/jobs/12", true},
    {"POST", "/stuck", false},
    {"GET", "/health", false},
    {"GET", "/ready", false},
    {"GET", "/status", false},
    {"GET", "/metrics", false},
    {"POST", "/fast", false},  // 405
    {"GET", "/nowhere", false},  // 404
    {"OPTIONS", "*", false},
};

TEST(RoutesWaits, OnlyDelaysTheCounterAndTheDatabaseWait) {
    for (const auto& c : cases) {
        EXPECT_EQ(waits(Request{c.method, c.target, {}}), c.waits) << c.method << " " << c.target;
    }
}

} // namespace
} // namespace lastcall::server
