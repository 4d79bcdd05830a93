// Backoff arithmetic and Retry-After parsing.
#include "util/retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace mrsi {

std::chrono::milliseconds backoff_delay(const retry_policy& p, int retry, double random01) {
  if (retry < 1) retry = 1;
  const double base = static_cast<double>(p.base_delay.count());
  const double cap = static_cast<double>(p.max_delay.count());
  const double exp = std::min(cap, base * std::pow(2.0, std::min(retry - 1, 30)));
  random01 = std::clamp(random01, 0.0, 1.0);
  // Jitter keeps many clients that failed together from retrying together; staying above half
  // the step keeps a retry storm slowing down.
  return std::chrono::milliseconds(static_cast<long long>(exp / 2 + exp / 2 * random01));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view v, std::int64_t now) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long s = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
    if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
    return std::chrono::seconds(s);
  }
  // IMF-fixdate, then the obsolete RFC 850 and asctime forms recipients must still accept.
  std::string s(v);
  std::optional<std::int64_t> when;
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), fmt, &tm);
    if (end && *end == '\0') {
      when = ::timegm(&tm);
      break;
    }
  }
  if (!when) return std::nullopt;
  return std::chrono::seconds(std::max<std::int64_t>(0, *when - now));
}

bool is_retryable_status(unsigned s) noexcept {
  return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

}  // namespace mrsi
