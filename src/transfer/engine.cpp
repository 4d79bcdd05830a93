// The transfer engine. One global queue of work shared by `connections` worker coroutines: parts of
// files whose size is known come first, then probes of files not yet started. A probe is a ranged
// GET of the first part: its answer gives size and validator and its body is part 0.
#include "transfer/engine.hpp"

#include <deque>
#include <map>
#include <memory>
#include <random>

#include <boost/asio.hpp>

#include "http/client.hpp"
#include "transfer/file_io.hpp"
#include "transfer/journal.hpp"
#include "transfer/part_plan.hpp"
#include "util/error.hpp"
#include "util/redact.hpp"

namespace mrsi::transfer {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t error_body_limit = 64 * 1024;
constexpr std::uint64_t progress_worth_a_retry = 1 << 20;  // see download_part

struct file_state {
  job j;
  fs::path final_path, temp_path, journal_path, done_path;
  std::string source_id;
  std::string url_redacted;
  std::optional<journal_state> resume;
  std::optional<journal_header> done_record;
  std::uint64_t size = 0;
  std::string validator;
  file_handle fd;
  // Writes to one file go through one strand: concurrent pwrite calls on the same inode only
  // contend for its lock (ext4 spent a quarter of its cycles spinning on it).
  std::optional<asio::strand<asio::thread_pool::executor_type>> writer;
  std::vector<bool> part_done;
  std::uint64_t parts_remaining = 0;
};

// A connection slot's receive buffer, tagged with the slot for per-connection statistics. Not
// zero-filled: its pages cost memory only once data arrives (a small download stays small).
class worker_buffer {
 public:
  worker_buffer(std::size_t size, std::size_t slot) : data_(new char[size]), size_(size), slot(slot) {}
  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;

 public:
  const std::size_t slot;
};

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

struct part_task {
  file_state* f = nullptr;
  std::uint64_t index = 0;
  byte_range range;
  std::uint64_t written = 0;   // bytes of this part already on disk; retries ask for the rest
  std::optional<error> failed;  // set when an earlier attempt (the probe) failed: back off first
};

std::string strip_query(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

diagnostics diag_for(const http::exchange& ex) {
  diagnostics d;
  d.url = redact_url(ex.url());
  d.http_status = ex.status();
  if (auto id = ex.header("x-amz-request-id")) d.request_id = std::string(*id);
  else if (auto ms = ex.header("x-ms-request-id")) d.request_id = std::string(*ms);
  if (auto ra = ex.header("Retry-After")) {
    if (auto s = parse_retry_after(*ra, std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count()))
      d.retry_after_s = static_cast<unsigned>(s->count());
  }
  return d;
}

class engine {
 public:
  engine(asio::any_io_executor ex, http::client& client, engine_config cfg, progress& prog)
      : ex_(ex), client_(client), cfg_(std::move(cfg)), prog_(prog), signal_(ex), disk_(2),
        rng_(std::random_device{}()) {
    signal_.expires_at(asio::steady_timer::time_point::max());
    if (cfg_.deadline.count() > 0) deadline_ = std::chrono::steady_clock::now() + cfg_.deadline;
    if (cfg_.connections == 0) cfg_.connections = 1;
    if (cfg_.part_size == 0) cfg_.part_size = 16ull << 20;
    if (cfg_.buffer_size < 4096) cfg_.buffer_size = 4096;
    if (cfg_.retry.max_attempts < 1) cfg_.retry.max_attempts = 1;
    allowed_ = cfg_.connections;
  }

  ~engine() { disk_.join(); }

  asio::awaitable<void> run(std::vector<job> jobs) {
    prepare(std::move(jobs));
    const std::size_t n = std::max<std::size_t>(1, std::min(cfg_.connections, files_.size() * 64));
    prog_.worker_bytes.assign(n, 0);
    std::size_t running = n;
    for (std::size_t i = 0; i < n; ++i) {
      asio::co_spawn(ex_, worker(i), [this, &running](std::exception_ptr e) {
        if (e && !failure_) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            failure_ = error(errc::internal, std::string("internal error: ") + x.what());
          }
        }
        if (--running == 0) signal_.cancel();
      });
    }
    while (running > 0) co_await signal_.async_wait(use_tuple);
    if (failure_) throw *failure_;
  }

