// STORAGE_ALLOW_PATTERNS / STORAGE_IGNORE_PATTERNS: parsing and fnmatch semantics.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

#include "storage/filters.hpp"
#include "util/error.hpp"

using namespace mrsi;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)
using namespace mrsi::storage;

namespace {

struct glob_case {
  std::string pattern, text;
  bool match;
};
std::ostream& operator<<(std::ostream& os, const glob_case& c) {
  return os << c.pattern << " ~ " << c.text;
}

const glob_case glob_cases[] = {
    {"*", "", true},
    {"*", "a/b/c", true},  // '*' crosses '/'
    {"*.json", "config.json", true},
    {"*.json", "sub/config.json", true},
    {"*.json", "config.json.bak", false},
    {"sub/*", "sub/a/b.bin", true},
    {"sub/*", "other/sub/a", false},
    {"*/sub/*", "other/sub/a", true},
    {"?.bin", "a.bin", true},
    {"?.bin", "ab.bin", false},
    {"?", "/", true},
    {"model-[0-9].bin", "model-7.bin", true},
    {"model-[0-9].bin", "model-x.bin", false},
    {"model-[!0-9].bin", "model-x.bin", true},
    {"model-[^0-9].bin", "model-7.bin", false},
    {"[]]x", "]x", true},
    {"[!]]x", "ax", true},
    {"a[", "a[", true},
    {"a[b", "a[b", true},
    {"a[b", "ab", false},
    {".*", ".hidden", true},
    {"*", ".hidden", true},
    {"*.BIN", "x.bin", false},  // case-sensitive
    {"a*b*c*d", "aXbYcZd", true},
    {"a*b*c*d", "aXbYcZ", false},
    {"**", "x", true},
    {"*a*a*a*a*a*a*a*a*b", std::string(64, 'a'), false},  // no exponential backtracking
    {"", "", true},
    {"", "a", false},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(storage_filters)

BOOST_DATA_TEST_CASE(glob, boost::unit_test::data::make(glob_cases), c) {
  BOOST_TEST(glob_match(c.pattern, c.text) == c.match);
}

BOOST_AUTO_TEST_CASE(pattern_lists) {
  using v = std::vector<std::string>;
  BOOST_TEST(parse_pattern_list("", "X") == v{});
  BOOST_TEST(parse_pattern_list("  ", "X") == v{});
  BOOST_TEST(parse_pattern_list("*.json", "X") == (v{"*.json"}));
  BOOST_TEST(parse_pattern_list(" *.json , *.bin,,", "X") == (v{"*.json", "*.bin"}));
  BOOST_TEST(parse_pattern_list(R"(["*.json", "a,b", " "])", "X") == (v{"*.json", "a,b"}));
  BOOST_TEST(parse_pattern_list(" [\"*.md\"] ", "X") == (v{"*.md"}));
  BOOST_CHECK_THROW(parse_pattern_list("[\"*.json\"", "X"), mrsi::error);
  BOOST_CHECK_THROW(parse_pattern_list("[1, 2]", "X"), mrsi::error);
  try {
    parse_pattern_list("[oops", "STORAGE_ALLOW_PATTERNS");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    BOOST_TEST(std::string(e.what()).starts_with("STORAGE_ALLOW_PATTERNS"));
  }
}

BOOST_AUTO_TEST_CASE(allow_then_ignore) {
  env_map env{{"STORAGE_ALLOW_PATTERNS", R"(["*.json", "*.safetensors"])"},
              {"STORAGE_IGNORE_PATTERNS", "*/optimizer*,*.bak.json"}};
  auto f = path_filter::from_env(env);
  BOOST_TEST(!f.empty());
  BOOST_TEST(f.accepts("config.json"));
  BOOST_TEST(f.accepts("sub/model.safetensors"));
  BOOST_TEST(!f.accepts("README.md"));
  BOOST_TEST(!f.accepts("ckpt/optimizer.safetensors"));
  BOOST_TEST(!f.accepts("x.bak.json"));
  BOOST_TEST(f.describe() ==
             "STORAGE_ALLOW_PATTERNS [*.json, *.safetensors], STORAGE_IGNORE_PATTERNS [*/optimizer*, *.bak.json]");
}

BOOST_AUTO_TEST_CASE(no_patterns_accept_everything) {
  auto f = path_filter::from_env({});
  BOOST_TEST(f.empty());
  BOOST_TEST(f.accepts("anything/at/all"));
  auto only_ignore = path_filter({}, {"*.md"});
  BOOST_TEST(only_ignore.accepts("a.bin"));
  BOOST_TEST(!only_ignore.accepts("a.md"));
}

BOOST_AUTO_TEST_SUITE_END()
