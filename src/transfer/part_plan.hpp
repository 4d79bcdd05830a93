// Splitting a file into byte ranges, and reading the HTTP headers that describe a range response
// (Content-Range, validators). Pure functions, unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace mrsi::transfer {

struct byte_range {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t last() const { return offset + length - 1; }  // inclusive, for Range headers
  bool operator==(const byte_range&) const = default;
};

// Number of parts of `part_size` bytes (the last one shorter) that cover `size` bytes; 0 for 0.
std::uint64_t part_count(std::uint64_t size, std::uint64_t part_size);
// The range of part `index`.
byte_range part_range(std::uint64_t size, std::uint64_t part_size, std::uint64_t index);

// "bytes=0-99"
std::string range_header(std::uint64_t first, std::uint64_t last);

// A parsed Content-Range: "bytes 0-99/1000", "bytes 0-99/*" (total unknown), "bytes */1000"
// (unsatisfied: no first/last).
struct content_range {
  std::optional<std::uint64_t> first, last;
  std::optional<std::uint64_t> total;
};
std::optional<content_range> parse_content_range(std::string_view value);

// What identifies one version of a resource: a strong ETag, else Last-Modified ("lm:" prefix),
// else empty (no way to detect a change).
std::string validator_from(const http::header_list& headers);
// The If-Range value for a validator (the ETag itself or the Last-Modified date); empty if none.
std::string if_range_value(std::string_view validator);

}  // namespace mrsi::transfer
