// Proxy selection from HTTP_PROXY / HTTPS_PROXY / NO_PROXY values (pure, unit-tested).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mrsi::http {

struct proxy_endpoint {
  std::string host;
  std::string port;
  std::string basic_auth;  // "user:password" from the proxy URL, empty when none
};

// True when `host` matches a NO_PROXY entry: "*", an exact host, or a domain suffix (".corp" and
// "corp" both match "a.corp"). Entries may carry a port, which is ignored; case-insensitive.
bool bypasses_proxy(std::string_view host, std::string_view no_proxy);

// Parses "http://[user:pass@]host[:port]" or "host:port"; nullopt for empty input.
// Throws mrsi::error(usage) for a URL it cannot read or an https:// proxy (not supported).
std::optional<proxy_endpoint> parse_proxy(std::string_view value);

}  // namespace mrsi::http
