// The resume journal: an append-only text file beside each partial download recording which parts
// are on disk, so a relaunched init container continues instead of starting over. A torn last line
// (the process died mid-append) is ignored. Also the "done" record kept for completed files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mrsi::transfer {

// Everything that must match for the bytes on disk to be reusable.
struct journal_header {
  std::string source_id;  // hash of the source URL without its query (no secrets on disk)
  std::uint64_t size = 0;
  std::uint64_t part_size = 0;
  std::string validator;  // strong ETag or "lm:<Last-Modified>"
  bool operator==(const journal_header&) const = default;
};

std::string format_journal_header(const journal_header& h);
std::string format_journal_done(std::uint64_t part_index);

struct journal_state {
  journal_header header;
  std::vector<bool> done;  // one flag per part
};

// nullopt when the header is missing, malformed or of another version; part indexes out of range
// make the whole journal invalid (it was not written by us for this file).
std::optional<journal_state> parse_journal(std::string_view text);

// The record of a completed file: "mrsi-done 1" plus the header fields.
std::string format_done_record(const journal_header& h);
std::optional<journal_header> parse_done_record(std::string_view text);

// Stable 64-bit FNV-1a hash as 16 hex digits; names state files and identifies sources.
std::string stable_id(std::string_view text);

}  // namespace mrsi::transfer
