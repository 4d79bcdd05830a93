// s3:// URIs and the HTTP URLs that address buckets and objects: path-style
// (ENDPOINT/BUCKET/KEY) or virtual-hosted (BUCKET.HOST/KEY). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "storage/s3_config.hpp"

namespace mrsi::storage::s3 {

struct location {
  std::string bucket;
  std::string key;  // raw object key or prefix, possibly empty; never percent-decoded
  // "s3://bucket/key" for messages.
  std::string uri() const { return "s3://" + bucket + (key.empty() ? "" : "/" + key); }
};

// "s3://bucket", "s3://bucket/", "s3://bucket/path/to/x". Everything after the bucket's slash is
// the key, byte for byte (KServe passes keys unencoded). Throws mrsi::error(usage) for another
// scheme, an empty bucket or a bucket name S3 would reject.
location parse_uri(std::string_view uri);

// True when `bucket` can be a DNS label under TLS: lower-case letters, digits and '-' only (a
// dot would break the *.host wildcard certificate, so such buckets fall back to path-style).
bool virtual_host_compatible(std::string_view bucket, bool tls);

// "https://bucket.s3.us-east-1.amazonaws.com" or "http://127.0.0.1:9000/bucket": the URL every
// request for `bucket` starts with, without a trailing slash.
std::string bucket_url(const config& cfg, std::string_view bucket);

// bucket_url + "/" + the key encoded with S3's rules (slashes kept).
std::string object_url(const config& cfg, std::string_view bucket, std::string_view key);

// A ListObjectsV2 request for keys under `prefix`, continuing at `continuation_token` if set.
std::string list_url(const config& cfg, std::string_view bucket, std::string_view prefix,
                     std::string_view continuation_token = {});

}  // namespace mrsi::storage::s3
