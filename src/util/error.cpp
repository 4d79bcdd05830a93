// Error kinds, exit codes and the one-line description of an error.
#include "util/error.hpp"

#include <ostream>

namespace mrsi {

int exit_code(errc e) noexcept { return static_cast<int>(e); }

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::usage: return "usage";
    case errc::source: return "source";
    case errc::network: return "network";
    case errc::local_io: return "local-io";
    case errc::integrity: return "integrity";
    case errc::internal: return "internal";
  }
  return "internal";
}

std::ostream& operator<<(std::ostream& os, errc e) { return os << to_string(e); }

error::error(errc kind, std::string message, diagnostics diag, bool retryable)
    : std::runtime_error(std::move(message)), kind_(kind), diag_(std::move(diag)), retryable_(retryable) {}

std::string describe(const error& e) {
  std::string out = e.what();
  const auto& d = e.diag();
  std::string extra;
  auto add = [&](const std::string& s) {
    if (!extra.empty()) extra += ", ";
    extra += s;
  };
  if (d.http_status) add("HTTP " + std::to_string(*d.http_status));
  if (!d.url.empty() && out.find(d.url) == std::string::npos) add("url " + d.url);
  if (!d.server_code.empty() || !d.server_message.empty()) {
    std::string s = "server said: " + d.server_code;
    if (!d.server_code.empty() && !d.server_message.empty()) s += ": ";
    s += d.server_message;
    add(s);
  }
  if (!d.request_id.empty()) add("request id " + d.request_id);
  if (!extra.empty()) out += " (" + extra + ")";
  return out;
}

}  // namespace mrsi
