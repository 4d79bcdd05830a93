// Table-driven tests of the model-registry:// grammar, the registry settings from the environment
// and the REST URLs built from them.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "registry/registry_uri.hpp"
#include "util/error.hpp"

namespace bdata = boost::unit_test::data;
using namespace mrsi;
using namespace mrsi::registry;

namespace {

struct good_case {
  std::string text;
  std::string host;
  std::string model;
  std::optional<std::string> version;
  std::string ns;
  bool ambiguous = false;
  bool host_from_two = false;
};
std::ostream& operator<<(std::ostream& os, const good_case& c) { return os << c.text; }

const std::vector<good_case> good_cases = {
    // The four forms.
    {"model-registry://iris", "", "iris", std::nullopt, "", false, false},
    {"model-registry://iris/v1", "", "iris", "v1", "", true, false},
    {"model-registry://mr.example.com/iris", "mr.example.com", "iris", std::nullopt, "", false, true},
    {"model-registry://mr.example.com:8080/iris", "mr.example.com:8080", "iris", std::nullopt, "", false, true},
    {"model-registry://mr.example.com:8080/iris/v1", "mr.example.com:8080", "iris", "v1", "", false, false},
    {"model-registry://mr-svc/iris/v1", "mr-svc", "iris", "v1", "", false, false},
    // Host by syntax: port, localhost, IPv4, IPv6.
    {"model-registry://localhost/iris", "localhost", "iris", std::nullopt, "", false, true},
    {"model-registry://LocalHost/iris", "LocalHost", "iris", std::nullopt, "", false, true},
    {"model-registry://mr-svc:8080/iris", "mr-svc:8080", "iris", std::nullopt, "", false, true},
    {"model-registry://10.0.0.7/iris", "10.0.0.7", "iris", std::nullopt, "", false, true},
    {"model-registry://10.0.0.7:9000/iris/3", "10.0.0.7:9000", "iris", "3", "", false, false},
    {"model-registry://[::1]/iris", "[::1]", "iris", std::nullopt, "", false, true},
    {"model-registry://[::1]:8080/iris/v1", "[::1]:8080", "iris", "v1", "", false, false},
    {"model-registry://[fe80::1:2]:8443/iris", "[fe80::1:2]:8443", "iris", std::nullopt, "", false, true},
    {"model-registry://mr.ns.svc.cluster.local./iris", "mr.ns.svc.cluster.local.", "iris", std::nullopt, "", false, true},
    // Ambiguous only for a bare DNS label.
    {"model-registry://my_model/v1", "", "my_model", "v1", "", false, false},
    {"model-registry://123/v1", "", "123", "v1", "", false, false},
    {"model-registry://iris:v1/x", "", "iris:v1", "x", "", false, false},
    {"model-registry://-iris/v1", "", "-iris", "v1", "", false, false},
    {"model-registry://Iris-2/v1", "", "Iris-2", "v1", "", true, false},
    // Percent-decoding; an escaped segment is never a host.
    {"model-registry://my%2Fmodel", "", "my/model", std::nullopt, "", false, false},
    {"model-registry://my%20model/v%3A1", "", "my model", "v:1", "", false, false},
    {"model-registry://llama-3%2E1/v1", "", "llama-3.1", "v1", "", false, false},
    {"model-registry://h.example:80/org%2Fmodel%3A7b/rev%2F2", "h.example:80", "org/model:7b", "rev/2", "", false, false},
    {"model-registry://iris%3A8080", "", "iris:8080", std::nullopt, "", false, false},
    {"model-registry://caf%C3%A9", "", "caf\xC3\xA9", std::nullopt, "", false, false},
    {"model-registry://a%25b", "", "a%b", std::nullopt, "", false, false},
    {"model-registry://a+b", "", "a+b", std::nullopt, "", false, false},
    // Raw spaces and colons are tolerated where they cannot be a host.
    {"model-registry://my model/v 1", "", "my model", "v 1", "", false, false},
    {"model-registry://iris:latest", "", "iris:latest", std::nullopt, "", false, false},
    // A single segment is a model even when dotted.
    {"model-registry://llama-3.1", "", "llama-3.1", std::nullopt, "", false, false},
    // Trailing slash, scheme case, query forms.
    {"model-registry://iris/", "", "iris", std::nullopt, "", false, false},
    {"model-registry://iris/v1/", "", "iris", "v1", "", true, false},
    {"MODEL-REGISTRY://iris", "", "iris", std::nullopt, "", false, false},
    {"model-registry://iris?namespace=team-a", "", "iris", std::nullopt, "team-a", false, false},
    {"model-registry://iris/v1?namespace=team-a", "", "iris", "v1", "team-a", false, false},
    {"model-registry://iris/?namespace=ns1", "", "iris", std::nullopt, "ns1", false, false},
    {"model-registry://iris?", "", "iris", std::nullopt, "", false, false},
    {"model-registry://iris?&namespace=ns&", "", "iris", std::nullopt, "ns", false, false},
};

struct bad_case {
  std::string text;
  std::string expected_fragment;  // must appear in the error message
};
std::ostream& operator<<(std::ostream& os, const bad_case& c) { return os << c.text; }

const std::vector<bad_case> bad_cases = {
    {"", "not a model-registry:// URI"},
    {"s3://bucket/key", "not a model-registry:// URI"},
    {"model-registry:iris", "expected model-registry://"},
    {"model-registry:/iris", "expected model-registry://"},
    {"model-registry://", "no model name"},
    {"model-registry:///", "no model name"},
    {"model-registry://?namespace=ns", "no model name"},
    {"model-registry:///iris", "empty path segment"},
    {"model-registry://iris//v1", "empty path segment"},
    {"model-registry://h.example//iris", "empty path segment"},
    {"model-registry://iris//", "empty path segment"},
    {"model-registry://a.b/c/d/e", "4 path segments"},
    {"model-registry://iris%2", "bad percent-escape \"%2\""},
    {"model-registry://iris%zz/v1", "bad percent-escape \"%zz\""},
    {"model-registry://iris/v%", "bad percent-escape"},
    {"model-registry://iris%00", "control character"},
    {"model-registry://iris%0A", "control character"},
    {"model-registry://ir\nis", "control character"},
    {"model-registry://iris#frag", "fragment"},
    {"model-registry://iris?foo=bar", "unknown query parameter \"foo\""},
    {"model-registry://iris?Namespace=x", "unknown query parameter \"Namespace\""},
    {"model-registry://iris?namespace=", "empty ?namespace= value"},
    {"model-registry://iris?namespace", "empty ?namespace= value"},
    {"model-registry://iris?namespace=a&namespace=b", "more than once"},
    {"model-registry://iris?namespace=bad_ns", "not a valid Kubernetes namespace"},
    {"model-registry://iris?namespace=a.b", "not a valid Kubernetes namespace"},
    {"model-registry://mr.example.com/iris?namespace=ns", "cannot be combined"},
    {"model-registry://mr-svc/iris/v1?namespace=ns", "cannot be combined"},
    {"model-registry://localhost:8080", "names a registry host but no model"},
    {"model-registry://localhost", "names a registry host but no model"},
    {"model-registry://[::1]:8080/", "names a registry host but no model"},
    {"model-registry://host:99999/iris", "out of range"},
    {"model-registry://host:0/iris", "out of range"},
    {"model-registry://host:/iris", "empty port"},
    {"model-registry://[zz]/iris", "not a valid IPv6 literal"},
    {"model-registry://[::1/iris", "invalid registry host"},
    {"model-registry://my..model/v1", "not a valid host name"},
    {"model-registry://my model/iris/v1", "invalid registry host"},
    {"model-registry://user@host/iris/v1", "invalid registry host"},
};

}  // namespace

