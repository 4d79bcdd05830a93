// Pure parts of src/transfer: part planning, Range/Content-Range/validator headers, and the resume
// journal and done-record formats.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "transfer/journal.hpp"
#include "transfer/part_plan.hpp"

using namespace mrsi;
using namespace mrsi::transfer;

namespace {

constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

// ---------------------------------------------------------------------------------------------
// part_count / part_range

struct plan_case {
  std::uint64_t size;
  std::uint64_t part_size;
  std::uint64_t parts;
  std::uint64_t last_length;  // length of the last part, 0 when there are no parts
};
std::ostream& operator<<(std::ostream& os, const plan_case& c) { return os << c.size << " by " << c.part_size; }

const plan_case plan_cases[] = {
    {0, 8, 0, 0},
    {1, 8, 1, 1},
    {7, 8, 1, 7},
    {8, 8, 1, 8},         // exact single part
    {9, 8, 2, 1},         // one byte over
    {15, 8, 2, 7},
    {16, 8, 2, 8},        // exact multiple
    {17, 8, 3, 1},
    {100, 30, 4, 10},
    {90, 30, 3, 30},
    {1, 1, 1, 1},
    {5, 1, 5, 1},
    {5, 100, 1, 5},
    {16 * MiB, 16 * MiB, 1, 16 * MiB},
    {16 * MiB + 1, 16 * MiB, 2, 1},
    {GiB, 16 * MiB, 64, 16 * MiB},
    {GiB - 1, 16 * MiB, 64, 16 * MiB - 1},
    {GiB + 1, 16 * MiB, 65, 1},
    {5 * GiB + 123, 8 * MiB, 641, 123},
    // sizes near the top of the range must not wrap around
    {u64_max, 1, u64_max, 1},
    {u64_max, 16 * MiB, 1ULL << 40, 16 * MiB - 1},
    {u64_max, u64_max, 1, u64_max},
    {(1ULL << 63) + 1, 1ULL << 63, 2, 1},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transfer_part_plan)

BOOST_DATA_TEST_CASE(part_count_table, boost::unit_test::data::make(plan_cases), c) {
  BOOST_TEST(part_count(c.size, c.part_size) == c.parts);
}

BOOST_AUTO_TEST_CASE(part_count_zero_part_size_is_zero_parts) {
  BOOST_TEST(part_count(0, 0) == 0u);
  BOOST_TEST(part_count(100, 0) == 0u);
}

BOOST_DATA_TEST_CASE(part_range_first_and_last, boost::unit_test::data::make(plan_cases), c) {
  if (c.parts == 0) {
    BOOST_TEST(part_range(c.size, c.part_size, 0).length == 0u);
    return;
  }
  const byte_range first = part_range(c.size, c.part_size, 0);
  BOOST_TEST(first.offset == 0u);
  BOOST_TEST(first.length == std::min(c.size, c.part_size));
  const byte_range last = part_range(c.size, c.part_size, c.parts - 1);
  BOOST_TEST(last.offset == (c.parts - 1) * c.part_size);
  BOOST_TEST(last.length == c.last_length);
  BOOST_TEST(last.last() == c.size - 1);  // the last part ends on the last byte
}

// Walks every part of the small plans: contiguous, no gap, no overlap, full parts but the last.
BOOST_DATA_TEST_CASE(parts_tile_the_file, boost::unit_test::data::make(plan_cases), c) {
  if (c.parts > 1000) return;
  std::uint64_t next = 0;
  for (std::uint64_t i = 0; i < c.parts; ++i) {
    const byte_range r = part_range(c.size, c.part_size, i);
    BOOST_TEST(r.offset == next, "part " << i);
    BOOST_TEST(r.length > 0u, "part " << i);
    if (i + 1 < c.parts) BOOST_TEST(r.length == c.part_size, "part " << i);
    else BOOST_TEST(r.length <= c.part_size);
    next = r.offset + r.length;
  }
  BOOST_TEST(next == c.size);
  // Past the end: empty (where the offset of that index is representable at all).
  if (c.size <= GiB * GiB) BOOST_TEST(part_range(c.size, c.part_size, c.parts).length == 0u);
}

BOOST_AUTO_TEST_CASE(explicit_ranges_of_a_100_byte_file_in_30_byte_parts) {
  const byte_range expected[] = {{0, 30}, {30, 30}, {60, 30}, {90, 10}};
  for (std::uint64_t i = 0; i < 4; ++i) {
    BOOST_TEST((part_range(100, 30, i) == expected[i]), "part " << i);
  }
  BOOST_TEST(part_range(100, 30, 3).last() == 99u);
  BOOST_TEST(part_range(100, 30, 0).last() == 29u);
  BOOST_TEST(part_range(100, 30, 4).length == 0u);
  BOOST_TEST(part_range(100, 30, 17).length == 0u);
}

struct range_header_case {
  std::uint64_t first, last;
  std::string expected;
};
std::ostream& operator<<(std::ostream& os, const range_header_case& c) { return os << c.expected; }

const range_header_case range_header_cases[] = {
    {0, 99, "bytes=0-99"},
    {0, 0, "bytes=0-0"},
    {5, 5, "bytes=5-5"},
    {16777216, 33554431, "bytes=16777216-33554431"},
    {0, u64_max - 1, "bytes=0-18446744073709551614"},
};

BOOST_DATA_TEST_CASE(range_header_table, boost::unit_test::data::make(range_header_cases), c) {
  BOOST_TEST(range_header(c.first, c.last) == c.expected);
}

BOOST_AUTO_TEST_CASE(range_header_of_a_part) {
  const auto r = part_range(100, 30, 3);
  BOOST_TEST(range_header(r.offset, r.last()) == "bytes=90-99");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Content-Range

namespace {

std::string show(const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string show(const std::optional<content_range>& cr) {
  if (!cr) return "nullopt";
  return "first " + show(cr->first) + " last " + show(cr->last) + " total " + show(cr->total);
}

struct content_range_case {
  std::string value;
  std::optional<content_range> expected;
};
std::ostream& operator<<(std::ostream& os, const content_range_case& c) { return os << '"' << c.value << '"'; }

content_range cr(std::optional<std::uint64_t> first, std::optional<std::uint64_t> last,
                 std::optional<std::uint64_t> total) {
  return content_range{first, last, total};
}

const content_range_case content_range_cases[] = {
    // satisfied ranges
    {"bytes 0-99/1000", cr(0, 99, 1000)},
    {"bytes 0-0/1", cr(0, 0, 1)},
    {"bytes 999-999/1000", cr(999, 999, 1000)},
    {"bytes 900-999/1000", cr(900, 999, 1000)},
    {"bytes 0-18446744073709551614/18446744073709551615", cr(0, u64_max - 1, u64_max)},
    {"  bytes 0-99/1000  ", cr(0, 99, 1000)},
    // total unknown
    {"bytes 0-99/*", cr(0, 99, std::nullopt)},
    {"bytes 5-5/*", cr(5, 5, std::nullopt)},
    // unsatisfied (416): total only
    {"bytes */1000", cr(std::nullopt, std::nullopt, 1000)},
    {"bytes */0", cr(std::nullopt, std::nullopt, 0)},
    // invalid
    {"", std::nullopt},
    {"bytes", std::nullopt},
    {"bytes ", std::nullopt},
    {"bytes 0-99", std::nullopt},
    {"bytes 0-99/", std::nullopt},
    {"bytes /1000", std::nullopt},
    {"bytes */*", std::nullopt},
    {"bytes *", std::nullopt},
    {"bytes 99-0/1000", std::nullopt},      // last before first
    {"bytes 0-1000/1000", std::nullopt},    // last == total
    {"bytes 0-1001/1000", std::nullopt},    // last > total
    {"bytes 1000-1000/1000", std::nullopt},
    {"bytes 0-0/0", std::nullopt},
    {"bytes -99/1000", std::nullopt},
    {"bytes 0-/1000", std::nullopt},
    {"bytes 0/1000", std::nullopt},
    {"bytes a-b/1000", std::nullopt},
    {"bytes 0-99/abc", std::nullopt},
    {"bytes 0-99/1000x", std::nullopt},
    {"bytes 0-99/1000/2000", std::nullopt},
    {"bytes +0-99/1000", std::nullopt},
    {"bytes 0-+99/1000", std::nullopt},
    {"bytes -1-99/1000", std::nullopt},
    {"bytes 0 - 99/1000", std::nullopt},
    {"bytes  0-99/1000", std::nullopt},
    {"bytes 0-99 /1000", std::nullopt},
    {"bytes 0x0-0x63/1000", std::nullopt},
    {"bytes 0-18446744073709551616/*", std::nullopt},  // does not fit in 64 bits
    {"bytes 0-99/18446744073709551616", std::nullopt},
    {"bytes=0-99/1000", std::nullopt},
    {"items 0-99/1000", std::nullopt},
    {"0-99/1000", std::nullopt},
    {"junk", std::nullopt},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transfer_content_range)

BOOST_DATA_TEST_CASE(parse_content_range_table, boost::unit_test::data::make(content_range_cases), c) {
  BOOST_TEST(show(parse_content_range(c.value)) == show(c.expected));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// validators

namespace {

struct validator_case {
  std::string name;
  http::header_list headers;
  std::string validator;
  std::string if_range;
};
std::ostream& operator<<(std::ostream& os, const validator_case& c) { return os << c.name; }

const std::string lm = "Sun, 06 Nov 1994 08:49:37 GMT";

const validator_case validator_cases[] = {
    {"strong etag", {{"ETag", "\"abc\""}}, "\"abc\"", "\"abc\""},
    {"s3 multipart etag", {{"ETag", "\"9b2cf535f27731c974343645a3985328-12\""}},
     "\"9b2cf535f27731c974343645a3985328-12\"", "\"9b2cf535f27731c974343645a3985328-12\""},
    {"etag header name in lower case", {{"etag", "\"abc\""}}, "\"abc\"", "\"abc\""},
    {"strong etag beats last-modified", {{"Last-Modified", lm}, {"ETag", "\"abc\""}}, "\"abc\"", "\"abc\""},
    {"weak etag alone", {{"ETag", "W/\"abc\""}}, "", ""},
    {"weak etag falls back to last-modified", {{"ETag", "W/\"abc\""}, {"Last-Modified", lm}}, "lm:" + lm, lm},
    {"last-modified alone", {{"Last-Modified", lm}}, "lm:" + lm, lm},
    {"last-modified lower case", {{"last-modified", lm}}, "lm:" + lm, lm},
    {"empty etag falls back", {{"ETag", ""}, {"Last-Modified", lm}}, "lm:" + lm, lm},
    {"empty last-modified", {{"Last-Modified", ""}}, "", ""},
    {"nothing", {}, "", ""},
    {"unrelated headers", {{"Content-Length", "10"}, {"Content-Type", "text/plain"}}, "", ""},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transfer_validators)

BOOST_DATA_TEST_CASE(validator_and_if_range, boost::unit_test::data::make(validator_cases), c) {
  const std::string v = validator_from(c.headers);
  BOOST_TEST(v == c.validator);
  BOOST_TEST(if_range_value(v) == c.if_range);
}

BOOST_AUTO_TEST_CASE(if_range_value_direct) {
  BOOST_TEST(if_range_value("") == "");
  BOOST_TEST(if_range_value("\"e\"") == "\"e\"");
  BOOST_TEST(if_range_value("lm:" + lm) == lm);
  BOOST_TEST(if_range_value("lm:") == "");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// journal

namespace {

journal_header sample_header() {
  journal_header h;
  h.source_id = stable_id("https://example.com/models/model.bin");
  h.size = 100;
  h.part_size = 30;
  h.validator = "\"9b2cf535f27731c974343645a3985328\"";
  return h;
}

std::string show(const std::vector<bool>& v) {
  std::string s;
  for (bool b : v) s.push_back(b ? '1' : '0');
  return s;
}

struct journal_case {
  std::string name;
  std::string text;
  std::optional<std::string> done;  // flags as "0110", nullopt when the journal is invalid
};
std::ostream& operator<<(std::ostream& os, const journal_case& c) { return os << c.name; }

const std::string head = format_journal_header(sample_header());  // 100 bytes in 4 parts

const journal_case journal_cases[] = {
    {"header only", head, "0000"},
    {"one part", head + "done 2\n", "0010"},
    {"all parts", head + "done 0\ndone 1\ndone 2\ndone 3\n", "1111"},
    {"any order, repeats", head + "done 3\ndone 0\ndone 3\n", "1001"},
    {"torn last line ignored", head + "done 1\ndone 2", "0100"},
    {"torn after a few bytes", head + "done 1\ndo", "0100"},
    {"torn empty tail", head + "done 1\n", "0100"},
    {"torn garbage tail", head + "done 1\n\x01\x02", "0100"},
    {"index == part count", head + "done 4\n", std::nullopt},
    {"index far out of range", head + "done 99\n", std::nullopt},
    {"out of range after good ones", head + "done 0\ndone 1\ndone 7\n", std::nullopt},
    {"index not a number", head + "done x\n", std::nullopt},
    {"negative index", head + "done -1\n", std::nullopt},
    {"index overflow", head + "done 18446744073709551616\n", std::nullopt},
    {"junk line", head + "hello\n", std::nullopt},
    {"empty line", head + "\n", std::nullopt},
    {"empty text", "", std::nullopt},
    {"wrong magic", "mrsi-journal 2\nsource a\nsize 100\npart-size 30\nvalidator x\n", std::nullopt},
    {"other file's magic", "mrsi-done 1\nsource a\nsize 100\npart-size 30\nvalidator x\n", std::nullopt},
    {"no magic", "source a\nsize 100\npart-size 30\nvalidator x\n", std::nullopt},
    {"torn header", "mrsi-journal 1\nsource a\nsize 100\npart-size 30\nvalidator \"abc", std::nullopt},
    {"missing validator line", "mrsi-journal 1\nsource a\nsize 100\npart-size 30\n", std::nullopt},
    {"fields out of order", "mrsi-journal 1\nsize 100\nsource a\npart-size 30\nvalidator x\n", std::nullopt},
    {"size not a number", "mrsi-journal 1\nsource a\nsize lots\npart-size 30\nvalidator x\n", std::nullopt},
    {"negative size", "mrsi-journal 1\nsource a\nsize -1\npart-size 30\nvalidator x\n", std::nullopt},
    {"part size zero", "mrsi-journal 1\nsource a\nsize 100\npart-size 0\nvalidator x\n", std::nullopt},
    {"part size missing value", "mrsi-journal 1\nsource a\nsize 100\npart-size\nvalidator x\n", std::nullopt},
    {"key without separator", "mrsi-journal 1\nsourcea\nsize 100\npart-size 30\nvalidator x\n", std::nullopt},
    {"empty file, no parts", "mrsi-journal 1\nsource a\nsize 0\npart-size 30\nvalidator \n", ""},
    {"empty file, any done is out of range", "mrsi-journal 1\nsource a\nsize 0\npart-size 30\nvalidator \ndone 0\n",
     std::nullopt},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transfer_journal)

BOOST_AUTO_TEST_CASE(journal_text_format) {
  journal_header h;
  h.source_id = "0123456789abcdef";
  h.size = 100;
  h.part_size = 30;
  h.validator = "\"abc\"";
  BOOST_TEST(format_journal_header(h) ==
             "mrsi-journal 1\nsource 0123456789abcdef\nsize 100\npart-size 30\nvalidator \"abc\"\n");
  BOOST_TEST(format_journal_done(0) == "done 0\n");
  BOOST_TEST(format_journal_done(1234567) == "done 1234567\n");
  BOOST_TEST(format_done_record(h) ==
             "mrsi-done 1\nsource 0123456789abcdef\nsize 100\npart-size 30\nvalidator \"abc\"\n");
}

BOOST_DATA_TEST_CASE(parse_journal_table, boost::unit_test::data::make(journal_cases), c) {
  const auto st = parse_journal(c.text);
  BOOST_TEST((st ? show(st->done) : std::string("invalid")) == (c.done ? *c.done : std::string("invalid")));
}

struct header_round_trip_case {
  std::string name;
  journal_header header;
};
std::ostream& operator<<(std::ostream& os, const header_round_trip_case& c) { return os << c.name; }

const header_round_trip_case round_trip_cases[] = {
    {"etag", {"0123456789abcdef", 100, 30, "\"abc\""}},
    {"last-modified with spaces and commas", {"fedcba9876543210", 5 * GiB + 1, 16 * MiB, "lm:" + lm}},
    {"no validator", {"0000000000000000", 1, 1, ""}},
    {"empty file", {"0000000000000001", 0, 8 * MiB, "\"e\""}},
    {"huge", {"ffffffffffffffff", u64_max, u64_max, "\"x-1\""}},
    {"validator with trailing space", {"0123456789abcdef", 10, 5, "\"a b\" "}},
};

BOOST_DATA_TEST_CASE(journal_round_trip, boost::unit_test::data::make(round_trip_cases), c) {
  std::string text = format_journal_header(c.header);
  const std::uint64_t parts = part_count(c.header.size, c.header.part_size);
  // Every other part done, appended in reverse order.
  for (std::uint64_t i = parts < 64 ? parts : 64; i-- > 0;)
    if (i % 2 == 0) text += format_journal_done(i);
  const auto st = parse_journal(text);
  BOOST_REQUIRE(st.has_value());
  BOOST_TEST(st->header.source_id == c.header.source_id);
  BOOST_TEST(st->header.size == c.header.size);
  BOOST_TEST(st->header.part_size == c.header.part_size);
  BOOST_TEST(st->header.validator == c.header.validator);
  BOOST_TEST((st->header == c.header));
  BOOST_REQUIRE_EQUAL(st->done.size(), parts);
  for (std::uint64_t i = 0; i < parts && i < 64; ++i) BOOST_TEST(st->done[i] == (i % 2 == 0), "part " << i);
}

BOOST_DATA_TEST_CASE(done_record_round_trip, boost::unit_test::data::make(round_trip_cases), c) {
  const auto h = parse_done_record(format_done_record(c.header));
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(h->source_id == c.header.source_id);
  BOOST_TEST(h->size == c.header.size);
  BOOST_TEST(h->part_size == c.header.part_size);
  BOOST_TEST(h->validator == c.header.validator);
  BOOST_TEST((*h == c.header));
}

BOOST_AUTO_TEST_CASE(done_record_and_journal_are_not_interchangeable) {
  const journal_header h = sample_header();
  BOOST_TEST(!parse_done_record(format_journal_header(h)).has_value());
  BOOST_TEST(!parse_journal(format_done_record(h)).has_value());
}

BOOST_AUTO_TEST_CASE(done_record_invalid_forms) {
  const std::string good = format_done_record(sample_header());
  BOOST_TEST(parse_done_record(good).has_value());
  BOOST_TEST(!parse_done_record("").has_value());
  BOOST_TEST(!parse_done_record(good.substr(0, good.size() - 1)).has_value());  // torn
  BOOST_TEST(!parse_done_record("mrsi-done 2" + good.substr(good.find('\n'))).has_value());
  BOOST_TEST(!parse_done_record("mrsi-done 1\nsource a\nsize x\npart-size 1\nvalidator v\n").has_value());
  BOOST_TEST(!parse_done_record("mrsi-done 1\nsource a\nsize 1\npart-size\nvalidator v\n").has_value());
}

struct stable_id_case {
  std::string text;
  std::string id;
};
std::ostream& operator<<(std::ostream& os, const stable_id_case& c) { return os << '"' << c.text << '"'; }

// FNV-1a 64: the first three are the published test vectors.
const stable_id_case stable_id_cases[] = {
    {"", "cbf29ce484222325"},
    {"a", "af63dc4c8601ec8c"},
    {"foobar", "85944171f73967e8"},
    {"https://example.com/models/model.bin", "06d5da630c72455f"},
};

BOOST_DATA_TEST_CASE(stable_id_fixed_values, boost::unit_test::data::make(stable_id_cases), c) {
  BOOST_TEST(stable_id(c.text) == c.id);
  BOOST_TEST(stable_id(c.text) == stable_id(std::string(c.text)));  // same input, same id
  BOOST_TEST(stable_id(c.text).size() == 16u);
}

BOOST_AUTO_TEST_CASE(stable_id_shape_and_spread) {
  const std::string inputs[] = {"https://h/a", "https://h/b", "https://h/a ", "https://H/a", std::string("a\0b", 3),
                                std::string("a\0c", 3)};
  std::vector<std::string> ids;
  for (const auto& in : inputs) {
    const std::string id = stable_id(in);
    BOOST_TEST(id.size() == 16u);
    BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos, id);
    for (const auto& other : ids) BOOST_TEST(id != other);
    ids.push_back(id);
  }
}

BOOST_AUTO_TEST_SUITE_END()
