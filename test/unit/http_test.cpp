// Pure parts of src/http: NO_PROXY matching, proxy URL parsing, and the case-insensitive header
// list helpers.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

#include "http/message.hpp"
#include "http/proxy.hpp"
#include "util/error.hpp"

using namespace mrsi;
using namespace mrsi::http;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)

namespace {

// ---------------------------------------------------------------------------------------------
// bypasses_proxy

struct bypass_case {
  std::string host;
  std::string no_proxy;
  bool bypass;
};
std::ostream& operator<<(std::ostream& os, const bypass_case& c) {
  return os << c.host << " vs \"" << c.no_proxy << '"';
}

const bypass_case bypass_cases[] = {
    // empty list, wildcard
    {"example.com", "", false},
    {"example.com", " ", false},
    {"example.com", ",,", false},
    {"example.com", "*", true},
    {"example.com", " * ", true},
    {"10.1.2.3", "*", true},
    {"[::1]", "*", true},
    {"example.com", "other.org,*", true},
    // exact
    {"example.com", "example.com", true},
    {"example.com", "example.org", false},
    {"example.com", "xample.com", false},
    {"example.com", "example.com.evil", false},
    {"localhost", "localhost", true},
    {"localhost", "localhost,127.0.0.1", true},
    {"127.0.0.1", "localhost,127.0.0.1", true},
    {"127.0.0.10", "127.0.0.1", false},
    {"10.1.2.3", "10.1.2.3", true},
    // case
    {"EXAMPLE.com", "example.COM", true},
    {"a.CORP", ".corp", true},
    {"a.corp", "CORP", true},
    // suffix, with and without leading dot
    {"a.corp", ".corp", true},
    {"a.corp", "corp", true},
    {"b.a.corp", ".corp", true},
    {"b.a.corp", "corp", true},
    {"b.a.corp", "a.corp", true},
    {"corp", ".corp", true},
    {"xcorp", "corp", false},
    {"xcorp", ".corp", false},
    {"a.xcorp", ".corp", false},
    {"a.xcorp", "corp", false},
    {"corp.com", "corp", false},
    {"corp.com", ".corp", false},
    {"s3.amazonaws.com", ".amazonaws.com", true},
    {"bucket.s3.us-east-1.amazonaws.com", "amazonaws.com", true},
    {"amazonaws.com.evil.org", ".amazonaws.com", false},
    {"a.corp", "*.corp", true},
    // lists with spaces
    {"b.com", "a.com, b.com", true},
    {"b.com", "a.com ,  b.com  ,c.com", true},
    {"d.com", "a.com, b.com, c.com", false},
    {"minio.svc.cluster.local", "localhost, .svc.cluster.local, 10.0.0.0", true},
    // ports in entries are ignored
    {"host", "host:8080", true},
    {"a.corp", ".corp:443", true},
    {"a.corp", "corp:443", true},
    {"other", "host:8080", false},
    {"10.1.2.3", "10.1.2.3:3128", true},
    // IPv6, with and without brackets on either side
    {"[::1]", "::1", true},
    {"[::1]", "[::1]", true},
    {"::1", "[::1]", true},
    {"::1", "::1", true},
    {"[::1]", "[::1]:8080", true},
    {"[2001:db8::1]", "2001:db8::1", true},
    {"[2001:DB8::1]", "2001:db8::1", true},
    {"[2001:db8::1]", "2001:db8::2", false},
    {"[2001:db8::1]", "[2001:db8::2]:443", false},
    {"[::1]", "localhost", false},
    // degenerate entries match nothing
    {"example.com", ".", false},
    {"example.com", ":8080", false},
    {"example.com", "[]", false},
    {"example.com", "[", false},
};

// ---------------------------------------------------------------------------------------------
// parse_proxy

struct proxy_case {
  std::string value;
  std::string host;
  std::string port;
  std::string basic_auth;
};
std::ostream& operator<<(std::ostream& os, const proxy_case& c) { return os << '"' << c.value << '"'; }

const proxy_case proxy_cases[] = {
    {"http://proxy.corp:3128", "proxy.corp", "3128", ""},
    {"http://proxy.corp:3128/", "proxy.corp", "3128", ""},
    {"http://proxy.corp", "proxy.corp", "80", ""},
    {"http://proxy.corp/", "proxy.corp", "80", ""},
    {"http://proxy.corp:", "proxy.corp", "80", ""},
    {"HTTP://proxy.corp:8080", "proxy.corp", "8080", ""},
    {"Http://proxy.corp:8080", "proxy.corp", "8080", ""},
    {"proxy.corp:3128", "proxy.corp", "3128", ""},
    {"proxy.corp", "proxy.corp", "80", ""},
    {"  http://proxy.corp:3128  ", "proxy.corp", "3128", ""},
    {"10.0.0.1:3128", "10.0.0.1", "3128", ""},
    {"http://10.0.0.1", "10.0.0.1", "80", ""},
    // userinfo
    {"http://alice:s3cret@proxy.corp:3128", "proxy.corp", "3128", "alice:s3cret"},
    {"http://alice:s3cret@proxy.corp", "proxy.corp", "80", "alice:s3cret"},
    {"http://alice@proxy.corp:3128", "proxy.corp", "3128", "alice"},
    {"http://alice:p@ss@proxy.corp:3128", "proxy.corp", "3128", "alice:p@ss"},
    {"alice:s3cret@proxy.corp:3128", "proxy.corp", "3128", "alice:s3cret"},
    // a URL carries userinfo percent-encoded; Basic auth needs the plain user and password
    {"http://alice:p%40ss%3Aword@proxy.corp:3128", "proxy.corp", "3128", "alice:p@ss:word"},
    // IPv6
    {"http://[::1]:3128", "::1", "3128", ""},
    {"http://[::1]", "::1", "80", ""},
    {"http://[::1]/", "::1", "80", ""},
    {"[2001:db8::1]:8080", "2001:db8::1", "8080", ""},
    {"http://u:p@[fd00::5]:3128", "fd00::5", "3128", "u:p"},
};

const std::string refused_proxies[] = {
    // unsupported schemes
    "https://proxy.corp:3128",
    "HTTPS://proxy.corp:3128",
    "socks5://proxy.corp:1080",
    "socks5h://proxy.corp:1080",
    "ftp://proxy.corp",
    // garbage
    "http://",
    "http:///",
    "http://:3128",
    "http://alice:pw@",
    "http://alice:pw@:3128",
    ":3128",
    "http://proxy.corp:abc",
    "http://proxy.corp:-1",
    "http://proxy.corp:3128x",
    "http://proxy.corp:99999",
    "http://proxy.corp:3128:99",
    "http://[::1",
    "http://[::1:3128",
    "http://[::1]x",
    "http://[::1]:abc",
    "http://[]:3128",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_proxy)

BOOST_DATA_TEST_CASE(bypasses_proxy_table, boost::unit_test::data::make(bypass_cases), c) {
  BOOST_TEST(bypasses_proxy(c.host, c.no_proxy) == c.bypass);
}

BOOST_DATA_TEST_CASE(parse_proxy_accepts, boost::unit_test::data::make(proxy_cases), c) {
  std::optional<proxy_endpoint> ep;
  BOOST_REQUIRE_NO_THROW(ep = parse_proxy(c.value));
  BOOST_REQUIRE(ep.has_value());
  BOOST_TEST(ep->host == c.host);
  BOOST_TEST(ep->port == c.port);
  BOOST_TEST(ep->basic_auth == c.basic_auth);
}

BOOST_AUTO_TEST_CASE(parse_proxy_empty_is_no_proxy) {
  BOOST_TEST(!parse_proxy("").has_value());
  BOOST_TEST(!parse_proxy("   ").has_value());
  BOOST_TEST(!parse_proxy("\t\n").has_value());
}

BOOST_DATA_TEST_CASE(parse_proxy_refuses, boost::unit_test::data::make(refused_proxies), value) {
  try {
    const auto ep = parse_proxy(value);
    BOOST_ERROR("accepted: host \"" << (ep ? ep->host : "") << "\" port \"" << (ep ? ep->port : "") << "\"");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    BOOST_TEST(std::string(e.what()).starts_with("proxy "), e.what());
  }
}

BOOST_AUTO_TEST_CASE(https_proxy_refusal_says_why) {
  try {
    parse_proxy("https://proxy.corp:3128");
    BOOST_FAIL("https proxy accepted");
  } catch (const mrsi::error& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("https://proxy.corp:3128") != std::string::npos, msg);
    BOOST_TEST(msg.find("only http://") != std::string::npos, msg);
  }
}