BOOST_DATA_TEST_CASE(parses_every_form, bdata::make(good_cases), c) {
  registry_uri u = parse_registry_uri(c.text);
  BOOST_TEST(u.host == c.host);
  BOOST_TEST(u.model == c.model);
  BOOST_TEST(u.version.has_value() == c.version.has_value());
  if (u.version && c.version) BOOST_TEST(*u.version == *c.version);
  BOOST_TEST(u.ns == c.ns);
  BOOST_TEST(u.host_ambiguous == c.ambiguous);
  BOOST_TEST(u.host_from_two_segments == c.host_from_two);
}

BOOST_DATA_TEST_CASE(rejects_with_a_clear_message, bdata::make(bad_cases), c) {
  try {
    parse_registry_uri(c.text);
    BOOST_FAIL("accepted " << c.text);
  } catch (const error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    const std::string msg = e.what();
    BOOST_TEST(msg.find(c.expected_fragment) != std::string::npos, "message: " << msg);
    if (c.text.rfind("model-registry:", 0) == 0)
      BOOST_TEST(msg.find(c.text.substr(0, 12)) != std::string::npos, "message names the URI: " << msg);
  }
}

BOOST_AUTO_TEST_CASE(query_keys_are_decoded) {
  // "namespace%3Dx" decodes to the key "namespace=x", which is not "namespace".
  BOOST_CHECK_THROW(parse_registry_uri("model-registry://iris?namespace%3Dx=y"), error);
  auto u = parse_registry_uri("model-registry://iris?name%73pace=team%2Da");
  BOOST_TEST(u.ns == "team-a");
}

