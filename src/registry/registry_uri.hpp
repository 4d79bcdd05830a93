// The model-registry:// URI grammar and the registry connection settings taken from the
// environment: pure functions (no I/O), so every form and edge is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/env.hpp"
#include "util/retry.hpp"
#include "util/text.hpp"

namespace mrsi::registry {

// A parsed model-registry:// URI. Accepted forms (each with an optional `?namespace=NS`):
//   MODEL   MODEL/VERSION   HOST[:PORT]/MODEL   HOST[:PORT]/MODEL/VERSION
// Segments are percent-decoded (`my%2Fmodel` is the model "my/model"); a segment that contains a
// percent-escape is never a host.
struct registry_uri {
  std::string host;                    // "host[:port]" as written ("[::1]:8080"), empty if none
  std::string model;                   // registered model name, decoded, never empty
  std::optional<std::string> version;  // model version name, decoded; nullopt means "latest"
  std::string ns;                      // Kubernetes namespace from ?namespace=, empty if none

  // "A/B" where A is a bare DNS label (no dot, no port, not localhost): A may be a registry host
  // (then B is the model) or a model (then B is its version). The fields above hold the second
  // reading; the resolver probes http(s)://A and uses `as_host_form` when a registry answers.
  bool host_ambiguous = false;
  // The host came from a two-segment URI by syntax alone (e.g. "mr.example.com/iris"); errors
  // then remind the user how to write a model name that looks like a host.
  bool host_from_two_segments = false;
};

// Parses `text`. Throws mrsi::error(errc::usage) naming the problem: wrong scheme, no model, empty
// segment, too many segments, bad percent-escape, control characters, invalid host or port,
// unknown query parameter, explicit host together with ?namespace=.
registry_uri parse_registry_uri(std::string_view text);

// The reading of an ambiguous "A/B" URI where A is the registry host and B the model.
registry_uri as_host_form(const registry_uri& u);

// True when `segment` must be a registry host: a dot (with only host characters), a port,
// "localhost", an IPv4 literal or a bracketed IPv6 literal.
bool looks_like_host(std::string_view segment);

// Where and how to reach the registry, from the environment (upstream variable names).
struct registry_config {
  // MODEL_REGISTRY_BASE_URL: "host[:port]" (upstream) or "http(s)://host[:port][/prefix]".
  std::string base_scheme = "http";
  std::string base_authority = "localhost:8080";
  std::string base_prefix;  // "" or "/prefix" (no trailing slash), before /api/model_registry/...
  // MODEL_REGISTRY_SCHEME (else the scheme of a full MODEL_REGISTRY_BASE_URL, else http): used for
  // hosts named in the URI and for ?namespace= targets.
  std::string scheme = "http";
  std::string service_name = "model-registry-service";  // MODEL_REGISTRY_SERVICE_NAME
  std::string cluster_domain = "svc.cluster.local";     // MODEL_REGISTRY_CLUSTER_DOMAIN
  std::string token;       // MODEL_REGISTRY_TOKEN (never logged)
  std::string token_file;  // MODEL_REGISTRY_TOKEN_FILE, read by the resolver on each run
  std::string ca_bundle;   // MODEL_REGISTRY_CA_BUNDLE; empty means the HTTP client's own setting
  // Limits of the ambiguous-host probe (one attempt, no retries).
  std::chrono::milliseconds probe_timeout{std::chrono::seconds(3)};
  std::uint32_t page_size = 100;  // pageSize of list calls
  retry_policy retry;             // for every registry call (5xx, 429, connection errors)
};

// Builds the config from an environment snapshot. Throws mrsi::error(errc::usage) for an invalid
// MODEL_REGISTRY_BASE_URL (userinfo, query, bad port) or a scheme other than http/https.
registry_config registry_config_from_env(const env_map& env);

// "http://host:port[/prefix]" of the registry `u` refers to: the URI's host with cfg.scheme, else
// SERVICE.NS.DOMAIN:PORT for ?namespace= (PORT from MODEL_REGISTRY_BASE_URL, default 8080, as
// upstream), else MODEL_REGISTRY_BASE_URL. Never ends with '/'.
std::string registry_base_url(const registry_uri& u, const registry_config& cfg);

// The URL the ambiguous-host probe fetches for a candidate host.
std::string probe_url(std::string_view host, const registry_config& cfg);

// Percent-encodes everything but RFC 3986 unreserved characters (for query values and segments):
// util/text's percent_encode, with '/' encoded too.
using mrsi::percent_encode;

// Model Registry REST URLs under `base` (see REFERENCE section 2); every value is encoded.
std::string find_registered_model_url(std::string_view base, std::string_view name);
std::string find_model_version_url(std::string_view base, std::string_view name,
                                   std::string_view registered_model_id);
std::string model_versions_page_url(std::string_view base, std::string_view registered_model_id,
                                    std::uint32_t page_size, std::string_view page_token);
std::string artifacts_page_url(std::string_view base, std::string_view model_version_id,
                               bool filter_model_artifacts, std::uint32_t page_size,
                               std::string_view page_token);

}  // namespace mrsi::registry
