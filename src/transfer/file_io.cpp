// POSIX file helpers.
#include "transfer/file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include <openssl/evp.h>

#include "util/crypto.hpp"

#include "util/error.hpp"

namespace mrsi::transfer {

void throw_io(std::string what, const std::filesystem::path& p, int err) {
  std::string msg = what + " " + p.string() + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) msg += " (the destination is full)";
  throw error(errc::local_io, msg);
}

file_handle& file_handle::operator=(file_handle&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

file_handle::~file_handle() { close(); }

void file_handle::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

file_handle open_for_write(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw_io("cannot create", p, errno);
  return file_handle(fd);
}

void preallocate(const file_handle& f, std::uint64_t size, const std::filesystem::path& p) {
  if (size == 0) return;
  // Free space is checked up front so a full disk shows before gigabytes are transferred. The
  // file is then sized sparsely: fallocate() would be the stricter reservation, but on ext4 our
  // parallel writes into its unwritten extents cost extra (2 GiB to disk in an A/B loop: 3.3-5.3 s
  // with fallocate, 1.1-2.9 s without). The benchmark's scenario 1d did not move (471 -> 467 MB/s):
  // the remaining gap to curl on disk lies elsewhere (see test/bench/analysis.md).
  struct statvfs vfs {};
  if (::fstatvfs(f.get(), &vfs) == 0) {
    const std::uint64_t avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (avail < size)
      throw_io("not enough space for " + std::to_string(size) + " bytes (" + std::to_string(avail) +
                   " free) for",
               p, ENOSPC);
  }
  if (::ftruncate(f.get(), static_cast<off_t>(size)) != 0) throw_io("cannot size", p, errno);
}

void write_all_at(const file_handle& f, const char* data, std::size_t n, std::uint64_t offset,
                  const std::filesystem::path& p) {
  while (n > 0) {
    const ssize_t w = ::pwrite(f.get(), data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", p, errno);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
}

void append_line(const std::filesystem::path& p, std::string_view text) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw_io("cannot open journal", p, errno);
  file_handle h(fd);
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw_io("cannot append to journal", p, errno);
}

void write_file(const std::filesystem::path& p, std::string_view text) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_io("cannot create", p, errno);
  file_handle h(fd);
  write_all_at(h, text.data(), text.size(), 0, p);
}

std::optional<std::string> read_small_file(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  file_handle h(fd);
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
    if (out.size() > (16u << 20)) return std::nullopt;  // not one of ours
  }
  return out;
}

std::uint64_t file_size_of(const file_handle& f, const std::filesystem::path& p) {
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) throw_io("cannot stat", p, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

std::string md5_file_hex(const std::filesystem::path& p) { return digest_file(p, true, {}).md5_hex; }

file_digests digest_file(const std::filesystem::path& p, bool md5, std::string_view checksum_alg) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io("cannot read back", p, errno);
  file_handle h(fd);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(md5 ? EVP_MD_CTX_new() : nullptr,
                                                             &EVP_MD_CTX_free);
  if (md5) EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
  std::optional<crypto::checksum_hasher> ck;
  if (!checksum_alg.empty()) ck.emplace(checksum_alg);
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_io("cannot read back", p, errno);
    if (r == 0) break;
    if (md5) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(r));
    if (ck) ck->update(buf.data(), static_cast<std::size_t>(r));
  }
  file_digests out;
  if (md5) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    out.md5_hex = crypto::hex(std::string_view(reinterpret_cast<const char*>(md), len));
  }
  if (ck) out.checksum_b64 = ck->final_base64();
  return out;
}

}  // namespace mrsi::transfer
