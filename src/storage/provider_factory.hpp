// Picks the storage provider for a source URI by its scheme.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/provider.hpp"
#include "util/env.hpp"
#include "util/log.hpp"

namespace mrsi::storage {

// The lower-cased scheme of "scheme://...", or empty when there is none.
std::string uri_scheme(std::string_view uri);

// A provider for the URI's scheme. Throws mrsi::error(usage) naming an unsupported scheme.
std::unique_ptr<provider> make_provider(std::string_view uri, const env_map& env, log_fn log = {});

}  // namespace mrsi::storage
