# Installs the coordinator from the build tree into a scratch prefix, checks that the exported
# targets impose nothing of lastcall's own build (no Beast, no separate compilation, no
# lastcall::net), then configures and builds examples/beast-server against the installed package
# alone. Run by ctest (InstalledPackage.BuildsTheExample); the example is then run by
# integration_tests (ExampleServer.*).
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... [-DEXTRA_FLAGS=...] -P build_example.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "${var} is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component coordinator --prefix ${prefix})

file(GLOB targets_files ${prefix}/lib*/cmake/lastcall_coordinator/lastcall_coordinatorTargets*.cmake)
foreach(file ${targets_files})
  file(READ ${file} text)
  foreach(forbidden BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION lastcall::net lastcall_net lastcall::warnings)
    string(FIND "${text}" "${forbidden}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} exports ${forbidden}: an embedder would inherit lastcall's build setup")
    endif()
  endforeach()
endforeach()
foreach(header coordinator.hpp asio_clock.hpp manual_clock.hpp journal.hpp io_context.hpp)
  if(NOT EXISTS ${prefix}/include/lastcall/coordinator/${header})
    message(FATAL_ERROR "${header} was not installed")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/beast-server -B ${WORK_DIR}/build -G Ninja
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
message(STATUS "built ${WORK_DIR}/build/beast-drain-server against ${prefix}")
