// Hashing helpers over OpenSSL 3 (SHA-256, MD5, HMAC-SHA256) and hex encoding, for request
// signing and content verification. Pure functions, thread-safe, no global state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mrsi::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;

// Lower-case hex of arbitrary bytes.
std::string hex(std::string_view bytes);
std::string hex(const sha256_digest& d);

sha256_digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 of `data` under `key` (both raw bytes).
sha256_digest hmac_sha256(std::string_view key, std::string_view data);
inline sha256_digest hmac_sha256(const sha256_digest& key, std::string_view data) {
  return hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), data);
}

std::string md5_hex(std::string_view data);

// Decodes standard base64 (with or without padding); nullopt-like empty-on-error is not enough
// for checksums, so it returns false when the input is not base64.
bool base64_decode(std::string_view in, std::string& out);

// Standard base64 with padding (OpenSSL EVP_EncodeBlock), no line breaks.
std::string base64_encode(std::string_view bytes);

// An S3 additional checksum ("crc32", "crc32c", "sha1", "sha256") computed incrementally; the
// result is what S3 sends in x-amz-checksum-<alg>: base64 of the big-endian digest.
class checksum_hasher {
 public:
  // Throws std::invalid_argument for any other algorithm name.
  explicit checksum_hasher(std::string_view algorithm);
  ~checksum_hasher();
  checksum_hasher(const checksum_hasher&) = delete;
  checksum_hasher& operator=(const checksum_hasher&) = delete;
  void update(const void* data, std::size_t n);
  std::string final_base64();  // once

  // True for the algorithm names the constructor accepts.
  static bool supported(std::string_view algorithm);

 private:
  enum class kind { crc32, crc32c, evp } kind_;
  std::uint32_t crc_ = 0;
  void* evp_ = nullptr;  // EVP_MD_CTX*
};

// One-shot: the base64 checksum of `data`.
std::string checksum_base64(std::string_view algorithm, std::string_view data);

}  // namespace mrsi::crypto
