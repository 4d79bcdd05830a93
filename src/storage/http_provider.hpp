// http:// and https:// sources: one file, named after the last segment of the URL path, with
// extra request headers from the environment variable "<hostname>-headers" (KServe's convention).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "storage/provider.hpp"
#include "util/env.hpp"

namespace mrsi::storage {

// The percent-decoded last path segment of an http(s) URL. Throws mrsi::error(usage) when it is
// empty ("https://host/dir/"), ".", "..", or decodes to something containing '/' or NUL.
std::string url_file_name(std::string_view url);

// Headers from the JSON object in env["<host>-headers"] (host lower-cased, no port); empty when
// the variable is unset. Throws mrsi::error(usage) when it is not a JSON object of strings.
http::header_list headers_from_env(const env_map& env, std::string_view host);

std::unique_ptr<provider> make_http_provider(env_map env);

}  // namespace mrsi::storage
