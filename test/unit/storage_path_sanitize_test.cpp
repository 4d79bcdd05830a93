// Object names to safe relative paths: nothing may land outside DEST, and colliding names are
// refused before anything is written.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

#include "storage/path_sanitize.hpp"
#include "util/error.hpp"

using namespace mrsi;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)
using namespace mrsi::storage;

namespace {

struct ok_case {
  std::string name;
  std::string path;
};
std::ostream& operator<<(std::ostream& os, const ok_case& c) { return os << c.name; }

const ok_case ok_cases[] = {
    {"model.bin", "model.bin"},
    {"sub/dir/weights.safetensors", "sub/dir/weights.safetensors"},
    {"a//b", "a/b"},
    {"./a/./b", "a/b"},
    {"a\\..\\b", "a\\..\\b"},  // backslashes are ordinary characters on POSIX
    {"..a/b..", "..a/b.."},
    {"...", "..."},
    {"caf\xc3\xa9 + = % ~.txt", "caf\xc3\xa9 + = % ~.txt"},
    {"trailing/", "trailing"},
};

const std::string refused_cases[] = {
    "", "/", ".", "./", "//", "..", "../x", "a/../../x", "a/..", "/etc/passwd", "//etc/passwd",
    std::string("a\0b", 3), "x/../y",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(storage_path_sanitize)

BOOST_DATA_TEST_CASE(accepted_names, boost::unit_test::data::make(ok_cases), c) {
  BOOST_TEST(sanitize_relative_path(c.name, c.name).generic_string() == c.path);
  BOOST_TEST(sanitize_relative_path(c.name, c.name).is_relative());
}

BOOST_DATA_TEST_CASE(refused_names, boost::unit_test::data::make(refused_cases), name) {
  try {
    sanitize_relative_path(name, "prefix/" + name);
    BOOST_FAIL("accepted an unsafe name");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::source);
    const std::string msg = e.what();
    BOOST_TEST(msg.starts_with("refusing key \"prefix/"));
  }
}

BOOST_AUTO_TEST_CASE(escape_message_names_the_key) {
  try {
    sanitize_relative_path("../x", "models/../x");
    BOOST_FAIL("accepted ../x");
  } catch (const mrsi::error& e) {
    BOOST_TEST(std::string(e.what()) == "refusing key \"models/../x\": would escape the destination");
  }
}

BOOST_AUTO_TEST_CASE(printable_key_escapes_control_bytes) {
  BOOST_TEST(printable_key(std::string("a\0b\n\"c\\", 7)) == "a\\x00b\\x0a\\x22c\\x5c");
  BOOST_TEST(printable_key("caf\xc3\xa9") == "caf\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(conflicts) {
  BOOST_CHECK_NO_THROW(check_path_conflicts({"a", "a b", "a.b/c", "b/c", "b/d"}, {"1", "2", "3", "4", "5"}));
  try {
    check_path_conflicts({"x/a", "x/b", "x/a"}, {"p/x/a", "p/x/b", "p/x//a"});
    BOOST_FAIL("duplicate accepted");
  } catch (const mrsi::error& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("\"p/x/a\"") != std::string::npos);
    BOOST_TEST(msg.find("\"p/x//a\"") != std::string::npos);
  }
  try {
    check_path_conflicts({"a/b/c", "a/b"}, {"k1", "k2"});
    BOOST_FAIL("file/directory clash accepted");
  } catch (const mrsi::error& e) {
    BOOST_TEST(std::string(e.what()) == "key \"k2\" is a file but key \"k1\" needs it to be a directory");
  }
}

BOOST_AUTO_TEST_SUITE_END()
