// The resolution state machine, its error wording, the token file, and the coroutine that drives
// the machine over the HTTP client.
#include "registry/registry_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include "http/client.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace mrsi::registry {
namespace asio = boost::asio;
namespace json = boost::json;
namespace {

constexpr std::size_t registry_body_limit = 16 * 1024 * 1024;
constexpr std::size_t max_pages = 100000;

// Built by appending: g++ 12 misreports `"lit" + std::string` as an overflow (-Wrestrict).
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

}  // namespace

// ---- resolution_machine -------------------------------------------------------------------

resolution_machine::resolution_machine(registry_uri uri, std::string base_url, std::uint32_t page_size,
                                       bool token_sent)
    : uri_(std::move(uri)), page_size_(page_size == 0 ? 100 : page_size), token_sent_(token_sent) {
  res_.registry_url = std::move(base_url);
  url_ = find_registered_model_url(res_.registry_url, uri_.model);
}

std::string resolution_machine::version_label() const {
  const auto& v = res_.version;
  std::string label = "version " + quoted(v.name.empty() ? v.id : v.name);
  if (uri_.version) return label + " of " + quoted(uri_.model);
  return "latest " + label + " of " + quoted(uri_.model);
}

void resolution_machine::fail_status(unsigned status, std::string_view body, std::string what) {
  const server_error se = parse_error_body(body);
  diagnostics d;
  d.url = url_;
  d.http_status = status;
  d.server_code = se.code;
  d.server_message = se.message;
  const std::string& base = res_.registry_url;
  if (status == 401 || status == 403) {
    std::string msg = "model registry " + base + " refused the credentials (HTTP " + std::to_string(status) +
                      ") while looking up " + what + "; ";
    msg += token_sent_ ? "the bearer token from MODEL_REGISTRY_TOKEN or MODEL_REGISTRY_TOKEN_FILE was rejected"
                       : "no token was sent: set MODEL_REGISTRY_TOKEN or MODEL_REGISTRY_TOKEN_FILE";
    throw error(errc::source, msg, d);
  }
  if (status == 404) {
    std::string msg;
    switch (step_) {
      case step::find_model:
        msg = "registered model " + quoted(uri_.model) + " not found in registry " + base;
        if (!not_found_hint_.empty()) msg += " (" + not_found_hint_ + ")";
        break;
      case step::find_version:
        msg = "version " + quoted(*uri_.version) + " of registered model " + quoted(uri_.model) +
              " not found in registry " + base;
        break;
      default:
        msg = "could not list " + what + " in registry " + base + ": not found";
        break;
    }
    throw error(errc::source, msg, d);
  }
  if (status >= 500 || status == 429 || status == 408)
    throw error(errc::network,
                "model registry " + base + " failed with HTTP " + std::to_string(status) + " while looking up " + what,
                d);
  throw error(errc::source,
              "model registry " + base + " answered HTTP " + std::to_string(status) + " while looking up " + what, d);
}

void resolution_machine::fail_malformed(const std::string& why) {
  std::string what;
  switch (step_) {
    case step::find_model: what = "registered model " + quoted(uri_.model); break;
    case step::find_version: what = "version " + quoted(*uri_.version) + " of " + quoted(uri_.model); break;
    case step::list_versions: what = "the versions of " + quoted(uri_.model); break;
    default: what = "the artifacts of " + version_label(); break;
  }
  diagnostics d;
  d.url = url_;
  throw error(errc::source,
              "model registry " + res_.registry_url + " sent a malformed response while looking up " + what + ": " + why,
              d);
}

void resolution_machine::next_page(const std::string& token) {
  if (!seen_tokens_.insert(token).second)
    fail_malformed("nextPageToken " + quoted(token) + " was returned twice (pagination loop)");
  if (++pages_ >= max_pages) fail_malformed("more than " + std::to_string(max_pages) + " pages");
  if (step_ == step::list_versions)
    url_ = model_versions_page_url(res_.registry_url, res_.model.id, page_size_, token);
  else
    url_ = artifacts_page_url(res_.registry_url, res_.version.id, filtered_, page_size_, token);
}

void resolution_machine::start_artifacts() {
  step_ = step::list_artifacts;
  seen_tokens_.clear();
  pages_ = 0;
  best_artifact_.reset();
  artifacts_seen_ = model_artifacts_without_uri_ = 0;
  url_ = artifacts_page_url(res_.registry_url, res_.version.id, filtered_, page_size_, "");
}

void resolution_machine::finish_versions() {
  if (!best_version_) {
    std::string msg = "registered model " + quoted(uri_.model) + " has no LIVE version in registry " + res_.registry_url;
    if (versions_seen_ == 0)
      msg += " (it has no versions)";
    else
      msg += " (" + std::to_string(versions_seen_) + " version(s), " + std::to_string(archived_seen_) +
             " ARCHIVED; name one explicitly as model-registry://.../MODEL/VERSION to use it)";
    diagnostics d;
    d.url = url_;
    throw error(errc::source, msg, d);
  }
  res_.version = *best_version_;
  start_artifacts();
}

