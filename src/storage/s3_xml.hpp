// Parsers for the XML documents S3 and STS answer with: ListObjectsV2 pages, S3 error bodies and
// STS AssumeRoleWithWebIdentity results. pugixml underneath; element names are matched without
// their namespace prefix, as servers differ in how they declare it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/s3_sigv4.hpp"

namespace mrsi::storage::s3 {

struct object_entry {
  std::string key;  // decoded when the page says <EncodingType>url</EncodingType>
  std::uint64_t size = 0;
  std::string etag;  // as sent, quotes included
  // From <ChecksumAlgorithm>, lower-cased, when it is one we can verify ("crc32", "crc32c",
  // "sha1", "sha256"); empty otherwise (none, CRC64NVME...).
  std::string checksum_algorithm;
};

struct list_page {
  std::vector<object_entry> objects;
  bool truncated = false;
  std::string next_continuation_token;
};

// Parses one ListObjectsV2 response body. Throws mrsi::error(source) when the body is not a
// ListBucketResult (HTML from a proxy, truncated XML) or a truncated page carries no token, so a
// listing never silently stops early.
list_page parse_list_objects_v2(std::string_view xml);

struct error_body {
  std::string code;        // "NoSuchBucket", "SignatureDoesNotMatch", "SlowDown"...
  std::string message;
  std::string request_id;
  std::string resource;    // bucket or key named by the error, when present
};

// Parses an S3 <Error> document or an STS <ErrorResponse><Error>; nullopt when the body is not one.
std::optional<error_body> parse_error(std::string_view xml);

struct sts_result {
  credentials creds;
  std::string expiration;  // ISO 8601, e.g. "2024-01-01T00:00:00Z"
};

// Parses the AssumeRoleWithWebIdentity (or AssumeRole) response. Throws mrsi::error(source) naming
// the STS error code when the body is an error document, or when credentials are missing.
sts_result parse_assume_role_response(std::string_view xml);

// The MD5 an ETag stands for: 32 hex digits between optional quotes and nothing else. Multipart
// ETags ("<hex>-<parts>") and anything else give an empty string.
std::string md5_from_etag(std::string_view etag);

// "CRC32C" / "crc32c" -> "crc32c"; empty for algorithms we cannot verify.
std::string verifiable_checksum_algorithm(std::string_view name);

// The x-amz-checksum-<alg> value when it is a full-object checksum of the right shape (base64 of
// a 4/20/32-byte digest); empty for a composite value ("<b64>-<parts>", the checksum of the part
// checksums of a multipart upload, which cannot be checked against the bytes) or anything else.
std::string full_object_checksum(std::string_view algorithm, std::string_view value);

}  // namespace mrsi::storage::s3
