// The one translation unit that compiles Asio's and Beast's implementation.
// Everything else includes headers only (see BOOST_*_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
