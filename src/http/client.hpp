// HTTP(S) client over Boost.Beast: pooled keep-alive connections per origin, TLS with host-name
// verification, per-phase timeouts, proxies and redirects. Beast stays inside client.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"
#include "util/log.hpp"
#include "util/retry.hpp"

namespace mrsi::http {

struct timeouts {
  std::chrono::milliseconds resolve{std::chrono::seconds(15)};
  std::chrono::milliseconds connect{std::chrono::seconds(15)};
  std::chrono::milliseconds tls_handshake{std::chrono::seconds(15)};
  std::chrono::milliseconds response_headers{std::chrono::seconds(30)};
  std::chrono::milliseconds idle_read{std::chrono::seconds(30)};  // longest gap between body reads
};

struct proxy_config {
  std::string http_proxy;   // "http://host:port" or empty
  std::string https_proxy;  // proxy used (with CONNECT) for https:// URLs
  std::string no_proxy;     // comma-separated hosts / domain suffixes / "*"
};

struct client_config {
  timeouts timeout;
  std::string ca_bundle;  // extra PEM file trusted in addition to the system store
  bool insecure = false;  // skip certificate verification (explicit opt-in only)
  int max_redirects = 10;
  proxy_config proxy;
  std::size_t max_idle_per_origin = 64;
  std::string user_agent = "mr-storage-initializer";
  log_fn log;  // debug lines about connections and retries (redacted)
};

// One response whose body is read incrementally. Destroying it before the body is complete
// closes the connection; reading it to the end returns the connection to the pool.
class exchange {
 public:
  virtual ~exchange() = default;
  virtual unsigned status() const = 0;
  virtual const header_list& headers() const = 0;
  virtual const std::string& url() const = 0;  // after redirects
  // Content-Length when the server sent one.
  virtual std::optional<std::uint64_t> content_length() const = 0;
  // Reads up to buf.size() body bytes; 0 means the body is complete. Throws mrsi::error
  // (network, retryable) on reset, truncation or when no byte arrives within timeouts.idle_read.
  virtual boost::asio::awaitable<std::size_t> read_some(std::span<char> buf) = 0;
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers(), name);
  }
};

class client {
 public:
  client(boost::asio::any_io_executor ex, client_config cfg);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends req (calling sign before each hop) and returns once the response headers are in.
  // Follows up to max_redirects redirects; drops Authorization when the origin changes and
  // refuses https -> http. One attempt: no retries here. Throws mrsi::error.
  boost::asio::awaitable<std::unique_ptr<exchange>> open(request req, signer sign = {});

  // open() plus reading the whole body (at most body_limit bytes), with retries on connection
  // errors, timeouts, 5xx and 429 per policy. Non-2xx final statuses are returned, not thrown.
  boost::asio::awaitable<response> fetch(request req, signer sign = {},
                                         retry_policy policy = {},
                                         std::size_t body_limit = 64 * 1024 * 1024);

  const client_config& config() const;

 struct impl;  // defined in client.cpp; public only so the response type there can hold it

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace mrsi::http
