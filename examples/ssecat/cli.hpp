// SPDX-License-Identifier: MIT
// ssecat's command line: argv in, settings or a usage error naming the bad option out.
#ifndef SSECAT_CLI_HPP
#define SSECAT_CLI_HPP

#include <sse/sse.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ssecat {

/// A command line that cannot be run; the message names the option.
class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct settings {
  sse::client_options client;
  bool json = false;
  bool verbose = false;
  bool quiet = false;
  bool help = false;
  bool version = false;
  std::optional<std::uint64_t> max_events;
  std::optional<std::string> until;
  std::optional<std::string> until_event;
  std::optional<std::string> cookie_jar_file; ///< -c: where the cookies are written at exit
};

inline constexpr std::string_view usage_text =
    R"(usage: ssecat [OPTIONS] URL
Follow a server-sent event stream and print its events ("curl -N for SSE").

  --json                one JSON object per event: {"type":"message","data":"...","id":"..."}
                        (without it: DATA, or "TYPE DATA" when the type is not message; the
                        later lines of multi-line data are indented by 2 spaces)
  -H, --header 'K: V'   extra request header (repeatable)
  -X, --method M        request method (default GET)
  -d, --data BODY       request body (@FILE reads a file)
  --last-event-id ID    Last-Event-ID for the first connection
  --retry MS            initial reconnection delay (a server's retry: field overrides it)
  --no-jitter           wait the exact delays (default: each is shortened by up to half at random)
  --max-retries N       give up when N reconnects in a row fail (default: never)
  --max-events N        exit 0 after N events
  --idle-timeout MS     treat a stream silent for MS as dead and reconnect
  --until DATA          exit 0 when an event's data equals DATA (e.g. [DONE]); the request is
                        one-shot (LLM APIs): retried only on a connect failure, 5xx or 429, never
                        sent again once the stream started; a cut stream exits 1
  --until-event TYPE    exit 0 when an event's type is TYPE (e.g. close)
  -b, --cookie DATA|FILE
                        "name=value; n2=v2" sends those cookies (never to another host after a
                        redirect); a FILE (Netscape format, as curl -c writes) loads its cookies
                        and keeps the ones responses set for the reconnects (a missing FILE is
                        an empty jar, as in curl)
  -c, --cookie-jar FILE keep the cookies responses set, send them on reconnects, write them all
                        to FILE at exit
  -u, --user USER:PASS  user name and password (basic unless --digest or --anyauth); sent to
                        the URL's host only, never after a redirect to another host
  --basic, --digest, --anyauth
                        how --user is sent (default --basic; the others answer a 401 challenge)
  --oauth2-bearer TOKEN send "Authorization: Bearer TOKEN" to the URL's host only
  --netrc-optional      take user and password from ~/.netrc when -u is not given
  --netrc-file FILE     the same from FILE
  --compressed          ask for a compressed response (gzip, brotli, zstd)
  --http1.1, --http2, --http2-prior-knowledge
                        HTTP version (default: HTTP/2 over TLS when offered, else 1.1)
  -k, --insecure        do not verify the server's TLS certificate
  --cacert FILE         trust the CA certificates in FILE
  --connect-timeout MS  limit for each connection's TCP and TLS handshake
  -v, --verbose         print the connection's life on stderr: each request, response (with its
                        HTTP version, e.g. "< HTTP/2 200") and reconnect (reason, failures in
                        a row, delay); at exit the stream's stats ("* stats: ...")
  -q, --quiet           print no events; a summary line on stderr at exit
  -h, --help            this text
  --version             the version
Exit status: 0 ended normally (--max-events, --until, --until-event, 204), 1 failed for good
(or the output could not be written, e.g. a closed pipe), 2 usage error, 128 + the signal on
SIGINT or SIGTERM (130 on Ctrl-C).
)";

inline std::uint64_t parse_number(std::string_view option, const std::string& value) {
  if (value.empty() || value.size() > 12 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    throw usage_error(std::string(option) + ": expected a non-negative integer, got \"" + value +
                      "\"");
  }
  return std::stoull(value);
}

inline std::chrono::milliseconds parse_ms(std::string_view option, const std::string& value) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(parse_number(option, value)));
}

