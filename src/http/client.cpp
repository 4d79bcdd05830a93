// HTTP(S) client: connection pool per origin, TLS, proxies, per-phase timeouts, redirects, and
// a streaming response (exchange) for the transfer engine.
#include "http/client.hpp"

#include <chrono>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url.hpp>

#include "http/proxy.hpp"
#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/text.hpp"

namespace mrsi::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_buffer_size = 256 * 1024;

// A parsed absolute URL, split the way a connection needs it.
struct target {
  std::string url;
  bool tls = false;
  std::string host;       // for DNS and SNI: no brackets, decoded
  std::string port;
  std::string authority;  // for the Host header: host[:port] as written
  std::string path;       // origin-form request target: path?query
  std::string origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

target parse_target(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed)
    throw error(errc::usage, "not a valid URL: " + redact_url(url));
  const auto& u = *parsed;
  target t;
  t.url = std::string(url);
  const auto scheme = u.scheme_id();
  if (scheme == boost::urls::scheme::https) t.tls = true;
  else if (scheme != boost::urls::scheme::http)
    throw error(errc::usage, "unsupported URL scheme in " + redact_url(url) + " (expected http or https)");
  t.host = u.host_address();
  if (t.host.empty()) throw error(errc::usage, "URL has no host: " + redact_url(url));
  t.port = u.has_port() ? std::string(u.port()) : std::string(t.tls ? "443" : "80");
  if (u.has_port() && !is_valid_port(t.port))
    throw error(errc::usage, "invalid port in URL " + redact_url(url));
  t.authority = std::string(u.encoded_host_and_port());
  t.path = std::string(u.encoded_path());
  if (t.path.empty()) t.path = "/";
  if (u.has_query()) t.path += "?" + std::string(u.encoded_query());
  return t;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

bool is_redirect(unsigned s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

// One pooled connection: plain TCP or TLS over TCP.
struct connection {
  std::string key;
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool reused = false;
  bool via_proxy = false;  // plain http through a proxy: absolute-form targets

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
};

// A network failure as our error type; the URL is redacted.
error net_error(std::string what, const std::string& url, bool retryable = true) {
  diagnostics d;
  d.url = redact_url(url);
  return error(errc::network, std::move(what) + " (" + d.url + ")", d, retryable);
}

std::string describe_ec(const error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

}  // namespace

struct client::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor e, client_config c)
      : ex(std::move(e)), cfg(std::move(c)), rng(std::random_device{}()) {
    if (!cfg.ca_bundle.empty() && ::access(cfg.ca_bundle.c_str(), R_OK) != 0)
      throw error(errc::usage, "cannot read CA bundle " + cfg.ca_bundle + ": " + std::strerror(errno));
    http_proxy = parse_proxy(cfg.proxy.http_proxy);
    https_proxy = parse_proxy(cfg.proxy.https_proxy);
  }

  // The TLS context, made on first use: loading the system trust store costs milliseconds that
  // plain-http runs need not pay.
  ssl::context& tls_context() {
    if (ctx) return *ctx;
    ssl::context c(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(c.native_handle(), TLS1_2_VERSION);
    error_code ec;
    // OpenSSL's default paths honour SSL_CERT_FILE and SSL_CERT_DIR, as every other client does.
    c.set_default_verify_paths(ec);
    if (!cfg.ca_bundle.empty()) {
      c.load_verify_file(cfg.ca_bundle, ec);
      if (ec) throw error(errc::usage, "cannot load CA bundle " + cfg.ca_bundle + ": " + ec.message());
    }
    c.set_verify_mode(cfg.insecure ? ssl::verify_none : ssl::verify_peer);
    ctx.emplace(std::move(c));
    return *ctx;
  }

  asio::any_io_executor ex;
  client_config cfg;
  std::optional<ssl::context> ctx;
  std::optional<proxy_endpoint> http_proxy, https_proxy;
  std::map<std::string, std::vector<std::unique_ptr<connection>>> idle;
  std::minstd_rand rng;

  const proxy_endpoint* proxy_for(const target& t) const {
    const auto& p = t.tls ? https_proxy : http_proxy;
    if (!p || bypasses_proxy(t.host, cfg.proxy.no_proxy)) return nullptr;
    return &*p;
  }

  std::string pool_key(const target& t) const {
    const bool plain_proxy = !t.tls && proxy_for(t);
    return (plain_proxy ? "proxy|" : "") + t.origin();
  }

  void release(std::unique_ptr<connection> c) {
    auto& v = idle[c->key];
    if (v.size() >= cfg.max_idle_per_origin) return;
    c->reused = true;
    v.push_back(std::move(c));
  }

  std::unique_ptr<connection> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }

