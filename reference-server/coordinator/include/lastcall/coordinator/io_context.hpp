#pragma once
// An io_context that can destroy the work it still holds once run() has returned. After shutdown
// completes, the queue may still hold the frames of requests a fast shutdown cut and of abandoned
// tasks; each holds drain guards or task handles that release into the coordinator when destroyed.
// Destroy them while the coordinator still lives - then every object can end normally (and
// sanitizers see a real exit) instead of the process leaving through _Exit:
//     lastcall::coordinator::IoContext io;  ...  io.run();  io.destroy_pending_work();  return code;
// (Asio keeps execution_context::shutdown() protected; ~io_context calls it again harmlessly.)
#include <boost/asio/io_context.hpp>

namespace lastcall::coordinator {

class IoContext : public boost::asio::io_context {
public:
    using boost::asio::io_context::io_context;
    void destroy_pending_work() { shutdown(); }
};

} // namespace lastcall::coordinator
