// Pure helpers of src/util: URL and header redaction, retry backoff and Retry-After, byte sizes,
// and the error type's one-line description and exit codes.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>

#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/retry.hpp"
#include "util/size.hpp"

using namespace mrsi;
using namespace std::chrono_literals;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)

namespace {

std::string show(const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : "nullopt"; }
std::string show(const std::optional<std::chrono::seconds>& v) {
  return v ? std::to_string(v->count()) + "s" : "nullopt";
}

// ---------------------------------------------------------------------------------------------
// redact_url

struct redact_case {
  std::string name;
  std::string url;
  std::string expected;
};
std::ostream& operator<<(std::ostream& os, const redact_case& c) { return os << c.name; }

const redact_case redact_cases[] = {
    // userinfo
    {"password dropped", "https://alice:s3cret@host.example/p/f.bin", "https://alice:REDACTED@host.example/p/f.bin"},
    {"user only kept", "https://alice@host.example/p", "https://alice@host.example/p"},
    {"empty user", "https://:s3cret@host.example/p", "https://:REDACTED@host.example/p"},
    {"@ in password", "http://alice:p@ss@proxy:3128/", "http://alice:REDACTED@proxy:3128/"},
    {"colon in password", "http://alice:a:b@proxy:3128", "http://alice:REDACTED@proxy:3128"},
    {"schemeless @ in password", "alice:p@ss@proxy:3128", "alice:REDACTED@proxy:3128"},
    {"schemeless, URL in query", "u:pw@proxy:3128/?next=http://x", "u:REDACTED@proxy:3128/?next=http://x"},
    {"schemeless token, URL in query", "h/p?token=abc&u=http://x", "h/p?token=REDACTED&u=http://x"},
    {"@ in path is not userinfo", "http://h:1/a@b", "http://h:1/a@b"},
    {"userinfo and port, no path", "http://u:pw@h:8080", "http://u:REDACTED@h:8080"},
    {"@ in path is not userinfo", "https://h/a:b@c", "https://h/a:b@c"},
    {"@ in query is not userinfo", "https://h/p?email=a:b@c", "https://h/p?email=a:b@c"},
    {"upper-case scheme", "HTTPS://u:pw@H/p", "HTTPS://u:REDACTED@H/p"},
    // AWS SigV4 presigned URLs
    {"sigv4 presigned",
     "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1"
     "%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
     "&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE&X-Amz-Signature=deadbeef",
     "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED"
     "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
     "&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED"},
    {"sigv4 lower-case names", "https://h/k?x-amz-signature=abc&x-amz-credential=def&x-amz-security-token=ghi",
     "https://h/k?x-amz-signature=REDACTED&x-amz-credential=REDACTED&x-amz-security-token=REDACTED"},
    {"sigv4 mixed-case names", "https://h/k?X-AMZ-SIGNATURE=abc&x-Amz-Credential=def",
     "https://h/k?X-AMZ-SIGNATURE=REDACTED&x-Amz-Credential=REDACTED"},
    {"sigv2 query auth", "https://h/k?AWSAccessKeyId=AKIA&Expires=1&Signature=abc%2B",
     "https://h/k?AWSAccessKeyId=REDACTED&Expires=1&Signature=REDACTED"},
    {"gcs v4 signed", "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p"
     "&X-Goog-Signature=0a1b",
     "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=REDACTED"
     "&X-Goog-Signature=REDACTED"},
    // Azure SAS: only sig is the secret; the other fields say what the token allows
    {"azure sas",
     "https://acct.blob.core.windows.net/c/model.bin?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z"
     "&spr=https&sig=abc%2Fdef%3D",
     "https://acct.blob.core.windows.net/c/model.bin?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z"
     "&spr=https&sig=REDACTED"},
    {"azure sas sig first", "https://a.blob.core.windows.net/c/b?sig=xyz&sv=2022-11-02",
     "https://a.blob.core.windows.net/c/b?sig=REDACTED&sv=2022-11-02"},
    {"SIG upper-case", "https://h/b?SIG=xyz", "https://h/b?SIG=REDACTED"},
    // bearer-ish parameters
    {"token", "https://h/f?token=abc", "https://h/f?token=REDACTED"},
    {"Token mixed case", "https://h/f?a=1&Token=abc&b=2", "https://h/f?a=1&Token=REDACTED&b=2"},
    {"access_token", "https://h/f?access_token=abc", "https://h/f?access_token=REDACTED"},
    {"api_key and key", "https://h/f?api_key=a&key=b", "https://h/f?api_key=REDACTED&key=REDACTED"},
    {"password and secret", "https://h/f?password=a&client_secret=b", "https://h/f?password=REDACTED&client_secret=REDACTED"},
    {"value containing =", "https://h/f?sig=a==&x=1", "https://h/f?sig=REDACTED&x=1"},
    {"empty secret value", "https://h/f?sig=", "https://h/f?sig=REDACTED"},
    {"repeated secret", "https://h/f?token=a&token=b", "https://h/f?token=REDACTED&token=REDACTED"},
    // names that merely contain a secret name are not secrets
    {"substring names kept", "https://h/f?mytoken=1&signature_version=2&monkey=3&tokens=4",
     "https://h/f?mytoken=1&signature_version=2&monkey=3&tokens=4"},
    {"secret name without value", "https://h/f?sig&token", "https://h/f?sig&token"},
    {"empty parameters", "https://h/f?&&sig=x&", "https://h/f?&&sig=REDACTED&"},
    // query without a path, fragments
    {"query right after host", "https://h?sig=abc", "https://h?sig=REDACTED"},
    {"fragment kept", "https://h/f?sig=abc#part", "https://h/f?sig=REDACTED#part"},
    {"fragment without query", "https://h/f#x", "https://h/f#x"},
    {"userinfo, query and fragment", "https://u:pw@h:443/f?X-Amz-Signature=s&v=1#frag",
     "https://u:REDACTED@h:443/f?X-Amz-Signature=REDACTED&v=1#frag"},
    // nothing to redact
    {"plain url", "https://huggingface.co/org/model/resolve/main/config.json",
     "https://huggingface.co/org/model/resolve/main/config.json"},
    {"harmless query", "https://h/f?versionId=3&partNumber=2", "https://h/f?versionId=3&partNumber=2"},
    {"s3 uri", "s3://bucket/prefix/key", "s3://bucket/prefix/key"},
    {"model-registry uri", "model-registry://my-model/1.0", "model-registry://my-model/1.0"},
    {"empty", "", ""},
    // malformed input: never crashes, secrets in a query still go
    {"not a url", "not a url at all", "not a url at all"},
    {"only a scheme separator", "://", "://"},
    {"scheme only", "https://", "https://"},
    {"bare at", "https://@", "https://@"},
    {"relative with query", "/path/f?X-Amz-Signature=abc", "/path/f?X-Amz-Signature=REDACTED"},
    {"only a query", "?token=abc", "?token=REDACTED"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(util_redact)

BOOST_DATA_TEST_CASE(redact_url_table, boost::unit_test::data::make(redact_cases), c) {
  BOOST_TEST(redact_url(c.url) == c.expected);
}

BOOST_DATA_TEST_CASE(redact_url_is_idempotent, boost::unit_test::data::make(redact_cases), c) {
  BOOST_TEST(redact_url(c.expected) == c.expected);
}

// Unparsable text keeps what precedes its query; whatever happens to the query, no secret survives.
BOOST_AUTO_TEST_CASE(redact_url_malformed_never_leaks) {
  const std::string inputs[] = {"https://h/%zz?%%=1&sig=s3cret", "https://[::1/p?token=s3cret",
                                "ht tp://h/p?X-Amz-Signature=s3cret", "https://h:notaport/p?sig=s3cret#f"};
  for (const auto& in : inputs) {
    const std::string out = redact_url(in);
    BOOST_TEST(out.find("s3cret") == std::string::npos, in << " -> " << out);
    BOOST_TEST(out.starts_with(in.substr(0, in.find('?'))), in << " -> " << out);
  }
}

// A proxy value may be written without a scheme ("user:pass@proxy:3128", accepted by parse_proxy);
// its password must not reach a message either.
BOOST_AUTO_TEST_CASE(redact_url_schemeless_userinfo_drops_password) {
  const std::string out = redact_url("alice:s3cret@proxy.corp:3128");
  BOOST_TEST(out.find("s3cret") == std::string::npos, "leaked: " << out);
  BOOST_TEST(out.find("proxy.corp:3128") != std::string::npos, "lost the host: " << out);
}

struct header_case {
  std::string name;
  bool secret;
};
std::ostream& operator<<(std::ostream& os, const header_case& c) { return os << c.name; }

const header_case header_cases[] = {
    {"Authorization", true},
    {"authorization", true},
    {"AUTHORIZATION", true},
    {"Proxy-Authorization", true},
    {"proxy-authorization", true},
    {"Cookie", true},
    {"Set-Cookie", true},
    {"X-Amz-Security-Token", true},
    {"x-amz-security-token", true},
    {"X-Api-Key", true},
    {"api-key", true},
    {"x-goog-api-key", true},
    {"X-Auth-Token", true},
    {"x-ms-encryption-key", true},
    {"X-MS-Encryption-Key", true},
    // customer-provided encryption keys of S3 (SSE-C) and GCS (CSEK), the like of x-ms-encryption-key
    {"x-amz-server-side-encryption-customer-key", true},
    {"X-Amz-Server-Side-Encryption-Customer-Key", true},
    {"x-goog-encryption-key", true},
    {"Content-Type", false},
    {"Content-Length", false},
    {"Range", false},
    {"Host", false},
    {"User-Agent", false},
    {"Keep-Alive", false},
    {"ETag", false},
    {"x-amz-date", false},
    {"x-amz-content-sha256", false},
    {"x-amz-request-id", false},
    {"x-ms-version", false},
    {"x-ms-date", false},
    {"x-ms-blob-type", false},
    {"Authorization-Hint", false},
    {"", false},
};

BOOST_DATA_TEST_CASE(is_secret_header_table, boost::unit_test::data::make(header_cases), c) {
  BOOST_TEST(is_secret_header(c.name) == c.secret);
}

BOOST_DATA_TEST_CASE(redact_header_table, boost::unit_test::data::make(header_cases), c) {
  const std::string value = "Bearer eyJhbGciOi.secret-value";
  const std::string line = redact_header(c.name, value);
  if (c.secret) {
    BOOST_TEST(line == c.name + ": REDACTED");
    BOOST_TEST(line.find("secret-value") == std::string::npos);
  } else {
    BOOST_TEST(line == c.name + ": " + value);
  }
}

BOOST_AUTO_TEST_CASE(redact_header_keeps_name_spelling_and_empty_values) {
  BOOST_TEST(redact_header("AuThOrIzAtIoN", "AWS4-HMAC-SHA256 Credential=x") == "AuThOrIzAtIoN: REDACTED");
  BOOST_TEST(redact_header("Range", "bytes=0-99") == "Range: bytes=0-99");
  BOOST_TEST(redact_header("X-Empty", "") == "X-Empty: ");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// retry

namespace {

struct backoff_case {
  int retry;
  long long step_ms;  // min(max_delay, base_delay * 2^(retry-1)) for the default policy
};
std::ostream& operator<<(std::ostream& os, const backoff_case& c) { return os << "retry " << c.retry; }

const backoff_case backoff_cases[] = {
    {1, 200},    {2, 400},    {3, 800},    {4, 1600},   {5, 3200},   {6, 6400},   {7, 12800},
    {8, 20000},  {9, 20000},  {10, 20000}, {31, 20000}, {32, 20000}, {64, 20000}, {1000, 20000},
    {std::numeric_limits<int>::max(), 20000},
    // below 1 counts as the first retry
    {0, 200},    {-1, 200},   {std::numeric_limits<int>::min(), 200},
};

const double jitters[] = {0.0, 0.001, 0.25, 0.5, 0.75, 0.999, 0.999999};

}  // namespace

BOOST_AUTO_TEST_SUITE(util_retry)

BOOST_DATA_TEST_CASE(backoff_stays_within_half_step_and_step, boost::unit_test::data::make(backoff_cases), c) {
  const retry_policy p;  // 200 ms base, 20 s cap
  for (double r : jitters) {
    const auto d = backoff_delay(p, c.retry, r).count();
    BOOST_TEST(d >= c.step_ms / 2, "retry " << c.retry << " r " << r << " -> " << d);
    BOOST_TEST(d <= c.step_ms, "retry " << c.retry << " r " << r << " -> " << d);
    BOOST_TEST(d <= p.max_delay.count());
  }
  // The ends of the jitter interval.
  BOOST_TEST(backoff_delay(p, c.retry, 0.0).count() == c.step_ms / 2);
  BOOST_TEST(backoff_delay(p, c.retry, 0.5).count() == c.step_ms * 3 / 4);
}

BOOST_AUTO_TEST_CASE(backoff_grows_until_the_cap) {
  const retry_policy p;
  for (double r : jitters) {
    long long prev = 0;
    for (int retry = 1; retry <= 40; ++retry) {
      const long long d = backoff_delay(p, retry, r).count();
      BOOST_TEST(d >= prev, "retry " << retry << " r " << r << ": " << d << " < " << prev);
      prev = d;
    }
  }
  // Doubling while below the cap.
  for (int retry = 1; retry < 7; ++retry)
    BOOST_TEST(backoff_delay(p, retry + 1, 0.0).count() == 2 * backoff_delay(p, retry, 0.0).count());
}

BOOST_AUTO_TEST_CASE(backoff_jitter_spreads_the_delay) {
  const retry_policy p;
  BOOST_TEST(backoff_delay(p, 3, 0.0).count() < backoff_delay(p, 3, 0.9).count());
  BOOST_TEST(backoff_delay(p, 8, 0.0).count() < backoff_delay(p, 8, 0.9).count());
}

BOOST_AUTO_TEST_CASE(backoff_clamps_out_of_range_random) {
  const retry_policy p;
  BOOST_TEST(backoff_delay(p, 2, -5.0).count() == 200);
  BOOST_TEST(backoff_delay(p, 2, 1.0).count() <= 400);
  BOOST_TEST(backoff_delay(p, 2, 7.0).count() <= 400);
  BOOST_TEST(backoff_delay(p, 2, 7.0).count() >= 200);
}

BOOST_AUTO_TEST_CASE(backoff_custom_policies) {
  retry_policy p;
  p.base_delay = 1000ms;
  p.max_delay = 3000ms;
  const long long steps[] = {1000, 2000, 3000, 3000, 3000};
  for (int retry = 1; retry <= 5; ++retry) {
    BOOST_TEST(backoff_delay(p, retry, 0.0).count() == steps[retry - 1] / 2);
    BOOST_TEST(backoff_delay(p, retry, 0.999).count() <= steps[retry - 1]);
  }
  // A cap below the base wins.
  p.base_delay = 5000ms;
  p.max_delay = 1000ms;
  BOOST_TEST(backoff_delay(p, 1, 0.999).count() <= 1000);
  BOOST_TEST(backoff_delay(p, 1, 0.0).count() == 500);
  // No delay configured, no delay.
  p.base_delay = 0ms;
  p.max_delay = 0ms;
  BOOST_TEST(backoff_delay(p, 4, 0.7).count() == 0);
}

struct retry_after_case {
  std::string value;
  std::int64_t now;
  std::optional<std::chrono::seconds> expected;
};
std::ostream& operator<<(std::ostream& os, const retry_after_case& c) { return os << '"' << c.value << '"'; }

constexpr std::int64_t rfc_example = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

const retry_after_case retry_after_cases[] = {
    // delta-seconds
    {"0", 0, 0s},
    {"1", 0, 1s},
    {"120", 0, 120s},
    {"120", 1700000000, 120s},  // "now" does not matter for deltas
    {"007", 0, 7s},
    {"86400", 0, 86400s},
    {" 30 ", 0, 30s},
    {"  5", 0, 5s},
    {"9223372036854775807", 0, std::chrono::seconds(9223372036854775807LL)},
    {"99999999999999999999999", 0, std::nullopt},  // does not fit
    {"-5", 0, std::nullopt},
    {"+5", 0, std::nullopt},
    {"1.5", 0, std::nullopt},
    {"5s", 0, std::nullopt},
    {"5 6", 0, std::nullopt},
    {"0x10", 0, std::nullopt},
    // IMF-fixdate
    {"Sun, 06 Nov 1994 08:49:37 GMT", rfc_example, 0s},
    {"Sun, 06 Nov 1994 08:49:37 GMT", rfc_example - 1, 1s},
    {"Sun, 06 Nov 1994 08:49:37 GMT", rfc_example - 3600, 3600s},
    {"Sun, 06 Nov 1994 08:49:37 GMT", rfc_example + 10, 0s},  // in the past: clamp to zero
    {"Sun, 06 Nov 1994 08:49:37 GMT", 1700000000, 0s},
    {" Sun, 06 Nov 1994 08:49:37 GMT ", rfc_example - 2, 2s},
    {"Wed, 01 Jan 2031 00:00:00 GMT", 1924992000 - 90, 90s},
    {"Thu, 29 Feb 2024 23:59:59 GMT", 1709251199 - 59, 59s},  // leap day
    {"Thu, 29 Feb 2024 23:59:59 GMT", 0, 1709251199s},
    // garbage
    {"", 0, std::nullopt},
    {"   ", 0, std::nullopt},
    {"soon", 0, std::nullopt},
    {"Sun, 06 Nov 1994 08:49:37", rfc_example, std::nullopt},           // no zone
    {"Sun, 06 Nov 1994 08:49:37 UTC", rfc_example, std::nullopt},       // not GMT
    {"Sun, 06 Nov 1994 08:49:37 GMT junk", rfc_example, std::nullopt},  // trailing text
    {"Sun, 06 Nov 1994", rfc_example, std::nullopt},
    {"Sun, 32 Nov 1994 08:49:37 GMT", rfc_example, std::nullopt},  // no such day
    {"Sun, 06 Foo 1994 08:49:37 GMT", rfc_example, std::nullopt},  // no such month
    {"Sun, 06 Nov 1994 25:49:37 GMT", rfc_example, std::nullopt},  // no such hour
    {"1994-11-06T08:49:37Z", rfc_example, std::nullopt},           // ISO 8601 is not an HTTP-date
};

BOOST_DATA_TEST_CASE(parse_retry_after_table, boost::unit_test::data::make(retry_after_cases), c) {
  const auto got = parse_retry_after(c.value, c.now);
  BOOST_TEST(show(got) == show(c.expected));
}

BOOST_AUTO_TEST_CASE(retryable_statuses_are_exactly_the_transient_ones) {
  for (unsigned s = 0; s < 1000; ++s) {
    const bool expected = s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
    BOOST_TEST(is_retryable_status(s) == expected, "status " << s);
  }
  // Client errors that a retry cannot fix.
  for (unsigned s : {400u, 401u, 403u, 404u, 405u, 409u, 410u, 412u, 416u, 501u, 505u})
    BOOST_TEST(!is_retryable_status(s), "status " << s);
  BOOST_TEST(!is_retryable_status(std::numeric_limits<unsigned>::max()));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// size

namespace {

constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024;

struct size_case {
  std::string text;
  std::optional<std::uint64_t> expected;
};
std::ostream& operator<<(std::ostream& os, const size_case& c) { return os << '"' << c.text << '"'; }

const size_case size_cases[] = {
    // plain integers
    {"0", 0},
    {"1", 1},
    {"262144", 262144},
    {"8388608", 8 * MiB},
    {"00016", 16},
    {" 16 ", 16},
    {"\t4096\n", 4096},
    {"1099511627776", TiB},
    // suffixes, every spelling and case
    {"16M", 16 * MiB},
    {"16m", 16 * MiB},
    {"16MiB", 16 * MiB},
    {"16mib", 16 * MiB},
    {"16MIB", 16 * MiB},
    {"16MB", 16 * MiB},
    {"8mb", 8 * MiB},
    {"8Mb", 8 * MiB},
    {"1K", KiB},
    {"1k", KiB},
    {"1KB", KiB},
    {"1KiB", KiB},
    {"64kib", 64 * KiB},
    {"2G", 2 * GiB},
    {"2gb", 2 * GiB},
    {"2GiB", 2 * GiB},
    {"3T", 3 * TiB},
    {"3tib", 3 * TiB},
    {"3TB", 3 * TiB},
    {"512B", 512},
    {"512b", 512},
    {" 16M ", 16 * MiB},
    {"0M", 0},
    // decimals
    {"1.5GiB", GiB + GiB / 2},
    {"1.5G", GiB + GiB / 2},
    {"1.5g", GiB + GiB / 2},
    {"0.5M", MiB / 2},
    {".5K", 512},
    {"1.25K", 1280},
    {"2.0M", 2 * MiB},
    {"1.", 1},
    {"0.75T", 3 * TiB / 4},
    // large but in range
    {"8388607T", 8388607 * TiB},  // 2^63 - 2^40
    {"8388608T", 8388608 * TiB},  // 2^63
    {"16777215T", 16777215 * TiB},
    {"17179869183G", 17179869183ULL * GiB},
    {"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
    {"9007199254740993", 9007199254740993ULL},  // 2^53 + 1: not representable as a double
    // overflow
    {"16777216T", std::nullopt},  // 2^64
    {"18446744073709551616", std::nullopt},
    {"99999999999999999999", std::nullopt},
    {"17179869184G", std::nullopt},
    {"1000000000000000T", std::nullopt},
    // bad input
    {"", std::nullopt},
    {"   ", std::nullopt},
    {"M", std::nullopt},
    {"MiB", std::nullopt},
    {".", std::nullopt},
    {".M", std::nullopt},
    {"abc", std::nullopt},
    {"-1", std::nullopt},
    {"-16M", std::nullopt},
    {"+16M", std::nullopt},
    {"16X", std::nullopt},
    {"16P", std::nullopt},  // no peta
    {"16E", std::nullopt},
    {"16MM", std::nullopt},
    {"16Mi", std::nullopt},
    {"16MiBs", std::nullopt},
    {"16iB", std::nullopt},
    {"16bytes", std::nullopt},
    {"1.2.3", std::nullopt},
    {"1..5", std::nullopt},
    {"1e3", std::nullopt},
    {"0x10", std::nullopt},
    {"1,5G", std::nullopt},
    {"inf", std::nullopt},
    {"nan", std::nullopt},
    {"16M junk", std::nullopt},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(util_size)

BOOST_DATA_TEST_CASE(parse_size_table, boost::unit_test::data::make(size_cases), c) {
  BOOST_TEST(show(parse_size(c.text)) == show(c.expected));
}

// Garbage from an environment variable must be refused, not thrown at the caller.
BOOST_AUTO_TEST_CASE(parse_size_too_many_digits_is_nullopt) {
  for (std::size_t digits : {21u, 40u, 308u, 309u, 400u, 5000u}) {
    const std::string text(digits, '9');
    std::optional<std::uint64_t> got;
    BOOST_CHECK_NO_THROW(got = parse_size(text));
    BOOST_TEST(!got.has_value(), digits << " digits");
    BOOST_CHECK_NO_THROW(got = parse_size("1" + std::string(digits, '0') + "K"));
    BOOST_TEST(!got.has_value(), digits << " zeros + K");
  }
}

struct format_case {
  std::uint64_t bytes;
  std::string expected;
};
std::ostream& operator<<(std::ostream& os, const format_case& c) { return os << c.bytes; }

const format_case format_cases[] = {
    {0, "0 B"},
    {1, "1 B"},
    {812, "812 B"},
    {1023, "1023 B"},
    {1024, "1.00 KiB"},
    {1536, "1.50 KiB"},
    {10 * KiB, "10.00 KiB"},
    {MiB, "1.00 MiB"},
    {16 * MiB, "16.00 MiB"},
    {GiB + GiB / 2, "1.50 GiB"},
    {GiB + GiB / 4, "1.25 GiB"},
    {1000 * GiB, "1000.00 GiB"},
    {TiB, "1.00 TiB"},
    {1024 * TiB, "1024.00 TiB"},  // no unit above TiB
    {std::numeric_limits<std::uint64_t>::max(), "16777216.00 TiB"},
};

BOOST_DATA_TEST_CASE(format_bytes_table, boost::unit_test::data::make(format_cases), c) {
  BOOST_TEST(format_bytes(c.bytes) == c.expected);
}

BOOST_AUTO_TEST_CASE(format_then_parse_round_trips_whole_units) {
  const std::uint64_t values[] = {0, 1, 812, 1023, KiB, 3 * KiB, MiB, 16 * MiB, GiB, 7 * GiB, TiB};
  for (std::uint64_t v : values) {
    std::string text = format_bytes(v);
    std::erase(text, ' ');
    BOOST_TEST(show(parse_size(text)) == show(v), text);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// error

namespace {

struct exit_case {
  errc kind;
  int code;
  std::string name;
};
std::ostream& operator<<(std::ostream& os, const exit_case& c) { return os << c.name; }

const exit_case exit_cases[] = {
    {errc::usage, 2, "usage"},         {errc::source, 3, "source"},         {errc::network, 4, "network"},
    {errc::local_io, 5, "local-io"},   {errc::integrity, 6, "integrity"},   {errc::internal, 1, "internal"},
};

struct describe_case {
  std::string name;
  std::string message;
  diagnostics diag;
  std::string expected;
};
std::ostream& operator<<(std::ostream& os, const describe_case& c) { return os << c.name; }

diagnostics make_diag(std::optional<unsigned> status, std::string url, std::string code, std::string message,
                      std::string request_id) {
  diagnostics d;
  d.http_status = status;
  d.url = std::move(url);
  d.server_code = std::move(code);
  d.server_message = std::move(message);
  d.request_id = std::move(request_id);
  return d;
}

const describe_case describe_cases[] = {
    {"message only", "disk full", {}, "disk full"},
    {"status only", "not found", make_diag(404, "", "", "", ""), "not found (HTTP 404)"},
    {"url only", "connection reset", make_diag(std::nullopt, "https://h/p", "", "", ""),
     "connection reset (url https://h/p)"},
    {"url already in the message", "GET https://h/p failed", make_diag(500, "https://h/p", "", "", ""),
     "GET https://h/p failed (HTTP 500)"},
    {"server code and message", "cannot list", make_diag(std::nullopt, "", "AccessDenied", "Access Denied", ""),
     "cannot list (server said: AccessDenied: Access Denied)"},
    {"server code only", "x", make_diag(std::nullopt, "", "NoSuchBucket", "", ""), "x (server said: NoSuchBucket)"},
    {"server message only", "x", make_diag(std::nullopt, "", "", "model not found", ""),
     "x (server said: model not found)"},
    {"request id only", "x", make_diag(std::nullopt, "", "", "", "REQ1"), "x (request id REQ1)"},
    {"everything, in order", "download failed",
     make_diag(404, "https://b.s3.amazonaws.com/k?X-Amz-Signature=REDACTED", "NoSuchKey",
               "The specified key does not exist.", "4442587FB7D0A2F9"),
     "download failed (HTTP 404, url https://b.s3.amazonaws.com/k?X-Amz-Signature=REDACTED, server said: "
     "NoSuchKey: The specified key does not exist., request id 4442587FB7D0A2F9)"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(util_error)

BOOST_DATA_TEST_CASE(exit_codes_and_names, boost::unit_test::data::make(exit_cases), c) {
  BOOST_TEST(exit_code(c.kind) == c.code);
  BOOST_TEST(std::string(to_string(c.kind)) == c.name);
  BOOST_TEST(exit_code(c.kind) != 0);
}

BOOST_AUTO_TEST_CASE(exit_codes_are_distinct) {
  for (const auto& a : exit_cases)
    for (const auto& b : exit_cases)
      if (a.name != b.name) BOOST_TEST(exit_code(a.kind) != exit_code(b.kind), a.name << " vs " << b.name);
}

BOOST_DATA_TEST_CASE(describe_table, boost::unit_test::data::make(describe_cases), c) {
  const error e(errc::source, c.message, c.diag);
  BOOST_TEST(describe(e) == c.expected);
}

BOOST_AUTO_TEST_CASE(error_carries_kind_diag_and_retryability) {
  diagnostics d;
  d.http_status = 503;
  d.url = "https://h/p";
  d.range_begin = 0;
  d.range_end = 99;
  d.retry_after_s = 7;
  const error e(errc::network, "HTTP 503", d, true);
  BOOST_TEST(e.kind() == errc::network);
  BOOST_TEST(std::string(e.what()) == "HTTP 503");
  BOOST_TEST(e.is_retryable());
  BOOST_TEST(*e.diag().http_status == 503u);
  BOOST_TEST(*e.diag().range_end == 99u);
  BOOST_TEST(*e.diag().retry_after_s == 7u);

  const error plain(errc::usage, "bad flag");
  BOOST_TEST(!plain.is_retryable());
  BOOST_TEST(!plain.diag().http_status.has_value());
  BOOST_TEST(describe(plain) == "bad flag");
  // Caught as a std::exception by outer layers.
  try {
    throw plain;
  } catch (const std::runtime_error& ex) {
    BOOST_TEST(std::string(ex.what()) == "bad flag");
  }
}

BOOST_AUTO_TEST_SUITE_END()
