// SigV4 canonicalization and signing for S3.
#include "storage/s3_sigv4.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

namespace mrsi::storage::s3 {

namespace {

// Trims surrounding whitespace and folds inner runs of spaces into one, as SigV4 asks.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string date8_of(std::string_view amz_datetime) { return std::string(amz_datetime.substr(0, 8)); }

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) { return percent_encode(s, encode_slash); }

std::string uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

url_parts split_url(std::string_view url) {
  url_parts p;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) throw error(errc::usage, "not an absolute URL: " + redact_url(url));
  p.scheme = ascii_lower(url.substr(0, sep));
  if (p.scheme != "http" && p.scheme != "https")
    throw error(errc::usage, "not an http(s) URL: " + redact_url(url));
  std::string_view rest = url.substr(sep + 3);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  rest = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  if (authority.empty()) throw error(errc::usage, "URL without a host: " + redact_url(url));
  // Exactly as written: the HTTP client sends the URL's authority as the Host header.
  std::string host(authority);
  p.host = std::move(host);
  auto q = rest.find('?');
  p.path = std::string(rest.substr(0, q));
  if (p.path.empty()) p.path = "/";
  if (q != std::string_view::npos) p.query = std::string(rest.substr(q + 1));
  return p;
}

std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  std::string out;
  std::size_t start = 0;
  while (true) {
    auto slash = raw_path.find('/', start);
    out += uri_encode(uri_decode(raw_path.substr(start, slash - start)), true);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string canonical_query(std::string_view raw_query, std::string_view skip) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    auto amp = raw_query.find('&', start);
    std::string_view item = raw_query.substr(start, amp - start);
    if (!item.empty()) {
      auto eq = item.find('=');
      std::string name = uri_decode(item.substr(0, eq));
      std::string value = eq == std::string_view::npos ? std::string() : uri_decode(item.substr(eq + 1));
      if (name != skip) params.emplace_back(uri_encode(name), uri_encode(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

bool is_signed_header(std::string_view n) noexcept {
  return n == "host" || n.starts_with("x-amz-") || n == "range" || n == "if-match" ||
         n == "if-none-match" || n == "if-range" || n == "if-modified-since" ||
         n == "if-unmodified-since" || n == "content-type" || n == "content-md5";
}

canonical_form make_canonical_request(std::string_view method, const url_parts& url,
                                      const http::header_list& headers,
                                      std::string_view payload_hash) {
  std::map<std::string, std::string> signed_values;
  for (const auto& [name, value] : headers) {
    std::string n = ascii_lower(name);
    if (!is_signed_header(n) || n == "x-amz-signature") continue;
    auto v = canonical_header_value(value);
    auto [it, inserted] = signed_values.emplace(n, v);
    if (!inserted) it->second += "," + v;
  }
  if (!signed_values.contains("host")) signed_values.emplace("host", url.host);

  canonical_form f;
  f.request.reserve(256);
  f.request.append(method).push_back('\n');
  f.request.append(canonical_uri(url.path)).push_back('\n');
  f.request.append(canonical_query(url.query)).push_back('\n');
  for (const auto& [n, v] : signed_values) {
    f.request.append(n).append(":").append(v).push_back('\n');
    if (!f.signed_headers.empty()) f.signed_headers.push_back(';');
    f.signed_headers += n;
  }
  f.request.push_back('\n');
  f.request.append(f.signed_headers).push_back('\n');
  f.request.append(payload_hash);
  return f;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string credential_scope(std::string_view date8, std::string_view region, std::string_view service) {
  std::string s;
  s.append(date8).append("/").append(region).append("/").append(service).append("/aws4_request");
  return s;
}

std::string string_to_sign(std::string_view amz_datetime, std::string_view scope,
                           std::string_view canonical_request) {
  std::string s = "AWS4-HMAC-SHA256\n";
  s.append(amz_datetime).append("\n").append(scope).append("\n");
  s += crypto::sha256_hex(canonical_request);
  return s;
}

crypto::sha256_digest signing_key(std::string_view secret, std::string_view date8,
                                  std::string_view region, std::string_view service) {
  std::string k = "AWS4";
  k.append(secret);
  auto date_key = crypto::hmac_sha256(k, date8);
  auto region_key = crypto::hmac_sha256(date_key, region);
  auto service_key = crypto::hmac_sha256(region_key, service);
  return crypto::hmac_sha256(service_key, "aws4_request");
}

void sign_request(http::request& req, const credentials& creds, std::string_view region,
                  std::chrono::system_clock::time_point now, std::string_view service) {
  if (creds.empty()) return;
  const auto datetime = amz_date(now);
  const auto date8 = date8_of(datetime);
  http::remove_header(req.headers, "authorization");
  http::set_header(req.headers, "x-amz-date", datetime);
  if (!creds.session_token.empty())
    http::set_header(req.headers, "x-amz-security-token", creds.session_token);
  else
    http::remove_header(req.headers, "x-amz-security-token");
  std::string payload_hash;
  if (auto h = http::find_header(req.headers, "x-amz-content-sha256")) {
    payload_hash = std::string(*h);
  } else {
    if (!req.body.empty())
      payload_hash = crypto::sha256_hex(req.body);
    else if (req.method == "GET" || req.method == "HEAD")
      payload_hash = unsigned_payload;
    else
      payload_hash = empty_payload_sha256;
    http::set_header(req.headers, "x-amz-content-sha256", payload_hash);
  }
  const auto url = split_url(req.url);
  const auto form = make_canonical_request(req.method, url, req.headers, payload_hash);
  const auto scope = credential_scope(date8, region, service);
  const auto sts = string_to_sign(datetime, scope, form.request);
  const auto signature = crypto::hex(crypto::hmac_sha256(
      signing_key(creds.secret_access_key, date8, region, service), sts));
  std::string auth = "AWS4-HMAC-SHA256 Credential=";
  auth.append(creds.access_key_id).append("/").append(scope);
  auth.append(",SignedHeaders=").append(form.signed_headers);
  auth.append(",Signature=").append(signature);
  req.headers.emplace_back("Authorization", std::move(auth));
}

std::string presign_url(std::string_view method, std::string_view url_text, const credentials& creds,
                        std::string_view region, std::chrono::system_clock::time_point now,
                        std::chrono::seconds expires, std::string_view service) {
  if (creds.empty()) return std::string(url_text);
  const auto datetime = amz_date(now);
  const auto date8 = date8_of(datetime);
  const auto scope = credential_scope(date8, region, service);
  auto url = split_url(url_text);

  std::string added = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
  added += "&X-Amz-Credential=" + uri_encode(creds.access_key_id + "/" + scope);
  added += "&X-Amz-Date=" + datetime;
  added += "&X-Amz-Expires=" + std::to_string(std::clamp<long long>(expires.count(), 1, 604800));
  if (!creds.session_token.empty()) added += "&X-Amz-Security-Token=" + uri_encode(creds.session_token);
  added += "&X-Amz-SignedHeaders=host";
  url.query = url.query.empty() ? added : url.query + "&" + added;

  const auto form = make_canonical_request(method, url, {}, unsigned_payload);
  const auto sts = string_to_sign(datetime, scope, form.request);
  const auto signature = crypto::hex(crypto::hmac_sha256(
      signing_key(creds.secret_access_key, date8, region, service), sts));

  std::string base(url_text.substr(0, url_text.find_first_of("?#")));
  return base + "?" + url.query + "&X-Amz-Signature=" + signature;
}

}  // namespace mrsi::storage::s3