void resolution_machine::finish_artifacts() {
  if (!best_artifact_) {
    std::string msg = version_label() + " has no model artifact with a URI in registry " + res_.registry_url;
    if (artifacts_seen_ == 0)
      msg += filtered_ ? " (it has no model artifacts)" : " (it has no artifacts)";
    else if (model_artifacts_without_uri_ > 0)
      msg += " (" + std::to_string(model_artifacts_without_uri_) + " model artifact(s) with an empty uri)";
    else
      msg += " (" + std::to_string(artifacts_seen_) + " artifact(s) of other types)";
    diagnostics d;
    d.url = url_;
    throw error(errc::source, msg, d);
  }
  res_.model_artifact = *best_artifact_;
  const auto& st = res_.model_artifact.state;
  if (st == "DELETED" || st == "MARKED_FOR_DELETION" || st == "ABANDONED" || st == "PENDING")
    res_.warnings.push_back("model artifact " + quoted(res_.model_artifact.id) + " of " + version_label() +
                            " is in state " + st);
  step_ = step::done;
  url_.clear();
}

void resolution_machine::feed(unsigned status, std::string_view body) {
  if (done()) throw error(errc::internal, "resolution_machine::feed called after the resolution finished");
  const bool ok = status >= 200 && status <= 299;
  switch (step_) {
    case step::find_model: {
      if (!ok) fail_status(status, body, "registered model " + quoted(uri_.model));
      try {
        res_.model = parse_registered_model(body);
      } catch (const error& e) {
        fail_malformed(e.what());
      }
      if (res_.model.state == "ARCHIVED")
        res_.warnings.push_back("registered model " + quoted(uri_.model) + " is ARCHIVED");
      if (uri_.version) {
        step_ = step::find_version;
        url_ = find_model_version_url(res_.registry_url, *uri_.version, res_.model.id);
      } else {
        step_ = step::list_versions;
        seen_tokens_.clear();
        pages_ = 0;
        url_ = model_versions_page_url(res_.registry_url, res_.model.id, page_size_, "");
      }
      return;
    }
    case step::find_version: {
      if (!ok) fail_status(status, body, "version " + quoted(*uri_.version) + " of " + quoted(uri_.model));
      try {
        res_.version = parse_model_version(body);
      } catch (const error& e) {
        fail_malformed(e.what());
      }
      if (!res_.version.registered_model_id.empty() && res_.version.registered_model_id != res_.model.id)
        fail_malformed("the version belongs to registered model id " + quoted(res_.version.registered_model_id) +
                       ", not " + quoted(res_.model.id));
      if (res_.version.state == "ARCHIVED")
        res_.warnings.push_back("version " + quoted(*uri_.version) + " of " + quoted(uri_.model) +
                                " is ARCHIVED; using it because it was named explicitly");
      start_artifacts();
      return;
    }
    case step::list_versions: {
      if (!ok) fail_status(status, body, "the versions of registered model " + quoted(uri_.model));
      page<model_version> p;
      try {
        p = parse_model_version_list(body);
      } catch (const error& e) {
        fail_malformed(e.what());
      }
      for (auto& v : p.items) {
        ++versions_seen_;
        if (v.state == "ARCHIVED") ++archived_seen_;
        // Compare here rather than trust the server's order: old MLMD-backed servers ignore
        // orderBy and return the oldest first.
        if (is_live(v) && (!best_version_ || newer_than(v, *best_version_))) best_version_ = std::move(v);
      }
      if (p.next_page_token.empty())
        finish_versions();
      else
        next_page(p.next_page_token);
      return;
    }
    case step::list_artifacts: {
      if (!ok) {
        if (filtered_ && (status == 400 || status == 422)) {
          // Servers older than v0.3.0 reject artifactType: list everything, filter here.
          const server_error se = parse_error_body(body);
          res_.warnings.push_back("model registry " + res_.registry_url + " rejected the artifactType filter (HTTP " +
                                  std::to_string(status) + (se.message.empty() ? "" : ": " + se.message) +
                                  "); listing all artifacts and filtering them here");
          filtered_ = false;
          start_artifacts();
          return;
        }
        fail_status(status, body, "the artifacts of " + version_label());
      }
      page<artifact> p;
      try {
        p = parse_artifact_list(body);
      } catch (const error& e) {
        fail_malformed(e.what());
      }
      for (auto& a : p.items) {
        ++artifacts_seen_;
        if (a.artifact_type == "model-artifact" && a.uri.empty()) ++model_artifacts_without_uri_;
        if (is_usable_model_artifact(a) && (!best_artifact_ || newer_than(a, *best_artifact_)))
          best_artifact_ = std::move(a);
      }
      if (p.next_page_token.empty())
        finish_artifacts();
      else
        next_page(p.next_page_token);
      return;
    }
    case step::done:
      break;
  }
}

resolution resolution_machine::take_result() {
  if (!done()) throw error(errc::internal, "resolution_machine::take_result called before the resolution finished");
  return std::move(res_);
}

// ---- JSON output ----------------------------------------------------------------------------

