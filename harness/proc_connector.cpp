#include "proc_connector.hpp"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lastcall::harness {

namespace {

constexpr std::size_t max_exits = 1'000'000;  // a run on a busy machine sees many; keep it bounded

} // namespace

std::vector<KernelExit> decode_proc_exits(const std::uint8_t* data, std::size_t size) {
    std::vector<KernelExit> out;
    std::size_t at = 0;
    while (at + sizeof(nlmsghdr) <= size) {
        nlmsghdr header{};
        std::memcpy(&header, data + at, sizeof header);
        if (header.nlmsg_len < sizeof(nlmsghdr) || at + header.nlmsg_len > size) break;
        const auto* body = data + at + NLMSG_HDRLEN;
        const auto body_size = header.nlmsg_len - NLMSG_HDRLEN;
        if (body_size >= sizeof(cn_msg) + sizeof(proc_event)) {
            cn_msg message{};
            std::memcpy(&message, body, sizeof message);
            proc_event event{};
            std::memcpy(&event, body + sizeof(cn_msg), sizeof event);
            const bool exit = message.id.idx == CN_IDX_PROC && event.what == proc_event::PROC_EVENT_EXIT;
            if (exit && event.event_data.exit.process_pid == event.event_data.exit.process_tgid) {
                out.push_back(KernelExit{event.event_data.exit.process_pid, static_cast<int>(event.event_data.exit.exit_code),
                                         std::chrono::steady_clock::time_point(std::chrono::nanoseconds(event.timestamp_ns))});
            }
        }
        at += NLMSG_ALIGN(header.nlmsg_len);
    }
    return out;
}

std::unique_ptr<ProcConnector> ProcConnector::open(std::string* why) {
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) {
        *why = std::string("netlink connector socket: ") + std::strerror(errno);
        return nullptr;
    }
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_groups = CN_IDX_PROC;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        *why = std::string("netlink connector bind: ") + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    // "Listen": a connector message carrying PROC_CN_MCAST_LISTEN, laid out byte by byte (cn_msg
    // ends in a flexible array, so it cannot sit inside a struct).
    std::uint8_t request[NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
    nlmsghdr header{};
    header.nlmsg_len = sizeof request;
    header.nlmsg_type = NLMSG_DONE;
    header.nlmsg_pid = static_cast<std::uint32_t>(::getpid());
    cn_msg message{};
    message.id = {CN_IDX_PROC, CN_VAL_PROC};
    message.len = sizeof(proc_cn_mcast_op);
    const proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
    std::memcpy(request, &header, sizeof header);
    std::memcpy(request + NLMSG_HDRLEN, &message, sizeof message);
    std::memcpy(request + NLMSG_HDRLEN + sizeof message, &op, sizeof op);
    if (::send(fd, request, sizeof request, 0) != static_cast<ssize_t>(sizeof request)) {
        *why = std::string("netlink connector listen: ") + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    const int stop = ::eventfd(0, EFD_CLOEXEC);
    if (stop < 0) {
        *why = std::string("eventfd: ") + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    return std::unique_ptr<ProcConnector>(new ProcConnector(fd, stop));
}

ProcConnector::ProcConnector(int socket_fd, int stop_fd) : socket_fd_(socket_fd), stop_fd_(stop_fd), thread_([this] { run(); }) {}

ProcConnector::~ProcConnector() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    ::close(socket_fd_);
    ::close(stop_fd_);
}

void ProcConnector::run() {
    alignas(nlmsghdr) std::uint8_t buffer[1 << 16];
    for (;;) {
        pollfd fds[2] = {{socket_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        const auto n = ::recv(socket_fd_, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) {  // the kernel dropped events: say so, keep listening
                std::lock_guard lock(mutex_);
                lost_ = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return;
            }
            continue;
        }
        auto exits = decode_proc_exits(buffer, static_cast<std::size_t>(n));
        std::lock_guard lock(mutex_);
        for (auto& e : exits) {
            if (exits_.size() < max_exits) exits_.push_back(e);
            else lost_ = true;
        }
    }
}

std::vector<KernelExit> ProcConnector::exits() const {
    std::lock_guard lock(mutex_);
    return exits_;
}

bool ProcConnector::lost_events() const {
    std::lock_guard lock(mutex_);
    return lost_;
}

} // namespace lastcall::harness
