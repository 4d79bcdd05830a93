// mr-storage-initializer: the command-line entry point. Reads argv and the environment, installs
// the log and progress sinks, resolves model-registry:// sources, lists every source through its
// provider, runs the transfer engine and maps the outcome to an exit code.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include "archive/extract.hpp"
#include "cli/options.hpp"
#include "cli/reporter.hpp"
#include "http/client.hpp"
#include "registry/registry_client.hpp"
#include "registry/registry_uri.hpp"
#include "storage/provider_factory.hpp"
#include "storage/s3_config.hpp"
#include "transfer/engine.hpp"
#include "util/error.hpp"
#include "util/redact.hpp"
#include "util/size.hpp"
#include "util/stats.hpp"

extern char** environ;

namespace asio = boost::asio;

namespace mrsi::cli {
namespace {

env_map snapshot_environment() {
  env_map env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

http::client_config client_config_from(const options& o, const env_map& env, const log_fn& log) {
  http::client_config c;
  c.timeout.resolve = o.connect_timeout;
  c.timeout.connect = o.connect_timeout;
  c.timeout.tls_handshake = o.connect_timeout;
  c.timeout.response_headers = o.read_timeout;
  c.timeout.idle_read = o.read_timeout;
  c.ca_bundle = o.ca_bundle;
  c.insecure = o.insecure;
  c.proxy.http_proxy = env_first(env, {"HTTP_PROXY", "http_proxy"}).value_or("");
  c.proxy.https_proxy = env_first(env, {"HTTPS_PROXY", "https_proxy"}).value_or("");
  c.proxy.no_proxy = env_first(env, {"NO_PROXY", "no_proxy"}).value_or("");
  c.max_idle_per_origin = std::max<std::size_t>(o.connections, 8);
  c.user_agent = std::string("mr-storage-initializer/") + MRSI_VERSION;
  c.log = log;
  return c;
}

bool is_model_registry(std::string_view src) { return storage::uri_scheme(src) == "model-registry"; }

// Resolves a model-registry:// URI to the artifact URI, logging the registry's warnings.
asio::awaitable<registry::resolution> resolve_registry(std::string src, const env_map& env, http::client& client,
                                                       const options& o, reporter& rep) {
  auto uri = registry::parse_registry_uri(src);
  auto cfg = registry::registry_config_from_env(env);
  cfg.retry.max_attempts = o.attempts;
  // resolve() uses a client of its own when MODEL_REGISTRY_CA_BUNDLE asks for other trust.
  auto res = co_await registry::resolve(uri, cfg, client);
  for (const auto& w : res.warnings) rep.log(log_level::warn, w);
  rep.log(log_level::info, "resolved " + src + " to " + redact_url(res.model_artifact.uri));
  co_return res;
}

struct run_outcome {
  transfer::progress prog;
  std::optional<error> failure;
  std::string stdout_text;  // what goes to stdout: --resolve-only JSON or the sweep table
  std::vector<std::filesystem::path> archives;  // downloaded archives to unpack into their DEST
};

// HTTP clients by the TLS and timeout settings their sources need: KServe's S3 variables
// (AWS_CA_BUNDLE, S3_VERIFY_SSL, S3_*_TIMEOUT) apply to s3:// only; explicit flags still win.
class client_set {
 public:
  client_set(asio::any_io_executor ex, const options& o, const env_map& env, const log_fn& log)
      : ex_(std::move(ex)), o_(o), env_(env), base_(client_config_from(o, env, log)), default_(ex_, base_) {}

  http::client& base() { return default_; }

  http::client& for_scheme(const std::string& scheme) {
    if (scheme != "s3") return default_;
    if (!s3_) {
      auto cfg = base_;
      storage::s3::apply_to_client_config(storage::s3::load_config(env_), cfg);
      if (!o_.ca_bundle.empty()) cfg.ca_bundle = o_.ca_bundle;
      if (o_.insecure) cfg.insecure = true;
      s3_.emplace(ex_, cfg);
    }
    return *s3_;
  }

 private:
  asio::any_io_executor ex_;
  const options& o_;
  const env_map& env_;
  http::client_config base_;
  http::client default_;
  std::optional<http::client> s3_;
};

// Resolves and lists every SRC into jobs for the engine.
asio::awaitable<std::vector<transfer::job>> list_sources(const options& o, const env_map& env, client_set& clients,
                                                         reporter& rep, std::vector<std::filesystem::path>& archives) {
  std::vector<transfer::job> jobs;
  for (const auto& [src_in, dest] : o.pairs) {
    std::string src = src_in;
    if (is_model_registry(src))
      src = (co_await resolve_registry(src, env, clients.base(), o, rep)).model_artifact.uri;
    auto provider = storage::make_provider(src, env, rep.sink());
    http::client& client = clients.for_scheme(storage::uri_scheme(src));
    auto m = co_await provider->list(src, client);
    if (m.extract_archive)
      for (const auto& f : m.files) archives.push_back(std::filesystem::path(dest) / f.relative_path);
    rep.log(log_level::info, "fetching " + m.source_description + " (" + std::to_string(m.files.size()) +
                                 " file(s)) into " + dest);
    for (auto& f : m.files) jobs.push_back(transfer::job{std::move(f), std::filesystem::path(dest), &client});
  }
  co_return jobs;
}

transfer::engine_config engine_config_from(const options& o, reporter& rep) {
  transfer::engine_config ec;
  ec.connections = o.connections;
  ec.part_size = o.part_size;
  ec.buffer_size = o.buffer_size;
  ec.retry.max_attempts = o.attempts;
  ec.deadline = o.deadline;
  ec.discard = o.discard;
  ec.log = rep.sink();
  return ec;
}

// Runs the same jobs once per (connections, part size), discarding data, and tabulates.
asio::awaitable<void> sweep(const std::vector<transfer::job>& jobs, http::client& client, const options& o,
                            reporter& rep, run_outcome& out) {
  const auto conns = o.sweep_connections.empty() ? std::vector<std::size_t>{o.connections} : o.sweep_connections;
  const auto parts = o.sweep_part_sizes.empty() ? std::vector<std::uint64_t>{o.part_size} : o.sweep_part_sizes;
  char line[160];
  std::snprintf(line, sizeof line, "%11s %10s %9s %9s %10s %8s\n", "connections", "part_size", "seconds", "MB/s",
                "ttfb_p50", "retries");
  out.stdout_text += line;
  for (auto c : conns) {
    for (auto p : parts) {
      auto ec = engine_config_from(o, rep);
      ec.connections = c;
      ec.part_size = p;
      ec.discard = true;
      transfer::progress prog;
      const auto start = std::chrono::steady_clock::now();
      co_await transfer::run_transfer(jobs, client, ec, prog);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::snprintf(line, sizeof line, "%11zu %10s %9.3f %9.1f %8.1fms %8llu\n", c, format_bytes(p).c_str(), secs,
                    secs > 0 ? static_cast<double>(prog.bytes_downloaded) / secs / 1e6 : 0.0,
                    percentile(prog.ttfb_ms, 0.5), static_cast<unsigned long long>(prog.retries));
      out.stdout_text += line;
      rep.log(log_level::info, std::string("sweep: ") + line);
      out.prog.bytes_downloaded += prog.bytes_downloaded;
      out.prog.retries += prog.retries;
    }
  }
}

// Unpacks each downloaded archive into the directory it was downloaded to. Runs after the
// io_context has finished, so the blocking work never holds up network I/O.
void extract_all(const std::vector<std::filesystem::path>& archives, reporter& rep) {
  for (const auto& a : archives) {
    rep.log(log_level::info, "extracting " + a.filename().string() + " into " + a.parent_path().string());
    const auto r = archive::extract_archive(a, a.parent_path());
    for (const auto& w : r.warnings) rep.log(log_level::warn, w);
    rep.log(log_level::info, "extracted " + std::to_string(r.files) + " file(s), " + std::to_string(r.bytes) +
                                 " bytes from " + a.filename().string());
  }
}

asio::awaitable<void> run(const options& o, const env_map& env, reporter& rep, run_outcome& out) {
  auto ex = co_await asio::this_coro::executor;
  client_set clients(ex, o, env, rep.sink());
  http::client& client = clients.base();

  if (o.resolve_only) {
    for (const auto& [src, dest] : o.pairs) {
      if (!is_model_registry(src))
        throw error(errc::usage, "--resolve-only takes model-registry:// URIs, got " + redact_url(src));
      auto res = co_await resolve_registry(src, env, client, o, rep);
      out.stdout_text += registry::to_json(res) + "\n";
    }
    co_return;
  }

  auto jobs = co_await list_sources(o, env, clients, rep, out.archives);
  if (o.sweeping()) {
    co_await sweep(jobs, client, o, rep, out);
    co_return;
  }

  // Progress ticks on the same thread as the engine, so the counters need no locks.
  bool done = false;
  asio::steady_timer ticker(ex);
  asio::co_spawn(
      ex,
      [&]() -> asio::awaitable<void> {
        while (!done) {
          ticker.expires_after(rep.tick_interval());
          co_await ticker.async_wait(asio::as_tuple(asio::use_awaitable));
          if (!done) rep.tick(out.prog);
        }
      },
      asio::detached);
  struct stop_ticker {
    bool& done;
    asio::steady_timer& t;
    ~stop_ticker() {
      done = true;
      t.cancel();
    }
  } stop{done, ticker};
  co_await transfer::run_transfer(std::move(jobs), client, engine_config_from(o, rep), out.prog);
}

void write_termination_log(const std::string& line) {
  // KServe reads /dev/termination-log as the pod's termination message; absent outside Kubernetes.
  if (::access("/dev/termination-log", W_OK) != 0) return;
  std::ofstream f("/dev/termination-log", std::ios::trunc);
  f << line << "\n";
}

void write_stats(const options& o, const transfer::progress& p, double wall, const std::optional<error>& failure,
                 reporter& rep) {
  if (o.stats_json.empty()) return;
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  boost::json::object j;
  j["ok"] = !failure.has_value();
  j["files"] = p.files_done;
  j["files_total"] = p.files_total;
  j["files_skipped"] = p.files_skipped;
  j["bytes"] = p.bytes_done;
  j["bytes_total"] = p.bytes_total;
  j["bytes_downloaded"] = p.bytes_downloaded;
  j["retries"] = p.retries;
  j["wall_seconds"] = wall;
  j["cpu_seconds"] = cpu;
  j["peak_rss_bytes"] = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  j["throughput_mb_per_s"] = wall > 0 ? static_cast<double>(p.bytes_downloaded) / wall / 1e6 : 0.0;
  j["connections"] = o.connections;
  j["part_size"] = o.part_size;
  j["buffer_size"] = o.buffer_size;
  j["discard"] = o.discard;
  auto quantiles = [](const std::vector<double>& v) {
    boost::json::object q;
    q["count"] = v.size();
    q["p50"] = percentile(v, 0.5);
    q["p90"] = percentile(v, 0.9);
    q["p99"] = percentile(v, 0.99);
    q["max"] = percentile(v, 1.0);
    return q;
  };
  j["ttfb_ms"] = quantiles(p.ttfb_ms);
  j["part_ms"] = quantiles(p.part_ms);
  boost::json::array per_conn;
  for (auto b : p.worker_bytes) per_conn.push_back(b);
  j["bytes_per_connection"] = std::move(per_conn);
  if (failure) {
    j["error"] = describe(*failure);
    j["exit_code"] = exit_code(failure->kind());
  }
  std::ofstream f(o.stats_json, std::ios::trunc);
  f << boost::json::serialize(j) << "\n";
  if (!f) rep.log(log_level::warn, "cannot write --stats-json file " + o.stats_json);
}

int main_impl(int argc, char** argv) {
  auto parsed = parse(argc, argv);
  if (!parsed.opts) {
    if (!parsed.output.empty()) std::fputs(parsed.output.c_str(), stdout);
    if (!parsed.error.empty()) {
      std::fprintf(stderr, "%s\n", parsed.error.c_str());
      write_termination_log(parsed.error.substr(parsed.error.rfind('\n') + 1));
    }
    return parsed.exit_code;
  }
  const options& o = *parsed.opts;
  const env_map env = snapshot_environment();
  reporter rep(o.format, o.level, o.progress);

  run_outcome out;
  const auto start = std::chrono::steady_clock::now();
  asio::io_context ioc(1);
  asio::co_spawn(ioc, run(o, env, rep, out), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const error& x) {
      out.failure = x;
    } catch (const std::exception& x) {
      out.failure = error(errc::internal, std::string("internal error: ") + x.what());
    }
  });
  ioc.run();
  if (!out.failure && !o.discard && !o.sweeping()) {
    try {
      extract_all(out.archives, rep);
    } catch (const error& x) {
      out.failure = x;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rep.finish_progress();
  write_stats(o, out.prog, wall, out.failure, rep);

  if (out.failure) {
    const std::string line = describe(*out.failure);
    rep.log(log_level::error, line);
    write_termination_log(line);
    return exit_code(out.failure->kind());
  }
  if (o.resolve_only || o.sweeping()) {
    std::fputs(out.stdout_text.c_str(), stdout);
    return 0;
  }
  rep.summary(out.prog, wall);
  return 0;
}

}  // namespace
}  // namespace mrsi::cli

int main(int argc, char** argv) {
  try {
    return mrsi::cli::main_impl(argc, argv);
  } catch (const mrsi::error& e) {
    std::fprintf(stderr, "error: %s\n", mrsi::describe(e).c_str());
    return mrsi::exit_code(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error: %s\n", e.what());
    return 1;
  }
}
