// The project's error type: an error kind that decides the exit code and whether a retry can help,
// plus the diagnostics a user needs (redacted URL, HTTP status, the server's own code and words).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

namespace mrsi {

// What went wrong, coarse enough to map to an exit code (docs/exit-codes in README).
enum class errc {
  usage = 2,          // bad arguments, malformed URI, unsupported scheme
  source = 3,         // the source said no: 404, 401/403, missing bucket or model
  network = 4,        // connection, TLS, timeouts, 5xx after all retries
  local_io = 5,       // destination not writable, disk full
  integrity = 6,      // source changed mid-download, size or checksum mismatch
  internal = 1,
};

// Exit code for an error kind (0 is success and never an errc).
int exit_code(errc e) noexcept;
const char* to_string(errc e) noexcept;
// Prints the kind's name (for test diagnostics and logs).
std::ostream& operator<<(std::ostream& os, errc e);

// What we know about a failed request; every string here is already redacted.
struct diagnostics {
  std::string url;                  // redacted
  std::optional<unsigned> http_status;
  std::string server_code;          // e.g. S3 <Code>, registry "code"
  std::string server_message;       // e.g. S3 <Message>, registry "message"
  std::string request_id;
  std::optional<std::uint64_t> range_begin, range_end;  // inclusive byte range, when relevant
  std::optional<unsigned> retry_after_s;  // the server's Retry-After, when it sent one
};

// Thrown by the outer layers; the CLI turns it into the last stderr line and the exit code.
class error : public std::runtime_error {
 public:
  error(errc kind, std::string message, diagnostics diag = {}, bool retryable = false);
  errc kind() const noexcept { return kind_; }
  const diagnostics& diag() const noexcept { return diag_; }
  // True when trying the same request again may succeed (timeouts, resets, 5xx, 429).
  bool is_retryable() const noexcept { return retryable_; }

 private:
  errc kind_;
  diagnostics diag_;
  bool retryable_;
};

// "message (HTTP 404, url https://h/p, server said: NoSuchKey: The key does not exist, request id X)"
std::string describe(const error& e);

}  // namespace mrsi