  asio::awaitable<tcp::resolver::results_type> resolve(const std::string& host, const std::string& port,
                                                       const std::string& url) {
    struct state {
      explicit state(asio::any_io_executor e) : resolver(e), timer(e) {}
      tcp::resolver resolver;
      asio::steady_timer timer;
      bool timed_out = false;
    };
    auto st = std::make_shared<state>(ex);
    st->timer.expires_after(cfg.timeout.resolve);
    st->timer.async_wait([st](error_code ec) {
      if (!ec) {
        st->timed_out = true;
        st->resolver.cancel();
      }
    });
    auto [ec, results] = co_await st->resolver.async_resolve(host, port, use_tuple);
    st->timer.cancel();
    if (st->timed_out)
      throw net_error("resolving " + host + " timed out after " +
                          std::to_string(cfg.timeout.resolve.count()) + " ms",
                      url);
    if (ec) throw net_error("cannot resolve host " + host + ": " + ec.message(), url);
    co_return results;
  }

  asio::awaitable<std::unique_ptr<connection>> connect(const target& t) {
    auto c = std::make_unique<connection>();
    c->key = pool_key(t);
    // Beast sizes each socket read by the buffer's free capacity (at least 512 bytes): reserve
    // enough that a body arrives in large reads instead of hundreds of thousands of tiny ones.
    c->buffer.reserve(read_buffer_size);
    const proxy_endpoint* proxy = proxy_for(t);
    const std::string& host = proxy ? proxy->host : t.host;
    const std::string& port = proxy ? proxy->port : t.port;
    auto results = co_await resolve(host, port, t.url);

    beast::tcp_stream stream(ex);
    stream.expires_after(cfg.timeout.connect);
    auto [ec, ep] = co_await stream.async_connect(results, use_tuple);
    if (ec)
      throw net_error("cannot connect to " + (proxy ? "proxy " : std::string()) + host + ":" + port + ": " +
                          describe_ec(ec),
                      t.url);
    stream.socket().set_option(tcp::no_delay(true), ec);

    if (proxy && t.tls) {
      // HTTPS through a proxy: an HTTP CONNECT tunnel, then TLS end to end.
      bhttp::request<bhttp::empty_body> req{bhttp::verb::connect, t.host + ":" + t.port, 11};
      req.set(bhttp::field::host, t.host + ":" + t.port);
      if (!proxy->basic_auth.empty()) {
        std::string enc(beast::detail::base64::encoded_size(proxy->basic_auth.size()), '\0');
        enc.resize(beast::detail::base64::encode(enc.data(), proxy->basic_auth.data(), proxy->basic_auth.size()));
        req.set(bhttp::field::proxy_authorization, "Basic " + enc);
      }
      stream.expires_after(cfg.timeout.connect);
      auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
      if (wec) throw net_error("proxy CONNECT to " + host + ":" + port + " failed: " + describe_ec(wec), t.url);
      bhttp::response_parser<bhttp::empty_body> p;
      p.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts right after it
      auto [rec, rn] = co_await bhttp::async_read_header(stream, c->buffer, p, use_tuple);
      if (rec) throw net_error("proxy CONNECT to " + host + ":" + port + " failed: " + describe_ec(rec), t.url);
      if (p.get().result_int() != 200)
        throw net_error("proxy " + host + ":" + port + " refused CONNECT with HTTP " +
                            std::to_string(p.get().result_int()),
                        t.url, false);
    }
    if (!t.tls) {
      c->via_proxy = proxy != nullptr;
      c->tcp.emplace(std::move(stream));
      co_return c;
    }

    c->tls.emplace(std::move(stream), tls_context());
    auto& s = *c->tls;
    if (!is_ip_literal(t.host) && !SSL_set_tlsext_host_name(s.native_handle(), t.host.c_str()))
      throw net_error("cannot set TLS server name " + t.host, t.url, false);
    if (!cfg.insecure) s.set_verify_callback(ssl::host_name_verification(t.host));
    beast::get_lowest_layer(s).expires_after(cfg.timeout.tls_handshake);
    auto [hec] = co_await s.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      const long vr = SSL_get_verify_result(s.native_handle());
      if (vr != X509_V_OK) {
        throw net_error(std::string("TLS certificate of ") + t.host + " not trusted: " +
                            X509_verify_cert_error_string(vr) +
                            "; pass the CA that signed it with --ca-bundle",
                        t.url, false);
      }
      const bool verify_failed = hec.category() == asio::error::get_ssl_category();
      throw net_error("TLS handshake with " + t.host + " failed: " + describe_ec(hec), t.url, !verify_failed);
    }
    co_return c;
  }

  // Writes the request and reads the response head on a pooled or new connection. A pooled
  // connection that the server closed while idle is replaced once, transparently.
  asio::awaitable<std::pair<std::unique_ptr<connection>,
                            std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>>>>
  send(const target& t, const request& r) {
    const std::string key = pool_key(t);
    for (int attempt = 0;; ++attempt) {
      auto c = take_idle(key);
      if (!c) c = co_await connect(t);
      const bool was_reused = c->reused;

      bhttp::request<bhttp::string_body> req;
      req.version(11);
      req.method_string(r.method);
      req.target(c->via_proxy ? t.url : t.path);
      req.set(bhttp::field::host, t.authority);
      req.set(bhttp::field::user_agent, cfg.user_agent);
      for (const auto& [k, v] : r.headers) req.set(k, v);
      if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
        req.body() = r.body;
        req.prepare_payload();
      }

      auto parser = std::make_unique<bhttp::response_parser<bhttp::buffer_body>>();
      parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      parser->header_limit(64 * 1024);
      if (r.method == "HEAD") parser->skip(true);

      error_code ec;
      c->lowest().expires_after(cfg.timeout.response_headers);
      if (c->tls) {
        std::tie(ec, std::ignore) = co_await bhttp::async_write(*c->tls, req, use_tuple);
        if (!ec) std::tie(ec, std::ignore) = co_await bhttp::async_read_header(*c->tls, c->buffer, *parser, use_tuple);
      } else {
        std::tie(ec, std::ignore) = co_await bhttp::async_write(*c->tcp, req, use_tuple);
        if (!ec) std::tie(ec, std::ignore) = co_await bhttp::async_read_header(*c->tcp, c->buffer, *parser, use_tuple);
      }
      if (!ec) co_return std::make_pair(std::move(c), std::move(parser));
      if (was_reused && attempt == 0 && ec != beast::error::timeout) continue;  // stale keep-alive
      if (ec == beast::error::timeout)
        throw net_error("no response headers within " +
                            std::to_string(cfg.timeout.response_headers.count() / 1000.0).substr(0, 5) + " s",
                        t.url);
      throw net_error("request failed: " + describe_ec(ec), t.url);
    }
  }
};