BOOST_AUTO_TEST_CASE(encoded_slashes_make_a_name_of_slashes) {
  auto u = parse_registry_uri("model-registry://h.example/%2F%2F/");
  BOOST_TEST(u.host == "h.example");
  BOOST_TEST(u.model == "//");
  BOOST_TEST(!u.version);
}

BOOST_AUTO_TEST_CASE(ambiguous_host_form) {
  auto u = parse_registry_uri("model-registry://mr-svc/iris");
  BOOST_TEST(u.host_ambiguous);
  BOOST_TEST(u.model == "mr-svc");
  auto h = as_host_form(u);
  BOOST_TEST(h.host == "mr-svc");
  BOOST_TEST(h.model == "iris");
  BOOST_TEST(!h.version);
  BOOST_TEST(!h.host_ambiguous);
  // With a namespace the first segment cannot be a host, so there is nothing to probe.
  auto n = parse_registry_uri("model-registry://mr-svc/iris?namespace=ns");
  BOOST_TEST(!n.host_ambiguous);
  BOOST_TEST(n.model == "mr-svc");
  BOOST_TEST(*n.version == "iris");
}

struct host_case {
  std::string seg;
  bool host;
};
std::ostream& operator<<(std::ostream& os, const host_case& c) { return os << c.seg; }

BOOST_DATA_TEST_CASE(host_syntax,
                     bdata::make(std::vector<host_case>{{"a.b", true},
                                                        {"localhost", true},
                                                        {"LOCALHOST", true},
                                                        {"svc:80", true},
                                                        {"1.2.3.4", true},
                                                        {"[::1]", true},
                                                        {"[::1]:1", true},
                                                        {"svc", false},
                                                        {"svc:", true},  // then rejected for its empty port
                                                        {"iris:v1", false},
                                                        {"my_model.v2", false},
                                                        {"a%2Eb", false},
                                                        {"::1", false},
                                                        {"", false}}),
                     c) {
  BOOST_TEST(looks_like_host(c.seg) == c.host);
}

