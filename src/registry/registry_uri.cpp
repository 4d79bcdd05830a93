// model-registry:// URI parsing, registry settings from the environment, and the REST URLs.
#include "registry/registry_uri.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>

#include "util/error.hpp"
#include "util/text.hpp"

namespace mrsi::registry {
namespace {

constexpr std::string_view scheme_prefix = "model-registry://";
constexpr std::string_view api_prefix = "/api/model_registry/v1alpha3";
constexpr std::string_view grammar_hint =
    "expected model-registry://[HOST[:PORT]/]MODEL[/VERSION][?namespace=NS]";

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

[[noreturn]] void uri_error(std::string_view text, const std::string& why) {
  throw error(errc::usage, "invalid model-registry URI \"" + std::string(text) + "\": " + why);
}

// RFC 1123 label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen.
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// Dot-separated DNS labels (one trailing dot allowed, as in FQDNs).
bool is_reg_name(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  while (true) {
    auto dot = s.find('.');
    if (!is_dns_label(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

// Characters a host (reg-name or IPv4) may be written with, before the label rules are checked.
bool host_chars(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '.'; });
}

// Splits "host:port" / "[v6]:port" into host and port text (port empty when absent). `has_port`
// tells "host:" (empty port) from "host".
struct host_port {
  std::string_view host;
  std::string_view port;
  bool has_port = false;
};

std::optional<host_port> split_host_port(std::string_view s) {
  host_port hp;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = s.substr(0, close + 1);
    auto rest = s.substr(close + 1);
    if (rest.empty()) return hp;
    if (rest.front() != ':') return std::nullopt;
    hp.port = rest.substr(1);
    hp.has_port = true;
    return hp;
  }
  auto colon = s.find(':');
  if (colon == std::string_view::npos) {
    hp.host = s;
    return hp;
  }
  if (s.find(':', colon + 1) != std::string_view::npos) return std::nullopt;  // bare IPv6
  hp.host = s.substr(0, colon);
  hp.port = s.substr(colon + 1);
  hp.has_port = true;
  return hp;
}

bool valid_ipv6_literal(std::string_view bracketed) {
  if (bracketed.size() < 3 || bracketed.front() != '[' || bracketed.back() != ']') return false;
  return static_cast<bool>(boost::urls::parse_ipv6_address(bracketed.substr(1, bracketed.size() - 2)));
}

// "\"text\"", built by appending (g++ 12 misreports `"lit" + std::string` as an overflow).
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

// Empty when `authority` ("host[:port]") is valid, else why not.
std::string authority_problem(std::string_view authority) {
  auto hp = split_host_port(authority);
  if (!hp) return quoted(authority) + " is not a valid host[:port]";
  if (hp->host.empty()) return "empty host";
  if (hp->host.front() == '[') {
    if (!valid_ipv6_literal(hp->host)) return quoted(hp->host) + " is not a valid IPv6 literal";
  } else if (!is_reg_name(hp->host)) {
    return quoted(hp->host) + " is not a valid host name";
  }
  if (hp->has_port) {
    if (hp->port.empty()) return "empty port after ':' in \"" + std::string(authority) + "\"";
    if (!all_digits(hp->port)) return "port \"" + std::string(hp->port) + "\" is not a number";
    if (!is_valid_port(hp->port))
      return "port " + std::string(hp->port) + " is out of range (1-65535)";
  }
  return {};
}

std::string percent_decode(std::string_view text, std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      uri_error(text, "bad percent-escape \"" + std::string(s.substr(i, 3)) + "\" in the " +
                          std::string(what) + " (write '%' itself as %25)");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  for (unsigned char c : out)
    if (c < 0x20 || c == 0x7f)
      uri_error(text, "the " + std::string(what) + " contains a control character");
  return out;
}

void check_namespace(std::string_view text, std::string_view ns) {
  if (ns.empty()) uri_error(text, "empty ?namespace= value");
  if (!is_dns_label(ns))
    uri_error(text, "namespace \"" + std::string(ns) +
                        "\" is not a valid Kubernetes namespace (letters, digits and '-', at most 63)");
}

std::string port_of(std::string_view authority) {
  auto hp = split_host_port(authority);
  if (hp && hp->has_port && !hp->port.empty()) return std::string(hp->port);
  return "8080";
}

}  // namespace

bool looks_like_host(std::string_view seg) {
  if (seg.empty() || seg.find('%') != std::string_view::npos) return false;
  if (seg.front() == '[') return true;
  auto hp = split_host_port(seg);
  if (!hp) return false;
  if (hp->has_port) return all_digits(hp->port) && host_chars(hp->host);
  if (iequals(hp->host, "localhost")) return true;
  return host_chars(hp->host) && hp->host.find('.') != std::string_view::npos;
}

registry_uri parse_registry_uri(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) uri_error(text, "contains a control character");
  if (!istarts_with(text, scheme_prefix)) {
    if (istarts_with(text, "model-registry:"))
      uri_error(text, std::string(grammar_hint));
    throw error(errc::usage, "not a model-registry:// URI: \"" + std::string(text) + "\"");
  }
  std::string_view rest = text.substr(scheme_prefix.size());
  if (rest.find('#') != std::string_view::npos)
    uri_error(text, "a fragment ('#') is not allowed; write '#' inside names as %23");

