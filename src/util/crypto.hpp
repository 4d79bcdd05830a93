// Hashing helpers over OpenSSL 3 (SHA-256, MD5, HMAC-SHA256) and hex encoding, for request
// signing and content verification. Pure functions, thread-safe, no global state.
#pragma once

#include <array>
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

}  // namespace mrsi::crypto
