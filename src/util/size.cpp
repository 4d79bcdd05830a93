// Byte size parsing and formatting.
#include "util/size.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace mrsi {

std::optional<std::uint64_t> parse_size(std::string_view t) {
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  std::size_t i = 0;
  bool dot = false, digits = false;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || (t[i] == '.' && !dot))) {
    if (t[i] == '.') dot = true;
    else digits = true;
    ++i;
  }
  if (!digits) return std::nullopt;
  const double number = std::stod(std::string(t.substr(0, i)));
  std::string suffix;
  for (char c : t.substr(i)) suffix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  double mult = 1;
  if (suffix.empty() || suffix == "b") mult = 1;
  else {
    static constexpr std::string_view units = "kmgt";
    const auto u = units.find(suffix[0]);
    const std::string rest = suffix.substr(1);
    if (u == std::string_view::npos || !(rest.empty() || rest == "b" || rest == "ib")) return std::nullopt;
    mult = std::pow(1024.0, static_cast<double>(u + 1));
  }
  const double v = number * mult;
  if (v >= 18446744073709551615.0 || v != std::floor(v)) {
    if (v >= 18446744073709551615.0) return std::nullopt;
  }
  return static_cast<std::uint64_t>(std::llround(v));
}

std::string format_bytes(std::uint64_t b) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace mrsi