std::string to_json(const resolution& r) {
  json::object out;
  out["registryUrl"] = r.registry_url;
  out["uri"] = r.model_artifact.uri;
  out["registeredModel"] = json::object{{"id", r.model.id}, {"name", r.model.name}};
  out["modelVersion"] = json::object{{"id", r.version.id}, {"name", r.version.name}, {"state", r.version.state}};
  const auto& a = r.model_artifact;
  out["modelArtifact"] = json::object{{"id", a.id},
                                      {"name", a.name},
                                      {"uri", a.uri},
                                      {"modelFormatName", a.model_format_name},
                                      {"modelFormatVersion", a.model_format_version},
                                      {"storageKey", a.storage_key},
                                      {"storagePath", a.storage_path},
                                      {"serviceAccountName", a.service_account_name}};
  json::array warnings;
  for (const auto& w : r.warnings) warnings.emplace_back(w);
  out["warnings"] = std::move(warnings);
  return json::serialize(out);
}

// ---- token ----------------------------------------------------------------------------------

std::string load_token(const registry_config& cfg) {
  std::string token = cfg.token;
  std::string source = "MODEL_REGISTRY_TOKEN";
  if (token.empty() && !cfg.token_file.empty()) {
    source = "MODEL_REGISTRY_TOKEN_FILE " + cfg.token_file;
    std::ifstream in(cfg.token_file, std::ios::binary);
    if (!in) throw error(errc::usage, "cannot read " + source + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    token = ss.str();
    token = std::string(trim(token, " \t\r\n"));
    if (token.empty()) throw error(errc::usage, source + " is empty");
  }
  for (unsigned char c : token)
    if (c < 0x20 || c == 0x7f) throw error(errc::usage, "the token from " + source + " contains control characters");
  return token;
}

// ---- the coroutine --------------------------------------------------------------------------

namespace {

http::request registry_request(std::string url, const std::string& token) {
  http::request req;
  req.method = "GET";
  req.url = std::move(url);
  req.headers.emplace_back("Accept", "application/json");
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  return req;
}

std::string two_segment_hint(const registry_uri& u) {
  return "\"" + u.host + "\" was read as the registry host because it contains a '.' or a port or is localhost; "
         "if it is a model name, percent-encode it (e.g. '.' as %2E) or name the registry host first";
}

}  // namespace

asio::awaitable<resolution> resolve(registry_uri uri, registry_config cfg, http::client& client) {
  auto ex = co_await asio::this_coro::executor;
  const std::string token = load_token(cfg);

  std::unique_ptr<http::client> own;
  http::client* c = &client;
  if (!cfg.ca_bundle.empty() && cfg.ca_bundle != client.config().ca_bundle) {
    http::client_config cc = client.config();
    cc.ca_bundle = cfg.ca_bundle;
    own = std::make_unique<http::client>(ex, std::move(cc));
    c = own.get();
  }

  std::string hint;
  if (uri.host_ambiguous) {
    const std::string candidate = uri.model;
    bool is_host = false;
    std::string why;
    if (iequals(candidate, cfg.base_authority)) {
      is_host = true;  // it is the configured registry host itself
    } else {
      http::client_config pc = c->config();
      auto clamp = [&](std::chrono::milliseconds& t) { t = std::min(t, cfg.probe_timeout); };
      clamp(pc.timeout.resolve);
      clamp(pc.timeout.connect);
      clamp(pc.timeout.tls_handshake);
      clamp(pc.timeout.response_headers);
      clamp(pc.timeout.idle_read);
      http::client probe(ex, std::move(pc));
      retry_policy once;
      once.max_attempts = 1;
      const std::string url = probe_url(candidate, cfg);
      try {
        // No token: the host is not confirmed yet, and an auth proxy's 401 is answer enough.
        http::response r = co_await probe.fetch(registry_request(url, ""), {}, once, 1024 * 1024);
        is_host = probe_says_registry(r.status, r.body);
        why = url + " answered HTTP " + std::to_string(r.status) + " but not as a model registry";
      } catch (const error& e) {
        why = url + " did not answer: " + e.what();
      } catch (const boost::system::system_error& e) {
        why = url + " did not answer: " + e.what();
      }
    }
    if (is_host)
      uri = as_host_form(uri);
    else
      hint = "\"" + candidate + "\" was read as a model name because " + why;
  }

  const std::string base = registry_base_url(uri, cfg);
  resolution_machine m(uri, base, cfg.page_size, !token.empty());
  m.set_not_found_hint(hint);
  while (!m.done()) {
    http::response r;
    std::optional<error> failure;
    try {
      r = co_await c->fetch(registry_request(m.next_url(), token), {}, cfg.retry, registry_body_limit);
    } catch (const error& e) {
      if (e.kind() != errc::network) throw;
      failure = e;
    } catch (const boost::system::system_error& e) {
      diagnostics d;
      d.url = m.next_url();
      failure = error(errc::network, e.what(), d);
    }
    if (failure) {
      std::string msg = "cannot reach the model registry at " + base + ": " + failure->what();
      if (uri.host_from_two_segments) msg += " (" + two_segment_hint(uri) + ")";
      throw error(errc::network, msg, failure->diag());
    }
    m.feed(r.status, r.body);
  }
  co_return m.take_result();
}

}  // namespace mrsi::registry
