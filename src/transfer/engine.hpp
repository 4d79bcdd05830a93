// The transfer engine: downloads the files of one or more manifests with a fixed number of
// connections, splitting large files into parts written at their offsets, resuming from the
// journal, retrying only missing bytes, and renaming each file into place once complete.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "storage/provider.hpp"
#include "util/log.hpp"
#include "util/retry.hpp"
#include "util/state_dir.hpp"

namespace mrsi::http { class client; }

namespace mrsi::transfer {


struct engine_config {
  std::size_t connections = 16;                 // concurrent requests across all files
  std::uint64_t part_size = 16ull << 20;        // bytes per ranged request
  std::size_t buffer_size = 1u << 20;           // per connection; peak memory ~ connections x this
  retry_policy retry{.max_attempts = 6};        // per part (and per probe)
  std::chrono::seconds deadline{0};             // whole run; 0 = none
  bool discard = false;                         // benchmark mode: receive, count, write nothing
  bool verify_checksums = true;                 // MD5 and x-amz-checksum-* when the manifest knows them
  log_fn log;
};

// One file of a manifest together with the directory it lands in.
struct job {
  storage::manifest_entry entry;
  std::filesystem::path dest_dir;
  http::client* client = nullptr;  // the client for this source (TLS settings differ); null: run_transfer's
};

// Live counters, updated on the io_context thread; readers on that thread see consistent values.
struct progress {
  std::uint64_t bytes_total = 0;       // sum of known sizes
  std::uint64_t bytes_done = 0;        // on disk (or discarded) for this run, skipped files included
  std::uint64_t bytes_downloaded = 0;  // body bytes received over the network in this run
  std::size_t files_total = 0;
  std::size_t files_done = 0;
  std::size_t files_skipped = 0;       // already complete in DEST
  std::uint64_t retries = 0;
  // Measurements for --stats-json and benchmarks (one entry per request or part; a few bytes
  // each, so bounded by the number of parts, not by the bytes moved).
  std::vector<double> ttfb_ms;                 // request sent -> response headers received
  std::vector<double> part_ms;                 // a part's first request -> its last byte written
  std::vector<std::uint64_t> worker_bytes;     // body bytes received per connection slot
};

// Runs all jobs to completion. Throws mrsi::error for the first failure that retries could not
// fix; other transfers are then stopped and partial state is kept for resume. Must be awaited on
// a single-threaded io_context; disk writes run on an internal thread pool.
boost::asio::awaitable<void> run_transfer(std::vector<job> jobs, http::client& client,
                                          engine_config cfg, progress& prog);

}  // namespace mrsi::transfer
