// Byte size parsing and formatting.
#include "util/size.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <cstdio>
#include <string>

#include "util/text.hpp"

namespace mrsi {

std::optional<std::uint64_t> parse_size(std::string_view t) {
  t = trim(t);
  // Exact integer arithmetic: a double would round 2^53+1 and misreport values near 2^64.
  using u128 = unsigned __int128;
  constexpr u128 max64 = std::numeric_limits<std::uint64_t>::max();
  u128 whole = 0, frac = 0, frac_scale = 1;
  std::size_t i = 0;
  bool digits = false;
  for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
    whole = whole * 10 + static_cast<unsigned>(t[i] - '0');
    if (whole > max64) return std::nullopt;
    digits = true;
  }
  if (i < t.size() && t[i] == '.') {
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
      digits = true;
      if (frac_scale < u128(1000000000000000000ull)) {  // 18 decimals are plenty
        frac = frac * 10 + static_cast<unsigned>(t[i] - '0');
        frac_scale *= 10;
      }
    }
  }
  if (!digits) return std::nullopt;
  const std::string suffix = ascii_lower(t.substr(i));
  u128 mult = 1;
  if (!suffix.empty() && suffix != "b") {
    static constexpr std::string_view units = "kmgt";
    const auto u = units.find(suffix[0]);
    const std::string rest = suffix.substr(1);
    if (u == std::string_view::npos || !(rest.empty() || rest == "b" || rest == "ib")) return std::nullopt;
    for (std::size_t k = 0; k <= u; ++k) mult *= 1024;
  }
  const u128 value = whole * mult + frac * mult / frac_scale;  // fractions of a byte round down
  if (value > max64) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

std::string format_bytes(std::uint64_t b) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  // Move up a unit when two decimals would print 1024.00 (1048575 B is "1.00 MiB").
  while (u < 4 && v >= 1024 - 0.005) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace mrsi
