// s3:// configuration from KServe's environment variables and STORAGE_CONFIG JSON.
#include "storage/s3_config.hpp"

#include <charconv>
#include <filesystem>
#include <system_error>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

namespace mrsi::storage::s3 {

namespace {

boost::json::object parse_object(const env_map& env, std::string_view name) {
  auto v = env_get(env, name);
  if (!v || v->find_first_not_of(" \t\r\n") == std::string::npos) return {};
  boost::system::error_code ec;
  auto value = boost::json::parse(*v, ec);
  if (ec || !value.is_object())
    throw error(errc::usage, std::string(name) + " is not a JSON object");
  return value.as_object();
}

// JSON scalars as the strings an environment variable would hold.
std::string as_env_string(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_null()) return "";
  return boost::json::serialize(v);
}

std::optional<std::chrono::milliseconds> seconds_setting(const env_map& env, std::string_view name) {
  auto v = env_first(env, {name});
  if (!v) return std::nullopt;
  double s = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), s);
  if (ec != std::errc{} || p != v->data() + v->size() || !(s > 0))
    throw error(errc::usage, std::string(name) + " must be a positive number of seconds, not \"" + *v + "\"");
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

std::optional<int> int_setting(const env_map& env, std::string_view name) {
  auto v = env_first(env, {name});
  if (!v) return std::nullopt;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size() || n < 1)
    throw error(errc::usage, std::string(name) + " must be a positive integer, not \"" + *v + "\"");
  return n;
}

// KServe's rule for S3_VERIFY_SSL and S3_USE_HTTPS: only "0" and "false" turn them off.
bool kserve_flag(const env_map& env, std::string_view name) {
  auto v = env_get(env, name);
  if (!v) return true;
  auto s = ascii_lower(*v);
  return !(s == "0" || s == "false");
}

}  // namespace

env_map apply_storage_config(const env_map& env) {
  auto merged = parse_object(env, "STORAGE_CONFIG");
  for (const auto& [k, v] : parse_object(env, "STORAGE_OVERRIDE_CONFIG")) merged[k] = v;
  env_map out = env;
  auto type = merged.if_contains("type");
  if (!type || as_env_string(*type) != "s3") return out;
  static constexpr std::pair<std::string_view, std::string_view> mapping[] = {
      {"endpoint_url", "AWS_ENDPOINT_URL"},
      {"access_key_id", "AWS_ACCESS_KEY_ID"},
      {"secret_access_key", "AWS_SECRET_ACCESS_KEY"},
      {"region", "AWS_DEFAULT_REGION"},
      {"ca_bundle", "AWS_CA_BUNDLE"},
      {"verify_ssl", "S3_VERIFY_SSL"},
      {"anonymous", "awsAnonymousCredential"},
  };
  for (auto [key, var] : mapping) {
    auto v = merged.if_contains(key);
    if (!v) continue;
    out.insert_or_assign(std::string(var), as_env_string(*v));
    // The JSON region must win over AWS_REGION too, which we otherwise prefer.
    if (key == "region") out.erase("AWS_REGION");
    // The JSON endpoint must win over the more specific variables as well.
    if (key == "endpoint_url") out.erase("AWS_ENDPOINT_URL_S3");
  }
  return out;
}

std::string normalize_endpoint(std::string_view endpoint, std::string_view default_scheme) {
  std::string e(endpoint);
  while (!e.empty() && (e.back() == '/' || e.back() == ' ')) e.pop_back();
  while (!e.empty() && e.front() == ' ') e.erase(0, 1);
  if (e.empty()) throw error(errc::usage, "empty S3 endpoint");
  std::string scheme(default_scheme);
  if (auto sep = e.find("://"); sep != std::string::npos) {
    scheme = ascii_lower(e.substr(0, sep));
    e = e.substr(sep + 3);
  }
  if (scheme != "http" && scheme != "https")
    throw error(errc::usage, "S3 endpoint must be http:// or https://, not " + redact_url(endpoint));
  auto slash = e.find('/');
  std::string authority = ascii_lower(e.substr(0, slash));
  std::string base = slash == std::string::npos ? std::string() : e.substr(slash);
  if (authority.empty()) throw error(errc::usage, "S3 endpoint has no host: " + redact_url(endpoint));
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  if (authority.size() > default_port.size() &&
      authority.compare(authority.size() - default_port.size(), default_port.size(), default_port) == 0 &&
      authority.find(']', authority.size() - default_port.size()) == std::string::npos)
    authority.erase(authority.size() - default_port.size());
  return scheme + "://" + authority + base;
}

