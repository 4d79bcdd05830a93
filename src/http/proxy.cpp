// Proxy selection.
#include "http/proxy.hpp"

#include <algorithm>
#include <cctype>

#include "util/error.hpp"
#include "util/redact.hpp"

namespace mrsi::http {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace

bool bypasses_proxy(std::string_view host_in, std::string_view no_proxy) {
  std::string host = lower(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  while (!no_proxy.empty()) {
    const auto comma = no_proxy.find(',');
    std::string entry = lower(trim(no_proxy.substr(0, comma)));
    no_proxy.remove_prefix(comma == std::string_view::npos ? no_proxy.size() : comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    if (entry.front() == '[') {
      const auto close = entry.find(']');
      entry = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
      entry = entry.substr(0, entry.find(':'));
    }
    if (entry.front() == '.') entry.erase(0, 1);
    if (entry.front() == '*' ) entry.erase(0, entry.size() > 1 && entry[1] == '.' ? 2 : 1);
    if (host == entry) return true;
    if (host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

std::optional<proxy_endpoint> parse_proxy(std::string_view value) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  std::string_view rest = value;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    const std::string scheme = lower(rest.substr(0, p));
    if (scheme != "http")
      throw error(errc::usage, "proxy " + redact_url(value) + ": only http:// proxies are supported");
    rest.remove_prefix(p + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  proxy_endpoint ep;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    ep.basic_auth = std::string(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      throw error(errc::usage, "proxy " + redact_url(value) + ": unterminated IPv6 address");
    ep.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() == ':') ep.port = std::string(rest.substr(1));
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    ep.host = std::string(rest.substr(0, colon));
    ep.port = std::string(rest.substr(colon + 1));
  } else {
    ep.host = std::string(rest);
  }
  if (ep.port.empty()) ep.port = "80";
  if (ep.host.empty() || !std::all_of(ep.port.begin(), ep.port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw error(errc::usage, "proxy " + redact_url(value) + ": expected http://host:port");
  return ep;
}

}  // namespace mrsi::http
