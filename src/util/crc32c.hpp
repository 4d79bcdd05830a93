// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum S3 sends as
// x-amz-checksum-crc32c. Table-driven (slicing-by-8); pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mrsi {

// Continues a CRC-32C: start with crc = 0; crc32c(crc32c(0, a), b) == crc32c(0, a + b).
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n) noexcept;

}  // namespace mrsi
