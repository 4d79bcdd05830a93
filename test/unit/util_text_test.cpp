// ASCII text helpers of src/util/text: case folding and case-insensitive comparison, trimming,
// hex digits, percent-encoding and port validation, including the bytes around each range and
// non-ASCII bytes.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

#include "util/text.hpp"

using namespace mrsi;
using namespace std::string_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// ascii_lower

struct lower_case {
  std::string in;
  std::string out;
};
std::ostream& operator<<(std::ostream& os, const lower_case& c) { return os << '"' << c.in << '"'; }

const lower_case lower_cases[] = {
    {"", ""},
    {"abc", "abc"},
    {"ABC", "abc"},
    {"Content-Type", "content-type"},
    {"X-Amz-Security-Token", "x-amz-security-token"},
    {"HTTPS", "https"},
    {"AZaz09", "azaz09"},
    {"@[`{", "@[`{"},                      // the bytes just outside 'A'-'Z' and 'a'-'z'
    {"\xC3\x89t\xC3\xA9", "\xC3\x89t\xC3\xA9"},  // UTF-8 "Été": only ASCII letters fold
    {"\xC0\xDA", "\xC0\xDA"},              // Latin-1 upper-case bytes stay as they are
    {"A\0B"s, "a\0b"s},
};

// ---------------------------------------------------------------------------------------------
// iequals, istarts_with, iends_with

struct compare_case {
  std::string a;
  std::string b;
  bool equal;
  bool a_starts_with_b;
  bool a_ends_with_b;
};
std::ostream& operator<<(std::ostream& os, const compare_case& c) {
  return os << '"' << c.a << "\" vs \"" << c.b << '"';
}

const compare_case compare_cases[] = {
    {"", "", true, true, true},
    {"abc", "", false, true, true},
    {"", "a", false, false, false},
    {"Content-Length", "content-length", true, true, true},
    {"CONTENT-LENGTH", "content-length", true, true, true},
    {"Content-Length", "content-type", false, false, false},
    {"bytes 0-1/2", "BYTES ", false, true, false},
    {"bytes0-1/2", "bytes ", false, false, false},
    {"model.TAR.GZ", ".tar.gz", false, false, true},
    {"model.tar.gz.part", ".tar.gz", false, false, false},
    {"ab", "abc", false, false, false},
    {"@", "`", false, false, false},        // 0x40 and 0x60 differ by the case bit but are not letters
    {"[", "{", false, false, false},        // 0x5B and 0x7B likewise
    {"\xC0", "\xE0", false, false, false},  // Latin-1 'À' and 'à' are not ASCII letters
    {"\xC3\x89", "\xC3\x89", true, true, true},
    {"a\0b"s, "A\0B"s, true, true, true},
    {"a\0b"s, "a\0c"s, false, false, false},  // a NUL byte does not end the comparison
};

// ---------------------------------------------------------------------------------------------
// trim

struct trim_case {
  std::string in;
  std::string chars;  // empty: the default, ASCII whitespace
  std::string out;
};
std::ostream& operator<<(std::ostream& os, const trim_case& c) { return os << '"' << c.in << '"'; }

const trim_case trim_cases[] = {
    {"", "", ""},
    {"a", "", "a"},
    {"  a  ", "", "a"},
    {" \t\n\v\f\ra b\r\f\v\n\t ", "", "a b"},
    {"a  b", "", "a  b"},
    {" \t\r\n", "", ""},
    {"\xC2\xA0" "a" "\xC2\xA0", "", "\xC2\xA0" "a" "\xC2\xA0"},  // UTF-8 no-break space is not trimmed
    {"\0a\0"s, "", "\0a\0"s},
    {"  a\t", " ", "a\t"},
    {"\v a \f", " \t\n\r", "\v a \f"},
    {"//x//", "/", "x"},
    {"///", "/", ""},
};

// ---------------------------------------------------------------------------------------------
// hex_value

struct hex_case {
  char c;
  int value;
};
std::ostream& operator<<(std::ostream& os, const hex_case& c) { return os << static_cast<int>(c.c); }

