// Parsing of Model Registry response bodies (shapes captured from the v0.3.8 API) and the
// version/artifact selection rules.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "registry/registry_json.hpp"
#include "util/error.hpp"

namespace bdata = boost::unit_test::data;
using namespace mrsi;
using namespace mrsi::registry;

namespace {

// As the real server sends them: ids and timestamps are strings.
const std::string registered_model_body = R"({
  "createTimeSinceEpoch": "1712345678901", "customProperties": {}, "id": "1",
  "lastUpdateTimeSinceEpoch": "1712345678901", "name": "iris", "owner": "alice", "state": "LIVE"})";

const std::string model_version_body = R"({
  "author": "alice", "createTimeSinceEpoch": "1712345679000", "customProperties": {}, "id": "2",
  "lastUpdateTimeSinceEpoch": "1712345679000", "name": "v1", "registeredModelId": "1", "state": "ARCHIVED"})";

const std::string version_list_body = R"({"items": [
  {"id": "4", "name": "v3", "registeredModelId": "1", "state": "ARCHIVED", "createTimeSinceEpoch": "3000"},
  {"id": "3", "name": "v2", "registeredModelId": "1", "state": "LIVE", "createTimeSinceEpoch": "2000"},
  {"id": "2", "name": "v1", "registeredModelId": "1", "createTimeSinceEpoch": "1000"}],
  "nextPageToken": "MzoyMDAw", "pageSize": 3, "size": 3})";

const std::string artifact_list_body = R"({"items": [
  {"artifactType": "doc-artifact", "id": "9", "name": "readme", "uri": "https://docs/readme.md",
   "state": "LIVE", "createTimeSinceEpoch": "5000"},
  {"artifactType": "model-artifact", "id": "8", "name": "onnx", "uri": "s3://bucket/iris/1",
   "modelFormatName": "onnx", "modelFormatVersion": "1", "storageKey": "aws-conn", "storagePath": "iris/1",
   "serviceAccountName": "sa", "state": "LIVE", "createTimeSinceEpoch": "4000"},
  {"artifactType": "model-artifact", "id": "7", "name": "empty", "uri": "", "createTimeSinceEpoch": "4500"},
  {"artifactType": "metric", "id": "6", "name": "accuracy", "value": 0.97, "createTimeSinceEpoch": "6000"}],
  "nextPageToken": "", "pageSize": 100, "size": 4})";

}  // namespace

BOOST_AUTO_TEST_CASE(parses_entities) {
  auto m = parse_registered_model(registered_model_body);
  BOOST_TEST(m.id == "1");
  BOOST_TEST(m.name == "iris");
  BOOST_TEST(m.state == "LIVE");

  auto v = parse_model_version(model_version_body);
  BOOST_TEST(v.id == "2");
  BOOST_TEST(v.name == "v1");
  BOOST_TEST(v.state == "ARCHIVED");
  BOOST_TEST(v.registered_model_id == "1");
  BOOST_TEST(v.create_time_ms == 1712345679000);

  auto vl = parse_model_version_list(version_list_body);
  BOOST_TEST(vl.items.size() == 3u);
  BOOST_TEST(vl.next_page_token == "MzoyMDAw");
  BOOST_TEST(vl.items[2].state == "");

  auto al = parse_artifact_list(artifact_list_body);
  BOOST_TEST(al.items.size() == 4u);
  BOOST_TEST(al.next_page_token == "");
  const auto& a = al.items[1];
  BOOST_TEST(a.artifact_type == "model-artifact");
  BOOST_TEST(a.uri == "s3://bucket/iris/1");
  BOOST_TEST(a.model_format_name == "onnx");
  BOOST_TEST(a.model_format_version == "1");
  BOOST_TEST(a.storage_key == "aws-conn");
  BOOST_TEST(a.storage_path == "iris/1");
  BOOST_TEST(a.service_account_name == "sa");
  BOOST_TEST(a.create_time_ms == 4000);
}

BOOST_AUTO_TEST_CASE(empty_lists) {
  // Go encodes a nil slice as null; some servers omit the field.
  for (std::string body : {R"({"items": [], "nextPageToken": "", "pageSize": 0, "size": 0})",
                           R"({"items": null, "nextPageToken": "", "pageSize": 0, "size": 0})",
                           R"({"nextPageToken": "", "pageSize": 0, "size": 0})"}) {
    BOOST_TEST(parse_model_version_list(body).items.empty());
    BOOST_TEST(parse_artifact_list(body).items.empty());
  }
}

struct bad_body {
  std::string body;
  std::string fragment;
  int which;  // 0 registered model, 1 version, 2 version list, 3 artifact list
};
std::ostream& operator<<(std::ostream& os, const bad_body& b) { return os << b.fragment; }

