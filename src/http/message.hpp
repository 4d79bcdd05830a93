// Plain request/response values shared by the HTTP client and its users; no Beast here, so
// providers and the registry client compile without the heavy headers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mrsi::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match wins.
std::optional<std::string_view> find_header(const header_list& headers, std::string_view name);
// Replaces every header of that name (case-insensitive) with one value.
void set_header(header_list& headers, std::string_view name, std::string value);
void remove_header(header_list& headers, std::string_view name);

struct request {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL, already percent-encoded
  header_list headers;
  std::string body;
};

struct response {
  unsigned status = 0;
  header_list headers;
  std::string body;
  std::string url;  // the URL that answered, after redirects
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// Called just before a request goes on the wire (each attempt, each redirect hop) so that it can
// add authentication for exactly what is sent (SigV4 signs the host, path and date).
using signer = std::function<void(request&)>;

}  // namespace mrsi::http
