// Logging as an injected sink: the library calls a logger; the CLI decides text or JSON lines and
// where they go. Messages must already be redacted (see util/redact.hpp).
#pragma once

#include <functional>
#include <string_view>

namespace mrsi {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

const char* to_string(log_level l) noexcept;

// A sink; empty means "drop everything". Called on the io_context thread or a disk thread:
// implementations must be thread-safe.
using log_fn = std::function<void(log_level, std::string_view)>;

inline void log(const log_fn& sink, log_level level, std::string_view message) {
  if (sink) sink(level, message);
}

}  // namespace mrsi
