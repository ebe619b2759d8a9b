// The proxy's pool of keep-alive connections to the target, on real loopback sockets: LIFO, its
// bound, the idle timeout (time passed in, not slept), and closes by the target noticed while idle
// and again before reuse.
#include "proxy/upstream_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <poll.h>

namespace lastcall::harness::proxy {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

class UpstreamPoolTest : public ::testing::Test {
protected:
    // A connected pair: the pool's end, and the target's end the test holds.
    std::shared_ptr<UpstreamConnection> connect() {
        auto c = std::make_shared<UpstreamConnection>(io_.get_executor(), ++ids_);
        c->stream.socket().connect(acceptor_.local_endpoint());
        peers_.push_back(acceptor_.accept());
        return c;
    }
    // Runs the pool's handlers until `done` or a second passes.
    template <typename Done>
    bool run_until(Done done) {
        for (int i = 0; i < 1000 && !done(); ++i) {
            io_.restart();
            io_.run_for(1ms);
        }
        return done();
    }
    static bool readable(const std::shared_ptr<UpstreamConnection>& c) {
        pollfd p{c->stream.socket().native_handle(), POLLIN, 0};
        return ::poll(&p, 1, 1000) == 1;
    }

    net::io_context io_;
    tcp::acceptor acceptor_{io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
    std::vector<tcp::socket> peers_;
    std::uint32_t ids_ = 0;
    const SteadyClock::time_point t0_ = SteadyClock::now();
};

TEST_F(UpstreamPoolTest, HandsOutTheConnectionReleasedLastFirst) {
    UpstreamPool pool(8, 60s);
    EXPECT_EQ(pool.acquire(t0_), nullptr);
    auto a = connect();
    auto b = connect();
    pool.release(a, t0_);
    pool.release(b, t0_ + 1ms);
    EXPECT_EQ(pool.idle(), 2u);
    EXPECT_EQ(pool.acquire(t0_ + 2ms), b);
    EXPECT_EQ(pool.acquire(t0_ + 2ms), a);
    EXPECT_EQ(pool.acquire(t0_ + 2ms), nullptr);
}

TEST_F(UpstreamPoolTest, AFullPoolClosesTheConnectionIdleLongest) {
    UpstreamPool pool(2, 60s);
    auto a = connect();
    auto b = connect();
    auto c = connect();
    pool.release(a, t0_);
    pool.release(b, t0_);
    pool.release(c, t0_);
    EXPECT_EQ(pool.idle(), 2u);
    EXPECT_FALSE(a->stream.socket().is_open());
    EXPECT_TRUE(b->stream.socket().is_open());

    UpstreamPool none(0, 60s);  // pool.max: 0 keeps nothing
    auto d = connect();
    none.release(d, t0_);
    EXPECT_EQ(none.idle(), 0u);
    EXPECT_FALSE(d->stream.socket().is_open());
}

TEST_F(UpstreamPoolTest, AConnectionIdleForTheTimeoutIsNotReused) {
    UpstreamPool pool(8, 5s);
    auto a = connect();
    pool.release(a, t0_);
    EXPECT_EQ(pool.acquire(t0_ + 5s), nullptr);
    EXPECT_FALSE(a->stream.socket().is_open());
    auto b = connect();
    pool.release(b, t0_);
    EXPECT_EQ(pool.acquire(t0_ + 4999ms), b);
}

TEST_F(UpstreamPoolTest, ACloseByTheTargetWhileIdleTakesTheConnectionOutAtOnce) {
    UpstreamPool pool(8, 60s);
    auto a = connect();
    auto b = connect();
    pool.release(a, t0_);
    pool.release(b, t0_);
    peers_[0].close();  // the target ends a's connection (FIN)
    ASSERT_TRUE(run_until([&] { return pool.idle() == 1; }));
    EXPECT_FALSE(a->stream.socket().is_open());
    EXPECT_EQ(pool.closed_while_idle(), 1u);
    EXPECT_EQ(pool.acquire(t0_), b);
}

TEST_F(UpstreamPoolTest, AcquireLooksOnceMoreBeforeHandingOneOut) {
    UpstreamPool pool(8, 60s);
    auto a = connect();
    auto b = connect();
    pool.release(a, t0_);
    pool.release(b, t0_);
    // Before the watch has run: b's target closed it, a's wrote bytes nobody asked for.
    peers_[1].close();
    net::write(peers_[0], net::buffer(std::string("HTTP/1.1 200 OK\r\n")));
    ASSERT_TRUE(readable(a));
    ASSERT_TRUE(readable(b));
    EXPECT_EQ(pool.acquire(t0_), nullptr);
    EXPECT_EQ(pool.closed_while_idle(), 2u);
}

TEST_F(UpstreamPoolTest, CloseIdleClosesEveryIdleConnection) {
    UpstreamPool pool(8, 60s);
    auto a = connect();
    auto b = connect();
    pool.release(a, t0_);
    pool.release(b, t0_);
    pool.close_idle();
    EXPECT_EQ(pool.idle(), 0u);
    EXPECT_FALSE(a->stream.socket().is_open());
    EXPECT_FALSE(b->stream.socket().is_open());
}

} // namespace
} // namespace lastcall::harness::proxy
