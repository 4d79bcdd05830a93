// A snapshot of the process environment, taken once by the CLI and passed down, so that the library
// never calls getenv and tests can hand it any environment they like.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mrsi {

using env_map = std::map<std::string, std::string, std::less<>>;

// The value of `name`, or nullopt when unset. Empty values count as set.
inline std::optional<std::string> env_get(const env_map& env, std::string_view name) {
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

// The first of several names that is set and non-empty (e.g. AWS_REGION then AWS_DEFAULT_REGION).
std::optional<std::string> env_first(const env_map& env, std::initializer_list<std::string_view> names);

// "1", "true", "yes", "on" (any case) are true; "0", "false", "no", "off" false; else fallback.
bool env_bool(const env_map& env, std::string_view name, bool fallback);

}  // namespace mrsi