// ---- environment ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(env_defaults_match_upstream) {
  auto cfg = registry_config_from_env({});
  BOOST_TEST(cfg.base_scheme == "http");
  BOOST_TEST(cfg.base_authority == "localhost:8080");
  BOOST_TEST(cfg.base_prefix == "");
  BOOST_TEST(cfg.scheme == "http");
  BOOST_TEST(cfg.service_name == "model-registry-service");
  BOOST_TEST(cfg.cluster_domain == "svc.cluster.local");
  BOOST_TEST(cfg.token.empty());
  BOOST_TEST(cfg.token_file.empty());
  BOOST_TEST(cfg.ca_bundle.empty());
  BOOST_TEST(registry_base_url(parse_registry_uri("model-registry://iris"), cfg) == "http://localhost:8080");
}

struct base_case {
  env_map env;
  std::string uri;
  std::string base_url;
};
std::ostream& operator<<(std::ostream& os, const base_case& c) { return os << c.uri; }

BOOST_DATA_TEST_CASE(
    base_url_from_uri_and_env,
    bdata::make(std::vector<base_case>{
        {{{"MODEL_REGISTRY_BASE_URL", "mr.example:9000"}}, "model-registry://iris", "http://mr.example:9000"},
        {{{"MODEL_REGISTRY_BASE_URL", "mr.example:9000"}, {"MODEL_REGISTRY_SCHEME", "HTTPS"}},
         "model-registry://iris",
         "https://mr.example:9000"},
        {{{"MODEL_REGISTRY_BASE_URL", "https://mr.example/api-gw/"}}, "model-registry://iris/v1",
         "https://mr.example/api-gw"},
        {{{"MODEL_REGISTRY_BASE_URL", "http://[::1]:8080"}}, "model-registry://iris", "http://[::1]:8080"},
        {{{"MODEL_REGISTRY_BASE_URL", "mr.example:9000/prefix"}}, "model-registry://iris",
         "http://mr.example:9000/prefix"},
        {{{"MODEL_REGISTRY_BASE_URL", ""}}, "model-registry://iris", "http://localhost:8080"},
        // Explicit host: configured scheme, no prefix of the base URL.
        {{{"MODEL_REGISTRY_BASE_URL", "https://gw.example/p"}}, "model-registry://other.example:81/iris",
         "https://other.example:81"},
        {{{"MODEL_REGISTRY_BASE_URL", "https://gw.example/p"}, {"MODEL_REGISTRY_SCHEME", "http"}},
         "model-registry://other.example/iris",
         "http://other.example"},
        {{}, "model-registry://[::1]:8080/iris/v1", "http://[::1]:8080"},
        // Namespace: SERVICE.NS.DOMAIN:PORT, port from the base URL or 8080.
        {{}, "model-registry://iris?namespace=team-a", "http://model-registry-service.team-a.svc.cluster.local:8080"},
        {{{"MODEL_REGISTRY_BASE_URL", "mr:9090"},
          {"MODEL_REGISTRY_SERVICE_NAME", "registry"},
          {"MODEL_REGISTRY_CLUSTER_DOMAIN", "cluster.example."},
          {"MODEL_REGISTRY_SCHEME", "https"}},
         "model-registry://iris/v2?namespace=ml",
         "https://registry.ml.cluster.example:9090"},
        {{{"MODEL_REGISTRY_BASE_URL", "https://gw.example/p"}}, "model-registry://iris?namespace=ml",
         "https://model-registry-service.ml.svc.cluster.local:8080"},
    }),
    c) {
  auto cfg = registry_config_from_env(c.env);
  BOOST_TEST(registry_base_url(parse_registry_uri(c.uri), cfg) == c.base_url);
}

BOOST_AUTO_TEST_CASE(token_and_ca_settings) {
  auto cfg = registry_config_from_env({{"MODEL_REGISTRY_TOKEN", " abc.def \n"},
                                       {"MODEL_REGISTRY_TOKEN_FILE", "/var/run/token"},
                                       {"MODEL_REGISTRY_CA_BUNDLE", "/etc/ca.pem"}});
  BOOST_TEST(cfg.token == "abc.def");
  BOOST_TEST(cfg.token_file == "/var/run/token");
  BOOST_TEST(cfg.ca_bundle == "/etc/ca.pem");
}

