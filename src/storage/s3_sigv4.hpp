// AWS Signature Version 4 for S3: S3's URI-encoding rules, the canonical request, the string to
// sign, the signing key, header signing (Authorization) and presigned URLs. Pure functions over
// plain values: the caller passes the time, so every step is reproducible in unit tests.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "util/crypto.hpp"

namespace mrsi::storage::s3 {

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // set for temporary credentials (STS); sent as x-amz-security-token
  bool empty() const noexcept { return access_key_id.empty(); }
};

inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of a bodiless request.
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// S3 URI encoding: bytes A-Z a-z 0-9 - _ . ~ are kept, '/' is kept unless encode_slash, every
// other byte (UTF-8 included) becomes %XX with upper-case hex. Spaces are %20, never '+'.
std::string uri_encode(std::string_view s, bool encode_slash = true);
// Inverse of uri_encode: %XX becomes the byte; malformed escapes and '+' stay literal.
std::string uri_decode(std::string_view s);

// The pieces of an absolute http(s) URL that signing needs. `host` is the URL's authority as
// written (host[:port], user info dropped): what the HTTP client sends as the Host header, so
// URLs should be built without a default port.
struct url_parts {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::string path;    // as on the wire (percent-encoded), "/" when empty
  std::string query;   // as on the wire, without '?'
};
// Throws mrsi::error(usage) when `url` is not an absolute http:// or https:// URL.
url_parts split_url(std::string_view url);

// Canonical URI: each path segment decoded and re-encoded with S3's rules; no dot-segment or
// double-slash normalization (S3 keys may contain both).
std::string canonical_uri(std::string_view raw_path);
// Canonical query string: parameters decoded, re-encoded, sorted by name then value, "k=" for
// bare names. `skip` names one parameter to leave out (X-Amz-Signature when verifying).
std::string canonical_query(std::string_view raw_query, std::string_view skip = {});

// Headers that go into the signature: host, every x-amz-*, and the ones whose change would alter
// what the server returns (range, conditionals, content-type, content-md5).
bool is_signed_header(std::string_view lower_case_name) noexcept;

struct canonical_form {
  std::string request;         // the canonical request text
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
};
// Builds the canonical request of `method` on `url` with `headers` (Host is taken from the URL
// unless the list carries one). Header names are lower-cased, values trimmed and inner runs of
// spaces folded; repeated headers are joined with ','.
canonical_form make_canonical_request(std::string_view method, const url_parts& url,
                                      const http::header_list& headers,
                                      std::string_view payload_hash);

// "20130524T000000Z" in UTC.
std::string amz_date(std::chrono::system_clock::time_point t);
// "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(std::string_view date8, std::string_view region,
                             std::string_view service = "s3");
std::string string_to_sign(std::string_view amz_datetime, std::string_view scope,
                           std::string_view canonical_request);
crypto::sha256_digest signing_key(std::string_view secret, std::string_view date8,
                                  std::string_view region, std::string_view service = "s3");

// Signs `req` in place for time `now`: sets x-amz-date, x-amz-content-sha256 (UNSIGNED-PAYLOAD
// unless the caller already set a hash), x-amz-security-token for temporary credentials and
// Authorization, replacing any left by an earlier attempt. Anonymous (empty) credentials leave
// the request untouched.
void sign_request(http::request& req, const credentials& creds, std::string_view region,
                  std::chrono::system_clock::time_point now, std::string_view service = "s3");

// Query-string authentication: `url` plus X-Amz-* parameters signing only the host header and an
// unsigned payload, valid for `expires` (at most 7 days).
std::string presign_url(std::string_view method, std::string_view url, const credentials& creds,
                        std::string_view region, std::chrono::system_clock::time_point now,
                        std::chrono::seconds expires, std::string_view service = "s3");

}  // namespace mrsi::storage::s3
