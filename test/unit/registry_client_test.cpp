// The resolution state machine driven by canned registry responses (no sockets): request order,
// pagination, the artifactType fallback, error wording; plus to_json and the token file.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "registry/registry_client.hpp"
#include "util/error.hpp"

using namespace mrsi;
using namespace mrsi::registry;

namespace {

const std::string base = "http://mr.test:8080";
const std::string api = base + "/api/model_registry/v1alpha3";

struct reply {
  unsigned status;
  std::string body;
};

// Feeds the machine from a URL -> reply table until it is done; records the URLs asked for.
struct fake_registry {
  std::map<std::string, reply> routes;
  std::vector<std::string> asked;

  resolution run(resolution_machine& m) {
    while (!m.done()) {
      asked.push_back(m.next_url());
      auto it = routes.find(m.next_url());
      if (it == routes.end()) {
        BOOST_FAIL("unexpected request " << m.next_url());
      }
      m.feed(it->second.status, it->second.body);
    }
    return m.take_result();
  }
};

std::string list(const std::string& items, const std::string& token = "") {
  return R"({"items":[)" + items + R"(],"nextPageToken":")" + token + R"(","pageSize":2,"size":2})";
}

std::string version(const std::string& id, const std::string& name, const std::string& state, long long t) {
  return R"({"id":")" + id + R"(","name":")" + name + R"(","registeredModelId":"1","state":")" + state +
         R"(","createTimeSinceEpoch":")" + std::to_string(t) + R"("})";
}

std::string art(const std::string& id, const std::string& type, const std::string& uri, long long t) {
  return R"({"id":")" + id + R"(","artifactType":")" + type + R"(","name":"a)" + id + R"(","uri":")" + uri +
         R"(","state":"LIVE","modelFormatName":"onnx","modelFormatVersion":"1","createTimeSinceEpoch":")" +
         std::to_string(t) + R"("})";
}

const std::string iris = R"({"id":"1","name":"iris","state":"LIVE"})";

const std::string model_url = api + "/registered_model?name=iris";
const std::string versions_url =
    api + "/registered_models/1/versions?orderBy=CREATE_TIME&sortOrder=DESC&pageSize=2";
std::string artifacts_url(const std::string& mv, bool filtered = true, const std::string& token = "") {
  std::string u = api + "/model_versions/" + mv + "/artifacts?" + (filtered ? "artifactType=model-artifact&" : "") +
                  "orderBy=CREATE_TIME&sortOrder=DESC&pageSize=2";
  if (!token.empty()) u += "&nextPageToken=" + token;
  return u;
}

template <class F>
error expect_error(F f) {
  try {
    f();
  } catch (const error& e) {
    return e;
  }
  BOOST_FAIL("no error thrown");
  throw 0;  // unreachable
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(named_version) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  r.routes[api + "/model_version?name=v%201&parentResourceId=1"] = {200, version("5", "v 1", "ARCHIVED", 10)};
  r.routes[artifacts_url("5")] = {200, list(art("8", "model-artifact", "s3://b/iris", 20))};
  resolution_machine m(parse_registry_uri("model-registry://iris/v%201"), base, 2, true);
  auto res = r.run(m);
  BOOST_TEST(r.asked.size() == 3u);
  BOOST_TEST(res.registry_url == base);
  BOOST_TEST(res.model.id == "1");
  BOOST_TEST(res.version.id == "5");
  BOOST_TEST(res.model_artifact.uri == "s3://b/iris");
  BOOST_REQUIRE(res.warnings.size() == 1u);
  BOOST_TEST(has(res.warnings[0], "\"v 1\" of \"iris\" is ARCHIVED"));
}

BOOST_AUTO_TEST_CASE(latest_live_over_pages_and_newest_model_artifact_over_pages) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  // Newest is ARCHIVED; page 2 holds an older LIVE and the newest LIVE (server order not trusted).
  r.routes[versions_url] = {200, list(version("4", "v4", "ARCHIVED", 400) + "," + version("2", "v2", "LIVE", 200), "cDI=")};
  r.routes[versions_url + "&nextPageToken=cDI%3D"] = {
      200, list(version("1", "v1", "LIVE", 100) + "," + version("3", "v3", "LIVE", 300))};
  // Artifacts: a doc artifact newer than every model artifact, across two pages.
  r.routes[artifacts_url("3")] = {200, list(art("9", "doc-artifact", "https://d/readme", 900) + "," +
                                                art("7", "model-artifact", "s3://b/old", 700),
                                            "YTI")};
  r.routes[artifacts_url("3", true, "YTI")] = {200, list(art("8", "model-artifact", "s3://b/new", 800) + "," +
                                                             art("6", "model-artifact", "", 850))};
  resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, true);
  auto res = r.run(m);
  BOOST_TEST(r.asked.size() == 5u);
  BOOST_TEST(res.version.name == "v3");
  BOOST_TEST(res.model_artifact.id == "8");
  BOOST_TEST(res.model_artifact.uri == "s3://b/new");
  BOOST_TEST(res.warnings.empty());
}

