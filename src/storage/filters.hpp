// STORAGE_ALLOW_PATTERNS / STORAGE_IGNORE_PATTERNS: which files of a directory-like source are
// fetched. Patterns use fnmatch syntax matched against the path relative to DEST, with `*`
// matching '/' too (as Python's fnmatch does); allow is applied first, then ignore.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/env.hpp"

namespace mrsi::storage {

// Parses a pattern list: a JSON array of strings, or a comma-separated list (items trimmed,
// empty items dropped). Throws mrsi::error(usage) naming `what` for a JSON value that is not an
// array of strings.
std::vector<std::string> parse_pattern_list(std::string_view text, std::string_view what);

// fnmatch without special treatment of '/' or leading dots: `*` any run of bytes, `?` one byte,
// `[abc]`, `[a-z]`, `[!abc]` / `[^abc]` a set; an unclosed '[' is literal. Case-sensitive.
bool glob_match(std::string_view pattern, std::string_view text);

class path_filter {
 public:
  path_filter() = default;
  path_filter(std::vector<std::string> allow, std::vector<std::string> ignore);
  // Reads STORAGE_ALLOW_PATTERNS and STORAGE_IGNORE_PATTERNS; throws mrsi::error(usage).
  static path_filter from_env(const env_map& env);

  // True when `relative_path` (with '/' separators) should be fetched: it matches one allow
  // pattern (or there are none) and no ignore pattern.
  bool accepts(std::string_view relative_path) const;
  bool empty() const noexcept { return allow_.empty() && ignore_.empty(); }
  // "allow [*.json, *.bin], ignore [*.md]" for messages when nothing passes.
  std::string describe() const;

 private:
  std::vector<std::string> allow_, ignore_;
};

}  // namespace mrsi::storage