BOOST_DATA_TEST_CASE(
    malformed_bodies_name_the_problem,
    bdata::make(std::vector<bad_body>{
        {"", "empty body", 0},
        {"<html>502 Bad Gateway</html>", "not valid JSON", 0},
        {R"({"id": "1", "name": )", "not valid JSON", 0},
        {"[1,2]", "the body is an array, expected an object", 0},
        {R"({"name": "iris"})", "required field id is missing", 0},
        {R"({"id": 1, "name": "iris"})", "id is a number, expected a string", 0},
        {R"({"id": "", "name": "iris"})", "required field id is empty", 0},
        {R"({"id": "1", "name": ["iris"]})", "name is an array, expected a string", 0},
        {R"({"id": "2", "state": 1})", "state is a number", 1},
        {R"({"id": "2", "createTimeSinceEpoch": 1712345679000})", "createTimeSinceEpoch is a number", 1},
        {R"({"id": "2", "createTimeSinceEpoch": "yesterday"})", "expected milliseconds", 1},
        {R"({"items": {"id": "2"}})", "items is an object, expected an array", 2},
        {R"({"items": ["2"]})", "items[0] is a string, expected an object", 2},
        {R"({"items": [{"id": "2"}, {"id": 3}]})", "items[1].id is a number", 2},
        {R"({"items": [], "nextPageToken": 5})", "nextPageToken is a number", 2},
        {R"({"items": [{"id": "8", "uri": 42}]})", "items[0].uri is a number", 3},
        {R"({"items": [{"id": "8", "artifactType": null, "uri": {}}]})", "items[0].uri is an object", 3},
        {R"("just a string")", "the body is a string", 3},
    }),
    b) {
  try {
    switch (b.which) {
      case 0: parse_registered_model(b.body); break;
      case 1: parse_model_version(b.body); break;
      case 2: parse_model_version_list(b.body); break;
      default: parse_artifact_list(b.body); break;
    }
    BOOST_FAIL("accepted " << b.body);
  } catch (const error& e) {
    BOOST_TEST(e.kind() == errc::source);
    BOOST_TEST(std::string(e.what()).find(b.fragment) != std::string::npos, "message: " << e.what());
  }
}

BOOST_AUTO_TEST_CASE(error_bodies) {
  auto e = parse_error_body(R"({"code":"Not Found","message":"no registered models found for name=iris, externalId=: not found"})");
  BOOST_TEST(e.code == "Not Found");
  BOOST_TEST(e.message == "no registered models found for name=iris, externalId=: not found");
  auto p = parse_error_body(R"({"type":"x","title":"Invalid request","status":422,"detail":"bad query"})");
  BOOST_TEST(p.code == "Invalid request");
  BOOST_TEST(p.message == "bad query");
  auto t = parse_error_body("  upstream connect error\r\nreset  ");
  BOOST_TEST(t.code == "");
  BOOST_TEST(t.message == "upstream connect error  reset");
  auto l = parse_error_body(std::string(1000, 'x'));
  BOOST_TEST(l.message.size() == 303u);
  BOOST_TEST(parse_error_body("").message == "");
  BOOST_TEST(parse_error_body("{\"code\": 5}").message == "{\"code\": 5}");
}

BOOST_AUTO_TEST_CASE(probe_classification) {
  BOOST_TEST(probe_says_registry(200, R"({"items":[],"nextPageToken":"","pageSize":1,"size":0})"));
  BOOST_TEST(probe_says_registry(200, R"({"nextPageToken":"","pageSize":1,"size":0})"));
  BOOST_TEST(probe_says_registry(401, ""));
  BOOST_TEST(probe_says_registry(403, "<html>"));
  BOOST_TEST(!probe_says_registry(200, "<html>hello</html>"));
  BOOST_TEST(!probe_says_registry(200, R"({"hello":"world"})"));
  BOOST_TEST(!probe_says_registry(404, R"({"items":[]})"));
  BOOST_TEST(!probe_says_registry(502, ""));
}

BOOST_AUTO_TEST_CASE(latest_is_newest_live_never_archived) {
  auto vl = parse_model_version_list(version_list_body);
  auto best = newest_live(vl.items);
  BOOST_REQUIRE(best);
  BOOST_TEST(best->name == "v2");  // v3 is newer but ARCHIVED
  // Order on the wire does not matter (old servers ignore orderBy).
  std::vector<model_version> reversed(vl.items.rbegin(), vl.items.rend());
  BOOST_TEST(newest_live(reversed)->name == "v2");
  // Equal timestamps: the higher id (numerically) wins.
  std::vector<model_version> tie = {{"9", "a", "LIVE", "1", 5}, {"10", "b", "LIVE", "1", 5}};
  BOOST_TEST(newest_live(tie)->name == "b");
  std::vector<model_version> none = {{"9", "a", "ARCHIVED", "1", 5}};
  BOOST_TEST(!newest_live(none));
  BOOST_TEST(!newest_live({}));
}

BOOST_AUTO_TEST_CASE(artifact_is_newest_model_artifact_with_uri) {
  auto al = parse_artifact_list(artifact_list_body);
  auto best = newest_model_artifact(al.items);
  BOOST_REQUIRE(best);
  BOOST_TEST(best->id == "8");  // the doc artifact, the metric and the empty-uri artifact are newer
  std::vector<artifact> docs_only = {al.items[0], al.items[3], al.items[2]};
  BOOST_TEST(!newest_model_artifact(docs_only));
}

BOOST_AUTO_TEST_CASE(id_order_is_numeric) {
  BOOST_TEST(compare_ids("10", "9") > 0);
  BOOST_TEST(compare_ids("9", "10") < 0);
  BOOST_TEST(compare_ids("007", "7") == 0);
  BOOST_TEST(compare_ids("b", "a") > 0);
  BOOST_TEST(compare_ids("", "") == 0);
}
