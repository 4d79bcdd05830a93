// Redaction of URLs and headers.
#include "util/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "util/text.hpp"

namespace mrsi {

namespace {

bool is_secret_param(std::string_view name) {
  static constexpr std::array<std::string_view, 20> names = {
      "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature",
      "x-goog-credential", "x-goog-security-token", "sig", "signature", "token", "access_token",
      "id_token", "refresh_token", "key", "api_key", "apikey", "password", "secret",
      "client_secret", "code", "awsaccesskeyid"};
  const std::string n = ascii_lower(name);
  return std::find(names.begin(), names.end(), n) != names.end();
}

// Appends the userinfo of an authority and its '@' with the password, if any, replaced.
void append_redacted_userinfo(std::string& out, std::string_view userinfo) {
  const auto colon = userinfo.find(':');
  out.append(userinfo.substr(0, colon));
  if (colon != std::string_view::npos) out.append(":REDACTED");
  out.push_back('@');
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out;
  // user:password@ -> user:REDACTED@ (only inside the authority)
  std::string_view rest = url;
  // A scheme is letters, digits, '+', '-', '.' before "://"; a "://" later on (inside a query,
  // say) does not make one.
  std::size_t scheme_len = 0;
  while (scheme_len < rest.size() &&
         (std::isalnum(static_cast<unsigned char>(rest[scheme_len])) || rest[scheme_len] == '+' ||
          rest[scheme_len] == '-' || rest[scheme_len] == '.'))
    ++scheme_len;
  if (scheme_len > 0 && rest.substr(scheme_len).starts_with("://")) {
    out.append(rest.substr(0, scheme_len + 3));
    rest.remove_prefix(scheme_len + 3);
  }
  // The authority ends at the first '/', '?' or '#'; its userinfo at the last '@' inside it, so
  // a password containing '@' is redacted whole.
  const auto auth_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, auth_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    append_redacted_userinfo(out, authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  out.append(authority);
  rest.remove_prefix(auth_end);
  const auto q = rest.find('?');
  if (q == std::string_view::npos) {
    out.append(rest);
    return out;
  }
  out.append(rest.substr(0, q + 1));
  std::string_view query = rest.substr(q + 1);
  std::string_view fragment;
  if (auto h = query.find('#'); h != std::string_view::npos) {
    fragment = query.substr(h);
    query = query.substr(0, h);
  }
  bool first = true;
  while (true) {
    const auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const auto eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    if (eq != std::string_view::npos && is_secret_param(name)) {
      out.append(name);
      out.append("=REDACTED");
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  out.append(fragment);
  return out;
}

bool is_secret_header(std::string_view name) {
  const std::string n = ascii_lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie" ||
      n == "x-amz-security-token" || n == "x-api-key" || n == "api-key" ||
      n == "x-goog-api-key" || n == "x-auth-token" || n == "x-goog-encryption-key" ||
      n == "x-amz-server-side-encryption-customer-key" || n == "x-amz-copy-source-server-side-encryption-customer-key")
    return true;
  // Azure customer-provided keys and the like.
  return n.starts_with("x-ms-") && n.find("key") != std::string::npos;
}

std::string redact_header(std::string_view name, std::string_view value) {
  std::string out(name);
  out.append(": ");
  out.append(is_secret_header(name) ? std::string_view("REDACTED") : value);
  return out;
}

}  // namespace mrsi