  registry_uri u;
  std::string_view path = rest, query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }

  bool have_ns = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (param.empty()) continue;
    auto eq = param.find('=');
    std::string key = percent_decode(text, param.substr(0, eq), "query");
    std::string value =
        eq == std::string_view::npos ? std::string{} : percent_decode(text, param.substr(eq + 1), "query");
    if (key != "namespace")
      uri_error(text, "unknown query parameter \"" + key + "\" (only ?namespace=NS is supported)");
    if (have_ns) uri_error(text, "?namespace= is given more than once");
    check_namespace(text, value);
    u.ns = value;
    have_ns = true;
  }

  if (!path.empty() && path.back() == '/') path.remove_suffix(1);  // "iris/" means "iris"
  if (path.empty()) uri_error(text, "no model name; " + std::string(grammar_hint));

  std::vector<std::string_view> segs;
  while (true) {
    auto slash = path.find('/');
    segs.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  for (auto s : segs)
    if (s.empty())
      uri_error(text, "empty path segment (\"//\", or a '/' right after \"://\"); " + std::string(grammar_hint));
  if (segs.size() > 3)
    uri_error(text, std::to_string(segs.size()) +
                        " path segments, at most 3 (HOST/MODEL/VERSION); write '/' inside names as %2F");

  auto set_host = [&](std::string_view seg) {
    if (auto why = authority_problem(seg); !why.empty())
      uri_error(text, "invalid registry host: " + why +
                          " (if it is a model name, percent-encode it, e.g. '.' as %2E and ':' as %3A)");
    if (have_ns)
      uri_error(text, "a registry host (\"" + std::string(seg) +
                          "\") and ?namespace= cannot be combined; use one or the other");
    u.host = std::string(seg);
  };

  switch (segs.size()) {
    case 1: {
      auto hp = split_host_port(segs[0]);
      if (looks_like_host(segs[0]) && hp && !hp->host.empty() &&
          (hp->has_port || hp->host.front() == '[' || iequals(hp->host, "localhost")))
        uri_error(text, "\"" + std::string(segs[0]) +
                            "\" names a registry host but no model; " + std::string(grammar_hint));
      u.model = percent_decode(text, segs[0], "model name");
      break;
    }
    case 2:
      if (looks_like_host(segs[0])) {
        set_host(segs[0]);
        u.model = percent_decode(text, segs[1], "model name");
        u.host_from_two_segments = true;
      } else {
        u.model = percent_decode(text, segs[0], "model name");
        u.version = percent_decode(text, segs[1], "version name");
        // Only a bare DNS label can be either; all-digit labels are not host names (RFC 1123).
        u.host_ambiguous = !have_ns && is_dns_label(segs[0]) && !all_digits(segs[0]);
      }
      break;
    case 3:
      set_host(segs[0]);
      u.model = percent_decode(text, segs[1], "model name");
      u.version = percent_decode(text, segs[2], "version name");
      break;
  }
  if (u.model.empty()) uri_error(text, "empty model name");
  if (u.version && u.version->empty()) uri_error(text, "empty version name");
  return u;
}

registry_uri as_host_form(const registry_uri& u) {
  registry_uri h;
  h.host = u.model;
  h.model = u.version.value_or(std::string{});
  h.ns = u.ns;
  return h;
}

