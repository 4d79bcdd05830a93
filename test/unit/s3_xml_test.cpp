// ListObjectsV2 pages, S3/STS error bodies and STS credentials, parsed from real-shaped XML.
#include <boost/test/unit_test.hpp>

#include "storage/s3_xml.hpp"
#include "util/error.hpp"

using namespace mrsi;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)
using namespace mrsi::storage::s3;

namespace {

// Shaped like an AWS S3 response to GET /?list-type=2&prefix=models/&encoding-type=url.
const char* aws_page = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>models%2F</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>models%2Fa%2Bb+c%20d.bin</Key>
    <LastModified>2024-05-01T10:00:00.000Z</LastModified>
    <ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
    <Size>5368709120</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>models%2Fsub%2F</Key>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag>
    <Size>0</Size>
  </Contents>
  <Contents>
    <Key>models%2Fcaf%C3%A9%3D1%25.txt</Key>
    <ETag>"a3f5b0c1d2e3f4a5b6c7d8e9f0a1b2c3-12"</ETag>
    <Size>200000000</Size>
  </Contents>
</ListBucketResult>)";

}  // namespace

BOOST_AUTO_TEST_SUITE(s3_xml)

BOOST_AUTO_TEST_CASE(list_page_with_url_encoding) {
  auto page = parse_list_objects_v2(aws_page);
  BOOST_TEST(page.truncated);
  BOOST_TEST(page.next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  BOOST_REQUIRE(page.objects.size() == 3u);
  BOOST_TEST(page.objects[0].key == "models/a+b c d.bin");  // form encoding: '+' is a space
  BOOST_TEST(page.objects[0].size == 5368709120ull);
  BOOST_TEST(page.objects[0].etag == "\"9e107d9d372bb6826bd81d3542a419d6\"");
  BOOST_TEST(page.objects[1].key == "models/sub/");
  BOOST_TEST(page.objects[1].size == 0u);
  BOOST_TEST(page.objects[2].key == "models/caf\xc3\xa9=1%.txt");
}

BOOST_AUTO_TEST_CASE(list_page_without_encoding_keeps_keys_verbatim) {
  // s3rver ignores encoding-type and sends raw keys: a '%' must then stay a '%'.
  auto page = parse_list_objects_v2(R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <IsTruncated>false</IsTruncated>
    <Contents><Key>m/100%25 &amp; more</Key><Size>7</Size><ETag>"x"</ETag></Contents>
  </ListBucketResult>)");
  BOOST_TEST(!page.truncated);
  BOOST_REQUIRE(page.objects.size() == 1u);
  BOOST_TEST(page.objects[0].key == "m/100%25 & more");
}

BOOST_AUTO_TEST_CASE(empty_listing) {
  auto page = parse_list_objects_v2(
      "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>");
  BOOST_TEST(page.objects.empty());
  BOOST_TEST(!page.truncated);
}

BOOST_AUTO_TEST_CASE(namespace_prefixed_elements) {
  auto page = parse_list_objects_v2(R"(<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">
    <s3:IsTruncated>false</s3:IsTruncated>
    <s3:Contents><s3:Key>k</s3:Key><s3:Size>1</s3:Size></s3:Contents></s3:ListBucketResult>)");
  BOOST_REQUIRE(page.objects.size() == 1u);
  BOOST_TEST(page.objects[0].key == "k");
}

BOOST_AUTO_TEST_CASE(malformed_listings_are_errors) {
  BOOST_CHECK_THROW(parse_list_objects_v2("<html><body>Bad gateway</body></html>"), mrsi::error);
  BOOST_CHECK_THROW(parse_list_objects_v2("<ListBucketResult><IsTruncated>false</IsTr"), mrsi::error);
  BOOST_CHECK_THROW(parse_list_objects_v2(""), mrsi::error);
  BOOST_CHECK_THROW(parse_list_objects_v2(
                        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>"),
                    mrsi::error);
  // Truncated without a token would silently stop the listing early.
  try {
    parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
    BOOST_FAIL("expected an error");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::source);
    BOOST_TEST(std::string(e.what()).find("NextContinuationToken") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(s3_error_body) {
  auto e = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>
  <AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>
  <StringToSign>AWS4-HMAC-SHA256...</StringToSign>
  <RequestId>4442587FB7D0A2F9</RequestId>
  <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>
</Error>)");
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST(e->code == "SignatureDoesNotMatch");
  BOOST_TEST(e->message.starts_with("The request signature we calculated"));
  BOOST_TEST(e->request_id == "4442587FB7D0A2F9");

  auto nb = parse_error("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
                        "<BucketName>nope</BucketName><RequestId>R1</RequestId></Error>");
  BOOST_REQUIRE(nb.has_value());
  BOOST_TEST(nb->resource == "nope");
}

BOOST_AUTO_TEST_CASE(non_error_bodies) {
  BOOST_TEST(!parse_error("").has_value());
  BOOST_TEST(!parse_error("<html>503</html>").has_value());
  BOOST_TEST(!parse_error("not xml at all").has_value());
}

BOOST_AUTO_TEST_CASE(sts_web_identity_success) {
  auto r = parse_assume_role_response(R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:models:kserve-sa</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/model-reader/mr-storage-initializer</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:mr-storage-initializer</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2024-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <SourceIdentity>SourceIdentityValue</SourceIdentity>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)");
  BOOST_TEST(r.creds.access_key_id == "ASgeIAIOSFODNN7EXAMPLE");
  BOOST_TEST(r.creds.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  BOOST_TEST(r.creds.session_token == "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
  BOOST_TEST(r.expiration == "2024-10-24T23:00:23Z");
}

BOOST_AUTO_TEST_CASE(sts_error_names_the_code) {
  try {
    parse_assume_role_response(R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>InvalidIdentityToken</Code>
    <Message>No OpenIDConnect provider found in your account for https://oidc.example</Message>
  </Error>
  <RequestId>c4a5c3d8-0000-4b43-9b4f-EXAMPLE</RequestId>
</ErrorResponse>)");
    BOOST_FAIL("expected an error");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::source);
    BOOST_TEST(std::string(e.what()).find("InvalidIdentityToken") != std::string::npos);
    BOOST_TEST(e.diag().request_id == "c4a5c3d8-0000-4b43-9b4f-EXAMPLE");
    BOOST_TEST(e.diag().server_message.starts_with("No OpenIDConnect provider"));
  }
  BOOST_CHECK_THROW(parse_assume_role_response("<AssumeRoleWithWebIdentityResponse/>"), mrsi::error);
  BOOST_CHECK_THROW(parse_assume_role_response("garbage"), mrsi::error);
}

BOOST_AUTO_TEST_CASE(md5_only_from_plain_etags) {
  BOOST_TEST(md5_from_etag("\"9e107d9d372bb6826bd81d3542a419d6\"") == "9e107d9d372bb6826bd81d3542a419d6");
  BOOST_TEST(md5_from_etag("9E107D9D372BB6826BD81D3542A419D6") == "9e107d9d372bb6826bd81d3542a419d6");
  BOOST_TEST(md5_from_etag("\"a3f5b0c1d2e3f4a5b6c7d8e9f0a1b2c3-12\"").empty());
  BOOST_TEST(md5_from_etag("W/\"9e107d9d372bb6826bd81d3542a419d6\"").empty());
  BOOST_TEST(md5_from_etag("\"9e107d9d372bb6826bd81d3542a419zz\"").empty());
  BOOST_TEST(md5_from_etag("").empty());
}

BOOST_AUTO_TEST_SUITE_END()
