// OpenSSL-backed hashing, HMAC and hex/base64 helpers.
#include "util/crypto.hpp"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "util/crc32c.hpp"

namespace mrsi::crypto {

namespace {

// Runs one EVP digest over `data`; failures only happen on a broken OpenSSL install.
unsigned digest(const EVP_MD* md, std::string_view data, unsigned char* out) {
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1)
    throw std::runtime_error("OpenSSL digest failed");
  return len;
}

}  // namespace

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

std::string hex(const sha256_digest& d) {
  return hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

sha256_digest sha256(std::string_view data) {
  sha256_digest d{};
  digest(EVP_sha256(), data, d.data());
  return d;
}

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
  sha256_digest d{};
  unsigned len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data(), &len) ||
      len != d.size())
    throw std::runtime_error("OpenSSL HMAC failed");
  return d;
}

std::string md5_hex(std::string_view data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned len = digest(EVP_md5(), data, d);
  return hex(std::string_view(reinterpret_cast<const char*>(d), len));
}

bool base64_decode(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out.clear();
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

bool checksum_hasher::supported(std::string_view a) {
  return a == "crc32" || a == "crc32c" || a == "sha1" || a == "sha256";
}

checksum_hasher::checksum_hasher(std::string_view a) {
  if (a == "crc32") {
    kind_ = kind::crc32;
    crc_ = static_cast<std::uint32_t>(::crc32(0L, Z_NULL, 0));
  } else if (a == "crc32c") {
    kind_ = kind::crc32c;
  } else if (a == "sha1" || a == "sha256") {
    kind_ = kind::evp;
    auto* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, a == "sha1" ? EVP_sha1() : EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx);
      throw std::runtime_error("OpenSSL digest init failed");
    }
    evp_ = ctx;
  } else {
    throw std::invalid_argument("unsupported checksum algorithm \"" + std::string(a) + "\"");
  }
}

checksum_hasher::~checksum_hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(evp_)); }

void checksum_hasher::update(const void* data, std::size_t n) {
  switch (kind_) {
    case kind::crc32: {
      const auto* p = static_cast<const Bytef*>(data);
      while (n > 0) {  // zlib takes a uInt length
        const uInt chunk = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
        crc_ = static_cast<std::uint32_t>(::crc32(crc_, p, chunk));
        p += chunk;
        n -= chunk;
      }
      break;
    }
    case kind::crc32c: crc_ = crc32c(crc_, data, n); break;
    case kind::evp:
      if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(evp_), data, n) != 1)
        throw std::runtime_error("OpenSSL digest update failed");
      break;
  }
}

std::string checksum_hasher::final_base64() {
  if (kind_ == kind::evp) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(evp_), md, &len) != 1)
      throw std::runtime_error("OpenSSL digest final failed");
    return base64_encode(std::string_view(reinterpret_cast<const char*>(md), len));
  }
  const char be[4] = {static_cast<char>(crc_ >> 24), static_cast<char>(crc_ >> 16),
                      static_cast<char>(crc_ >> 8), static_cast<char>(crc_)};
  return base64_encode(std::string_view(be, 4));
}

std::string checksum_base64(std::string_view algorithm, std::string_view data) {
  checksum_hasher h(algorithm);
  h.update(data.data(), data.size());
  return h.final_base64();
}

}  // namespace mrsi::crypto
