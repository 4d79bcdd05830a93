// S3 additional checksums: CRC-32C and CRC-32 known vectors, base64 in the form S3 sends in
// x-amz-checksum-<alg>, incremental updates, and the one-pass file digests of the engine.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "transfer/file_io.hpp"
#include "util/crc32c.hpp"
#include "util/crypto.hpp"

using namespace mrsi;

BOOST_AUTO_TEST_SUITE(checksums)

BOOST_AUTO_TEST_CASE(crc32c_known_vectors) {
  const std::string digits = "123456789";
  BOOST_TEST(crc32c(0, digits.data(), digits.size()) == 0xE3069283u);
  const std::string zeros(32, '\0');
  BOOST_TEST(crc32c(0, zeros.data(), zeros.size()) == 0x8A9136AAu);
  const std::string ones(32, '\xff');
  BOOST_TEST(crc32c(0, ones.data(), ones.size()) == 0x62A8AB43u);  // RFC 3720 B.4
  BOOST_TEST(crc32c(0, nullptr, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(crc32c_is_incremental_at_any_split) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  const auto whole = crc32c(0, data.data(), data.size());
  for (std::size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    auto c = crc32c(0, data.data(), cut);
    BOOST_TEST(crc32c(c, data.data() + cut, data.size() - cut) == whole);
  }
}

BOOST_AUTO_TEST_CASE(base64_as_s3_sends_it) {
  BOOST_TEST(crypto::checksum_base64("crc32", "123456789") == "y/Q5Jg==");  // 0xCBF43926
  BOOST_TEST(crypto::checksum_base64("crc32c", "123456789") == "4waSgw==");  // 0xE3069283
  BOOST_TEST(crypto::checksum_base64("crc32c", std::string(32, '\0')) == "ipE2qg==");
  BOOST_TEST(crypto::checksum_base64("crc32c", "") == "AAAAAA==");
  BOOST_TEST(crypto::checksum_base64("crc32", "hello world") == "DUoRhQ==");
  BOOST_TEST(crypto::checksum_base64("sha1", "abc") == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  BOOST_TEST(crypto::checksum_base64("sha256", "abc") == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  BOOST_TEST(crypto::checksum_base64("sha256", "") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

BOOST_AUTO_TEST_CASE(base64_encode_padding) {
  BOOST_TEST(crypto::base64_encode("") == "");
  BOOST_TEST(crypto::base64_encode("f") == "Zg==");
  BOOST_TEST(crypto::base64_encode("fo") == "Zm8=");
  BOOST_TEST(crypto::base64_encode("foo") == "Zm9v");
  std::string back;
  BOOST_TEST(crypto::base64_decode(crypto::base64_encode("\x01\x02\xff"), back));
  BOOST_TEST(back == "\x01\x02\xff");
}

BOOST_AUTO_TEST_CASE(unsupported_algorithm_is_refused) {
  BOOST_TEST(!crypto::checksum_hasher::supported("crc64nvme"));
  BOOST_TEST(crypto::checksum_hasher::supported("crc32c"));
  BOOST_CHECK_THROW(crypto::checksum_hasher("md5"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(file_digests_in_one_pass) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("mrsi-digest-" + std::to_string(::getpid()) + ".bin");
  std::string data(3 * (1 << 20) + 5, '\0');  // more than one read buffer
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  transfer::write_file(p, data);
  for (const char* alg : {"crc32", "crc32c", "sha1", "sha256"}) {
    auto d = transfer::digest_file(p, true, alg);
    BOOST_TEST(d.md5_hex == crypto::md5_hex(data));
    BOOST_TEST(d.checksum_b64 == crypto::checksum_base64(alg, data));
  }
  auto only_md5 = transfer::digest_file(p, true, "");
  BOOST_TEST(only_md5.checksum_b64.empty());
  BOOST_TEST(transfer::md5_file_hex(p) == crypto::md5_hex(data));
  auto only_sum = transfer::digest_file(p, false, "crc32c");
  BOOST_TEST(only_sum.md5_hex.empty());
  BOOST_TEST(only_sum.checksum_b64 == crypto::checksum_base64("crc32c", data));
  std::filesystem::remove(p);
}

BOOST_AUTO_TEST_SUITE_END()