registry_config registry_config_from_env(const env_map& env) {
  registry_config cfg;
  bool base_has_scheme = false;
  if (auto base = env_first(env, {"MODEL_REGISTRY_BASE_URL"})) {
    std::string_view v = *base;
    auto bad = [&](const std::string& why) -> void {
      throw error(errc::usage, "invalid MODEL_REGISTRY_BASE_URL \"" + *base + "\": " + why +
                                   " (expected host[:port] or http(s)://host[:port][/prefix])");
    };
    if (auto sep = v.find("://"); sep != std::string_view::npos) {
      std::string scheme = ascii_lower(v.substr(0, sep));
      if (scheme != "http" && scheme != "https") bad("scheme must be http or https");
      cfg.base_scheme = scheme;
      base_has_scheme = true;
      v.remove_prefix(sep + 3);
    }
    if (v.find_first_of("?#") != std::string_view::npos) bad("no query or fragment allowed");
    auto slash = v.find('/');
    std::string_view authority = v.substr(0, slash);
    std::string_view prefix = slash == std::string_view::npos ? std::string_view{} : v.substr(slash);
    if (authority.find('@') != std::string_view::npos)
      bad("credentials in the URL are not supported; use MODEL_REGISTRY_TOKEN");
    if (auto why = authority_problem(authority); !why.empty()) bad(why);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    cfg.base_authority = std::string(authority);
    cfg.base_prefix = std::string(prefix);
  }
  if (auto s = env_first(env, {"MODEL_REGISTRY_SCHEME"})) {
    cfg.scheme = ascii_lower(trim(*s));
    if (cfg.scheme != "http" && cfg.scheme != "https")
      throw error(errc::usage, "invalid MODEL_REGISTRY_SCHEME \"" + *s + "\": expected http or https");
  } else if (base_has_scheme) {
    cfg.scheme = cfg.base_scheme;
  }
  if (!base_has_scheme) cfg.base_scheme = cfg.scheme;

  if (auto s = env_first(env, {"MODEL_REGISTRY_SERVICE_NAME"})) {
    if (!is_dns_label(*s))
      throw error(errc::usage, "invalid MODEL_REGISTRY_SERVICE_NAME \"" + *s + "\": not a DNS label");
    cfg.service_name = *s;
  }
  if (auto s = env_first(env, {"MODEL_REGISTRY_CLUSTER_DOMAIN"})) {
    if (!is_reg_name(*s))
      throw error(errc::usage, "invalid MODEL_REGISTRY_CLUSTER_DOMAIN \"" + *s + "\": not a DNS name");
    cfg.cluster_domain = *s;
    if (cfg.cluster_domain.back() == '.') cfg.cluster_domain.pop_back();
  }
  if (auto s = env_first(env, {"MODEL_REGISTRY_TOKEN"})) cfg.token = std::string(trim(*s));
  if (auto s = env_first(env, {"MODEL_REGISTRY_TOKEN_FILE"})) cfg.token_file = *s;
  if (auto s = env_first(env, {"MODEL_REGISTRY_CA_BUNDLE"})) cfg.ca_bundle = *s;
  return cfg;
}

std::string registry_base_url(const registry_uri& u, const registry_config& cfg) {
  if (!u.host.empty()) return cfg.scheme + "://" + u.host;
  if (!u.ns.empty())
    return cfg.scheme + "://" + cfg.service_name + "." + u.ns + "." + cfg.cluster_domain + ":" +
           port_of(cfg.base_authority);
  return cfg.base_scheme + "://" + cfg.base_authority + cfg.base_prefix;
}

std::string probe_url(std::string_view host, const registry_config& cfg) {
  return cfg.scheme + "://" + std::string(host) + std::string(api_prefix) + "/registered_models?pageSize=1";
}

std::string find_registered_model_url(std::string_view base, std::string_view name) {
  return std::string(base) + std::string(api_prefix) + "/registered_model?name=" + percent_encode(name);
}

std::string find_model_version_url(std::string_view base, std::string_view name,
                                   std::string_view registered_model_id) {
  return std::string(base) + std::string(api_prefix) + "/model_version?name=" + percent_encode(name) +
         "&parentResourceId=" + percent_encode(registered_model_id);
}

std::string model_versions_page_url(std::string_view base, std::string_view registered_model_id,
                                    std::uint32_t page_size, std::string_view page_token) {
  std::string url = std::string(base) + std::string(api_prefix) + "/registered_models/" +
                    percent_encode(registered_model_id) +
                    "/versions?orderBy=CREATE_TIME&sortOrder=DESC&pageSize=" + std::to_string(page_size);
  if (!page_token.empty()) url += "&nextPageToken=" + percent_encode(page_token);
  return url;
}

std::string artifacts_page_url(std::string_view base, std::string_view model_version_id,
                               bool filter_model_artifacts, std::uint32_t page_size,
                               std::string_view page_token) {
  std::string url = std::string(base) + std::string(api_prefix) + "/model_versions/" +
                    percent_encode(model_version_id) + "/artifacts?";
  if (filter_model_artifacts) url += "artifactType=model-artifact&";
  url += "orderBy=CREATE_TIME&sortOrder=DESC&pageSize=" + std::to_string(page_size);
  if (!page_token.empty()) url += "&nextPageToken=" + percent_encode(page_token);
  return url;
}

}  // namespace mrsi::registry
