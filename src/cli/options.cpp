// Option parsing with CLI11.
#include "cli/options.hpp"

#include <CLI/CLI.hpp>

#include "util/size.hpp"

namespace mrsi::cli {

namespace {

constexpr const char* description =
    "Downloads a model to a local directory, as a KServe storage initializer or standalone.\n"
    "  mr-storage-initializer [options] SRC DEST [SRC DEST ...]\n"
    "SRC: model-registry://[host[:port]/]model[/version][?namespace=ns], http(s)://...\n"
    "Every option can also be set with the environment variable shown as (Env:...).\n"
    "Exit codes: 0 ok, 1 internal error, 2 usage, 3 source refused or not found, 4 network,\n"
    "5 local I/O (destination not writable, disk full), 6 integrity (source changed, mismatch).";

// Validates a size option ("16M") and stores it.
CLI::Option* size_option(CLI::App& app, const std::string& name, std::uint64_t& target, const std::string& help,
                         const std::string& env) {
  return app
      .add_option_function<std::string>(
          name,
          [&target, name](const std::string& v) {
            auto s = parse_size(v);
            if (!s || *s == 0) throw CLI::ValidationError(name, "expected a size like 16M or 262144, got \"" + v + "\"");
            target = *s;
          },
          help)
      ->envname(env);
}

}  // namespace

parse_result parse(int argc, const char* const* argv) {
  // CLI11 reads the MRSI_* environment variables itself (getenv): this is the CLI layer, the one
  // place allowed to look at the process environment.
  options o;
  CLI::App app{description, "mr-storage-initializer"};
  app.set_version_flag("--version", std::string("mr-storage-initializer ") + MRSI_VERSION);
  app.get_formatter()->column_width(34);

  std::vector<std::string> positional;
  app.add_option("uris", positional, "SRC DEST pairs")->expected(0, -1);
  app.add_option("-c,--connections", o.connections, "concurrent connections (default 16)")
      ->envname("MRSI_CONNECTIONS")
      ->check(CLI::Range(1, 1024));
  size_option(app, "--part-size", o.part_size, "bytes per ranged request (default 16M)", "MRSI_PART_SIZE");
  size_option(app, "--buffer-size", o.buffer_size, "receive buffer per connection (default 1M)", "MRSI_BUFFER_SIZE");
  int connect_s = 15, read_s = 30, deadline_s = 0;
  app.add_option("--connect-timeout", connect_s, "seconds for DNS, TCP connect and TLS handshake each (default 15)")
      ->envname("MRSI_CONNECT_TIMEOUT")
      ->check(CLI::Range(1, 3600));
  app.add_option("--read-timeout", read_s,
                 "seconds to wait for response headers and between body reads before retrying (default 30)")
      ->envname("MRSI_READ_TIMEOUT")
      ->check(CLI::Range(1, 3600));
  app.add_option("--retries", o.attempts, "attempts per request or part, the first included; one that moved 1 MiB or more is not counted (default 6)")
      ->envname("MRSI_RETRIES")
      ->check(CLI::Range(1, 100));
  app.add_option("--deadline", deadline_s, "give up after this many seconds in total (default 0: none)")
      ->envname("MRSI_DEADLINE")
      ->check(CLI::Range(0, 7 * 24 * 3600));
  app.add_option("--ca-bundle", o.ca_bundle, "PEM file of extra CAs to trust (system store still used)")
      ->envname("MRSI_CA_BUNDLE");
  app.add_flag("--insecure", o.insecure, "do not verify TLS certificates (unsafe)")->envname("MRSI_INSECURE");
  std::string fmt = "text", level = "info", progress = "auto";
  app.add_option("--log-format", fmt, "text or json (one JSON object per line)")
      ->envname("MRSI_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", level, "debug, info, warn or error (default info)")
      ->envname("MRSI_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--progress", progress, "auto (bar on a terminal, periodic lines otherwise), on or off")
      ->envname("MRSI_PROGRESS")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--stats-json", o.stats_json, "write a JSON summary of the run to this file")
      ->envname("MRSI_STATS_JSON");
  app.add_flag("--resolve-only", o.resolve_only,
               "for model-registry:// sources: print the resolution as JSON and exit without downloading");
  app.add_flag("--discard", o.discard, "download without writing anything to disk (to measure throughput)")
      ->envname("MRSI_DISCARD");

  std::string sweep_c, sweep_p;
  app.add_option("--sweep-connections", sweep_c,
                 "comma-separated connection counts to try (sweep mode: data is discarded, a table is printed)");
  app.add_option("--sweep-part-sizes", sweep_p, "comma-separated part sizes to try in sweep mode (e.g. 8M,16M,64M)");

  parse_result r;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    r.output = app.help();
    return r;
  } catch (const CLI::CallForVersion& e) {
    r.output = std::string(e.what()) + "\n";
    return r;
  } catch (const CLI::ParseError& e) {
    r.exit_code = 2;
    r.error = std::string("usage: mr-storage-initializer [options] SRC DEST [SRC DEST ...] (see --help)\n") +
              "error: " + e.what();
    return r;
  }
  auto split = [](const std::string& list) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= list.size()) {
      const auto comma = list.find(',', start);
      const auto item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  };
  for (const auto& item : split(sweep_c)) {
    const auto v = parse_size(item);
    if (!v || *v == 0 || *v > 1024) {
      r.exit_code = 2;
      r.error = "error: --sweep-connections: \"" + item + "\" is not a connection count from 1 to 1024";
      return r;
    }
    o.sweep_connections.push_back(static_cast<std::size_t>(*v));
  }
  for (const auto& item : split(sweep_p)) {
    const auto v = parse_size(item);
    if (!v || *v == 0) {
      r.exit_code = 2;
      r.error = "error: --sweep-part-sizes: \"" + item + "\" is not a size like 16M";
      return r;
    }
    o.sweep_part_sizes.push_back(*v);
  }
  const bool needs_pairs = !o.resolve_only;
  if (positional.empty() || (needs_pairs && positional.size() % 2 != 0)) {
    r.exit_code = 2;
    r.error = std::string("usage: mr-storage-initializer [options] SRC DEST [SRC DEST ...] (see --help)\n") +
              "error: expected SRC DEST pairs, got " + std::to_string(positional.size()) + " argument(s)";
    return r;
  }
  if (o.resolve_only) {
    for (auto& p : positional) o.pairs.emplace_back(p, std::string());
  } else {
    for (std::size_t i = 0; i + 1 < positional.size(); i += 2) o.pairs.emplace_back(positional[i], positional[i + 1]);
  }
  o.connect_timeout = std::chrono::seconds(connect_s);
  o.read_timeout = std::chrono::seconds(read_s);
  o.deadline = std::chrono::seconds(deadline_s);
  o.format = fmt == "json" ? log_format::json : log_format::text;
  o.level = level == "debug" ? log_level::debug
            : level == "warn" ? log_level::warn
            : level == "error" ? log_level::error
                               : log_level::info;
  o.progress = progress == "on" ? progress_mode::on : progress == "off" ? progress_mode::off : progress_mode::automatic;
  r.opts = std::move(o);
  return r;
}

}  // namespace mrsi::cli
