// What the user sees on stderr: log lines (text or JSON), the progress bar or periodic progress
// lines, and the final summary. Thread-safe: the disk pool may log too.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "cli/options.hpp"
#include "transfer/engine.hpp"
#include "util/log.hpp"

namespace mrsi::cli {

class reporter {
 public:
  reporter(log_format format, log_level level, progress_mode mode);

  // The sink handed to the library.
  log_fn sink();
  void log(log_level level, std::string_view message);

  // Called every tick while transferring; draws a bar on a terminal or prints a line every few
  // seconds otherwise.
  void tick(const transfer::progress& p);
  // Clears the bar before the summary or an error.
  void finish_progress();

  // Writes the final "summary: ..." line.
  void summary(const transfer::progress& p, double seconds);

  std::chrono::milliseconds tick_interval() const;

 private:
  void write_line(std::string_view line);  // with the mutex held

  std::mutex mu_;
  log_format format_;
  log_level level_;
  bool tty_ = false;
  bool bar_ = false;       // a bar is drawn on the current line
  bool periodic_ = false;  // line mode
  bool enabled_ = true;
  std::chrono::steady_clock::time_point start_, last_line_;
  std::uint64_t last_bytes_ = 0;
  std::chrono::steady_clock::time_point last_rate_time_;
  double rate_ = 0;  // bytes/s, smoothed
};

// The throughput summary as a string: "summary: files=N bytes=B seconds=S MB/s=R retries=K skipped=F".
std::string format_summary(const transfer::progress& p, double seconds);

}  // namespace mrsi::cli