namespace {

class exchange_impl final : public exchange {
 public:
  exchange_impl(std::shared_ptr<client::impl> owner, std::unique_ptr<connection> c,
                std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>> p, std::string url)
      : owner_(std::move(owner)), conn_(std::move(c)), parser_(std::move(p)), url_(std::move(url)) {
    const auto& msg = parser_->get();
    status_ = msg.result_int();
    for (const auto& f : msg) headers_.emplace_back(std::string(f.name_string()), std::string(f.value()));
    if (auto cl = parser_->content_length()) content_length_ = *cl;
    finish_if_done();
    if (!done_ && content_length_ && !parser_->chunked()) raw_remaining_ = *content_length_;
  }

  unsigned status() const override { return status_; }
  const header_list& headers() const override { return headers_; }
  const std::string& url() const override { return url_; }
  std::optional<std::uint64_t> content_length() const override { return content_length_; }

  asio::awaitable<std::size_t> read_some(std::span<char> buf) override {
    if (done_ || buf.empty()) co_return 0;
    if (!conn_) throw net_error("response body read after a failure", url_);
    if (raw_remaining_) co_return co_await read_raw(buf);
    for (;;) {
      auto& body = parser_->get().body();
      body.data = buf.data();
      body.size = buf.size();
      body.more = true;
      conn_->lowest().expires_after(owner_->cfg.timeout.idle_read);
      error_code ec;
      if (conn_->tls)
        std::tie(ec, std::ignore) = co_await bhttp::async_read_some(*conn_->tls, conn_->buffer, *parser_, use_tuple);
      else
        std::tie(ec, std::ignore) = co_await bhttp::async_read_some(*conn_->tcp, conn_->buffer, *parser_, use_tuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      const std::size_t got = buf.size() - parser_->get().body().size;
      if (ec) fail(ec);
      finish_if_done();
      if (got > 0 || done_) co_return got;
    }
  }

 private:
  // A body of known length (no chunked framing) is read straight from the socket into the
  // caller's buffer: no parser copy. Bytes that arrived with the headers are handed out first.
  asio::awaitable<std::size_t> read_raw(std::span<char> buf) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), *raw_remaining_));
    std::size_t got = 0;
    if (conn_->buffer.size() > 0) {
      got = asio::buffer_copy(asio::buffer(buf.data(), want), conn_->buffer.data());
      conn_->buffer.consume(got);
    } else {
      conn_->lowest().expires_after(owner_->cfg.timeout.idle_read);
      error_code ec;
      if (conn_->tls)
        std::tie(ec, got) = co_await conn_->tls->async_read_some(asio::buffer(buf.data(), want), use_tuple);
      else
        std::tie(ec, got) = co_await conn_->tcp->async_read_some(asio::buffer(buf.data(), want), use_tuple);
      if (ec) fail(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ? bhttp::error::partial_message : ec);
    }
    *raw_remaining_ -= got;
    if (*raw_remaining_ == 0) {
      done_ = true;
      // Anything after the body would be a pipelined response we never asked for.
      if (conn_->buffer.size() == 0 && parser_->get().keep_alive()) owner_->release(std::move(conn_));
      conn_.reset();
    }
    co_return got;
  }

  [[noreturn]] void fail(const error_code& ec) {
    conn_.reset();
    if (ec == beast::error::timeout)
      throw net_error("no data received for " +
                          std::to_string(owner_->cfg.timeout.idle_read.count() / 1000.0).substr(0, 5) +
                          " s (stalled connection)",
                      url_);
    if (ec == bhttp::error::partial_message || ec == asio::error::eof)
      throw net_error("connection closed before the response body was complete", url_);
    throw net_error("reading response body failed: " + describe_ec(ec), url_);
  }

  void finish_if_done() {
    if (!parser_->is_done()) return;
    done_ = true;
    if (conn_ && parser_->get().keep_alive()) owner_->release(std::move(conn_));
    conn_.reset();
  }

  std::shared_ptr<client::impl> owner_;
  std::unique_ptr<connection> conn_;
  std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::string url_;
  unsigned status_ = 0;
  header_list headers_;
  std::optional<std::uint64_t> content_length_;
  std::optional<std::uint64_t> raw_remaining_;  // set when the body is read without the parser
  bool done_ = false;
};

