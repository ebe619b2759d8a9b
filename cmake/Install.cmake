# Install and export the coordinator so any CMake project can use it from an installed tree:
#   find_package(lastcall_coordinator 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE lastcall::coordinator_asio)   # or lastcall::coordinator
# `cmake --install build --component coordinator --prefix DIR` installs only the library;
# the component `server` adds the lastcall-server binary.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(lastcall_coordinator_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/lastcall_coordinator)

install(TARGETS lastcall_coordinator lastcall_coordinator_asio lastcall_coordinator_testing
  EXPORT lastcall_coordinatorTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT coordinator
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT coordinator
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY
  ${PROJECT_SOURCE_DIR}/reference-server/coordinator/include/
  ${PROJECT_SOURCE_DIR}/reference-server/coordinator/testing/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT coordinator)
install(EXPORT lastcall_coordinatorTargets NAMESPACE lastcall::
  DESTINATION ${lastcall_coordinator_cmake_dir} COMPONENT coordinator)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/lastcall_coordinatorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lastcall_coordinatorConfig.cmake
  INSTALL_DESTINATION ${lastcall_coordinator_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lastcall_coordinatorConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/lastcall_coordinatorConfig.cmake
  ${PROJECT_BINARY_DIR}/lastcall_coordinatorConfigVersion.cmake
  DESTINATION ${lastcall_coordinator_cmake_dir} COMPONENT coordinator)

install(TARGETS lastcall-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
