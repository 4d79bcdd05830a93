// Small POSIX file helpers for the engine: errors become mrsi::error(local_io) naming the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mrsi::transfer {

// An owned file descriptor.
class file_handle {
 public:
  file_handle() = default;
  explicit file_handle(int fd) : fd_(fd) {}
  file_handle(file_handle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  file_handle& operator=(file_handle&& o) noexcept;
  ~file_handle();
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void close();

 private:
  int fd_ = -1;
};

// Opens for writing at offsets, creating it when missing; never truncates.
file_handle open_for_write(const std::filesystem::path& p);
// Checks that `size` bytes are free (so a full disk shows up now, not after gigabytes of transfer)
// and sizes the file to `size`, sparsely. Throws mrsi::error(local_io), ENOSPC naming the path.
void preallocate(const file_handle& f, std::uint64_t size, const std::filesystem::path& p);
// Writes all of [data, data+n) at offset. Blocking: call from the disk pool.
void write_all_at(const file_handle& f, const char* data, std::size_t n, std::uint64_t offset,
                  const std::filesystem::path& p);
// Appends a line with one write(2), so a crash leaves at most a torn last line.
void append_line(const std::filesystem::path& p, std::string_view text);
void write_file(const std::filesystem::path& p, std::string_view text);
std::optional<std::string> read_small_file(const std::filesystem::path& p);
std::uint64_t file_size_of(const file_handle& f, const std::filesystem::path& p);
// MD5 of a whole file as lower-case hex. Blocking.
std::string md5_file_hex(const std::filesystem::path& p);

struct file_digests {
  std::string md5_hex;       // lower-case hex, when asked for
  std::string checksum_b64;  // base64 of the big-endian digest (as S3 sends it), when asked for
};
// The file's MD5 and/or one S3 additional checksum ("crc32", "crc32c", "sha1", "sha256"; empty
// for none) in one read pass. Blocking: call from the disk pool.
file_digests digest_file(const std::filesystem::path& p, bool md5, std::string_view checksum_alg);

// "No space left on device" etc. as an error naming the path.
[[noreturn]] void throw_io(std::string what, const std::filesystem::path& p, int err);

}  // namespace mrsi::transfer