BOOST_AUTO_TEST_CASE(artifact_type_rejected_falls_back_to_client_side_filter) {
  for (unsigned status : {400u, 422u}) {
    fake_registry r;
    r.routes[model_url] = {200, iris};
    r.routes[api + "/model_version?name=v1&parentResourceId=1"] = {200, version("5", "v1", "LIVE", 10)};
    r.routes[artifacts_url("5")] = {status, R"({"code":"Bad Request","message":"unknown parameter artifactType"})"};
    r.routes[artifacts_url("5", false)] = {200, list(art("9", "doc-artifact", "https://d", 90) + "," +
                                                     art("8", "model-artifact", "gs://b/m", 80))};
    resolution_machine m(parse_registry_uri("model-registry://iris/v1"), base, 2, false);
    auto res = r.run(m);
    BOOST_TEST(r.asked.back() == artifacts_url("5", false));
    BOOST_TEST(res.model_artifact.uri == "gs://b/m");
    BOOST_REQUIRE(res.warnings.size() == 1u);
    BOOST_TEST(has(res.warnings[0], "rejected the artifactType filter"));
    BOOST_TEST(has(res.warnings[0], "unknown parameter artifactType"));
  }
}

BOOST_AUTO_TEST_CASE(model_not_found_names_model_registry_and_server_message) {
  fake_registry r;
  r.routes[model_url] = {404, R"({"code":"Not Found","message":"no registered models found for name=iris, externalId=: not found"})"};
  resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, false);
  m.set_not_found_hint("\"iris\" was read as a model name because ...");
  auto e = expect_error([&] { r.run(m); });
  BOOST_TEST(e.kind() == errc::source);
  BOOST_TEST(has(e.what(), "registered model \"iris\" not found in registry http://mr.test:8080"));
  BOOST_TEST(has(e.what(), "was read as a model name"));
  BOOST_TEST(*e.diag().http_status == 404u);
  BOOST_TEST(e.diag().server_message == "no registered models found for name=iris, externalId=: not found");
  BOOST_TEST(has(describe(e), "no registered models found for name=iris"));
}

BOOST_AUTO_TEST_CASE(version_not_found) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  r.routes[api + "/model_version?name=v9&parentResourceId=1"] = {404, R"({"code":"Not Found","message":"nope"})"};
  resolution_machine m(parse_registry_uri("model-registry://iris/v9"), base, 2, false);
  auto e = expect_error([&] { r.run(m); });
  BOOST_TEST(e.kind() == errc::source);
  BOOST_TEST(has(e.what(), "version \"v9\" of registered model \"iris\" not found in registry http://mr.test:8080"));
  BOOST_TEST(e.diag().server_message == "nope");
}

BOOST_AUTO_TEST_CASE(no_live_version) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  r.routes[versions_url] = {200, list(version("4", "v4", "ARCHIVED", 400))};
  resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, false);
  auto e = expect_error([&] { r.run(m); });
  BOOST_TEST(has(e.what(), "registered model \"iris\" has no LIVE version in registry http://mr.test:8080"));
  BOOST_TEST(has(e.what(), "1 version(s), 1 ARCHIVED"));

  fake_registry empty;
  empty.routes[model_url] = {200, iris};
  empty.routes[versions_url] = {200, R"({"items":[],"nextPageToken":"","pageSize":2,"size":0})"};
  resolution_machine m2(parse_registry_uri("model-registry://iris"), base, 2, false);
  auto e2 = expect_error([&] { empty.run(m2); });
  BOOST_TEST(has(e2.what(), "(it has no versions)"));
}