// The proxy password must not reach the error message, whatever form the value has.
BOOST_AUTO_TEST_CASE(parse_proxy_errors_never_show_the_password) {
  const std::string values[] = {
      "https://alice:s3cret@proxy.corp:3128", "http://alice:s3cret@proxy.corp:abc",
      "http://alice:s3cret@[::1", "alice:s3cret@proxy.corp:abc", "alice:s3cret@:3128",
  };
  for (const auto& v : values) {
    try {
      parse_proxy(v);
      BOOST_ERROR(v << " accepted");
    } catch (const mrsi::error& e) {
      const std::string msg = e.what();
      BOOST_TEST(msg.find("s3cret") == std::string::npos, v << " -> " << msg);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// header_list helpers

namespace {

struct find_case {
  std::string name;
  std::optional<std::string> value;
};
std::ostream& operator<<(std::ostream& os, const find_case& c) { return os << c.name; }

const header_list sample = {
    {"Content-Type", "application/json"},
    {"ETag", "\"abc\""},
    {"x-amz-request-id", "R1"},
    {"Set-Cookie", "a=1"},
    {"set-cookie", "b=2"},
    {"X-Empty", ""},
};

const find_case find_cases[] = {
    {"Content-Type", "application/json"},
    {"content-type", "application/json"},
    {"CONTENT-TYPE", "application/json"},
    {"etag", "\"abc\""},
    {"Etag", "\"abc\""},
    {"X-Amz-Request-Id", "R1"},
    {"SET-COOKIE", "a=1"},  // the first match wins
    {"x-empty", ""},        // present but empty is not absent
    {"Content", std::nullopt},
    {"Content-Type2", std::nullopt},
    {"Content-Typ", std::nullopt},
    {"ETag ", std::nullopt},
    {"Last-Modified", std::nullopt},
    {"", std::nullopt},
};

std::string show(const std::optional<std::string_view>& v) { return v ? "\"" + std::string(*v) + "\"" : "nullopt"; }
std::string show(const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : "nullopt"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(http_message)

BOOST_DATA_TEST_CASE(find_header_table, boost::unit_test::data::make(find_cases), c) {
  BOOST_TEST(show(find_header(sample, c.name)) == show(c.value));
  response r;
  r.headers = sample;
  BOOST_TEST(show(r.header(c.name)) == show(c.value));
}

BOOST_AUTO_TEST_CASE(find_header_in_empty_list) {
  BOOST_TEST(!find_header({}, "Host").has_value());
  BOOST_TEST(!response{}.header("Host").has_value());
}

BOOST_AUTO_TEST_CASE(set_header_replaces_every_spelling) {
  header_list h = {{"Range", "bytes=0-1"}, {"Host", "h"}, {"range", "bytes=2-3"}, {"RANGE", "bytes=4-5"}};
  set_header(h, "Range", "bytes=10-19");
  BOOST_REQUIRE_EQUAL(h.size(), 2u);
  BOOST_TEST(h[0].first == "Host");
  BOOST_TEST(h[0].second == "h");
  BOOST_TEST(h[1].first == "Range");
  BOOST_TEST(h[1].second == "bytes=10-19");
  BOOST_TEST(show(find_header(h, "RANGE")) == "\"bytes=10-19\"");
}

BOOST_AUTO_TEST_CASE(set_header_adds_when_absent_with_the_given_spelling) {
  header_list h = {{"Host", "h"}};
  set_header(h, "x-amz-date", "20240101T000000Z");
  BOOST_REQUIRE_EQUAL(h.size(), 2u);
  BOOST_TEST(h[1].first == "x-amz-date");
  BOOST_TEST(show(find_header(h, "X-Amz-Date")) == "\"20240101T000000Z\"");
  // Setting again with another spelling keeps one header, spelled the new way.
  set_header(h, "X-Amz-Date", "20250101T000000Z");
  BOOST_REQUIRE_EQUAL(h.size(), 2u);
  BOOST_TEST(h[1].first == "X-Amz-Date");
  BOOST_TEST(h[1].second == "20250101T000000Z");
  // Empty values are values.
  set_header(h, "X-Empty", "");
  BOOST_TEST(show(find_header(h, "x-empty")) == "\"\"");
}

BOOST_AUTO_TEST_CASE(remove_header_removes_every_spelling_and_nothing_else) {
  header_list h = {{"Authorization", "a"}, {"Host", "h"}, {"authorization", "b"},
                   {"Authorization-Extra", "c"}, {"AUTHORIZATION", "d"}};
  remove_header(h, "AuthoriZation");
  BOOST_REQUIRE_EQUAL(h.size(), 2u);
  BOOST_TEST(h[0].first == "Host");
  BOOST_TEST(h[1].first == "Authorization-Extra");
  BOOST_TEST(!find_header(h, "authorization").has_value());
  // Removing something absent is harmless.
  remove_header(h, "Cookie");
  BOOST_TEST(h.size() == 2u);
  header_list empty;
  remove_header(empty, "Host");
  BOOST_TEST(empty.empty());
}

BOOST_AUTO_TEST_SUITE_END()
