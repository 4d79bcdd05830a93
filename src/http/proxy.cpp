// Proxy selection.
#include "http/proxy.hpp"

#include <algorithm>

#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

namespace mrsi::http {

bool bypasses_proxy(std::string_view host_in, std::string_view no_proxy) {
  std::string host = ascii_lower(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  while (!no_proxy.empty()) {
    const auto comma = no_proxy.find(',');
    std::string entry = ascii_lower(trim(no_proxy.substr(0, comma)));
    no_proxy.remove_prefix(comma == std::string_view::npos ? no_proxy.size() : comma + 1);
    if (entry == "*") return true;
    if (!entry.empty() && entry.front() == '[') {
      const auto close = entry.find(']');
      entry = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
      entry = entry.substr(0, entry.find(':'));  // host:port; the port is ignored
    }
    if (entry.starts_with("*.")) entry.erase(0, 2);
    else if (entry.starts_with(".")) entry.erase(0, 1);
    if (entry.empty()) continue;
    if (host == entry) return true;
    if (host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

namespace {

// Decodes %XX escapes of a URL's userinfo; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<proxy_endpoint> parse_proxy(std::string_view value) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  const auto bad = [&](const std::string& why) {
    return error(errc::usage, "proxy " + redact_url(value) + ": " + why);
  };
  std::string_view rest = value;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    if (ascii_lower(rest.substr(0, p)) != "http") throw bad("only http:// proxies are supported");
    rest.remove_prefix(p + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  proxy_endpoint ep;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto userinfo = percent_decode(rest.substr(0, at));
    if (!userinfo) throw bad("invalid percent-encoding in the user name or password");
    ep.basic_auth = *userinfo;
    rest.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw bad("unterminated IPv6 address");
    ep.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw bad("expected http://host:port");
      port = rest.substr(1);  // may be empty ("host:"): the default port, as in any URL
    }
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    ep.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    ep.host = std::string(rest);
  }
  if (ep.host.empty() || (!port.empty() && !is_valid_port(port))) throw bad("expected http://host:port");
  ep.port = port.empty() ? "80" : std::string(port);
  return ep;
}

}  // namespace mrsi::http