BOOST_AUTO_TEST_CASE(no_model_artifact_with_uri) {
  struct row {
    std::string items;
    std::string fragment;
  };
  for (const auto& c : std::vector<row>{
           {"", "(it has no model artifacts)"},
           {art("8", "model-artifact", "", 1), "(1 model artifact(s) with an empty uri)"},
           {art("8", "doc-artifact", "https://d", 1), "(1 artifact(s) of other types)"}}) {
    fake_registry r;
    r.routes[model_url] = {200, iris};
    r.routes[api + "/model_version?name=v2&parentResourceId=1"] = {200, version("5", "v2", "LIVE", 10)};
    r.routes[artifacts_url("5")] = {200, list(c.items)};
    resolution_machine m(parse_registry_uri("model-registry://iris/v2"), base, 2, false);
    auto e = expect_error([&] { r.run(m); });
    BOOST_TEST(e.kind() == errc::source);
    BOOST_TEST(has(e.what(), "version \"v2\" of \"iris\" has no model artifact with a URI in registry http://mr.test:8080"),
               e.what());
    BOOST_TEST(has(e.what(), c.fragment), e.what());
  }
}

BOOST_AUTO_TEST_CASE(refused_credentials) {
  for (bool token_sent : {false, true}) {
    for (unsigned status : {401u, 403u}) {
      fake_registry r;
      r.routes[model_url] = {status, R"({"code":"Unauthorized","message":"invalid bearer token"})"};
      resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, token_sent);
      auto e = expect_error([&] { r.run(m); });
      BOOST_TEST(e.kind() == errc::source);
      BOOST_TEST(has(e.what(), "model registry http://mr.test:8080 refused the credentials (HTTP " +
                                   std::to_string(status) + ")"));
      BOOST_TEST(has(e.what(), token_sent ? "was rejected" : "no token was sent"));
      BOOST_TEST(e.diag().server_message == "invalid bearer token");
    }
  }
}

BOOST_AUTO_TEST_CASE(server_failures_after_retries_are_network_errors) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  r.routes[versions_url] = {503, R"({"code":"Service Unavailable","message":"db down"})"};
  resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, false);
  auto e = expect_error([&] { r.run(m); });
  BOOST_TEST(e.kind() == errc::network);
  BOOST_TEST(has(e.what(), "failed with HTTP 503"));
  BOOST_TEST(e.diag().server_message == "db down");

  fake_registry t;
  t.routes[model_url] = {418, "I'm a teapot"};
  resolution_machine m2(parse_registry_uri("model-registry://iris"), base, 2, false);
  auto e2 = expect_error([&] { t.run(m2); });
  BOOST_TEST(e2.kind() == errc::source);
  BOOST_TEST(has(e2.what(), "answered HTTP 418"));
  BOOST_TEST(e2.diag().server_message == "I'm a teapot");
}

BOOST_AUTO_TEST_CASE(malformed_responses_are_source_errors_with_the_url) {
  struct row {
    std::string versions_body;
    std::string fragment;
  };
  for (const auto& c : std::vector<row>{{"{not json", "not valid JSON"},
                                        {R"({"items":[{"id":4}]})", "items[0].id is a number"},
                                        {R"({"items":"none"})", "items is a string"}}) {
    fake_registry r;
    r.routes[model_url] = {200, iris};
    r.routes[versions_url] = {200, c.versions_body};
    resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, false);
    auto e = expect_error([&] { r.run(m); });
    BOOST_TEST(e.kind() == errc::source);
    BOOST_TEST(has(e.what(), "model registry http://mr.test:8080 sent a malformed response while looking up the versions of \"iris\""));
    BOOST_TEST(has(e.what(), c.fragment), e.what());
    BOOST_TEST(e.diag().url == versions_url);
  }
  fake_registry w;
  w.routes[model_url] = {200, R"({"id":1,"name":"iris"})"};
  resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, false);
  auto e = expect_error([&] { w.run(m); });
  BOOST_TEST(has(e.what(), "looking up registered model \"iris\": id is a number, expected a string"));
}

BOOST_AUTO_TEST_CASE(version_of_another_model_is_rejected) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  r.routes[api + "/model_version?name=v1&parentResourceId=1"] = {
      200, R"({"id":"5","name":"v1","registeredModelId":"77"})"};
  resolution_machine m(parse_registry_uri("model-registry://iris/v1"), base, 2, false);
  auto e = expect_error([&] { r.run(m); });
  BOOST_TEST(has(e.what(), "belongs to registered model id \"77\""));
}

