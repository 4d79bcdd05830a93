// The http(s) provider.
#include "storage/http_provider.hpp"

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "archive/extract.hpp"
#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

namespace mrsi::storage {

std::string url_file_name(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw error(errc::usage, "not a valid URL: " + redact_url(url));
  std::string name;
  for (auto seg : parsed->segments()) name = std::string(seg);  // decoded; the last one wins
  if (!parsed->segments().empty() && parsed->encoded_path().ends_with("/")) name.clear();
  if (name.empty() || name == "." || name == "..")
    throw error(errc::usage, "cannot name the downloaded file: the URL path of " + redact_url(url) +
                                 " has no file name at its end");
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
    throw error(errc::usage, "the file name at the end of " + redact_url(url) +
                                 " decodes to a path, refusing to write it");
  return name;
}

http::header_list headers_from_env(const env_map& env, std::string_view host) {
  const std::string h = ascii_lower(host);
  const auto value = env_get(env, h + "-headers");
  http::header_list out;
  if (!value || value->empty()) return out;
  boost::system::error_code ec;
  auto doc = boost::json::parse(*value, ec);
  if (ec || !doc.is_object())
    throw error(errc::usage, "environment variable " + h + "-headers must hold a JSON object of header names to values");
  for (const auto& [k, v] : doc.as_object()) {
    if (!v.is_string())
      throw error(errc::usage, "environment variable " + h + "-headers: the value of \"" + std::string(k) +
                                   "\" must be a string");
    out.emplace_back(std::string(k), std::string(v.as_string()));
  }
  return out;
}

namespace {

class http_provider final : public provider {
 public:
  explicit http_provider(env_map env) : env_(std::move(env)) {}

  boost::asio::awaitable<manifest> list(std::string uri, http::client&) override {
    auto parsed = boost::urls::parse_uri(uri);
    if (!parsed) throw error(errc::usage, "not a valid URL: " + redact_url(uri));
    if (parsed->host_address().empty()) throw error(errc::usage, "URL has no host: " + redact_url(uri));
    if (parsed->has_port() && !is_valid_port(parsed->port()))
      throw error(errc::usage, "invalid port in URL " + redact_url(uri));
    manifest m;
    m.source_description = redact_url(uri);
    manifest_entry e;
    e.url = uri;
    e.relative_path = url_file_name(uri);
    // KServe parity: a single archive is unpacked into DEST and removed.
    m.extract_archive = archive::is_archive_name(e.relative_path.string());
    e.headers = headers_from_env(env_, parsed->host_address());
    m.files.push_back(std::move(e));
    co_return m;
  }

 private:
  env_map env_;
};

}  // namespace

std::unique_ptr<provider> make_http_provider(env_map env) { return std::make_unique<http_provider>(std::move(env)); }

}  // namespace mrsi::storage
