// Allow/ignore pattern lists and the fnmatch they use.
#include "storage/filters.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "util/error.hpp"
#include "util/text.hpp"

namespace mrsi::storage {

namespace {

// What pattern lists are trimmed of: ASCII whitespace but vertical tab and form feed.
constexpr std::string_view list_space = " \t\n\r";

// Matches a bracket expression starting at pattern[pi] == '['. Returns the index just past the
// closing ']' and sets `matched`, or npos when the bracket is not closed (then '[' is literal).
std::size_t match_bracket(std::string_view pattern, std::size_t pi, char c, bool& matched) {
  std::size_t i = pi + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == ']' && !first) {
      matched = found != negate;
      return i + 1;
    }
    first = false;
    char lo = pattern[i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      i += 2;
    }
    auto uc = static_cast<unsigned char>(c);
    if (static_cast<unsigned char>(lo) <= uc && uc <= static_cast<unsigned char>(hi)) found = true;
  }
  return std::string_view::npos;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v) {
    if (!s.empty()) s += ", ";
    s += p;
  }
  return s;
}

}  // namespace

std::vector<std::string> parse_pattern_list(std::string_view text, std::string_view what) {
  std::vector<std::string> out;
  text = trim(text, list_space);
  if (text.empty()) return out;
  if (text.front() == '[') {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_array())
      throw error(errc::usage, std::string(what) + " is not a valid JSON array: " + std::string(text));
    for (const auto& item : v.as_array()) {
      if (!item.is_string())
        throw error(errc::usage, std::string(what) + " must be an array of strings: " + std::string(text));
      auto s = trim(std::string_view(item.as_string()), list_space);
      if (!s.empty()) out.emplace_back(s);
    }
    return out;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = trim(text.substr(start, comma - start), list_space);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point for the last '*': linear in practice and never
  // exponential, unlike the naive recursive form.
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        bool matched = false;
        auto next = match_bracket(pattern, p, text[t], matched);
        if (next != std::string_view::npos) {
          if (matched) {
            p = next;
            ++t;
            continue;
          }
        } else if (text[t] == '[') {
          ++p;
          ++t;
          continue;
        }
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

path_filter::path_filter(std::vector<std::string> allow, std::vector<std::string> ignore)
    : allow_(std::move(allow)), ignore_(std::move(ignore)) {}

path_filter path_filter::from_env(const env_map& env) {
  std::vector<std::string> allow, ignore;
  if (auto v = env_get(env, "STORAGE_ALLOW_PATTERNS")) allow = parse_pattern_list(*v, "STORAGE_ALLOW_PATTERNS");
  if (auto v = env_get(env, "STORAGE_IGNORE_PATTERNS")) ignore = parse_pattern_list(*v, "STORAGE_IGNORE_PATTERNS");
  return path_filter(std::move(allow), std::move(ignore));
}

bool path_filter::accepts(std::string_view rel) const {
  if (!allow_.empty()) {
    bool any = false;
    for (const auto& p : allow_)
      if (glob_match(p, rel)) {
        any = true;
        break;
      }
    if (!any) return false;
  }
  for (const auto& p : ignore_)
    if (glob_match(p, rel)) return false;
  return true;
}

std::string path_filter::describe() const {
  std::string s;
  if (!allow_.empty()) s += "STORAGE_ALLOW_PATTERNS [" + join(allow_) + "]";
  if (!ignore_.empty()) {
    if (!s.empty()) s += ", ";
    s += "STORAGE_IGNORE_PATTERNS [" + join(ignore_) + "]";
  }
  return s;
}

}  // namespace mrsi::storage
