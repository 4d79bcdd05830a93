// Which keys become which files: single object, folder semantics, sibling prefixes, markers,
// zero-byte objects, filters, hostile keys and nothing found.
#include <boost/test/unit_test.hpp>

#include <string>

#include "storage/s3_mapping.hpp"
#include "util/error.hpp"

using namespace mrsi;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)
using namespace mrsi::storage;
using namespace mrsi::storage::s3;

namespace {

std::vector<object_entry> listing(std::initializer_list<std::pair<const char*, std::uint64_t>> keys) {
  std::vector<object_entry> out;
  for (auto [k, s] : keys) out.push_back({k, s, "\"etag\""});
  return out;
}

std::vector<std::string> paths(const std::vector<planned_file>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.relative_path.generic_string());
  return out;
}

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::source);
    return e.what();
  }
  return "no error";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(s3_mapping)

BOOST_AUTO_TEST_CASE(prefixes) {
  BOOST_TEST(folder_prefix("") == "");
  BOOST_TEST(folder_prefix("model") == "model/");
  BOOST_TEST(folder_prefix("model/") == "model/");
  BOOST_TEST(folder_prefix("a/b") == "a/b/");
}

BOOST_AUTO_TEST_CASE(single_object_is_its_basename) {
  auto f = map_single_object("models/llama/model.gguf", 42, "\"e\"");
  BOOST_TEST(f.relative_path.generic_string() == "model.gguf");
  BOOST_TEST(f.size == 42u);
  BOOST_TEST(map_single_object("top.bin", 1, "").relative_path.generic_string() == "top.bin");
  BOOST_TEST(error_of([] { map_single_object("x/..", 1, ""); }).find("\"x/..\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(folder_keeps_subfolders_and_skips_markers) {
  auto files = map_listing(listing({{"model/", 0},
                                    {"model/config.json", 10},
                                    {"model/sub/", 0},
                                    {"model/sub/w.bin", 100},
                                    {"model/empty.txt", 0},
                                    {"model/deep/er/x", 1}}),
                           "b", "model/", {});
  BOOST_TEST(paths(files) == (std::vector<std::string>{"config.json", "sub/w.bin", "empty.txt", "deep/er/x"}));
  BOOST_TEST(files[2].size == 0u);  // zero-byte objects are files
  BOOST_TEST(files[1].key == "model/sub/w.bin");
}

BOOST_AUTO_TEST_CASE(sibling_prefixes_are_not_fetched) {
  // A server returning more than asked must not smuggle "model-v2/" in as "-v2/...".
  auto files = map_listing(listing({{"model-v2/a", 1}, {"model/a", 1}, {"modelx", 1}}), "b", "model/", {});
  BOOST_TEST(paths(files) == (std::vector<std::string>{"a"}));
}

BOOST_AUTO_TEST_CASE(whole_bucket) {
  auto files = map_listing(listing({{"a", 1}, {"d/", 0}, {"d/b", 2}}), "b", "", {});
  BOOST_TEST(paths(files) == (std::vector<std::string>{"a", "d/b"}));
}

BOOST_AUTO_TEST_CASE(special_characters_survive) {
  auto files = map_listing(listing({{"m/a b+c=d%e~f.txt", 1}, {"m/caf\xc3\xa9/\xe6\xa8\xa1.bin", 1}}), "b", "m/", {});
  BOOST_TEST(paths(files) == (std::vector<std::string>{"a b+c=d%e~f.txt", "caf\xc3\xa9/\xe6\xa8\xa1.bin"}));
}

BOOST_AUTO_TEST_CASE(hostile_keys_refuse_the_whole_listing) {
  auto msg = error_of([] { map_listing(listing({{"m/ok", 1}, {"m/../x", 1}}), "b", "m/", {}); });
  BOOST_TEST(msg == "refusing key \"m/../x\": would escape the destination");
  // Even when a filter would have skipped it.
  msg = error_of([] { map_listing(listing({{"m/ok.json", 1}, {"m/../x", 1}}), "b", "m/", path_filter({"*.json"}, {})); });
  BOOST_TEST(msg.find("m/../x") != std::string::npos);
  msg = error_of([] { map_listing(listing({{"m//etc/passwd", 1}}), "b", "m/", {}); });
  BOOST_TEST(msg.find("m//etc/passwd") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(colliding_keys) {
  auto msg = error_of([] { map_listing(listing({{"m/a/b", 1}, {"m/a//b", 1}}), "b", "m/", {}); });
  BOOST_TEST(msg.find("would both be written to a/b") != std::string::npos);
  msg = error_of([] { map_listing(listing({{"m/a", 1}, {"m/a/b", 1}}), "b", "m/", {}); });
  BOOST_TEST(msg.find("needs it to be a directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(nothing_found_names_bucket_and_prefix) {
  auto msg = error_of([] { map_listing({}, "models", "missing/", {}); });
  BOOST_TEST(msg.find("\"models\"") != std::string::npos);
  BOOST_TEST(msg.find("\"missing/\"") != std::string::npos);
  // Only folder markers: still nothing.
  msg = error_of([] { map_listing(listing({{"missing/", 0}}), "models", "missing/", {}); });
  BOOST_TEST(msg.find("no objects found") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(filters_apply_to_relative_paths) {
  path_filter f({"*.json", "weights/*"}, {"*/skip*"});
  auto files = map_listing(listing({{"m/config.json", 1},
                                    {"m/README.md", 1},
                                    {"m/weights/a.bin", 1},
                                    {"m/weights/skip.bin", 1},
                                    {"m/sub/x.json", 1}}),
                           "b", "m/", f);
  BOOST_TEST(paths(files) == (std::vector<std::string>{"config.json", "weights/a.bin", "sub/x.json"}));
  auto msg = error_of([&] { map_listing(listing({{"m/README.md", 1}}), "b", "m/", f); });
  BOOST_TEST(msg.find("STORAGE_ALLOW_PATTERNS") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
