// The s3:// provider: resolves credentials (static, anonymous or IRSA through STS), decides
// between the single-object and the folder case, lists with ListObjectsV2 across continuation
// tokens and returns a manifest whose signer adds SigV4 to every request the engine sends.
#pragma once

#include <memory>
#include <optional>

#include "storage/filters.hpp"
#include "storage/provider.hpp"
#include "storage/s3_config.hpp"
#include "util/env.hpp"
#include "util/log.hpp"

namespace mrsi::storage::s3 {

class s3_provider final : public provider {
 public:
  explicit s3_provider(config cfg, path_filter filter = {}, log_fn log = {});

  // Throws mrsi::error: usage (bad URI), source (missing bucket or prefix, access refused,
  // signature mismatch, unsafe key, nothing left after filters), network (after retries).
  // Not safe to call concurrently on one provider; credentials are fetched once and reused.
  boost::asio::awaitable<manifest> list(std::string uri, http::client& client) override;

  const config& settings() const noexcept { return cfg_; }

 private:
  boost::asio::awaitable<credentials> resolve_credentials(http::client& client);

  config cfg_;
  path_filter filter_;
  log_fn log_;
  std::optional<credentials> creds_;
};

// Reads the s3 configuration and the allow/ignore patterns from `env`. Throws mrsi::error(usage).
std::unique_ptr<s3_provider> make_s3_provider(const env_map& env, log_fn log = {});

}  // namespace mrsi::storage::s3
