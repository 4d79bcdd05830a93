// Safe extraction of a single downloaded archive (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip)
// into the destination directory, as KServe's storage initializer does, refusing any entry that
// could write outside it. Built on libarchive; blocking, no sockets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mrsi::archive {

// True when `file_name` (a base name, not a URL) ends, case-insensitively, in one of the suffixes
// KServe extracts: .tar .tar.gz .tgz .tar.bz2 .tar.xz .zip. Pure.
bool is_archive_name(std::string_view file_name);

// True when a symbolic link stored at `entry` (a sanitized path relative to the extraction root,
// "a/b/link") with target `target` cannot resolve outside the root, whatever other links the
// archive holds: the target is relative, has no NUL, and is zero or more ".." (no more than the
// link's depth) followed by names only, so each link lands inside and only ".." could climb
// back out. Pure.
bool symlink_stays_inside(std::string_view entry, std::string_view target);

// Zip-bomb guards. Bytes are logical file sizes (a sparse entry counts its full length).
struct extract_limits {
  std::uint64_t max_total_bytes = std::uint64_t{1} << 40;  // 1 TiB
  std::uint64_t max_entries = 10'000'000;
};

struct extract_result {
  std::uint64_t files = 0;        // regular files written (hard links not included)
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t hardlinks = 0;
  std::uint64_t bytes = 0;        // sum of the regular files' sizes
  // Non-fatal remarks from libarchive (e.g. an unknown pax header), for the caller to log.
  std::vector<std::string> warnings;
};

// Extracts `archive` into `dest` (created if missing) and removes `archive` afterwards.
//
// Entries go first into a fresh hidden directory dest/.mr-storage-initializer/extract-XXXXXX and
// are moved into place (renames, same file system) only once the whole archive has been read
// without error, so a failure never leaves a half-written file looking complete; on failure that
// directory is removed and `archive` is kept. Moving merges into directories that already exist
// in dest (real directories only: an existing symlink is replaced, never followed) and replaces
// existing files; an existing directory where the archive has a file is an error, detected before
// anything is moved.
//
// Refused, with mrsi::error(errc::source) naming the entry and the archive: absolute names, ".."
// segments, NUL bytes, names under the reserved ".mr-storage-initializer", symlinks whose target
// does not satisfy symlink_stays_inside, hard links whose target is not a regular file extracted
// earlier from the same archive, writing through any symlink (even one from the same archive),
// device nodes, FIFOs, sockets, encrypted zip entries, paths longer than PATH_MAX, and archives
// over `limits`. No owner, ACL, xattr or setuid/setgid/sticky bit is restored; permission bits
// are kept (minus the umask) with the owner's rw (and x on directories) always set. Modification
// times are restored.
//
// Errors: errc::integrity when the archive is not a tar/zip, is corrupt or truncated (the message
// names the entry being read); errc::local_io when dest cannot be written (disk full, permissions)
// or the final move hits a conflict; errc::source as above.
//
// Memory stays bounded: data is streamed entry by entry through libarchive's fixed read block
// (64 KiB) into the file. Entry names are read under a UTF-8 LC_CTYPE set for the calling thread
// only (uselocale), so UTF-8 names survive the C locale of a container.
//
// Thread safety: independent calls may run on different threads, but libarchive's disk writer
// briefly sets the process umask to 0 (and restores it) for each entry, so a file created by
// another thread at that instant may get wider permissions than intended. The process's working
// directory is never changed (entry paths longer than PATH_MAX are refused for that reason).
extract_result extract_archive(const std::filesystem::path& archive, const std::filesystem::path& dest,
                               const extract_limits& limits = {});

}  // namespace mrsi::archive
