// Environment snapshot helpers.
#include "util/env.hpp"

#include "util/text.hpp"

namespace mrsi {

std::optional<std::string> env_first(const env_map& env, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    auto v = env_get(env, n);
    if (v && !v->empty()) return v;
  }
  return std::nullopt;
}

bool env_bool(const env_map& env, std::string_view name, bool fallback) {
  auto v = env_get(env, name);
  if (!v) return fallback;
  const std::string s = ascii_lower(*v);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  return fallback;
}

}  // namespace mrsi
