// s3:// provider: credentials, HEAD-then-list, ListObjectsV2 pagination, S3 error mapping.
#include "storage/s3_provider.hpp"

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/client.hpp"
#include "storage/s3_addressing.hpp"
#include "storage/s3_mapping.hpp"
#include "storage/s3_xml.hpp"
#include "util/error.hpp"
#include "util/redact.hpp"

namespace mrsi::storage::s3 {

namespace asio = boost::asio;

namespace {

struct signing_context {
  credentials creds;
  std::string region;
};

http::signer make_signer(std::shared_ptr<const signing_context> ctx) {
  if (ctx->creds.empty()) return {};
  return [ctx](http::request& r) {
    sign_request(r, ctx->creds, ctx->region, std::chrono::system_clock::now());
  };
}

diagnostics diag_of(const http::response& r, const std::string& url) {
  diagnostics d;
  d.url = redact_url(url);
  d.http_status = r.status;
  if (auto e = parse_error(r.body)) {
    d.server_code = e->code;
    d.server_message = e->message;
    d.request_id = e->request_id;
  }
  if (d.request_id.empty())
    if (auto id = r.header("x-amz-request-id")) d.request_id = std::string(*id);
  return d;
}

// Turns a failed S3 response into the error the user reads last.
error s3_failure(const http::response& r, const std::string& url, const std::string& what,
                 const location& loc, bool signed_request) {
  auto d = diag_of(r, url);
  const std::string code = d.server_code.empty() ? "HTTP " + std::to_string(r.status) : d.server_code;
  if (r.status >= 500 || r.status == 429 || code == "SlowDown")
    return error(errc::network, what + " failed: " + code + " from the server after retries", d, true);
  if (code == "NoSuchBucket")
    return error(errc::source, "bucket \"" + loc.bucket + "\" does not exist (" + loc.uri() + ")", d);
  // The server's own message reaches the user through describe(e) and the diagnostics.
  std::string msg = what + " refused: " + code;
  if ((r.status == 401 || r.status == 403) && !signed_request)
    msg += " (no credentials were configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
           "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, or STORAGE_CONFIG)";
  return error(errc::source, msg, d);
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Objects encrypted with SSE-KMS or SSE-C have ETags that are not the MD5 of their bytes.
bool etag_is_not_content_md5(const http::response& r) {
  if (r.header("x-amz-server-side-encryption-customer-algorithm")) return true;
  auto sse = r.header("x-amz-server-side-encryption");
  return sse && sse->starts_with("aws:kms");
}

// The full-object additional checksum a HEAD sent with x-amz-checksum-mode: ENABLED reports:
// {algorithm, base64 value}, or empty strings when there is none we can verify (composite
// checksums of multipart uploads, CRC64NVME, a server that ignores the header).
std::pair<std::string, std::string> full_object_checksum_of(const http::response& r) {
  if (auto type = r.header("x-amz-checksum-type"); type && *type == "COMPOSITE") return {};
  for (const char* alg : {"crc32c", "crc32", "sha256", "sha1"}) {
    auto v = r.header(std::string("x-amz-checksum-") + alg);
    if (!v) continue;
    if (auto b64 = full_object_checksum(alg, *v); !b64.empty()) return {alg, std::move(b64)};
  }
  return {};
}

// The region S3 says the bucket lives in, when it answered a request sent to the wrong one.
std::optional<std::string> region_redirect(const http::response& r, const std::string& current) {
  if (r.status != 301 && r.status != 307 && r.status != 400) return std::nullopt;
  auto region = r.header("x-amz-bucket-region");
  if (!region || region->empty() || *region == current) return std::nullopt;
  return std::string(*region);
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::local_io, "cannot read AWS_WEB_IDENTITY_TOKEN_FILE " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) throw error(errc::source, "AWS_WEB_IDENTITY_TOKEN_FILE " + path + " is empty");
  return t;
}

}  // namespace

s3_provider::s3_provider(config cfg, path_filter filter, log_fn log)
    : cfg_(std::move(cfg)), filter_(std::move(filter)), log_(std::move(log)) {}

asio::awaitable<credentials> s3_provider::resolve_credentials(http::client& client) {
  if (creds_) co_return *creds_;
  if (cfg_.anonymous || !cfg_.irsa) {
    creds_ = cfg_.anonymous ? credentials{} : cfg_.static_credentials;
    co_return *creds_;
  }
  const auto& w = *cfg_.irsa;
  const std::string token = read_token_file(w.token_file);
  http::request req;
  req.method = "POST";
  req.url = w.sts_endpoint + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/xml"}};
  req.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + uri_encode(w.role_arn) +
             "&RoleSessionName=" + uri_encode(w.session_name) + "&WebIdentityToken=" + uri_encode(token);
  log(log_, log_level::debug, "s3: exchanging the web identity token for role " + w.role_arn + " at " +
                                  redact_url(req.url));
  retry_policy policy;
  if (cfg_.max_attempts) policy.max_attempts = *cfg_.max_attempts;
  auto r = co_await client.fetch(req, {}, policy, 1 << 20);
  if (r.status != 200) {
    auto d = diag_of(r, req.url);
    throw error(r.status >= 500 ? errc::network : errc::source,
                "STS AssumeRoleWithWebIdentity for " + w.role_arn + " failed: " +
                    (d.server_code.empty() ? "HTTP " + std::to_string(r.status) : d.server_code),
                d, r.status >= 500);
  }
  creds_ = parse_assume_role_response(r.body).creds;
  co_return *creds_;
}

asio::awaitable<manifest> s3_provider::list(std::string uri, http::client& client) {
  const location loc = parse_uri(uri);
  const credentials creds = co_await resolve_credentials(client);
  retry_policy policy;
  if (cfg_.max_attempts) policy.max_attempts = *cfg_.max_attempts;

  auto ctx = std::make_shared<signing_context>(signing_context{creds, cfg_.region});
  auto send = [&](http::request req) -> asio::awaitable<http::response> {
    co_return co_await client.fetch(std::move(req), make_signer(ctx), policy, 64 << 20);
  };
  // Retries a request once in the region S3 names when it was sent to the wrong one.
  auto send_in_right_region = [&](auto make_url, std::string method,
                                  http::header_list headers = {}) -> asio::awaitable<http::response> {
    http::request req;
    req.method = method;
    req.url = make_url();
    req.headers = std::move(headers);
    auto r = co_await send(req);
    if (auto region = region_redirect(r, ctx->region)) {
      log(log_, log_level::info, "s3: bucket " + loc.bucket + " is in region " + *region + ", not " +
                                     ctx->region + "; using " + *region);
      cfg_.region = *region;
      ctx = std::make_shared<signing_context>(signing_context{creds, *region});
      req.url = make_url();
      r = co_await send(req);
    }
    co_return r;
  };

  std::vector<planned_file> files;
  bool md5_usable = cfg_.verify_md5;
  // Additional checksums (x-amz-checksum-*) per index in `files`: {algorithm, base64}.
  std::vector<std::pair<std::string, std::string>> checksums;
  const http::header_list checksum_mode = {{"x-amz-checksum-mode", "ENABLED"}};

  // 1. A key that names an object exactly is that object alone.
  bool single = false;
  if (!loc.key.empty() && loc.key.back() != '/') {
    http::header_list head_headers;  // a named variable: GCC 12 mis-destroys temporaries in co_await
    if (cfg_.verify_md5) head_headers = checksum_mode;
    auto head = co_await send_in_right_region([&] { return object_url(cfg_, loc.bucket, loc.key); }, "HEAD",
                                              head_headers);
    if (head.status == 200) {
      auto len = head.header("Content-Length");
      auto size = len ? parse_u64(*len) : std::nullopt;
      if (!size)
        throw error(errc::source, "HEAD " + loc.uri() + " gave no Content-Length",
                    diag_of(head, object_url(cfg_, loc.bucket, loc.key)));
      std::string etag(head.header("ETag").value_or(""));
      files.push_back(map_single_object(loc.key, *size, etag));
      if (etag_is_not_content_md5(head)) md5_usable = false;
      if (cfg_.verify_md5) checksums.push_back(full_object_checksum_of(head));
      single = true;
      log(log_, log_level::debug, "s3: " + loc.uri() + " is a single object of " + std::to_string(*size) + " bytes");
    } else {
      log(log_, log_level::debug, "s3: HEAD " + loc.uri() + " gave HTTP " + std::to_string(head.status) +
                                      "; listing it as a folder");
    }
  }

  // 2. Otherwise a folder: every key under PATH/, across continuation tokens.
  if (!single) {
    const std::string prefix = folder_prefix(loc.key);
    std::vector<object_entry> objects;
    std::unordered_map<std::string, std::string> listed_checksum;  // key -> <ChecksumAlgorithm>
    std::string token;
    std::unordered_set<std::string> seen_tokens;
    for (int page_no = 1;; ++page_no) {
      std::string url;
      auto r = co_await send_in_right_region(
          [&] { return url = list_url(cfg_, loc.bucket, prefix, token); }, "GET");
      if (r.status != 200) {
        location where{loc.bucket, prefix};
        throw s3_failure(r, url, "listing " + where.uri(), where, !creds.empty());
      }
      auto page = parse_list_objects_v2(r.body);
      for (auto& o : page.objects) {
        if (!o.checksum_algorithm.empty()) listed_checksum.emplace(o.key, o.checksum_algorithm);
        objects.push_back(std::move(o));
      }
      if (!page.truncated) break;
      if (!seen_tokens.insert(page.next_continuation_token).second)
        throw error(errc::source, "the server repeated a continuation token while listing " + loc.uri());
      token = std::move(page.next_continuation_token);
      log(log_, log_level::debug, "s3: listed page " + std::to_string(page_no) + " (" +
                                      std::to_string(objects.size()) + " keys so far)");
    }
    files = map_listing(objects, loc.bucket, prefix, filter_);

    // One HEAD tells whether the bucket encrypts with KMS or SSE-C, whose ETags are not MD5s.
    if (md5_usable) {
      for (const auto& f : files) {
        if (md5_from_etag(f.etag).empty()) continue;
        http::request probe;
        probe.method = "HEAD";
        probe.url = object_url(cfg_, loc.bucket, f.key);
        auto r = co_await send(probe);
        if (r.status == 200 && etag_is_not_content_md5(r)) md5_usable = false;
        break;
      }
    }

    // Objects listed with a <ChecksumAlgorithm>: one HEAD each with x-amz-checksum-mode: ENABLED
    // for the value (a listing does not carry it), at most 16 at a time (the default --connections).
    checksums.resize(files.size());
    std::vector<std::size_t> todo;
    if (cfg_.verify_md5)
      for (std::size_t i = 0; i < files.size(); ++i)
        if (listed_checksum.contains(files[i].key)) todo.push_back(i);
    if (!todo.empty()) {
      log(log_, log_level::debug, "s3: asking for the checksums of " + std::to_string(todo.size()) +
                                      " object(s) listed with one");
      auto ex = co_await asio::this_coro::executor;
      asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
      std::size_t next = 0, running = 0;
      std::exception_ptr failure;
      auto worker = [&]() -> asio::awaitable<void> {
        while (next < todo.size() && !failure) {
          const std::size_t i = todo[next++];
          http::request probe;
          probe.method = "HEAD";
          probe.url = object_url(cfg_, loc.bucket, files[i].key);
          probe.headers = checksum_mode;
          auto r = co_await send(probe);
          if (r.status == 200) checksums[i] = full_object_checksum_of(r);
          else
            log(log_, log_level::debug, "s3: HEAD for the checksum of " + files[i].key + " gave HTTP " +
                                            std::to_string(r.status) + "; not verifying it");
        }
      };
      for (std::size_t w = 0; w < std::min<std::size_t>(16, todo.size()); ++w) {
        ++running;
        asio::co_spawn(ex, worker(), [&](std::exception_ptr e) {
          if (e && !failure) failure = e;
          if (--running == 0) all_done.cancel();
        });
      }
      while (running > 0) {
        boost::system::error_code ec;
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (failure) std::rethrow_exception(failure);
    }
  }

  manifest m;
  m.source_description = loc.uri();
  auto signer = make_signer(ctx);
  m.files.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto& f = files[i];
    manifest_entry e;
    if (i < checksums.size()) std::tie(e.checksum_algorithm, e.checksum_b64) = std::move(checksums[i]);
    e.url = object_url(cfg_, loc.bucket, f.key);
    e.relative_path = std::move(f.relative_path);
    e.size = f.size;
    if (md5_usable) e.md5_hex = md5_from_etag(f.etag);
    e.etag = std::move(f.etag);
    e.sign = signer;
    m.files.push_back(std::move(e));
  }
  log(log_, log_level::info, "s3: " + loc.uri() + ": " + std::to_string(m.files.size()) + " file(s)");
  co_return m;
}

std::unique_ptr<s3_provider> make_s3_provider(const env_map& env, log_fn log) {
  return std::make_unique<s3_provider>(load_config(env), path_filter::from_env(env), std::move(log));
}

}  // namespace mrsi::storage::s3