// Reads and drops a small body so the connection can be reused; larger ones close it instead.
asio::awaitable<void> discard_small_body(exchange& ex) {
  if (ex.content_length() && *ex.content_length() <= 64 * 1024) {
    std::array<char, 16 * 1024> scratch;
    while (co_await ex.read_some(scratch) > 0) {
    }
  }
}

}  // namespace

client::client(asio::any_io_executor ex, client_config cfg)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(cfg))) {}

client::~client() = default;

const client_config& client::config() const { return impl_->cfg; }

asio::awaitable<std::unique_ptr<exchange>> client::open(request req, signer sign) {
  auto self = impl_;
  target t = parse_target(req.url);
  const std::string first_origin = t.origin();
  for (int hop = 0;; ++hop) {
    request r = req;
    r.url = t.url;
    const bool same_origin = t.origin() == first_origin;
    if (!same_origin) remove_header(r.headers, "Authorization");
    else if (sign) sign(r);
    auto [conn, parser] = co_await self->send(t, r);
    auto ex = std::make_unique<exchange_impl>(self, std::move(conn), std::move(parser), t.url);
    const auto location = ex->header("Location");
    if (!is_redirect(ex->status()) || !location) co_return ex;

    if (hop >= self->cfg.max_redirects) {
      diagnostics d;
      d.url = redact_url(req.url);
      d.http_status = ex->status();
      throw error(errc::source, "too many redirects (more than " + std::to_string(self->cfg.max_redirects) +
                                    ") starting at " + d.url, d);
    }
    auto base = boost::urls::parse_uri(t.url);
    auto ref = boost::urls::parse_uri_reference(*location);
    if (!base || !ref)
      throw error(errc::source, "invalid redirect Location from " + redact_url(t.url));
    boost::urls::url next;
    if (auto rv = boost::urls::resolve(*base, *ref, next); !rv)
      throw error(errc::source, "invalid redirect Location from " + redact_url(t.url));
    next.remove_fragment();
    target nt = parse_target(next.buffer());
    if (t.tls && !nt.tls) {
      diagnostics d;
      d.url = redact_url(t.url);
      d.http_status = ex->status();
      throw error(errc::source, "refusing redirect from https to http: " + redact_url(t.url) + " -> " +
                                    redact_url(nt.url), d);
    }
    if (ex->status() == 303 && req.method != "HEAD") {
      req.method = "GET";
      req.body.clear();
    }
    log(self->cfg.log, log_level::debug,
        "redirect " + std::to_string(ex->status()) + " " + redact_url(t.url) + " -> " + redact_url(nt.url));
    co_await discard_small_body(*ex);
    t = std::move(nt);
  }
}

