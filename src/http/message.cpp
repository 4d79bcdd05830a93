// Header list helpers.
#include "http/message.hpp"

#include <algorithm>

#include "util/text.hpp"

namespace mrsi::http {

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void remove_header(header_list& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& kv) { return iequals(kv.first, name); });
}

void set_header(header_list& headers, std::string_view name, std::string value) {
  remove_header(headers, name);
  headers.emplace_back(std::string(name), std::move(value));
}

}  // namespace mrsi::http