const hex_case hex_cases[] = {
    {'0', 0},   {'9', 9},   {'a', 10},  {'f', 15},  {'A', 10},   {'F', 15},   {'c', 12}, {'D', 13},
    {'/', -1},  {':', -1},  {'`', -1},  {'g', -1},  {'@', -1},   {'G', -1},   {' ', -1}, {'%', -1},
    {'\0', -1}, {'x', -1},  {static_cast<char>(0xB0), -1},       {static_cast<char>(0xE1), -1},
};

// ---------------------------------------------------------------------------------------------
// percent_encode

struct encode_case {
  std::string in;
  bool encode_slash;
  std::string out;
};
std::ostream& operator<<(std::ostream& os, const encode_case& c) { return os << '"' << c.in << '"'; }

const encode_case encode_cases[] = {
    {"", true, ""},
    {"AZaz09-_.~", true, "AZaz09-_.~"},
    {"a b+c", true, "a%20b%2Bc"},
    {"a/b", true, "a%2Fb"},
    {"a/b", false, "a/b"},
    {"%2F", false, "%252F"},
    {"@:[]`{", true, "%40%3A%5B%5D%60%7B"},  // the bytes around the unreserved ranges
    {"caf\xC3\xA9", true, "caf%C3%A9"},          // UTF-8 bytes, upper-case hex
    {"\0\x7F\xFF"s, true, "%00%7F%FF"},
};

// ---------------------------------------------------------------------------------------------
// is_valid_port

struct port_case {
  std::string text;
  bool valid;
};
std::ostream& operator<<(std::ostream& os, const port_case& c) { return os << '"' << c.text << '"'; }

const port_case port_cases[] = {
    {"1", true},        {"80", true},      {"443", true},    {"8080", true},    {"65535", true},
    {"08080", true},    {"00001", true},   {"", false},      {"0", false},      {"00000", false},
    {"65536", false},   {"99999", false},  {"100000", false}, {"000080", false}, {"-1", false},
    {"+80", false},     {" 80", false},    {"80 ", false},   {"8a", false},     {"0x50", false},
    {"\xD9\xA3", false},  // ARABIC-INDIC DIGIT THREE: a digit, but not an ASCII one
    {"8\0" "0"s, false},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(util_text)

BOOST_DATA_TEST_CASE(ascii_lower_table, boost::unit_test::data::make(lower_cases), c) {
  BOOST_TEST(ascii_lower(c.in) == c.out);
  for (std::size_t i = 0; i < c.in.size(); ++i) BOOST_TEST(ascii_lower(c.in[i]) == c.out[i]);
}

BOOST_DATA_TEST_CASE(iequals_table, boost::unit_test::data::make(compare_cases), c) {
  BOOST_TEST(iequals(c.a, c.b) == c.equal);
  BOOST_TEST(iequals(c.b, c.a) == c.equal);
}

BOOST_DATA_TEST_CASE(istarts_with_table, boost::unit_test::data::make(compare_cases), c) {
  BOOST_TEST(istarts_with(c.a, c.b) == c.a_starts_with_b);
}

BOOST_DATA_TEST_CASE(iends_with_table, boost::unit_test::data::make(compare_cases), c) {
  BOOST_TEST(iends_with(c.a, c.b) == c.a_ends_with_b);
}

BOOST_DATA_TEST_CASE(trim_table, boost::unit_test::data::make(trim_cases), c) {
  const auto out = c.chars.empty() ? trim(c.in) : trim(c.in, c.chars);
  BOOST_TEST(std::string(out) == c.out);
  // A view into the argument, not a copy.
  BOOST_TEST((out.data() >= c.in.data() && out.data() + out.size() <= c.in.data() + c.in.size()));
}

BOOST_DATA_TEST_CASE(hex_value_table, boost::unit_test::data::make(hex_cases), c) {
  BOOST_TEST(hex_value(c.c) == c.value);
}

BOOST_DATA_TEST_CASE(percent_encode_table, boost::unit_test::data::make(encode_cases), c) {
  BOOST_TEST(percent_encode(c.in, c.encode_slash) == c.out);
  if (c.encode_slash) BOOST_TEST(percent_encode(c.in) == c.out);  // the default encodes '/'
}

BOOST_DATA_TEST_CASE(is_valid_port_table, boost::unit_test::data::make(port_cases), c) {
  BOOST_TEST(is_valid_port(c.text) == c.valid);
}

BOOST_AUTO_TEST_SUITE_END()
