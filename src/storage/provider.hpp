// The storage provider contract: a provider turns a source URI into a manifest of files to fetch
// (URL, destination path relative to DEST, what it knows of size and validator, a request signer).
// The transfer engine moves byte ranges of a manifest and knows nothing of the protocol.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"
#include "util/error.hpp"

namespace mrsi::http { class client; }

namespace mrsi::storage {

struct manifest_entry {
  std::string url;                      // absolute http(s) URL of the bytes
  std::filesystem::path relative_path;  // sanitized, relative to the destination directory
  std::optional<std::uint64_t> size;    // from a listing, when known
  std::string etag;                     // from a listing, when known (quoted as the server sends)
  std::string md5_hex;                  // expected MD5 of the content when known (verified)
  // An S3 additional checksum of the whole content, when known (verified): the algorithm
  // ("crc32", "crc32c", "sha1", "sha256"; empty = none) and the value as S3 sends it in
  // x-amz-checksum-<alg> (base64 of the big-endian digest).
  std::string checksum_algorithm;
  std::string checksum_b64;
  http::header_list headers;            // extra headers for every request of this file
  http::signer sign;                    // adds auth to each request; may be empty
  // Fills server_code / server_message / request_id from an error response body (S3 XML, ...);
  // may be empty. The engine reads at most 64 KiB of an error body.
  std::function<void(const http::response&, diagnostics&)> parse_error;
};

struct manifest {
  std::vector<manifest_entry> files;
  // Where the manifest came from, redacted, for messages ("s3://bucket/prefix").
  std::string source_description;
  // True when the source is a single archive to extract into DEST after download.
  bool extract_archive = false;
};

class provider {
 public:
  virtual ~provider() = default;
  // Lists what `uri` names. Throws mrsi::error (source: nothing found, access denied, ...).
  virtual boost::asio::awaitable<manifest> list(std::string uri, http::client& client) = 0;
};

}  // namespace mrsi::storage
