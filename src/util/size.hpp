// Byte sizes as people write them ("16M", "1.5GiB", "262144") and as we print them. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mrsi {

// Accepts an integer or decimal number with an optional suffix K, M, G, T (powers of 1024, also
// written KiB/MiB/.., KB/MB, any case). nullopt for anything else, for negatives and overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);

// "1.50 GiB", "812 B": binary units, two decimals above bytes.
std::string format_bytes(std::uint64_t bytes);

}  // namespace mrsi