 private:
  void prepare(std::vector<job> jobs) {
    std::map<fs::path, std::string> seen;
    for (auto& j : jobs) {
      auto f = std::make_unique<file_state>();
      f->final_path = j.dest_dir / j.entry.relative_path;
      f->url_redacted = redact_url(j.entry.url);
      if (auto [it, fresh] = seen.emplace(f->final_path.lexically_normal(), f->url_redacted); !fresh)
        throw error(errc::usage, "two sources would be written to the same file " + f->final_path.string() +
                                     ": " + it->second + " and " + f->url_redacted);
      const fs::path state = j.dest_dir / state_dir_name;
      if (!cfg_.discard) {
        std::error_code ec;
        fs::create_directories(state, ec);
        if (ec)
          throw error(errc::local_io, "destination " + j.dest_dir.string() + " is not writable: " + ec.message());
      }
      const std::string id = stable_id(j.entry.relative_path.generic_string());
      f->temp_path = state / (id + ".part");
      f->journal_path = state / (id + ".journal");
      f->done_path = state / (id + ".done");
      f->source_id = stable_id(strip_query(j.entry.url));
      f->writer.emplace(asio::make_strand(disk_));
      f->j = std::move(j);
      files_.push_back(std::move(f));
    }
    prog_.files_total += files_.size();
  }

  void wake() { signal_.cancel(); }

  http::client& client_of(const file_state& f) { return f.j.client ? *f.j.client : client_; }

  void check_deadline() const {
    if (deadline_ && std::chrono::steady_clock::now() > *deadline_)
      throw error(errc::network, "the overall deadline of " + std::to_string(cfg_.deadline.count()) +
                                     " s passed before the download finished");
  }

  asio::awaitable<void> worker(std::size_t slot) {
    worker_buffer buf(cfg_.buffer_size, slot);
    while (!failure_) {
      try {
        const bool work_left = !parts_.empty() || next_file_ < files_.size();
        if (!work_left) {
          if (probing_ == 0) break;
          co_await signal_.async_wait(use_tuple);  // a probe may still add parts
          continue;
        }
        if (busy_ >= allowed_) {
          co_await signal_.async_wait(use_tuple);  // throttled: wait for a slot
          continue;
        }
        ++busy_;
        struct busy_guard {
          engine* e;
          ~busy_guard() {
            --e->busy_;
            e->wake();
          }
        } busy{this};
        if (!parts_.empty()) {
          part_task t = parts_.front();
          parts_.pop_front();
          co_await download_part(t, buf);
        } else {
          file_state& f = *files_[next_file_++];
          struct probing_guard {
            engine* e;
            ~probing_guard() { --e->probing_; }
          } guard{this};
          ++probing_;
          co_await probe(f, buf);
        }
        succeeded();
      } catch (const error& e) {
        if (!failure_) failure_ = e;
        wake();
      }
    }
  }

  // Additive increase: after `allowed_` successes in a row, one more connection may work.
  void succeeded() {
    if (allowed_ < cfg_.connections && ++successes_ >= allowed_) {
      ++allowed_;
      successes_ = 0;
      wake();
    }
  }

