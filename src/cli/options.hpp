// Command-line and environment options of the tool, parsed with CLI11 into plain config values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/log.hpp"

namespace mrsi::cli {

enum class log_format { text, json };
enum class progress_mode { automatic, on, off };

struct options {
  std::vector<std::pair<std::string, std::string>> pairs;  // (SRC, DEST)
  std::size_t connections = 16;
  std::uint64_t part_size = 16ull << 20;
  std::uint64_t buffer_size = 1ull << 20;
  std::chrono::seconds connect_timeout{15};
  std::chrono::seconds read_timeout{30};
  int attempts = 6;
  std::chrono::seconds deadline{0};
  std::string ca_bundle;
  bool insecure = false;
  log_format format = log_format::text;
  log_level level = log_level::info;
  progress_mode progress = progress_mode::automatic;
  std::string stats_json;
  bool resolve_only = false;
  bool discard = false;
  // Sweep mode: run the same sources once per (connections, part size) combination, discarding
  // the data, and print a table. Empty lists mean "just the configured value".
  std::vector<std::size_t> sweep_connections;
  std::vector<std::uint64_t> sweep_part_sizes;
  bool sweeping() const { return !sweep_connections.empty() || !sweep_part_sizes.empty(); }
};

// What parse() decided: run with options, or exit now with a code after printing `output`
// (help, version, usage errors).
struct parse_result {
  std::optional<options> opts;
  int exit_code = 0;
  std::string output;    // for stdout (help, version)
  std::string error;     // for stderr (usage errors): the last line names the problem
};

// Flags win over environment variables (MRSI_*), which win over defaults.
parse_result parse(int argc, const char* const* argv);

}  // namespace mrsi::cli
