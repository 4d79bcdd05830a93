// Retry policy and exponential backoff with jitter (pure functions, unit-tested).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mrsi {

struct retry_policy {
  int max_attempts = 5;  // total tries of one request or part, the first one included
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{std::chrono::seconds(20)};
};

// Delay before retry number `retry` (1 = first retry): a random point in the upper half of
// step = min(max_delay, base_delay * 2^(retry-1)), i.e. [step/2, step]; `random01` in [0,1) makes it
// deterministic in tests.
std::chrono::milliseconds backoff_delay(const retry_policy& p, int retry, double random01);

// Parses a Retry-After header value: delta-seconds or an HTTP-date relative to `now_epoch_s`.
// Returns nullopt when it cannot be parsed; negative results clamp to zero.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::int64_t now_epoch_s);

// True for statuses worth retrying: 408, 429, 500, 502, 503, 504.
bool is_retryable_status(unsigned status) noexcept;

}  // namespace mrsi