  // Multiplicative decrease when the server says it is overloaded (429, 503 SlowDown), at most
  // once a second so that one burst of refusals counts once.
  void throttled(unsigned status) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_cut_ < std::chrono::seconds(1)) return;
    last_cut_ = now;
    successes_ = 0;
    const std::size_t before = allowed_;
    allowed_ = std::max<std::size_t>(1, allowed_ / 2);
    if (allowed_ < before)
      log(cfg_.log, log_level::warn,
          "the server is throttling (HTTP " + std::to_string(status) + "): concurrency reduced from " +
              std::to_string(before) + " to " + std::to_string(allowed_));
  }

  // Waits before retry number `attempt`, honouring the server's Retry-After; `immediate` retries at
  // once (the failed attempt made progress, so the link rather than the server is at fault).
  asio::awaitable<void> backoff(int attempt, const error& e, bool immediate = false) {
    check_deadline();
    ++prog_.retries;
    if (const auto st = e.diag().http_status; st && (*st == 429 || *st == 503)) throttled(*st);
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    auto delay = immediate ? std::chrono::milliseconds(0) : backoff_delay(cfg_.retry, attempt, dist(rng_));
    if (e.diag().retry_after_s)
      delay = std::max(delay, std::min<std::chrono::milliseconds>(std::chrono::seconds(*e.diag().retry_after_s),
                                                                  cfg_.retry.max_delay));
    log(cfg_.log, log_level::warn,
        std::string(e.what()) + "; retry " + std::to_string(attempt) + " of " +
            std::to_string(cfg_.retry.max_attempts - 1) + " in " + std::to_string(delay.count()) + " ms");
    asio::steady_timer t(ex_);
    t.expires_after(delay);
    co_await t.async_wait(use_tuple);
  }

  // Turns a final non-success status into an error, using the provider's parser for the body.
  asio::awaitable<error> status_error(http::exchange& ex, const file_state& f) {
    diagnostics d = diag_for(ex);
    http::response body;
    body.status = ex.status();
    body.headers = ex.headers();
    body.url = ex.url();
    try {
      std::array<char, 16 * 1024> chunk;
      while (body.body.size() < error_body_limit) {
        const std::size_t n = co_await ex.read_some(chunk);
        if (n == 0) break;
        body.body.append(chunk.data(), n);
      }
    } catch (const error&) {
      // The status says enough; a broken error body must not hide it.
    }
    if (f.j.entry.parse_error) f.j.entry.parse_error(body, d);
    const unsigned s = ex.status();
    const std::string where = f.url_redacted;
    if (s == 404) co_return error(errc::source, "not found: " + where, d);
    if (s == 401 || s == 403)
      co_return error(errc::source, "access denied to " + where + "; check the credentials", d);
    if (is_retryable_status(s))
      co_return error(errc::network, "server error HTTP " + std::to_string(s) + " for " + where, d, true);
    co_return error(errc::source, "HTTP " + std::to_string(s) + " for " + where, d);
  }

  asio::awaitable<void> write_at(file_state& f, const char* data, std::size_t n, std::uint64_t off) {
    if (cfg_.discard || n == 0) co_return;
    const file_handle* fh = &f.fd;
    const fs::path* p = &f.temp_path;
    // Disk writes block; they run on the disk pool while this connection waits (backpressure).
    co_await asio::co_spawn(
        *f.writer,
        [fh, data, n, off, p]() -> asio::awaitable<void> {
          write_all_at(*fh, data, n, off, *p);
          co_return;
        },
        asio::use_awaitable);
  }

  // Streams the response body to [offset, offset+expected) (expected unknown: to the end),
  // buffering up to buffer_size. `written` grows by what reached the disk, even on failure.
  asio::awaitable<void> stream_body(file_state& f, http::exchange& ex, std::uint64_t offset,
                                    std::optional<std::uint64_t> expected, worker_buffer& buf,
                                    std::uint64_t& written) {
    std::size_t fill = 0;
    std::uint64_t pos = offset;
    for (;;) {
      std::size_t room = buf.size() - fill;
      if (expected) room = static_cast<std::size_t>(std::min<std::uint64_t>(room, *expected - (pos - offset) - fill));
      std::size_t n = 0;
      std::optional<error> failure;
      if (room > 0) {
        try {
          n = co_await ex.read_some(std::span<char>(buf.data() + fill, room));
          check_deadline();
        } catch (const error& e) {
          failure = e;
        }
      }
      fill += n;
      prog_.bytes_downloaded += n;
      prog_.worker_bytes[buf.slot] += n;
      const bool end = n == 0;
      if (fill == buf.size() || end) {
        co_await write_at(f, buf.data(), fill, pos);
        pos += fill;
        written += fill;
        prog_.bytes_done += fill;
        fill = 0;
      }
      if (failure) throw *failure;
      if (end) break;
    }
    const std::uint64_t got = pos - offset;
    if (expected && got != *expected) {
      diagnostics d;
      d.url = f.url_redacted;
      throw error(errc::network, "response body ended after " + std::to_string(got) + " of " +
                                     std::to_string(*expected) + " bytes from " + f.url_redacted, d, true);
    }
    if (expected) {
      // The range is complete; anything more is a server bug we must not write anywhere.
      std::array<char, 1> extra;
      if (co_await ex.read_some(extra) != 0)
        throw error(errc::integrity, "server sent more bytes than the requested range for " + f.url_redacted);
    }
  }

  // Reads resume state once, before the first request for the file.
  void load_state(file_state& f) {
    if (cfg_.discard) return;
    if (auto text = read_small_file(f.done_path)) f.done_record = parse_done_record(*text);
    if (auto text = read_small_file(f.journal_path)) f.resume = parse_journal(*text);
  }

  bool can_skip(const file_state& f, std::uint64_t size, const std::string& validator) const {
    if (!f.done_record || validator.empty()) return false;
    const auto& d = *f.done_record;
    if (d.size != size || d.validator != validator || d.source_id != f.source_id) return false;
    std::error_code ec;
    return fs::is_regular_file(f.final_path, ec) && fs::file_size(f.final_path, ec) == size && !ec;
  }

  void mark_skipped(file_state& f, std::uint64_t size) {
    ++prog_.files_skipped;
    ++prog_.files_done;
    prog_.bytes_total += size;
    prog_.bytes_done += size;
    log(cfg_.log, log_level::info, "already complete, skipped: " + f.final_path.string());
  }

  // Opens the temp file, continuing the journal when it matches this exact source version.
  void setup_ranged(file_state& f, std::uint64_t size, const std::string& validator) {
    f.size = size;
    f.validator = validator;
    const journal_header h{f.source_id, size, cfg_.part_size, validator};
    const std::uint64_t n = part_count(size, cfg_.part_size);
    std::error_code ec;
    if (!cfg_.discard && f.resume && f.resume->header == h && !validator.empty() && fs::exists(f.temp_path, ec)) {
      f.part_done = f.resume->done;
      f.fd = open_for_write(f.temp_path);
      std::uint64_t have = 0;
      for (std::uint64_t i = 0; i < n; ++i)
        if (f.part_done[i]) have += part_range(size, cfg_.part_size, i).length;
      prog_.bytes_done += have;
      log(cfg_.log, log_level::info,
          "resuming " + f.final_path.string() + ": " + std::to_string(have) + " of " + std::to_string(size) +
              " bytes already on disk");
    } else {
      f.part_done.assign(n, false);
      if (!cfg_.discard) {
        fs::remove(f.temp_path, ec);
        fs::remove(f.done_path, ec);
        f.fd = open_for_write(f.temp_path);
        preallocate(f.fd, size, f.temp_path);
        write_file(f.journal_path, format_journal_header(h));
      }
    }
    f.parts_remaining = std::count(f.part_done.begin(), f.part_done.end(), false);
    prog_.bytes_total += size;
  }

  void setup_stream(file_state& f, std::optional<std::uint64_t> size, const std::string& validator) {
    f.size = size.value_or(0);
    f.validator = validator;
    f.part_done.clear();
    f.parts_remaining = 0;
    if (size) prog_.bytes_total += *size;
    if (cfg_.discard) return;
    std::error_code ec;
    fs::remove(f.journal_path, ec);
    fs::remove(f.done_path, ec);
    fs::remove(f.temp_path, ec);
    f.fd = open_for_write(f.temp_path);
    if (size) preallocate(f.fd, *size, f.temp_path);
  }

  void mark_part_done(file_state& f, std::uint64_t index) {
    f.part_done[index] = true;
    --f.parts_remaining;
    if (!cfg_.discard) append_line(f.journal_path, format_journal_done(index));
  }

  // Queues the parts from index `first` on that are not on disk yet.
  void enqueue_missing(file_state& f, std::uint64_t first) {
    for (std::uint64_t i = first; i < f.part_done.size(); ++i)
      if (!f.part_done[i]) parts_.push_back(part_task{&f, i, part_range(f.size, cfg_.part_size, i), 0, std::nullopt});
    wake();
  }

  asio::awaitable<void> probe(file_state& f, worker_buffer& buf) {
    load_state(f);
    for (int attempt = 1;; ++attempt) {
      std::optional<error> failure;
      try {
        co_await probe_once(f, buf);
        co_return;
      } catch (const error& e) {
        if (!e.is_retryable() || attempt >= cfg_.retry.max_attempts) throw;
        failure = e;
      }
      // A failed probe may have counted some bytes; the retry starts over.
      co_await backoff(attempt, *failure);
    }
  }

  asio::awaitable<void> probe_once(file_state& f, worker_buffer& buf) {
    if (f.j.entry.size == 0 && !f.done_record) {
      // An empty object from a listing: nothing to request (a range of it cannot be satisfied).
      setup_stream(f, 0, f.j.entry.etag);
      co_await finalize(f);
      co_return;
    }
    const bool small = f.done_record || (f.resume && !f.resume->done.empty() && f.resume->done[0]);
    const std::uint64_t want = small ? 1 : cfg_.part_size;
    http::request r;
    r.url = f.j.entry.url;
    r.headers = f.j.entry.headers;
    http::set_header(r.headers, "Range", range_header(0, want - 1));
    const auto sent = std::chrono::steady_clock::now();
    auto ex = co_await client_of(f).open(r, f.j.entry.sign);
    prog_.ttfb_ms.push_back(ms_since(sent));
    check_deadline();
    const unsigned status = ex->status();

    if (status == 206) {
      auto cr = ex->header("Content-Range") ? parse_content_range(*ex->header("Content-Range")) : std::nullopt;
      if (!cr && ex->header("Content-Range") && ex->header("Content-Range")->ends_with("/0")) {
        // Some servers (s3rver) answer a range of an empty object with 206 "bytes 0-0/0".
        setup_stream(f, 0, validator_from(ex->headers()));
        co_await finalize(f);
        co_return;
      }
      if (!cr || !cr->first || *cr->first != 0 || !cr->total) {
        diagnostics d = diag_for(*ex);
        throw error(errc::source, "unusable Content-Range \"" + std::string(ex->header("Content-Range").value_or("")) +
                                      "\" from " + f.url_redacted, d);
      }
      const std::uint64_t size = *cr->total;
      const std::string validator = validator_from(ex->headers());
      if (can_skip(f, size, validator)) {
        mark_skipped(f, size);
        co_return;
      }
      setup_ranged(f, size, validator);
      if (small || f.part_done.empty() || f.part_done[0]) {
        if (f.parts_remaining == 0) co_await finalize(f);
        else enqueue_missing(f, 0);
        co_return;
      }
      // This response carries part 0. The other parts are released now, so the other
      // connections start on them while part 0 streams in.
      const byte_range r0 = part_range(size, cfg_.part_size, 0);
      if (*cr->last != r0.last())
        throw error(errc::source, "server answered a range request for " + f.url_redacted +
                                      " with an unexpected Content-Range", diag_for(*ex));
      enqueue_missing(f, 1);
      part_task t0{&f, 0, r0, 0, std::nullopt};
      try {
        co_await stream_body(f, *ex, 0, r0.length, buf, t0.written);
      } catch (const error& e) {
        if (!e.is_retryable()) throw;
        // Part 0 continues like any other part: from the bytes already written, after a backoff.
        t0.failed = e;
        parts_.push_front(std::move(t0));
        wake();
        co_return;
      }
      prog_.part_ms.push_back(ms_since(sent));
      mark_part_done(f, 0);
      if (f.parts_remaining == 0) co_await finalize(f);
      co_return;
    }

    if (status == 200) {
      // The server ignores Range: one stream, and a retry starts from the beginning.
      const std::string validator = validator_from(ex->headers());
      const auto length = ex->content_length();
      if (length && can_skip(f, *length, validator)) {
        mark_skipped(f, *length);
        co_return;
      }
      log(cfg_.log, log_level::info, "no range support at " + f.url_redacted + ": downloading as one stream");
      setup_stream(f, length, validator);
      std::uint64_t written = 0;
      const std::uint64_t before = prog_.bytes_done;
      try {
        co_await stream_body(f, *ex, 0, length, buf, written);
      } catch (const error&) {
        prog_.bytes_done = before;
        if (length) prog_.bytes_total -= *length;
        throw;
      }
      f.size = written;
      co_await finalize(f);
      co_return;
    }

    if (status == 416) {
      // An empty object cannot satisfy any range: "bytes */0".
      auto cr = ex->header("Content-Range") ? parse_content_range(*ex->header("Content-Range")) : std::nullopt;
      if (cr && cr->total && *cr->total == 0) {
        setup_stream(f, 0, validator_from(ex->headers()));
        co_await finalize(f);
        co_return;
      }
    }
    error failure = co_await status_error(*ex, f);  // GCC 12 miscompiles `throw co_await`
    throw failure;
  }

  asio::awaitable<void> download_part(part_task t, worker_buffer& buf) {
    file_state& f = *t.f;
    const auto started = std::chrono::steady_clock::now();
    // `attempt` counts failures in a row that moved less than 1 MiB: a link that keeps dropping
    // after real progress (resets every few MiB) still finishes; one that delivers a trickle and
    // stalls, or nothing, gives up after --retries attempts.
    int attempt = 1;
    if (t.failed) co_await backoff(attempt++, *t.failed);
    for (;;) {
      const std::uint64_t before = t.written;
      std::optional<error> failure;
      bool progressed = false;
      try {
        co_await part_once(t, buf);
        break;
      } catch (const error& e) {
        if (e.kind() == errc::integrity) discard_state(f);
        if (!e.is_retryable()) throw;
        progressed = t.written >= before + progress_worth_a_retry;
        if (progressed) attempt = 1;
        else if (attempt >= cfg_.retry.max_attempts) throw;
        failure = e;
      }
      // After real progress the connection, not the server, failed: ask again at once.
      co_await backoff(attempt++, *failure, progressed);
    }
    prog_.part_ms.push_back(ms_since(started));
    mark_part_done(f, t.index);
    if (f.parts_remaining == 0) co_await finalize(f);
  }

  asio::awaitable<void> part_once(part_task& t, worker_buffer& buf) {
    file_state& f = *t.f;
    const std::uint64_t first = t.range.offset + t.written, last = t.range.last();
    http::request r;
    r.url = f.j.entry.url;
    r.headers = f.j.entry.headers;
    http::set_header(r.headers, "Range", range_header(first, last));
    if (!f.validator.empty()) http::set_header(r.headers, "If-Range", if_range_value(f.validator));
    const auto sent = std::chrono::steady_clock::now();
    auto ex = co_await client_of(f).open(r, f.j.entry.sign);
    prog_.ttfb_ms.push_back(ms_since(sent));
    check_deadline();
    const unsigned status = ex->status();
    if (status == 200 || status == 412) {
      throw error(errc::integrity, f.url_redacted + " changed on the server during the download (" +
                                       (status == 200 ? "If-Range no longer matches" : "precondition failed") +
                                       "); run again to fetch the new version", diag_for(*ex));
    }
    if (status != 206) {
      error failure = co_await status_error(*ex, f);
      throw failure;
    }
    auto cr = ex->header("Content-Range") ? parse_content_range(*ex->header("Content-Range")) : std::nullopt;
    if (!cr || cr->first != first || cr->last != last || cr->total != f.size) {
      throw error(errc::integrity, "server answered bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                       " of " + f.url_redacted + " with Content-Range \"" +
                                       std::string(ex->header("Content-Range").value_or("")) + "\"",
                  diag_for(*ex));
    }
    // Some servers ignore If-Range; a different ETag means the bytes belong to another version.
    if (const auto etag = ex->header("ETag"); etag && !f.validator.empty() && !f.validator.starts_with("lm:") &&
                                              *etag != f.validator) {
      throw error(errc::integrity, f.url_redacted + " changed on the server during the download (ETag " +
                                       f.validator + " became " + std::string(*etag) + ")", diag_for(*ex));
    }
    co_await stream_body(f, *ex, first, last - first + 1, buf, t.written);
  }

  void discard_state(file_state& f) {
    if (cfg_.discard) return;
    std::error_code ec;
    f.fd.close();
    fs::remove(f.journal_path, ec);
    fs::remove(f.temp_path, ec);
  }

  // Checks the completed temp file and renames it into place. Runs the blocking parts on the
  // disk pool.
  asio::awaitable<void> finalize(file_state& f) {
    if (!cfg_.discard) {
      file_state* fp = &f;
      const bool verify = cfg_.verify_checksums && !f.j.entry.md5_hex.empty();
      // An S3 additional checksum (x-amz-checksum-*), computed in the same read pass as the MD5.
      const bool verify_checksum =
          cfg_.verify_checksums && !f.j.entry.checksum_algorithm.empty() && !f.j.entry.checksum_b64.empty();
      co_await asio::co_spawn(
          disk_.get_executor(),
          [fp, verify, verify_checksum]() -> asio::awaitable<void> {
            file_state& f = *fp;
            const std::uint64_t on_disk = file_size_of(f.fd, f.temp_path);
            if (on_disk != f.size)
              throw error(errc::integrity, "size of " + f.final_path.string() + " is " + std::to_string(on_disk) +
                                               " bytes, expected " + std::to_string(f.size));
            f.fd.close();
            if (verify || verify_checksum) {
              const auto& want = f.j.entry;
              const auto got = digest_file(f.temp_path, verify, verify_checksum ? want.checksum_algorithm : "");
              std::string mismatch;
              if (verify && got.md5_hex != want.md5_hex)
                mismatch = "MD5 of " + f.final_path.string() + " is " + got.md5_hex + ", the source says " + want.md5_hex;
              else if (verify_checksum && got.checksum_b64 != want.checksum_b64)
                mismatch = want.checksum_algorithm + " of " + f.final_path.string() + " is " + got.checksum_b64 +
                           ", the source says " + want.checksum_b64;
              if (!mismatch.empty()) {
                std::error_code ec;
                fs::remove(f.temp_path, ec);
                fs::remove(f.journal_path, ec);
                throw error(errc::integrity, mismatch);
              }
            }
            std::error_code ec;
            fs::create_directories(f.final_path.parent_path(), ec);
            if (ec) throw_io("cannot create directory", f.final_path.parent_path(), ec.value());
            if (fs::is_directory(f.final_path, ec))
              throw error(errc::local_io, "cannot write " + f.final_path.string() + ": a directory is in the way");
            fs::rename(f.temp_path, f.final_path, ec);
            if (ec) throw_io("cannot move the finished file into place at", f.final_path, ec.value());
            write_file(f.done_path, format_done_record({f.source_id, f.size, 0, f.validator}));
            fs::remove(f.journal_path, ec);
            co_return;
          },
          asio::use_awaitable);
    }
    ++prog_.files_done;
    log(cfg_.log, log_level::debug, "complete: " + f.final_path.string() + " (" + std::to_string(f.size) + " bytes)");
  }

  asio::any_io_executor ex_;
  http::client& client_;
  engine_config cfg_;
  progress& prog_;
  asio::steady_timer signal_;  // cancelled to wake idle workers and the waiting run()
  asio::thread_pool disk_;
  std::minstd_rand rng_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::vector<std::unique_ptr<file_state>> files_;
  std::size_t next_file_ = 0;
  std::size_t probing_ = 0;
  std::size_t busy_ = 0;     // workers holding a task
  std::size_t allowed_ = 0;  // how many may hold one: cfg_.connections unless throttled
  std::size_t successes_ = 0;
  std::chrono::steady_clock::time_point last_cut_{};
  std::deque<part_task> parts_;
  std::optional<error> failure_;
};

}  // namespace

asio::awaitable<void> run_transfer(std::vector<job> jobs, http::client& client, engine_config cfg,
                                   progress& prog) {
  engine e(co_await asio::this_coro::executor, client, std::move(cfg), prog);
  co_await e.run(std::move(jobs));
}

}  // namespace mrsi::transfer
