// Part arithmetic and range header parsing.
#include "transfer/part_plan.hpp"

#include <charconv>

#include "util/text.hpp"

namespace mrsi::transfer {

std::uint64_t part_count(std::uint64_t size, std::uint64_t part_size) {
  if (size == 0 || part_size == 0) return 0;
  return size / part_size + (size % part_size != 0);  // no overflow near 2^64
}

byte_range part_range(std::uint64_t size, std::uint64_t part_size, std::uint64_t index) {
  const std::uint64_t off = index * part_size;
  if (off >= size) return {off, 0};
  return {off, std::min(part_size, size - off)};
}

std::string range_header(std::uint64_t first, std::uint64_t last) {
  return "bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

namespace {
bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}
}  // namespace

std::optional<content_range> parse_content_range(std::string_view v) {
  v = trim(v, " ");
  if (!istarts_with(v, "bytes ")) return std::nullopt;  // units are case-insensitive
  v.remove_prefix(6);
  const auto slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view span = v.substr(0, slash), total = v.substr(slash + 1);
  content_range cr;
  if (total != "*") {
    std::uint64_t t;
    if (!parse_u64(total, t)) return std::nullopt;
    cr.total = t;
  }
  if (span == "*") {
    if (!cr.total) return std::nullopt;
    return cr;
  }
  const auto dash = span.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t a, b;
  if (!parse_u64(span.substr(0, dash), a) || !parse_u64(span.substr(dash + 1), b) || b < a) return std::nullopt;
  if (cr.total && b >= *cr.total) return std::nullopt;
  cr.first = a;
  cr.last = b;
  return cr;
}

std::string validator_from(const http::header_list& headers) {
  if (auto etag = http::find_header(headers, "ETag"); etag && !etag->empty() && !etag->starts_with("W/"))
    return std::string(*etag);
  if (auto lm = http::find_header(headers, "Last-Modified"); lm && !lm->empty())
    return "lm:" + std::string(*lm);
  return {};
}

std::string if_range_value(std::string_view validator) {
  if (validator.starts_with("lm:")) return std::string(validator.substr(3));
  return std::string(validator);
}

}  // namespace mrsi::transfer