BOOST_AUTO_TEST_CASE(pagination_loop_is_detected) {
  fake_registry r;
  r.routes[model_url] = {200, iris};
  r.routes[versions_url] = {200, list(version("2", "v2", "LIVE", 2), "same")};
  r.routes[versions_url + "&nextPageToken=same"] = {200, list(version("1", "v1", "LIVE", 1), "same")};
  resolution_machine m(parse_registry_uri("model-registry://iris"), base, 2, false);
  auto e = expect_error([&] { r.run(m); });
  BOOST_TEST(has(e.what(), "returned twice"));
}

BOOST_AUTO_TEST_CASE(non_live_artifact_state_warns) {
  fake_registry r;
  r.routes[model_url] = {200, R"({"id":"1","name":"iris","state":"ARCHIVED"})"};
  r.routes[api + "/model_version?name=v1&parentResourceId=1"] = {200, version("5", "v1", "LIVE", 10)};
  r.routes[artifacts_url("5")] = {
      200, list(R"({"id":"8","artifactType":"model-artifact","uri":"s3://b/x","state":"MARKED_FOR_DELETION"})")};
  resolution_machine m(parse_registry_uri("model-registry://iris/v1"), base, 2, false);
  auto res = r.run(m);
  BOOST_REQUIRE(res.warnings.size() == 2u);
  BOOST_TEST(has(res.warnings[0], "registered model \"iris\" is ARCHIVED"));
  BOOST_TEST(has(res.warnings[1], "in state MARKED_FOR_DELETION"));
}

BOOST_AUTO_TEST_CASE(json_output) {
  resolution r;
  r.registry_url = base;
  r.model = {"1", "org/iris \"x\"", "LIVE"};
  r.version = {"5", "v1", "LIVE", "1", 10};
  r.model_artifact.id = "8";
  r.model_artifact.name = "onnx";
  r.model_artifact.uri = "s3://b/iris";
  r.model_artifact.model_format_name = "onnx";
  r.model_artifact.model_format_version = "1";
  r.warnings = {"w1"};
  auto v = boost::json::parse(to_json(r)).as_object();
  BOOST_TEST(v.at("registryUrl").as_string() == base);
  BOOST_TEST(v.at("uri").as_string() == "s3://b/iris");
  BOOST_TEST(v.at("registeredModel").at("name").as_string() == "org/iris \"x\"");
  BOOST_TEST(v.at("registeredModel").at("id").as_string() == "1");
  BOOST_TEST(v.at("modelVersion").at("id").as_string() == "5");
  BOOST_TEST(v.at("modelVersion").at("name").as_string() == "v1");
  BOOST_TEST(v.at("modelArtifact").at("id").as_string() == "8");
  BOOST_TEST(v.at("modelArtifact").at("modelFormatName").as_string() == "onnx");
  BOOST_TEST(v.at("modelArtifact").at("modelFormatVersion").as_string() == "1");
  BOOST_TEST(v.at("warnings").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(token_sources) {
  registry_config cfg;
  BOOST_TEST(load_token(cfg) == "");
  cfg.token = "from-env";
  cfg.token_file = "/nonexistent/token";
  BOOST_TEST(load_token(cfg) == "from-env");  // the variable wins; the file is not read

  auto dir = std::filesystem::temp_directory_path() / ("mrsi-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "token";
  std::ofstream(file) << "  eyJhbGciOi.payload.sig\n";
  cfg.token.clear();
  cfg.token_file = file.string();
  BOOST_TEST(load_token(cfg) == "eyJhbGciOi.payload.sig");

  std::ofstream(file) << "\n";
  auto e = expect_error([&] { load_token(cfg); });
  BOOST_TEST(e.kind() == errc::usage);
  BOOST_TEST(has(e.what(), "is empty"));

  std::ofstream(file) << "abc\ndef";
  auto c = expect_error([&] { load_token(cfg); });
  BOOST_TEST(has(c.what(), "control characters"));
  BOOST_TEST(!has(c.what(), "abc"));

  cfg.token_file = (dir / "missing").string();
  auto m = expect_error([&] { load_token(cfg); });
  BOOST_TEST(e.kind() == errc::usage);
  BOOST_TEST(has(m.what(), "cannot read MODEL_REGISTRY_TOKEN_FILE"));
  std::filesystem::remove_all(dir);
}
