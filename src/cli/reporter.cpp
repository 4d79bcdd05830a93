// Log, progress and summary output.
#include "cli/reporter.hpp"

#include <cstdio>
#include <ctime>
#include <unistd.h>

#include <boost/json.hpp>

#include "util/size.hpp"

namespace mrsi::cli {

namespace {

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string fmt_rate(double bps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB/s", bps / 1e6);
  return buf;
}

std::string fmt_eta(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

std::string format_summary(const transfer::progress& p, double seconds) {
  char buf[256];
  const double mbps = seconds > 0 ? static_cast<double>(p.bytes_downloaded) / seconds / 1e6 : 0.0;
  std::snprintf(buf, sizeof buf, "summary: files=%zu bytes=%llu seconds=%.3f MB/s=%.1f retries=%llu skipped=%zu",
                p.files_done, static_cast<unsigned long long>(p.bytes_done), seconds, mbps,
                static_cast<unsigned long long>(p.retries), p.files_skipped);
  return buf;
}

reporter::reporter(log_format format, log_level level, progress_mode mode)
    : format_(format), level_(level), start_(std::chrono::steady_clock::now()) {
  tty_ = ::isatty(STDERR_FILENO) == 1;
  enabled_ = mode != progress_mode::off;
  periodic_ = !(tty_ && format == log_format::text) || mode == progress_mode::off;
  if (mode == progress_mode::on && tty_ && format == log_format::text) periodic_ = false;
  last_line_ = start_;
  last_rate_time_ = start_;
}

log_fn reporter::sink() {
  return [this](log_level l, std::string_view m) { log(l, m); };
}

void reporter::write_line(std::string_view line) {
  if (bar_) {
    std::fputs("\r\033[K", stderr);
    bar_ = false;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void reporter::log(log_level level, std::string_view message) {
  if (level < level_) return;
  std::lock_guard lock(mu_);
  if (format_ == log_format::json) {
    boost::json::object o;
    o["time"] = timestamp();
    o["level"] = to_string(level);
    o["msg"] = message;
    write_line(boost::json::serialize(o));
  } else {
    write_line(std::string(to_string(level)) + ": " + std::string(message));
  }
}

std::chrono::milliseconds reporter::tick_interval() const {
  return periodic_ ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(250);
}

void reporter::tick(const transfer::progress& p) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_rate_time_).count();
  if (dt >= 0.2) {
    const double inst = static_cast<double>(p.bytes_done - std::min(p.bytes_done, last_bytes_)) / dt;
    rate_ = rate_ == 0 ? inst : 0.7 * rate_ + 0.3 * inst;
    last_bytes_ = p.bytes_done;
    last_rate_time_ = now;
  }
  const double pct = p.bytes_total ? 100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 0;
  const double eta = rate_ > 0 && p.bytes_total >= p.bytes_done
                         ? static_cast<double>(p.bytes_total - p.bytes_done) / rate_
                         : -1;
  std::string stats = format_bytes(p.bytes_done) + " / " + format_bytes(p.bytes_total) + "  " + fmt_rate(rate_) +
                      "  ETA " + fmt_eta(eta) + "  files " + std::to_string(p.files_done) + "/" +
                      std::to_string(p.files_total);
  if (p.retries) stats += "  retries " + std::to_string(p.retries);
  std::lock_guard lock(mu_);
  if (periodic_) {
    if (now - last_line_ < std::chrono::seconds(5)) return;
    last_line_ = now;
    char head[32];
    std::snprintf(head, sizeof head, "%.1f%% ", pct);
    if (format_ == log_format::json) {
      boost::json::object o;
      o["time"] = timestamp();
      o["level"] = "info";
      o["msg"] = "progress";
      o["bytes_done"] = p.bytes_done;
      o["bytes_total"] = p.bytes_total;
      o["files_done"] = p.files_done;
      o["files_total"] = p.files_total;
      o["rate_bytes_per_s"] = rate_;
      o["retries"] = p.retries;
      write_line(boost::json::serialize(o));
    } else {
      write_line("progress: " + std::string(head) + stats);
    }
    return;
  }
  constexpr int width = 24;
  const int filled = static_cast<int>(pct / 100.0 * width);
  std::string bar = "\r\033[K[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(width - filled), ' ') + "] ";
  char head[16];
  std::snprintf(head, sizeof head, "%5.1f%% ", pct);
  bar += head + stats;
  std::fputs(bar.c_str(), stderr);
  std::fflush(stderr);
  bar_ = true;
}

void reporter::finish_progress() {
  std::lock_guard lock(mu_);
  if (bar_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    bar_ = false;
  }
}

void reporter::summary(const transfer::progress& p, double seconds) {
  std::lock_guard lock(mu_);
  if (format_ == log_format::json) {
    boost::json::object o;
    o["time"] = timestamp();
    o["level"] = "info";
    o["msg"] = format_summary(p, seconds);
    write_line(boost::json::serialize(o));
  } else {
    write_line(format_summary(p, seconds));
  }
}

}  // namespace mrsi::cli
