// Scheme dispatch: a new scheme is a new provider file plus one line here.
#include "storage/provider_factory.hpp"

#include <algorithm>
#include <cctype>

#include "storage/http_provider.hpp"
#include "storage/s3_provider.hpp"
#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

namespace mrsi::storage {

std::string uri_scheme(std::string_view uri) {
  const auto p = uri.find("://");
  if (p == std::string_view::npos || p == 0) return {};
  const std::string_view s = uri.substr(0, p);
  if (!std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; }))
    return {};
  return ascii_lower(s);
}

std::unique_ptr<provider> make_provider(std::string_view uri, const env_map& env, log_fn log) {
  const std::string scheme = uri_scheme(uri);
  if (scheme == "http" || scheme == "https") return make_http_provider(env);
  if (scheme == "s3") return s3::make_s3_provider(env, std::move(log));
  if (scheme.empty())
    throw error(errc::usage, "\"" + redact_url(uri) + "\" is not a URI (expected scheme://...; supported: "
                             "model-registry, http, https, s3)");
  throw error(errc::usage, "unsupported scheme \"" + scheme + "\" in " + redact_url(uri) +
                               " (supported: model-registry, http, https, s3)");
}

}  // namespace mrsi::storage
