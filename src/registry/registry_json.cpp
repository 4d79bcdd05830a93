// JSON parsing of Model Registry responses with Boost.JSON, strict on the fields the resolver
// uses, and the version/artifact selection rules.
#include "registry/registry_json.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>

#include "util/error.hpp"
#include "util/text.hpp"

namespace mrsi::registry {
namespace json = boost::json;
namespace {

[[noreturn]] void malformed(const std::string& why) { throw error(errc::source, why); }

const char* kind_name(json::kind k) {
  switch (k) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "something else";
}

// A short printable excerpt of a body for messages.
std::string excerpt(std::string_view body, std::size_t max = 200) {
  body = trim(body);
  std::string out;
  for (char c : body.substr(0, max)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (body.size() > max) out += "...";
  return out;
}

json::value parse_json(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) malformed("empty body, expected JSON");
    malformed("body is not valid JSON (" + ec.message() + "): " + excerpt(body));
  }
  return v;
}

const json::object& as_object(const json::value& v, const std::string& where) {
  if (!v.is_object())
    malformed((where.empty() ? std::string("the body") : where) + " is " + kind_name(v.kind()) +
              ", expected an object");
  return v.get_object();
}

std::string path_of(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

// Optional string field: empty when absent or null, an error when of another type.
std::string opt_string(const json::object& o, std::string_view key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return {};
  if (!it->value().is_string())
    malformed(path_of(where, key) + " is " + kind_name(it->value().kind()) + ", expected a string");
  return std::string(it->value().get_string());
}

std::string req_string(const json::object& o, std::string_view key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) malformed("required field " + path_of(where, key) + " is missing");
  std::string s = opt_string(o, key, where);
  if (s.empty()) malformed("required field " + path_of(where, key) + " is empty");
  return s;
}

// createTimeSinceEpoch: a string of decimal milliseconds (int64 format, string type in the spec).
std::int64_t opt_millis(const json::object& o, std::string_view key, const std::string& where) {
  std::string s = opt_string(o, key, where);
  if (s.empty()) return 0;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 0)
    malformed(path_of(where, key) + " is \"" + excerpt(s, 40) + "\", expected milliseconds since the epoch");
  return v;
}

registered_model model_from(const json::value& v, const std::string& where) {
  const auto& o = as_object(v, where);
  registered_model m;
  m.id = req_string(o, "id", where);
  m.name = opt_string(o, "name", where);
  m.state = opt_string(o, "state", where);
  return m;
}

model_version version_from(const json::value& v, const std::string& where) {
  const auto& o = as_object(v, where);
  model_version m;
  m.id = req_string(o, "id", where);
  m.name = opt_string(o, "name", where);
  m.state = opt_string(o, "state", where);
  m.registered_model_id = opt_string(o, "registeredModelId", where);
  m.create_time_ms = opt_millis(o, "createTimeSinceEpoch", where);
  return m;
}

artifact artifact_from(const json::value& v, const std::string& where) {
  const auto& o = as_object(v, where);
  artifact a;
  a.id = req_string(o, "id", where);
  a.name = opt_string(o, "name", where);
  a.artifact_type = opt_string(o, "artifactType", where);
  a.uri = opt_string(o, "uri", where);
  a.state = opt_string(o, "state", where);
  a.model_format_name = opt_string(o, "modelFormatName", where);
  a.model_format_version = opt_string(o, "modelFormatVersion", where);
  a.storage_key = opt_string(o, "storageKey", where);
  a.storage_path = opt_string(o, "storagePath", where);
  a.service_account_name = opt_string(o, "serviceAccountName", where);
  a.create_time_ms = opt_millis(o, "createTimeSinceEpoch", where);
  return a;
}

template <class T, class F>
page<T> list_from(std::string_view body, F item_from) {
  json::value v = parse_json(body);
  const auto& o = as_object(v, "");
  page<T> p;
  auto it = o.find("items");
  // The server omits "items" when a page is empty (Go omitempty); null is treated the same way.
  if (it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array())
      malformed(std::string("items is ") + kind_name(it->value().kind()) + ", expected an array");
    const auto& arr = it->value().get_array();
    p.items.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i)
      p.items.push_back(item_from(arr[i], "items[" + std::to_string(i) + "]"));
  }
  p.next_page_token = opt_string(o, "nextPageToken", "");
  return p;
}

}  // namespace

int compare_ids(std::string_view a, std::string_view b) {
  auto numeric = [](std::string_view s) {
    return !s.empty() && s.size() <= 18 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (numeric(a) && numeric(b)) {
    auto ta = a.find_first_not_of('0'), tb = b.find_first_not_of('0');
    a = ta == std::string_view::npos ? std::string_view{} : a.substr(ta);
    b = tb == std::string_view::npos ? std::string_view{} : b.substr(tb);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  }
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

registered_model parse_registered_model(std::string_view body) {
  return model_from(parse_json(body), "");
}

model_version parse_model_version(std::string_view body) { return version_from(parse_json(body), ""); }

page<model_version> parse_model_version_list(std::string_view body) {
  return list_from<model_version>(body, version_from);
}

page<artifact> parse_artifact_list(std::string_view body) { return list_from<artifact>(body, artifact_from); }

server_error parse_error_body(std::string_view body) {
  server_error e;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    auto str = [&](std::string_view k) -> std::string {
      auto it = o.find(k);
      return it != o.end() && it->value().is_string() ? excerpt(it->value().get_string(), 400) : std::string{};
    };
    e.code = str("code");
    e.message = str("message");
    if (e.message.empty()) e.message = str("detail");  // problem+json (e.g. from a proxy)
    if (e.code.empty()) e.code = str("title");
    if (!e.code.empty() || !e.message.empty()) return e;
  }
  e.message = excerpt(body, 300);
  return e;
}

bool probe_says_registry(unsigned status, std::string_view body) {
  if (status == 401 || status == 403) return true;
  if (status < 200 || status > 299) return false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.get_object();
  // An empty registry may omit "items"; "size" and "pageSize" are required in every list.
  return o.contains("items") || (o.contains("size") && o.contains("pageSize"));
}

namespace {

// One order for versions and artifacts: createTimeSinceEpoch, then the numeric id.
template <class T>
bool created_after(const T& a, const T& b) {
  if (a.create_time_ms != b.create_time_ms) return a.create_time_ms > b.create_time_ms;
  return compare_ids(a.id, b.id) > 0;
}

// The newest of the items that `eligible` accepts.
template <class T, class Pred>
std::optional<T> newest_of(const std::vector<T>& items, Pred eligible) {
  std::optional<T> best;
  for (const auto& x : items)
    if (eligible(x) && (!best || created_after(x, *best))) best = x;
  return best;
}

}  // namespace

bool is_live(const model_version& v) { return v.state.empty() || v.state == "LIVE"; }

bool newer_than(const model_version& a, const model_version& b) { return created_after(a, b); }

std::optional<model_version> newest_live(const std::vector<model_version>& versions) {
  return newest_of(versions, [](const model_version& v) { return is_live(v); });
}

bool is_usable_model_artifact(const artifact& a) {
  return a.artifact_type == "model-artifact" && !a.uri.empty();
}

bool newer_than(const artifact& a, const artifact& b) { return created_after(a, b); }

std::optional<artifact> newest_model_artifact(const std::vector<artifact>& artifacts) {
  return newest_of(artifacts, [](const artifact& a) { return is_usable_model_artifact(a); });
}

}  // namespace mrsi::registry