struct bad_env_case {
  env_map env;
  std::string fragment;
};
std::ostream& operator<<(std::ostream& os, const bad_env_case& c) { return os << c.fragment; }

BOOST_DATA_TEST_CASE(bad_env_is_a_usage_error,
                     bdata::make(std::vector<bad_env_case>{
                         {{{"MODEL_REGISTRY_BASE_URL", "ftp://x"}}, "scheme must be http or https"},
                         {{{"MODEL_REGISTRY_BASE_URL", "https://u:p@x"}}, "credentials in the URL"},
                         {{{"MODEL_REGISTRY_BASE_URL", "http://x/?a=b"}}, "no query"},
                         {{{"MODEL_REGISTRY_BASE_URL", "x:notaport"}}, "not a number"},
                         {{{"MODEL_REGISTRY_BASE_URL", "http://"}}, "empty host"},
                         {{{"MODEL_REGISTRY_SCHEME", "grpc"}}, "MODEL_REGISTRY_SCHEME"},
                         {{{"MODEL_REGISTRY_SERVICE_NAME", "a.b"}}, "MODEL_REGISTRY_SERVICE_NAME"},
                         {{{"MODEL_REGISTRY_CLUSTER_DOMAIN", "bad domain"}}, "MODEL_REGISTRY_CLUSTER_DOMAIN"},
                     }),
                     c) {
  try {
    registry_config_from_env(c.env);
    BOOST_FAIL("accepted");
  } catch (const error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    BOOST_TEST(std::string(e.what()).find(c.fragment) != std::string::npos, "message: " << e.what());
  }
}

// ---- REST URLs ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rest_urls_encode_every_value) {
  const std::string b = "http://h:1/p";
  BOOST_TEST(find_registered_model_url(b, "org/m:7b x") ==
             "http://h:1/p/api/model_registry/v1alpha3/registered_model?name=org%2Fm%3A7b%20x");
  BOOST_TEST(find_model_version_url(b, "v&1=2", "12") ==
             "http://h:1/p/api/model_registry/v1alpha3/model_version?name=v%261%3D2&parentResourceId=12");
  BOOST_TEST(model_versions_page_url(b, "12", 100, "") ==
             "http://h:1/p/api/model_registry/v1alpha3/registered_models/12/versions"
             "?orderBy=CREATE_TIME&sortOrder=DESC&pageSize=100");
  BOOST_TEST(model_versions_page_url(b, "12", 5, "MTI6MTcwMDAwMDAwMDAwMA==") ==
             "http://h:1/p/api/model_registry/v1alpha3/registered_models/12/versions"
             "?orderBy=CREATE_TIME&sortOrder=DESC&pageSize=5&nextPageToken=MTI6MTcwMDAwMDAwMDAwMA%3D%3D");
  BOOST_TEST(artifacts_page_url(b, "7", true, 100, "") ==
             "http://h:1/p/api/model_registry/v1alpha3/model_versions/7/artifacts"
             "?artifactType=model-artifact&orderBy=CREATE_TIME&sortOrder=DESC&pageSize=100");
  BOOST_TEST(artifacts_page_url(b, "7", false, 100, "t+/") ==
             "http://h:1/p/api/model_registry/v1alpha3/model_versions/7/artifacts"
             "?orderBy=CREATE_TIME&sortOrder=DESC&pageSize=100&nextPageToken=t%2B%2F");
  auto cfg = registry_config_from_env({{"MODEL_REGISTRY_SCHEME", "https"}});
  BOOST_TEST(probe_url("mr-svc", cfg) == "https://mr-svc/api/model_registry/v1alpha3/registered_models?pageSize=1");
  BOOST_TEST(percent_encode("aZ09-._~ /%\xC3\xA9") == "aZ09-._~%20%2F%25%C3%A9");
}
