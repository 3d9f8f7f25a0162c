// SPDX-License-Identifier: MIT
// sse::cookie_jar's members: inline in header-only mode, in src/sse_client.cpp in compiled mode.
#ifndef SSE_CLIENT_DETAIL_COOKIE_JAR_IMPL_HPP
#define SSE_CLIENT_DETAIL_COOKIE_JAR_IMPL_HPP

#include <sse/cookie_jar.hpp>
#include <sse/detail/config.hpp>
#include <sse/error.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE

SSE_CLIENT_DECL cookie_jar::cookie_jar() : share_(std::make_shared<detail::cookie_share>()) {}

SSE_CLIENT_DECL cookie_jar cookie_jar::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error("sse::cookie_jar: cannot read \"" + path + "\"");
  }
  cookie_jar jar;
  std::string line;
  while (std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    // "#HttpOnly_" marks an HttpOnly cookie; any other '#' line is a comment.
    const bool comment = !line.empty() && line[0] == '#' && line.rfind("#HttpOnly_", 0) != 0;
    if (!comment && detail::is_netscape_cookie_line(line)) {
      jar.add(line);
    }
  }
  return jar;
}

SSE_CLIENT_DECL void cookie_jar::save(const std::string& path) const {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << "# Netscape HTTP Cookie File\n# Written by sse-client; edit at your own risk.\n\n";
  for (const std::string& line : cookies()) {
    file << line << '\n';
  }
  file.flush();
  if (!file) {
    throw std::runtime_error("sse::cookie_jar: cannot write \"" + path + "\"");
  }
}

SSE_CLIENT_DECL void cookie_jar::add(std::string_view netscape_line) {
  if (!detail::is_netscape_cookie_line(netscape_line)) {
    throw usage_error("sse::cookie_jar::add: not a Netscape cookie line (7 tab-separated "
                      "fields)");
  }
  const std::string line(netscape_line);
  share_->with_easy([&](CURL* h) { curl_easy_setopt(h, CURLOPT_COOKIELIST, line.c_str()); });
}

SSE_CLIENT_DECL std::vector<std::string> cookie_jar::cookies() const {
  std::vector<std::string> lines;
  share_->with_easy([&](CURL* h) {
    curl_slist* list = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_COOKIELIST, &list) == CURLE_OK) {
      for (const curl_slist* item = list; item != nullptr; item = item->next) {
        lines.emplace_back(item->data);
      }
      curl_slist_free_all(list);
    }
  });
  return lines;
}

SSE_CLIENT_DECL void cookie_jar::clear() {
  share_->with_easy([](CURL* h) { curl_easy_setopt(h, CURLOPT_COOKIELIST, "ALL"); });
}

SSE_CLIENT_DECL CURLSH* cookie_jar::native_handle() const noexcept {
  return share_->get();
}

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_COOKIE_JAR_IMPL_HPP
