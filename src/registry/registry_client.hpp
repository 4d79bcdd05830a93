// Resolves a model-registry:// URI to the storage URI of a model artifact through the Model
// Registry REST API (v1alpha3). The protocol steps are a sans-io state machine
// (`resolution_machine`, unit-tested with captured bodies); `resolve` drives it over http::client.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "registry/registry_json.hpp"
#include "registry/registry_uri.hpp"

namespace mrsi::http { class client; }

namespace mrsi::registry {

// What a model-registry:// URI resolved to.
struct resolution {
  std::string registry_url;  // base URL of the registry that answered (no credentials in it)
  registered_model model;
  model_version version;
  artifact model_artifact;  // its uri is what gets downloaded
  // Things the user should know but that do not stop the download (an ARCHIVED version was
  // named explicitly, the registry rejected the artifactType filter, ...). The CLI logs them.
  std::vector<std::string> warnings;
};

// The resolution as one JSON object, for --resolve-only:
// {"registryUrl", "uri", "registeredModel": {"id","name"}, "modelVersion": {"id","name","state"},
//  "modelArtifact": {"id","name","uri","modelFormatName","modelFormatVersion","storageKey",
//  "storagePath","serviceAccountName"}, "warnings": [...]}
std::string to_json(const resolution& r);

// The REST conversation of one resolution, without I/O: ask `next_url()`, GET it, hand the
// status and body to `feed()`, until `done()`. Steps: find the registered model by name; find
// the named version, or list all versions (every page) and keep the newest LIVE one; list the
// version's artifacts filtered to model-artifact (every page; on 400/422 start over unfiltered
// and filter here) and keep the newest one with a URI.
// feed() throws mrsi::error: errc::source for not found (naming model, version or artifact and
// the registry URL, with the server's message), refused credentials (401/403), other 4xx and
// malformed bodies; errc::network for 5xx/429 that survived the client's retries.
class resolution_machine {
 public:
  resolution_machine(registry_uri uri, std::string base_url, std::uint32_t page_size, bool token_sent);

  bool done() const { return step_ == step::done; }
  const std::string& next_url() const { return url_; }
  void feed(unsigned status, std::string_view body);
  // Valid once done(); moves the result out.
  resolution take_result();
  // Appended to "registered model not found" errors (e.g. how an ambiguous URI was read).
  void set_not_found_hint(std::string hint) { not_found_hint_ = std::move(hint); }

 private:
  enum class step { find_model, find_version, list_versions, list_artifacts, done };
  [[noreturn]] void fail_status(unsigned status, std::string_view body, std::string what_missing);
  [[noreturn]] void fail_malformed(const std::string& why);
  void start_artifacts();
  void next_page(const std::string& token);
  void finish_versions();
  void finish_artifacts();
  std::string version_label() const;

  registry_uri uri_;
  std::uint32_t page_size_;
  bool token_sent_;
  step step_ = step::find_model;
  std::string url_;
  std::string not_found_hint_;
  resolution res_;
  // Pagination state of the current list.
  std::set<std::string> seen_tokens_;
  std::size_t pages_ = 0;
  // list_versions
  std::optional<model_version> best_version_;
  std::size_t versions_seen_ = 0, archived_seen_ = 0;
  // list_artifacts
  bool filtered_ = true;
  std::optional<artifact> best_artifact_;
  std::size_t artifacts_seen_ = 0, model_artifacts_without_uri_ = 0;
};

// Reads the bearer token: cfg.token, else the file cfg.token_file (trimmed; re-read on every
// call so a rotated service-account token is picked up); empty when neither is set.
// Throws mrsi::error(errc::usage) when the file cannot be read, is empty or the token contains
// control characters. The token itself never appears in an error message.
std::string load_token(const registry_config& cfg);

// Resolves `uri` against the registry that `cfg` and the URI designate. `client` must outlive
// the returned awaitable; when cfg.ca_bundle differs from the client's CA setting, a private
// client with that bundle is used instead (same timeouts and proxies). An ambiguous "A/B" URI is
// settled first by one GET to http(s)://A/... with cfg.probe_timeout and no retries, on a
// private client (no token is sent to an unconfirmed host). Every registry call is retried per
// cfg.retry. Sends `Authorization: Bearer TOKEN` when a token is configured.
// Throws mrsi::error: usage (config, token file), source (see resolution_machine), network
// (registry unreachable or failing after retries; the message names the registry URL).
boost::asio::awaitable<resolution> resolve(registry_uri uri, registry_config cfg, http::client& client);

}  // namespace mrsi::registry
