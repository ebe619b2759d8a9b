// mark_sole_descriptor on a real epoll set: Asio's close of an accepted socket makes an epoll
// removal of its own (EPOLL_CTL_DEL) unless the socket is marked, and then leaves that to close(2).
// A dup of the descriptor keeps its file open, so the kernel's list of the set's registrations
// (/proc/self/fdinfo of the epoll descriptor) shows whether Asio removed it before the close.
#include "sole_descriptor.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

namespace lastcall::server {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// The descriptors registered in the epoll set `epoll_fd`, as the kernel lists them ("tfd: N").
std::set<int> registered_in(int epoll_fd) {
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(epoll_fd));
    std::set<int> fds;
    std::string line;
    while (std::getline(info, line)) {
        std::istringstream words(line);
        std::string key;
        int fd = -1;
        if (words >> key >> fd && key == "tfd:") fds.insert(fd);
    }
    return fds;
}

// The epoll set `fd` is registered in: the io_context's.
std::optional<int> epoll_set_holding(int fd) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:[eventpoll]") continue;
        const int epoll_fd = std::stoi(entry.path().filename().string());
        if (registered_in(epoll_fd).count(fd) > 0) return epoll_fd;
    }
    return std::nullopt;
}

struct Accepted {
    net::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
    tcp::socket client{io};
    tcp::socket peer{io};
    Accepted() {
        client.connect(acceptor.local_endpoint());
        acceptor.accept(peer);  // adopted by Asio as it adopts every accepted descriptor
    }
};

TEST(SoleDescriptor, AsioRemovesAnAcceptedDescriptorFromEpollBeforeClosingIt) {
    Accepted a;
    const int fd = a.peer.native_handle();
    const auto epoll_fd = epoll_set_holding(fd);
    ASSERT_TRUE(epoll_fd) << "the accepted socket is in no epoll set";
    const int dup = ::dup(fd);  // keeps the file, and a registration no one removed, alive
    a.peer.close();
    EXPECT_EQ(registered_in(*epoll_fd).count(fd), 0u) << "Asio removed it itself (EPOLL_CTL_DEL)";
    ::close(dup);
}

TEST(SoleDescriptor, AMarkedDescriptorLeavesEpollThroughItsCloseAlone) {
    Accepted a;
    const int fd = a.peer.native_handle();
    const auto epoll_fd = epoll_set_holding(fd);
    ASSERT_TRUE(epoll_fd) << "the accepted socket is in no epoll set";
    const int dup = ::dup(fd);
    mark_sole_descriptor(a.peer);
    a.peer.close();
    EXPECT_EQ(registered_in(*epoll_fd).count(fd), 1u) << "Asio still made a removal of its own before the close";
    ::close(dup);  // the file's last descriptor: the kernel takes it out of the set
    EXPECT_EQ(registered_in(*epoll_fd).count(fd), 0u);
}

} // namespace
} // namespace lastcall::server
