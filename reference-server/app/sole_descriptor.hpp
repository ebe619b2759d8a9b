#pragma once
// An accepted connection's descriptor is the only one this process has for its socket, and
// close(2) alone takes it out of the epoll set. Asio cannot know that: it marks every descriptor it
// adopts (accept, assign) as possibly dup'ed, and before closing one it removes it from epoll with
// a syscall of its own (EPOLL_CTL_DEL), which a dup would need: the registration belongs to the
// open file, which a dup keeps open. That was one of the three syscalls each idle connection cost
// at a stop (FIONREAD, epoll_ctl, close), ~11 % of closing 10,000 of them.
//
// Asio's socket state is not public: the flag is cleared through basic_socket's protected impl_,
// reached with a member pointer taken in a class derived from it. A Boost that changes it fails to
// compile here; tests/unit/server/sole_descriptor_test.cpp proves on a real epoll set that the
// close then makes no removal of its own.
#include <boost/asio/basic_socket.hpp>

namespace lastcall::server {

namespace detail {
template <class Protocol, class Executor>
struct SocketInternals : boost::asio::basic_socket<Protocol, Executor> {
    static auto implementation() { return &SocketInternals::impl_; }
};
} // namespace detail

// `socket` must hold the only descriptor of its file: never dup'ed, never passed on, and no process
// started while it is open (an accepted descriptor is not close-on-exec: a child would keep the file,
// and with it the registration, alive after our close). lastcall-server starts processes only where
// no connection is open: a --workers master, which accepts none, and the orphan-child fault, before
// the listener starts.
template <class Protocol, class Executor>
void mark_sole_descriptor(boost::asio::basic_socket<Protocol, Executor>& socket) {
    auto& impl = socket.*detail::SocketInternals<Protocol, Executor>::implementation();
    impl.get_implementation().state_ &= static_cast<boost::asio::detail::socket_ops::state_type>(~boost::asio::detail::socket_ops::possible_dup);
}

} // namespace lastcall::server
