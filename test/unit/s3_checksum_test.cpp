// S3 additional checksums on the listing side: <ChecksumAlgorithm> in ListObjectsV2 pages and
// which x-amz-checksum-<alg> values are full-object checksums we can verify.
#include <boost/test/unit_test.hpp>

#include "storage/s3_xml.hpp"

using namespace mrsi::storage::s3;

BOOST_AUTO_TEST_SUITE(s3_checksums)

BOOST_AUTO_TEST_CASE(list_objects_v2_checksum_algorithm) {
  const char* page = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>m/</Prefix><KeyCount>5</KeyCount><MaxKeys>1000</MaxKeys>
  <IsTruncated>false</IsTruncated>
  <Contents><Key>m/a.bin</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><ChecksumAlgorithm>CRC32C</ChecksumAlgorithm>
    <ChecksumType>FULL_OBJECT</ChecksumType><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>m/b.bin</Key><ETag>"x-2"</ETag><ChecksumAlgorithm>SHA256</ChecksumAlgorithm><Size>2</Size></Contents>
  <Contents><Key>m/c.bin</Key><ETag>"x"</ETag><Size>3</Size></Contents>
  <Contents><Key>m/d.bin</Key><ETag>"x"</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><Size>4</Size></Contents>
  <Contents><Key>m/e.bin</Key><ETag>"x"</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>
    <ChecksumAlgorithm>SHA1</ChecksumAlgorithm><Size>5</Size></Contents>
</ListBucketResult>)";
  auto p = parse_list_objects_v2(page);
  BOOST_TEST_REQUIRE(p.objects.size() == 5u);
  BOOST_TEST(p.objects[0].checksum_algorithm == "crc32c");
  BOOST_TEST(p.objects[0].size == 1u);
  BOOST_TEST(p.objects[1].checksum_algorithm == "sha256");
  BOOST_TEST(p.objects[2].checksum_algorithm.empty());
  BOOST_TEST(p.objects[3].checksum_algorithm.empty());  // not one we can verify
  BOOST_TEST(p.objects[4].checksum_algorithm == "sha1");
}

BOOST_AUTO_TEST_CASE(algorithm_names) {
  BOOST_TEST(verifiable_checksum_algorithm("CRC32") == "crc32");
  BOOST_TEST(verifiable_checksum_algorithm("crc32c") == "crc32c");
  BOOST_TEST(verifiable_checksum_algorithm("SHA1") == "sha1");
  BOOST_TEST(verifiable_checksum_algorithm(" SHA256\n") == "sha256");
  BOOST_TEST(verifiable_checksum_algorithm("CRC64NVME").empty());
  BOOST_TEST(verifiable_checksum_algorithm("MD5").empty());
  BOOST_TEST(verifiable_checksum_algorithm("").empty());
}

BOOST_AUTO_TEST_CASE(full_object_values_kept) {
  BOOST_TEST(full_object_checksum("crc32c", "4waSgw==") == "4waSgw==");
  BOOST_TEST(full_object_checksum("crc32", "y/Q5Jg==") == "y/Q5Jg==");
  BOOST_TEST(full_object_checksum("crc32c", "4waSgw") == "4waSgw==");  // unpadded, normalized
  BOOST_TEST(full_object_checksum("sha1", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=") == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  BOOST_TEST(full_object_checksum("sha256", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=") ==
             "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

BOOST_AUTO_TEST_CASE(composite_and_malformed_values_skipped) {
  // Multipart uploads: the checksum of the part checksums, "-<number of parts>".
  BOOST_TEST(full_object_checksum("crc32c", "4waSgw==-3").empty());
  BOOST_TEST(full_object_checksum("sha256", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-12").empty());
  BOOST_TEST(full_object_checksum("crc32c", "").empty());
  BOOST_TEST(full_object_checksum("crc32c", "not base64!").empty());
  BOOST_TEST(full_object_checksum("sha256", "4waSgw==").empty());  // wrong length for the algorithm
  BOOST_TEST(full_object_checksum("md5", "4waSgw==").empty());
}

BOOST_AUTO_TEST_SUITE_END()
