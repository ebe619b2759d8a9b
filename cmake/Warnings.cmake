# One interface target carries the warning flags; every project target links it.
add_library(lastcall_warnings INTERFACE)
target_compile_options(lastcall_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)
add_library(lastcall::warnings ALIAS lastcall_warnings)
