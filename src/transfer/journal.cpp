// Journal and done-record text formats.
#include "transfer/journal.hpp"

#include <charconv>
#include <cstdio>

#include "transfer/part_plan.hpp"

namespace mrsi::transfer {

namespace {

constexpr std::string_view journal_magic = "mrsi-journal 1";
constexpr std::string_view done_magic = "mrsi-done 1";

std::string fields(const journal_header& h) {
  return "source " + h.source_id + "\nsize " + std::to_string(h.size) + "\npart-size " +
         std::to_string(h.part_size) + "\nvalidator " + h.validator + "\n";
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// Reads complete lines only: text after the last '\n' is a torn write.
std::vector<std::string_view> complete_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (true) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Parses the magic line and the four header fields; returns the index of the next line.
std::optional<std::size_t> parse_header(const std::vector<std::string_view>& lines, std::string_view magic,
                                        journal_header& h) {
  if (lines.size() < 5 || lines[0] != magic) return std::nullopt;
  auto value = [&](std::size_t i, std::string_view key) -> std::optional<std::string_view> {
    if (!lines[i].starts_with(key) || lines[i].size() < key.size() + 1 || lines[i][key.size()] != ' ')
      return std::nullopt;
    return lines[i].substr(key.size() + 1);
  };
  auto src = value(1, "source"), size = value(2, "size"), ps = value(3, "part-size");
  if (!src || !size || !ps) return std::nullopt;
  if (!lines[4].starts_with("validator")) return std::nullopt;
  h.source_id = std::string(*src);
  if (!parse_u64(*size, h.size) || !parse_u64(*ps, h.part_size)) return std::nullopt;
  h.validator = lines[4].size() > 10 ? std::string(lines[4].substr(10)) : std::string();
  return 5;
}

}  // namespace

std::string format_journal_header(const journal_header& h) {
  return std::string(journal_magic) + "\n" + fields(h);
}

std::string format_journal_done(std::uint64_t part_index) { return "done " + std::to_string(part_index) + "\n"; }

std::optional<journal_state> parse_journal(std::string_view text) {
  const auto lines = complete_lines(text);
  journal_state st;
  auto next = parse_header(lines, journal_magic, st.header);
  if (!next || st.header.part_size == 0) return std::nullopt;
  st.done.assign(part_count(st.header.size, st.header.part_size), false);
  for (std::size_t i = *next; i < lines.size(); ++i) {
    std::uint64_t idx;
    if (!lines[i].starts_with("done ") || !parse_u64(lines[i].substr(5), idx)) return std::nullopt;
    if (idx >= st.done.size()) return std::nullopt;
    st.done[idx] = true;
  }
  return st;
}

std::string format_done_record(const journal_header& h) { return std::string(done_magic) + "\n" + fields(h); }

std::optional<journal_header> parse_done_record(std::string_view text) {
  journal_header h;
  if (!parse_header(complete_lines(text), done_magic, h)) return std::nullopt;
  return h;
}

std::string stable_id(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace mrsi::transfer
