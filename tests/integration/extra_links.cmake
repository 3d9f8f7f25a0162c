# Extra libraries for integration tests; included by tests/CMakeLists.txt after find_package(ZLIB).
# faults_test builds gzip bodies (a gzip bomb, a corrupt stream) with zlib.
sse_client_test_link_libraries(faults_test ZLIB::ZLIB)
# pause_test pauses a gzip body.
sse_client_test_link_libraries(pause_test ZLIB::ZLIB)

# compression_test builds brotli and zstd bodies with the encoders of the libraries libcurl
# decodes them with.
find_package(PkgConfig REQUIRED)
pkg_check_modules(sse_compressors REQUIRED IMPORTED_TARGET libbrotlienc libzstd)
sse_client_test_link_libraries(compression_test PkgConfig::sse_compressors)

# httplib_server_test runs its servers on cpp-httplib.
pkg_check_modules(sse_httplib REQUIRED IMPORTED_TARGET cpp-httplib)
sse_client_test_link_libraries(httplib_server_test PkgConfig::sse_httplib)

# credentials_test checks digest answers with MD5 from OpenSSL's libcrypto (libcurl's own TLS
# library on Debian).
find_package(OpenSSL REQUIRED)
sse_client_test_link_libraries(credentials_test OpenSSL::Crypto)
