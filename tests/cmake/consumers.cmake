# The ways users consume the library, each built and run by ctest: find_package from a
# temporary install prefix, add_subdirectory, FetchContent with SOURCE_DIR, the single header
# with only -lcurl, and pkg-config.
set(_consumer_src ${CMAKE_CURRENT_SOURCE_DIR}/cmake/consumer)
set(_consumer_bin ${CMAKE_CURRENT_BINARY_DIR}/consumers)
set(_prefix ${_consumer_bin}/prefix)

add_test(NAME consumer_install
         COMMAND ${CMAKE_COMMAND} --install ${PROJECT_BINARY_DIR} --prefix ${_prefix})
set_tests_properties(consumer_install PROPERTIES FIXTURES_SETUP sse_installed)

if(SSE_CLIENT_BUILD_EXAMPLES)
  add_test(NAME consumer_ssecat_and_manual_page
           COMMAND sh -c "test -x ${_prefix}/${CMAKE_INSTALL_BINDIR}/ssecat && \
test -f ${_prefix}/${CMAKE_INSTALL_MANDIR}/man1/ssecat.1")
  set_tests_properties(consumer_ssecat_and_manual_page PROPERTIES
                       FIXTURES_REQUIRED sse_installed)
endif()

foreach(_mode find_package add_subdirectory fetchcontent)
  add_test(NAME consumer_${_mode}
           COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test ${_consumer_src} ${_consumer_bin}/${_mode}
                   --build-generator ${CMAKE_GENERATOR} --build-noclean
                   --build-options -DSSE_CONSUMER_MODE=${_mode} -DCMAKE_PREFIX_PATH=${_prefix}
                                   -DSSE_SOURCE_DIR=${PROJECT_SOURCE_DIR}
                                   -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
                   --test-command ${_consumer_bin}/${_mode}/consumer)
  set_tests_properties(consumer_${_mode} PROPERTIES TIMEOUT 300 PASS_REGULAR_EXPRESSION "ok")
endforeach()
set_tests_properties(consumer_find_package PROPERTIES FIXTURES_REQUIRED sse_installed)

# The compiled mode: through add_subdirectory, sse_client::compiled is built for the consumer;
# through find_package, it comes installed when this build has SSE_CLIENT_COMPILED=ON.
set(_compiled_modes add_subdirectory)
if(SSE_CLIENT_COMPILED)
  list(APPEND _compiled_modes find_package)
endif()
foreach(_mode ${_compiled_modes})
  add_test(NAME consumer_${_mode}_compiled
           COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test ${_consumer_src}
                   ${_consumer_bin}/${_mode}_compiled
                   --build-generator ${CMAKE_GENERATOR} --build-noclean
                   --build-options -DSSE_CONSUMER_MODE=${_mode} -DCMAKE_PREFIX_PATH=${_prefix}
                                   -DSSE_CONSUMER_TARGET=sse_client::compiled
                                   -DSSE_SOURCE_DIR=${PROJECT_SOURCE_DIR}
                                   -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
                   --test-command ${_consumer_bin}/${_mode}_compiled/consumer)
  set_tests_properties(consumer_${_mode}_compiled PROPERTIES TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "compiled mode ok")
endforeach()
if(SSE_CLIENT_COMPILED)
  set_tests_properties(consumer_find_package_compiled PROPERTIES FIXTURES_REQUIRED sse_installed)
endif()

add_test(NAME consumer_single_header
         COMMAND sh -c "${CMAKE_CXX_COMPILER} -std=c++17 -I${PROJECT_SOURCE_DIR}/single_include \
${_consumer_src}/main.cpp -o ${_consumer_bin}/single_header -lcurl -pthread \
&& ${_consumer_bin}/single_header")
set_tests_properties(consumer_single_header PROPERTIES TIMEOUT 300 PASS_REGULAR_EXPRESSION "ok")

find_program(_pkg_config pkg-config)
if(_pkg_config)
  add_test(NAME consumer_pkg_config
           COMMAND sh -c "export PKG_CONFIG_PATH=${_prefix}/share/pkgconfig && \
${CMAKE_CXX_COMPILER} ${_consumer_src}/main.cpp -o ${_consumer_bin}/pkg_config \
$(${_pkg_config} --cflags --libs sse_client) && ${_consumer_bin}/pkg_config")
  set_tests_properties(consumer_pkg_config PROPERTIES TIMEOUT 300 PASS_REGULAR_EXPRESSION "ok"
                       FIXTURES_REQUIRED sse_installed)
endif()
