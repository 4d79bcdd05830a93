// Model Registry REST entities (the fields the resolver uses) and their JSON parsers, plus the
// pure selection rules: newest LIVE version, newest model artifact with a URI. No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mrsi::registry {

struct registered_model {
  std::string id;
  std::string name;
  std::string state;  // LIVE or ARCHIVED; empty when the server omits it
};

struct model_version {
  std::string id;
  std::string name;
  std::string state;  // LIVE or ARCHIVED; empty when omitted (the spec's default is LIVE)
  std::string registered_model_id;
  std::int64_t create_time_ms = 0;  // createTimeSinceEpoch; 0 when omitted
};

struct artifact {
  std::string id;
  std::string name;
  std::string artifact_type;  // model-artifact, doc-artifact, dataset-artifact, metric, parameter
  std::string uri;
  std::string state;
  std::string model_format_name;
  std::string model_format_version;
  std::string storage_key;
  std::string storage_path;
  std::string service_account_name;
  std::int64_t create_time_ms = 0;
};

template <class T>
struct page {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

// The parsers throw mrsi::error(errc::source) with a message that names the offending field
// ("items[2].id is a number, expected a string") when the body is not JSON or a field the
// resolver relies on has the wrong type. Ids and timestamps are JSON strings in the real API;
// numbers there are rejected rather than guessed at. Unused fields are ignored.
registered_model parse_registered_model(std::string_view body);
model_version parse_model_version(std::string_view body);
page<model_version> parse_model_version_list(std::string_view body);
page<artifact> parse_artifact_list(std::string_view body);

// The registry's error body {"code":"Not Found","message":"..."}; for anything else the
// message is the body's text, trimmed and shortened to a few hundred printable characters.
// Never throws.
struct server_error {
  std::string code;
  std::string message;
};
server_error parse_error_body(std::string_view body);

// True when a probe response shows a Model Registry (or an auth proxy in front of one): a 2xx
// with a JSON list body ({"items": [...]}), or 401/403.
bool probe_says_registry(unsigned status, std::string_view body);

// A version can be "latest" only when LIVE; an omitted state counts as LIVE (the spec's default).
bool is_live(const model_version& v);
// True when `a` was created after `b` (createTimeSinceEpoch, then numeric id as tie-break).
bool newer_than(const model_version& a, const model_version& b);
// The newest LIVE version, if any.
std::optional<model_version> newest_live(const std::vector<model_version>& versions);

// True when `a` is a model-artifact with a non-empty uri.
bool is_usable_model_artifact(const artifact& a);
bool newer_than(const artifact& a, const artifact& b);
// The newest usable model artifact, skipping other types even when they are newer.
std::optional<artifact> newest_model_artifact(const std::vector<artifact>& artifacts);

// Compares decimal ids numerically (ids are int64 strings), falling back to text order.
int compare_ids(std::string_view a, std::string_view b);

}  // namespace mrsi::registry
