// s3:// URI parsing and bucket/object/list URL construction.
#include "storage/s3_addressing.hpp"

#include "util/error.hpp"

namespace mrsi::storage::s3 {

location parse_uri(std::string_view uri) {
  constexpr std::string_view scheme = "s3://";
  if (uri.substr(0, scheme.size()) != scheme)
    throw error(errc::usage, "not an s3:// URI: " + std::string(uri));
  std::string_view rest = uri.substr(scheme.size());
  auto slash = rest.find('/');
  location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) loc.key = std::string(rest.substr(slash + 1));
  if (loc.bucket.empty()) throw error(errc::usage, "s3:// URI without a bucket: " + std::string(uri));
  // S3's own rule is 3-63 of [a-z0-9.-]; older buckets in us-east-1 may hold upper case and '_',
  // so accept those too and refuse only what cannot be a bucket in any region.
  for (char c : loc.bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok)
      throw error(errc::usage, "invalid S3 bucket name \"" + loc.bucket + "\" in " + std::string(uri));
  }
  if (loc.bucket.size() > 255) throw error(errc::usage, "S3 bucket name too long in " + std::string(uri));
  return loc;
}

bool virtual_host_compatible(std::string_view bucket, bool tls) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (bucket.front() == '-' || bucket.back() == '-' || bucket.front() == '.' || bucket.back() == '.') return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && !tls);
    if (!ok) return false;
  }
  return bucket.find("..") == std::string_view::npos;
}

std::string bucket_url(const config& cfg, std::string_view bucket) {
  std::string endpoint = cfg.endpoint.empty() ? "https://s3." + cfg.region + ".amazonaws.com" : cfg.endpoint;
  auto sep = endpoint.find("://");
  std::string scheme = endpoint.substr(0, sep);
  std::string rest = endpoint.substr(sep + 3);
  if (cfg.virtual_hosted && virtual_host_compatible(bucket, scheme == "https"))
    return scheme + "://" + std::string(bucket) + "." + rest;
  return endpoint + "/" + std::string(bucket);
}

std::string object_url(const config& cfg, std::string_view bucket, std::string_view key) {
  return bucket_url(cfg, bucket) + "/" + uri_encode(key, false);
}

std::string list_url(const config& cfg, std::string_view bucket, std::string_view prefix,
                     std::string_view continuation_token) {
  std::string url = bucket_url(cfg, bucket);
  // Virtual-hosted bucket URLs have no path; give the request target its root.
  if (url.find('/', url.find("://") + 3) == std::string::npos) url += "/";
  url += "?list-type=2";
  if (!continuation_token.empty()) url += "&continuation-token=" + uri_encode(continuation_token);
  // encoding-type=url keeps keys with bytes XML cannot carry intact; the page says when applied.
  url += "&encoding-type=url";
  if (!prefix.empty()) url += "&prefix=" + uri_encode(prefix);
  return url;
}

}  // namespace mrsi::storage::s3
