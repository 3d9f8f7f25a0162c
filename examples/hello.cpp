// SPDX-License-Identifier: MIT
// The README's first example: print each message of a stream until it ends for good.
#include <sse/sse.hpp>

#include <iostream>

int main(int argc, char** argv) {
  sse::client_options options;
  options.url = argc > 1 ? argv[1] : "http://127.0.0.1:8080/events";
  sse::client client(options);
  client.on_message([](const sse::event& e) { std::cout << e.id << ": " << e.data << std::endl; });
  client.on_error([](const sse::error& e) { std::cerr << e.message << std::endl; });
  client.start();
  client.wait(); // until the stream ends for good
}
