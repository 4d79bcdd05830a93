// The http(s) provider's pure parts (file name from the URL, "<host>-headers" from the environment)
// and the scheme dispatch of the provider factory.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

#include "storage/http_provider.hpp"
#include "storage/provider_factory.hpp"
#include "util/error.hpp"

using namespace mrsi;
using namespace mrsi::storage;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)

namespace {

// ---------------------------------------------------------------------------------------------
// url_file_name

struct name_case {
  std::string url;
  std::string name;
};
std::ostream& operator<<(std::ostream& os, const name_case& c) { return os << c.url; }

const name_case name_cases[] = {
    {"https://example.com/model.bin", "model.bin"},
    {"https://example.com/dir/sub/model.safetensors", "model.safetensors"},
    {"http://example.com:8080/a/b/c.tar.gz", "c.tar.gz"},
    {"https://example.com/noext", "noext"},
    {"HTTPS://EXAMPLE.COM/Dir/Model.BIN", "Model.BIN"},
    {"https://alice:pw@example.com/f.bin", "f.bin"},
    {"https://[::1]:8443/models/f.onnx", "f.onnx"},
    // the query and the fragment are not part of the name
    {"https://b.s3.amazonaws.com/k/model.bin?X-Amz-Signature=abc&X-Amz-Date=1", "model.bin"},
    {"https://acct.blob.core.windows.net/c/model.bin?sv=2022&sig=abc%2F", "model.bin"},
    {"https://example.com/f.bin#part", "f.bin"},
    {"https://example.com/f.bin?a=/x/y.bin", "f.bin"},
    // percent-decoding
    {"https://example.com/dir/file%20name.txt", "file name.txt"},
    {"https://example.com/caf%C3%A9.bin", "caf\xc3\xa9.bin"},
    {"https://example.com/a%2Bb.bin", "a+b.bin"},
    {"https://example.com/a+b.bin", "a+b.bin"},  // '+' is not a space in a path
    {"https://example.com/100%25.txt", "100%.txt"},
    {"https://example.com/%2E%2E%2E", "..."},
    {"https://example.com/..a", "..a"},
    {"https://example.com/a%5Cb", "a\\b"},
    {"https://example.com/%2Fok/last", "last"},  // an encoded slash earlier in the path is harmless
};

struct refused_case {
  std::string url;
  std::string why;  // part of the message
};
std::ostream& operator<<(std::ostream& os, const refused_case& c) { return os << c.url; }

const refused_case refused_names[] = {
    // nothing to name the file after
    {"https://example.com", "no file name"},
    {"https://example.com/", "no file name"},
    {"https://example.com/dir/", "no file name"},
    {"https://example.com/dir/model.bin/", "no file name"},
    {"https://example.com//", "no file name"},
    {"https://example.com?x=1", "no file name"},
    {"https://example.com/dir/?file=model.bin", "no file name"},
    {"https://example.com/.", "no file name"},
    {"https://example.com/dir/..", "no file name"},
    {"https://example.com/dir/%2E%2E", "no file name"},
    {"https://example.com/dir/%2e", "no file name"},
    {"https://example.com/dir/.%2E", "no file name"},
    // decodes to a path
    {"https://example.com/dir/a%2Fb", "decodes to a path"},
    {"https://example.com/dir/a%2fb", "decodes to a path"},
    {"https://example.com/%2F", "decodes to a path"},
    {"https://example.com/..%2Fetc%2Fpasswd", "decodes to a path"},
    {"https://example.com/%2E%2E%2F%2E%2E%2Fx", "decodes to a path"},
    {"https://example.com/a%00b", "decodes to a path"},
    // not a URL
    {"", "not a valid URL"},
    {"not a url", "not a valid URL"},
    {"https://example.com/a b", "not a valid URL"},
    {"https://example.com/%zz", "not a valid URL"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(storage_http_url_file_name)

BOOST_DATA_TEST_CASE(accepted, boost::unit_test::data::make(name_cases), c) {
  std::string got;
  BOOST_REQUIRE_NO_THROW(got = url_file_name(c.url));
  BOOST_TEST(got == c.name);
}

BOOST_DATA_TEST_CASE(refused, boost::unit_test::data::make(refused_names), c) {
  try {
    const std::string got = url_file_name(c.url);
    BOOST_ERROR("accepted as \"" << got << "\"");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    const std::string msg = e.what();
    BOOST_TEST(msg.find(c.why) != std::string::npos, msg);
  }
}

BOOST_AUTO_TEST_CASE(refusal_names_the_url_without_its_secrets) {
  const std::string urls[] = {"https://alice:s3cret@example.com/dir/?sig=s3cret",
                              "https://example.com/dir/a%2Fb?X-Amz-Signature=s3cret"};
  for (const auto& url : urls) {
    try {
      url_file_name(url);
      BOOST_ERROR(url << " accepted");
    } catch (const mrsi::error& e) {
      const std::string msg = e.what();
      BOOST_TEST(msg.find("s3cret") == std::string::npos, msg);
      BOOST_TEST(msg.find("example.com/dir/") != std::string::npos, msg);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// headers_from_env

namespace {

std::string show(const http::header_list& h) {
  std::string s;
  for (const auto& [k, v] : h) s += k + "=" + v + ";";
  return s;
}

struct env_headers_case {
  std::string name;
  env_map env;
  std::string host;
  std::string expected;  // "k=v;k=v;"
};
std::ostream& operator<<(std::ostream& os, const env_headers_case& c) { return os << c.name; }

const env_headers_case env_headers_cases[] = {
    {"unset", {}, "example.com", ""},
    {"other host's variable", {{"other.com-headers", R"({"A":"1"})"}}, "example.com", ""},
    {"empty value", {{"example.com-headers", ""}}, "example.com", ""},
    {"empty object", {{"example.com-headers", "{}"}}, "example.com", ""},
    {"one header", {{"example.com-headers", R"({"Authorization":"Bearer t"})"}}, "example.com",
     "Authorization=Bearer t;"},
    {"several headers keep their order",
     {{"example.com-headers", R"({"X-B":"2","X-A":"1","Accept":"*/*"})"}}, "example.com", "X-B=2;X-A=1;Accept=*/*;"},
    {"whitespace around JSON", {{"example.com-headers", " \n{ \"X-A\" : \"1\" }\n "}}, "example.com", "X-A=1;"},
    {"empty string value", {{"example.com-headers", R"({"X-A":""})"}}, "example.com", "X-A=;"},
    {"escapes decoded", {{"example.com-headers", R"({"X-A":"caf\u00e9 \"q\""})"}}, "example.com",
     "X-A=caf\xc3\xa9 \"q\";"},
    {"host lower-cased", {{"example.com-headers", R"({"X-A":"1"})"}}, "EXAMPLE.Com", "X-A=1;"},
    {"ip host", {{"10.0.0.5-headers", R"({"X-A":"1"})"}}, "10.0.0.5", "X-A=1;"},
    {"exact host only", {{"example.com-headers", R"({"X-A":"1"})"}}, "www.example.com", ""},
};

struct env_error_case {
  std::string name;
  std::string json;
  std::string why;  // part of the message besides the variable's name
};
std::ostream& operator<<(std::ostream& os, const env_error_case& c) { return os << c.name; }

const env_error_case env_error_cases[] = {
    {"invalid JSON", "{", "JSON object"},
    {"not JSON", "Authorization: Bearer s3cret", "JSON object"},
    {"trailing garbage", R"({"A":"1"} x)", "JSON object"},
    {"array", R"(["A","1"])", "JSON object"},
    {"string", R"("A: 1")", "JSON object"},
    {"number", "42", "JSON object"},
    {"null", "null", "JSON object"},
    {"number value", R"({"X-A":1})", "\"X-A\" must be a string"},
    {"bool value", R"({"X-A":true})", "\"X-A\" must be a string"},
    {"null value", R"({"X-A":null})", "\"X-A\" must be a string"},
    {"object value", R"({"X-A":{"b":"c"}})", "\"X-A\" must be a string"},
    {"array value", R"({"X-A":["c"]})", "\"X-A\" must be a string"},
    {"second value bad", R"({"Authorization":"Bearer s3cret","X-B":2})", "\"X-B\" must be a string"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(storage_http_headers_from_env)

BOOST_DATA_TEST_CASE(headers_table, boost::unit_test::data::make(env_headers_cases), c) {
  http::header_list got;
  BOOST_REQUIRE_NO_THROW(got = headers_from_env(c.env, c.host));
  BOOST_TEST(show(got) == c.expected);
}

BOOST_DATA_TEST_CASE(invalid_values, boost::unit_test::data::make(env_error_cases), c) {
  const env_map env = {{"models.example.com-headers", c.json}};
  try {
    const auto got = headers_from_env(env, "Models.Example.com");
    BOOST_ERROR("accepted: " << show(got));
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    const std::string msg = e.what();
    BOOST_TEST(msg.find("models.example.com-headers") != std::string::npos, msg);
    BOOST_TEST(msg.find(c.why) != std::string::npos, msg);
    BOOST_TEST(msg.find("s3cret") == std::string::npos, msg);  // header values may be secrets
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// provider_factory

namespace {

struct scheme_case {
  std::string uri;
  std::string scheme;
};
std::ostream& operator<<(std::ostream& os, const scheme_case& c) { return os << '"' << c.uri << '"'; }

const scheme_case scheme_cases[] = {
    {"https://example.com/f.bin", "https"},
    {"http://example.com/f.bin", "http"},
    {"HTTPS://example.com/f.bin", "https"},
    {"Http://example.com", "http"},
    {"s3://bucket/prefix", "s3"},
    {"gs://bucket/prefix", "gs"},
    {"hf://org/model", "hf"},
    {"model-registry://my-model/1.0", "model-registry"},
    {"Model-Registry://host/m", "model-registry"},
    {"git+ssh://host/repo", "git+ssh"},
    {"x.y://z", "x.y"},
    {"https://h/p?next=s3://b/k", "https"},  // the first separator counts
    {"ftp://", "ftp"},
    // no scheme
    {"", ""},
    {"/local/path/model.bin", ""},
    {"relative/model.bin", ""},
    {"example.com/f.bin", ""},
    {"https:/example.com", ""},
    {"https:example.com", ""},
    {"://example.com", ""},
    {"a b://x", ""},
    {"/path/with://inside", ""},
    {"c:\\models\\m.bin", ""},
    {"ht_tp://x", ""},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(storage_provider_factory)

BOOST_DATA_TEST_CASE(uri_scheme_table, boost::unit_test::data::make(scheme_cases), c) {
  BOOST_TEST(uri_scheme(c.uri) == c.scheme);
}

BOOST_AUTO_TEST_CASE(http_and_https_get_a_provider) {
  const env_map env;
  for (const char* uri : {"http://example.com/f.bin", "https://example.com/f.bin", "HTTPS://example.com/f.bin"}) {
    std::unique_ptr<provider> p;
    BOOST_REQUIRE_NO_THROW(p = make_provider(uri, env));
    BOOST_TEST((p != nullptr), uri);
  }
}

BOOST_AUTO_TEST_CASE(unsupported_scheme_is_named) {
  const env_map env;
  const std::pair<std::string, std::string> cases[] = {
      {"ftp://example.com/f.bin", "\"ftp\""},
      {"FTP://example.com/f.bin", "\"ftp\""},
      {"gopher://example.com/1", "\"gopher\""},
      {"sftp://alice:s3cret@example.com/f.bin", "\"sftp\""},
  };
  for (const auto& [uri, named] : cases) {
    try {
      make_provider(uri, env);
      BOOST_ERROR(uri << " accepted");
    } catch (const mrsi::error& e) {
      BOOST_TEST(e.kind() == errc::usage);
      BOOST_TEST(exit_code(e.kind()) == 2);
      const std::string msg = e.what();
      BOOST_TEST(msg.find("unsupported scheme " + named) != std::string::npos, msg);
      BOOST_TEST(msg.find("supported: ") != std::string::npos, msg);  // says what would work
      BOOST_TEST(msg.find("s3cret") == std::string::npos, msg);
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_scheme_says_so) {
  const env_map env;
  for (const std::string uri : {"/models/m.bin", "example.com/f.bin", ""}) {
    try {
      make_provider(uri, env);
      BOOST_ERROR("\"" << uri << "\" accepted");
    } catch (const mrsi::error& e) {
      BOOST_TEST(e.kind() == errc::usage);
      const std::string msg = e.what();
      BOOST_TEST(msg.find("\"" + uri + "\" is not a URI") != std::string::npos, msg);
      BOOST_TEST(msg.find("scheme://") != std::string::npos, msg);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