inline std::string read_body(const std::string& value) {
  if (value.empty() || value.front() != '@') {
    return value;
  }
  std::ifstream file(value.substr(1), std::ios::binary);
  if (!file) {
    throw usage_error("--data: cannot read file \"" + value.substr(1) + "\"");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

/// Parses the arguments after argv[0]. Throws `usage_error` naming the bad option.
inline settings parse(const std::vector<std::string>& args) {
  settings s;
  std::optional<std::string> url;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) {
        throw usage_error(arg + ": needs a value");
      }
      return args[++i];
    };
    if (arg == "--json") {
      s.json = true;
    } else if (arg == "-H" || arg == "--header") {
      const std::string& header = value();
      const auto colon = header.find(':');
      if (colon == std::string::npos || colon == 0) {
        throw usage_error(arg + ": expected 'Name: value', got \"" + header + "\"");
      }
      std::string name = header.substr(0, colon);
      std::string field = header.substr(colon + 1);
      field.erase(0, field.find_first_not_of(" \t"));
      s.client.headers.emplace_back(std::move(name), std::move(field));
    } else if (arg == "-X" || arg == "--method") {
      s.client.method = value();
    } else if (arg == "-d" || arg == "--data") {
      s.client.body = read_body(value());
      if (s.client.method == "GET") {
        s.client.method = "POST"; // as curl does
      }
    } else if (arg == "--last-event-id") {
      s.client.last_event_id = value();
    } else if (arg == "--retry") {
      s.client.reconnect.initial_delay = parse_ms(arg, value());
    } else if (arg == "--max-retries") {
      const auto n = parse_number(arg, value());
      if (n == 0 || n > 1000000) {
        throw usage_error("--max-retries: expected 1 to 1000000, got " + std::to_string(n));
      }
      s.client.reconnect.max_attempts = static_cast<unsigned>(n);
    } else if (arg == "--max-events") {
      s.max_events = parse_number(arg, value());
    } else if (arg == "--idle-timeout") {
      s.client.idle_timeout = parse_ms(arg, value());
    } else if (arg == "--no-jitter") {
      s.client.reconnect.jitter = 0;
    } else if (arg == "--until") {
      s.until = value();
      s.client.one_shot = true; // an answer that ends with DATA is not replayed
    } else if (arg == "--until-event") {
      s.until_event = value();
    } else if (arg == "-b" || arg == "--cookie") {
      const std::string& cookie = value();
      if (cookie.find('=') != std::string::npos) {
        // As curl: a string is sent as is. As a header, libcurl drops it on a redirect to
        // another host (CURLOPT_COOKIE would not).
        s.client.headers.emplace_back("Cookie", cookie);
      } else {
        try {
          s.client.cookies =
              std::ifstream(cookie) ? sse::cookie_jar::load(cookie) : sse::cookie_jar();
        } catch (const std::exception& e) {
          throw usage_error(arg + ": " + e.what());
        }
      }
    } else if (arg == "-c" || arg == "--cookie-jar") {
      s.cookie_jar_file = value();
    } else if (arg == "-u" || arg == "--user") {
      const std::string& user = value();
      const auto colon = user.find(':');
      s.client.auth.username = user.substr(0, colon);
      s.client.auth.password = colon == std::string::npos ? "" : user.substr(colon + 1);
    } else if (arg == "--basic") {
      s.client.auth.scheme = sse::auth_scheme::basic;
    } else if (arg == "--digest") {
      s.client.auth.scheme = sse::auth_scheme::digest;
    } else if (arg == "--anyauth") {
      s.client.auth.scheme = sse::auth_scheme::any;
    } else if (arg == "--oauth2-bearer") {
      s.client.auth.bearer_token = value();
    } else if (arg == "--netrc-optional") {
      s.client.auth.netrc = true;
    } else if (arg == "--netrc-file") {
      s.client.auth.netrc = true;
      s.client.auth.netrc_file = value();
    } else if (arg == "--compressed") {
      s.client.compression = true;
    } else if (arg == "--http1.1") {
      s.client.http_version = sse::http_version::http1_1;
    } else if (arg == "--http2") {
      s.client.http_version = sse::http_version::http2;
    } else if (arg == "--http2-prior-knowledge") {
      s.client.http_version = sse::http_version::http2_prior_knowledge;
    } else if (arg == "-k" || arg == "--insecure") {
      s.client.tls.insecure = true;
    } else if (arg == "--cacert") {
      s.client.tls.ca_file = value();
    } else if (arg == "--connect-timeout") {
      s.client.connect_timeout = parse_ms(arg, value());
    } else if (arg == "-v" || arg == "--verbose") {
      s.verbose = true;
    } else if (arg == "-q" || arg == "--quiet") {
      s.quiet = true;
    } else if (arg == "-h" || arg == "--help") {
      s.help = true;
    } else if (arg == "--version") {
      s.version = true;
    } else if (arg.size() > 1 && arg.front() == '-') {
      throw usage_error(arg + ": unknown option");
    } else if (url) {
      throw usage_error("URL: given twice (\"" + *url + "\" and \"" + arg + "\")");
    } else {
      url = arg;
    }
  }
  if (s.help || s.version) {
    return s;
  }
  if (!url) {
    throw usage_error("URL: missing");
  }
  s.client.url = *url;
  if (s.cookie_jar_file && !s.client.cookies) {
    s.client.cookies.emplace();
  }
  if (s.max_events && *s.max_events == 0) {
    throw usage_error("--max-events: must be at least 1");
  }
  return s;
}

} // namespace ssecat
#endif // SSECAT_CLI_HPP
