# Extra libraries for integration tests; included by tests/CMakeLists.txt after find_package(ZLIB).
# faults_test builds gzip bodies (a gzip bomb, a corrupt stream) with zlib.
target_link_libraries(faults_test PRIVATE ZLIB::ZLIB)