asio::awaitable<response> client::fetch(request req, signer sign, retry_policy policy, std::size_t body_limit) {
  auto self = impl_;
  auto ex_ = co_await asio::this_coro::executor;
  for (int attempt = 1;; ++attempt) {
    std::optional<error> failure;
    std::chrono::milliseconds delay{0};
    try {
      auto ex = co_await open(req, sign);
      if (is_retryable_status(ex->status()) && attempt < policy.max_attempts) {
        std::uniform_real_distribution<double> dist(0.0, 1.0);
        delay = backoff_delay(policy, attempt, dist(self->rng));
        if (auto ra = ex->header("Retry-After")) {
          if (auto s = parse_retry_after(*ra, std::chrono::duration_cast<std::chrono::seconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count()))
            delay = std::max<std::chrono::milliseconds>(delay, std::min<std::chrono::milliseconds>(*s, policy.max_delay));
        }
        log(self->cfg.log, log_level::info,
            "HTTP " + std::to_string(ex->status()) + " from " + redact_url(ex->url()) + ", retry " +
                std::to_string(attempt) + " in " + std::to_string(delay.count()) + " ms");
      } else {
        response resp;
        resp.status = ex->status();
        resp.headers = ex->headers();
        resp.url = ex->url();
        std::array<char, 64 * 1024> chunk;
        for (;;) {
          const std::size_t n = co_await ex->read_some(chunk);
          if (n == 0) break;
          if (resp.body.size() + n > body_limit) {
            diagnostics d;
            d.url = redact_url(resp.url);
            throw error(errc::source, "response body from " + d.url + " is larger than " +
                                          std::to_string(body_limit) + " bytes", d);
          }
          resp.body.append(chunk.data(), n);
        }
        co_return resp;
      }
    } catch (const error& e) {
      if (!e.is_retryable() || attempt >= policy.max_attempts) throw;
      std::uniform_real_distribution<double> dist(0.0, 1.0);
      delay = backoff_delay(policy, attempt, dist(self->rng));
      failure = e;
    }
    if (failure)
      log(self->cfg.log, log_level::info,
          std::string(failure->what()) + "; retry " + std::to_string(attempt) + " in " +
              std::to_string(delay.count()) + " ms");
    asio::steady_timer timer(ex_);
    timer.expires_after(delay);
    co_await timer.async_wait(use_tuple);
  }
}

}  // namespace mrsi::http