config load_config(const env_map& raw_env, const file_exists_fn& file_exists) {
  const env_map env = apply_storage_config(raw_env);
  auto exists = file_exists ? file_exists : [](const std::string& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
  };
  config c;

  if (auto r = env_first(env, {"AWS_REGION", "AWS_DEFAULT_REGION"})) c.region = *r;

  if (auto e = env_first(env, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})) {
    c.endpoint = normalize_endpoint(*e, "https");
  } else if (auto s = env_first(env, {"S3_ENDPOINT"})) {
    c.endpoint = normalize_endpoint(*s, kserve_flag(env, "S3_USE_HTTPS") ? "https" : "http");
  }
  c.virtual_hosted = env_bool(env, "S3_USER_VIRTUAL_BUCKET", c.endpoint.empty());

  c.verify_tls = kserve_flag(env, "S3_VERIFY_SSL");
  if (auto b = env_first(env, {"AWS_CA_BUNDLE"})) {
    if (!exists(*b)) throw error(errc::usage, "AWS_CA_BUNDLE names a file that does not exist: " + *b);
    c.ca_bundle = *b;
  } else if (auto cm = env_first(env, {"CA_BUNDLE_CONFIGMAP_NAME"})) {
    std::string dir = env_first(env, {"CA_BUNDLE_VOLUME_MOUNT_POINT"}).value_or("/etc/ssl/custom-certs");
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    std::string path = dir + "/cabundle.crt";
    if (!exists(path))
      throw error(errc::usage, "CA bundle from config map " + *cm + " not found at " + path +
                                   " (CA_BUNDLE_VOLUME_MOUNT_POINT)");
    c.ca_bundle = path;
  }

  c.anonymous = env_bool(env, "awsAnonymousCredential", false);
  if (!c.anonymous) {
    auto id = env_first(env, {"AWS_ACCESS_KEY_ID"});
    auto secret = env_first(env, {"AWS_SECRET_ACCESS_KEY"});
    if (id && secret) {
      c.static_credentials = {*id, *secret, env_first(env, {"AWS_SESSION_TOKEN"}).value_or("")};
    } else if (id || secret) {
      throw error(errc::usage, std::string(id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                                              : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
    } else if (auto role = env_first(env, {"AWS_ROLE_ARN"})) {
      auto token = env_first(env, {"AWS_WEB_IDENTITY_TOKEN_FILE"});
      if (!token) throw error(errc::usage, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
      web_identity w;
      w.role_arn = *role;
      w.token_file = *token;
      w.session_name = env_first(env, {"AWS_ROLE_SESSION_NAME"}).value_or("mr-storage-initializer");
      if (auto sts = env_first(env, {"AWS_ENDPOINT_URL_STS"})) {
        w.sts_endpoint = normalize_endpoint(*sts, "https");
      } else if (ascii_lower(env_first(env, {"AWS_STS_REGIONAL_ENDPOINTS"}).value_or("regional")) == "legacy") {
        w.sts_endpoint = "https://sts.amazonaws.com";
      } else {
        w.sts_endpoint = "https://sts." + c.region + ".amazonaws.com";
      }
      c.irsa = std::move(w);
    }
  }

  c.verify_md5 = env_bool(env, "S3_VERIFY_MD5", true);
  c.connect_timeout = seconds_setting(env, "S3_CONNECT_TIMEOUT");
  c.read_timeout = seconds_setting(env, "S3_READ_TIMEOUT");
  c.max_attempts = int_setting(env, "S3_MAX_ATTEMPTS");
  c.max_file_concurrency = int_setting(env, "S3_MAX_FILE_CONCURRENCY");
  return c;
}

void apply_to_client_config(const config& cfg, http::client_config& client) {
  if (!cfg.ca_bundle.empty()) client.ca_bundle = cfg.ca_bundle;
  if (!cfg.verify_tls) client.insecure = true;
  if (cfg.connect_timeout) {
    client.timeout.connect = *cfg.connect_timeout;
    client.timeout.tls_handshake = *cfg.connect_timeout;
  }
  if (cfg.read_timeout) {
    client.timeout.response_headers = *cfg.read_timeout;
    client.timeout.idle_read = *cfg.read_timeout;
  }
}

}  // namespace mrsi::storage::s3
