// Archive extraction with libarchive: our own checks on every entry name and link, libarchive's
// disk writer (with its symlink and ".." guards) into a hidden temporary directory, then renames
// into the destination.
#include "archive/extract.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "storage/path_sanitize.hpp"
#include "util/error.hpp"
#include "util/state_dir.hpp"
#include "util/text.hpp"

namespace mrsi::archive {

namespace fs = std::filesystem;

namespace {


// libarchive's file reader allocates one block of this size and decompressors work in chunks
// of their own: memory does not grow with the size of an entry.
constexpr std::size_t read_block_size = 64 * 1024;

struct reader_free {
  void operator()(::archive* a) const noexcept { archive_read_free(a); }
};
struct writer_free {
  void operator()(::archive* a) const noexcept { archive_write_free(a); }
};
using reader_ptr = std::unique_ptr<::archive, reader_free>;
using writer_ptr = std::unique_ptr<::archive, writer_free>;

// Calls f(segment) for each '/'-separated segment, empty ones included.
template <typename F>
void for_each_segment(std::string_view path, F&& f) {
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    f(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return;
    start = slash + 1;
  }
}

// Why a name is unsafe, or nullptr; on success `out` is the name with "" and "." segments dropped
// ("" for the root itself, as in a leading "./" entry).
const char* clean_relative(std::string_view name, std::string& out) {
  out.clear();
  if (name.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (!name.empty() && name.front() == '/') return "is an absolute path and would escape the destination";
  const char* why = nullptr;
  for_each_segment(name, [&](std::string_view seg) {
    if (seg == "..") why = "has a \"..\" segment and would escape the destination";
    if (seg.empty() || seg == ".") return;
    if (!out.empty()) out += '/';
    out += seg;
  });
  return why;
}

std::size_t depth_of(std::string_view cleaned) {
  return static_cast<std::size_t>(std::count(cleaned.begin(), cleaned.end(), '/'));
}

std::string first_segment(std::string_view cleaned) {
  return std::string(cleaned.substr(0, cleaned.find('/')));
}

// errno values that mean "this machine's disk or limits", as opposed to the archive's content.
bool is_local_errno(int e) {
  switch (e) {
    case ENOSPC: case EDQUOT: case EROFS: case EACCES: case EPERM: case EIO: case EMFILE:
    case ENFILE: case ENOMEM: case EFBIG:
      return true;
    default:
      return false;
  }
}

std::string quote_name(std::string_view s) {
  std::string out(1, '"');
  out += storage::printable_key(s);
  out += '"';
  return out;
}

// libarchive converts entry names from the archive's charset to the current locale's. In the C
// locale of a container, UTF-8 names (pax "path" records, zip entries flagged UTF-8) do not
// convert and come back as null. A UTF-8 LC_CTYPE for this thread only (uselocale, not
// setlocale) keeps them as their UTF-8 bytes; raw-byte tar names are never converted anyway.
class utf8_ctype_scope {
 public:
  utf8_ctype_scope() : loc_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{})) {
    if (loc_) old_ = ::uselocale(loc_);
  }
  ~utf8_ctype_scope() {
    if (!loc_) return;
    ::uselocale(old_);
    ::freelocale(loc_);
  }
  utf8_ctype_scope(const utf8_ctype_scope&) = delete;
  utf8_ctype_scope& operator=(const utf8_ctype_scope&) = delete;

 private:
  locale_t loc_;
  locale_t old_{};
};

// One extraction: the state shared by the entry loop and the error messages.
class extractor {
 public:
  extractor(const fs::path& archive_path, const fs::path& root, const extract_limits& limits,
            extract_result& result)
      : archive_path_(archive_path), archive_label_(quote_name(archive_path.filename().string())),
        root_(root), limits_(limits), result_(result) {}

  void run() {
    const utf8_ctype_scope utf8;
    open_reader();
    writer_.reset(archive_write_disk_new());
    if (!writer_) throw error(errc::internal, "libarchive: out of memory");
    // No NOABSOLUTEPATHS: libarchive resolves relative names against the process's working
    // directory, and changing it would affect every thread. We refuse absolute names ourselves
    // and hand libarchive absolute paths inside root_ (which has no symlinks: canonical).
    archive_write_disk_set_options(writer_.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                      ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    while (true) {
      archive_entry* e = nullptr;
      int r = archive_read_next_header(reader_.get(), &e);
      for (int retries = 0; r == ARCHIVE_RETRY && retries < 3; ++retries) r = archive_read_next_header(reader_.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) throw read_error(entries_ == 0 ? "before its first entry" : "after entry " + last_name_);
      if (r == ARCHIVE_WARN) warn(reader_.get(), "archive " + archive_label_ + " entry #" + std::to_string(entries_ + 1));
      if (++entries_ > limits_.max_entries)
        throw error(errc::source, "archive " + archive_label_ + " has more than " +
                                      std::to_string(limits_.max_entries) + " entries (limit)");
      extract_entry(e);
    }
    // Applies the deferred directory modes and times; failures here are real write failures.
    if (archive_write_close(writer_.get()) != ARCHIVE_OK) throw write_error("while setting directory modes and times");
  }

 private:
  void open_reader() {
    reader_.reset(archive_read_new());
    if (!reader_) throw error(errc::internal, "libarchive: out of memory");
    // Only what KServe extracts: tar and zip, raw or gzip/bzip2/xz-compressed. No "raw" format,
    // which would accept any compressed file as an archive.
    archive_read_support_filter_gzip(reader_.get());
    archive_read_support_filter_bzip2(reader_.get());
    archive_read_support_filter_xz(reader_.get());
    archive_read_support_format_tar(reader_.get());
    archive_read_support_format_zip(reader_.get());
    if (archive_read_open_filename(reader_.get(), archive_path_.c_str(), read_block_size) != ARCHIVE_OK) {
      const int en = archive_errno(reader_.get());
      if (en == ENOENT || is_local_errno(en))
        throw error(errc::local_io, "cannot open archive " + archive_path_.string() + ": " + message(reader_.get()));
      throw error(errc::integrity, "archive " + archive_label_ +
                                       " is not a readable tar or zip archive (corrupt, truncated or another format): " +
                                       message(reader_.get()));
    }
  }

  // libarchive's words, plus the system's for an OS error ("Write failed: No space left on device").
  static std::string message(::archive* a) {
    const char* m = archive_error_string(a);
    // A gzip stream cut inside its trailer fails without words.
    std::string out = m && *m ? m : "damaged or truncated data (libarchive gave no details)";
    const int en = archive_errno(a);
    if (en > 0 && en != EILSEQ) {  // EILSEQ is libarchive's "bad file format"
      const std::string sys = std::generic_category().message(en);
      if (out.find(sys) == std::string::npos) out += ": " + sys;
    }
    return out;
  }

  error read_error(const std::string& where) const {
    const int en = archive_errno(reader_.get());
    const errc kind = en == EIO ? errc::local_io : errc::integrity;
    return error(kind, "archive " + archive_label_ + " is corrupt or truncated " + where + ": " + message(reader_.get()));
  }

  // `what` is "entry \"name\"" or another phrase saying where it failed.
  error write_error(const std::string& what) const {
    const int en = archive_errno(writer_.get());
    const errc kind = is_local_errno(en) ? errc::local_io : errc::source;
    return error(kind, "cannot extract archive " + archive_label_ + " " + what + ": " + message(writer_.get()));
  }

  error refuse(const std::string& entry, const std::string& why) const {
    return error(errc::source, "refusing archive " + archive_label_ + " entry " + entry + ": " + why);
  }

  void warn(::archive* a, const std::string& where) {
    if (result_.warnings.size() < max_warnings) result_.warnings.push_back(where + ": " + message(a));
  }

  static const char* entry_name(archive_entry* e) {
    if (const char* p = archive_entry_pathname(e)) return p;
    // A name that does not convert to the current locale (e.g. UTF-8 in the C locale): keep
    // the UTF-8 bytes, which is what the archive's author meant.
    return archive_entry_pathname_utf8(e);
  }

  // Refuses when a directory on the way to `cleaned` (excluding its last segment) is a symlink
  // or not a directory: nothing may be written through a link, even one inside root_.
  void check_parents(const std::string& label, std::string_view cleaned, const char* role) const {
    std::string prefix;
    bool first = true;
    const auto last = cleaned.rfind('/');
    if (last == std::string_view::npos) return;
    for_each_segment(cleaned.substr(0, last), [&](std::string_view seg) {
      if (!first) prefix += '/';
      first = false;
      prefix += seg;
      struct stat st {};
      if (::lstat((root_ / prefix).c_str(), &st) != 0) return;  // created later, as a real directory
      if (S_ISLNK(st.st_mode))
        throw refuse(label, std::string(role) + " goes through the symbolic link " + quote_name(prefix));
      if (!S_ISDIR(st.st_mode))
        throw refuse(label, std::string(role) + " goes through " + quote_name(prefix) + ", which is not a directory");
    });
  }

  void extract_entry(archive_entry* e) {
    const char* raw = entry_name(e);
    if (!raw) throw refuse("#" + std::to_string(entries_), "has a name that cannot be read");
    const std::string label = quote_name(raw);
    last_name_ = label;

    std::string rel;
    if (const char* why = clean_relative(raw, rel)) throw refuse(label, why);
    if (!rel.empty() && first_segment(rel) == state_dir_name) throw refuse(label, "uses the reserved name " + quote_name(state_dir_name));
    if (archive_entry_is_encrypted(e)) throw refuse(label, "is encrypted");

    enum class kind { file, dir, symlink, hardlink } k = kind::file;
    const char* hard = archive_entry_hardlink(e);
    if (hard) {
      k = kind::hardlink;
    } else {
      switch (archive_entry_filetype(e)) {
        case AE_IFREG: k = kind::file; break;
        case AE_IFDIR: k = kind::dir; break;
        case AE_IFLNK: k = kind::symlink; break;
        case AE_IFCHR: throw refuse(label, "is a character device");
        case AE_IFBLK: throw refuse(label, "is a block device");
        case AE_IFIFO: throw refuse(label, "is a FIFO");
        case AE_IFSOCK: throw refuse(label, "is a socket");
        default: throw refuse(label, "has an unknown file type");
      }
    }
    if (rel.empty()) {
      if (k == kind::dir) return;  // "./": the destination itself
      throw refuse(label, "names no file below the destination");
    }

    const fs::path full = root_ / rel;
    // libarchive shortens longer paths by changing the working directory, which is process-wide.
    if (full.native().size() >= PATH_MAX) throw refuse(label, "has a path too long for this system");
    check_parents(label, rel, "its path");

    if (k == kind::symlink) {
      const char* target = archive_entry_symlink(e);
      if (!target) target = archive_entry_symlink_utf8(e);
      if (!target) throw refuse(label, "is a symbolic link without a usable target");
      if (!symlink_stays_inside(rel, target))
        throw refuse(label, "is a symbolic link to " + quote_name(target) + ", which may resolve outside the destination");
    }
    if (k == kind::hardlink) {
      std::string target;
      if (const char* why = clean_relative(hard, target); why || target.empty())
        throw refuse(label, "is a hard link to " + quote_name(hard) + ", which " + (why ? why : "names no file"));
      check_parents(label, target, "its hard link target");
      const fs::path full_target = root_ / target;
      struct stat st {};
      if (full_target.native().size() >= PATH_MAX || ::lstat(full_target.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw refuse(label, "is a hard link to " + quote_name(hard) +
                                ", which is not a regular file extracted earlier from this archive");
      archive_entry_copy_hardlink(e, full_target.c_str());
    }

    // Sizes first, so a declared 10 TB entry is refused before a byte is written.
    std::uint64_t declared = 0;
    if ((k == kind::file || k == kind::hardlink) && archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
      declared = static_cast<std::uint64_t>(archive_entry_size(e));
    check_bytes(label, declared);

    archive_entry_copy_pathname(e, full.c_str());
    // No setuid/setgid/sticky; the owner can always read and write (and enter directories), so
    // the tree can be moved and cleaned up whatever the archive says.
    const auto perm = static_cast<mode_t>(archive_entry_perm(e)) & 0777;
    archive_entry_set_perm(e, perm | (k == kind::dir ? 0700 : 0600));

    int r = archive_write_header(writer_.get(), e);
    if (r < ARCHIVE_WARN) throw write_error("entry " + label);
    if (r == ARCHIVE_WARN) warn(writer_.get(), "archive " + archive_label_ + " entry " + label);

    std::uint64_t extent = 0;
    if (k == kind::file || k == kind::hardlink) extent = copy_data(label);
    r = archive_write_finish_entry(writer_.get());
    if (r != ARCHIVE_OK) throw write_error("entry " + label);

    switch (k) {
      case kind::file: ++result_.files; break;
      case kind::dir: ++result_.directories; break;
      case kind::symlink: ++result_.symlinks; break;
      case kind::hardlink: ++result_.hardlinks; break;
    }
    const std::uint64_t size = std::max(extent, declared);
    total_bytes_ += size;
    result_.bytes += size;
  }

  void check_bytes(const std::string& label, std::uint64_t entry_extent) const {
    if (entry_extent > limits_.max_total_bytes || total_bytes_ > limits_.max_total_bytes - entry_extent)
      throw error(errc::source, "archive " + archive_label_ + " holds more than " +
                                    std::to_string(limits_.max_total_bytes) + " bytes (limit), reached at entry " + label);
  }

  // Streams the current entry's data; returns its logical length (holes of sparse entries count).
  std::uint64_t copy_data(const std::string& label) {
    std::uint64_t extent = 0;
    while (true) {
      const void* buf = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      const int r = archive_read_data_block(reader_.get(), &buf, &size, &offset);
      if (r == ARCHIVE_EOF) return extent;
      // A warning here is a checksum mismatch (e.g. "ZIP bad CRC"): the data is wrong.
      if (r != ARCHIVE_OK) throw read_error("in entry " + label);
      if (offset < 0) throw read_error("in entry " + label);
      extent = std::max(extent, static_cast<std::uint64_t>(offset) + size);
      check_bytes(label, extent);
      if (archive_write_data_block(writer_.get(), buf, size, offset) != ARCHIVE_OK) throw write_error("entry " + label);
    }
  }

  static constexpr std::size_t max_warnings = 100;

  const fs::path& archive_path_;
  std::string archive_label_;
  fs::path root_;
  extract_limits limits_;
  reader_ptr reader_;
  writer_ptr writer_;
  extract_result& result_;
  std::uint64_t entries_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::string last_name_;  // quoted, for "corrupt after entry X"
};

error io_error(const std::string& what, const fs::path& p, int err) {
  return error(errc::local_io, what + " " + p.string() + ": " + std::generic_category().message(err));
}

// Creates dir (one level) unless it is already a real directory; a symlink there is refused.
void ensure_real_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return;
  const int err = errno;
  struct stat st {};
  if (err == EEXIST && ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
  if (err == EEXIST) throw error(errc::local_io, "cannot extract: " + dir.string() + " exists and is not a directory");
  throw io_error("cannot create", dir, err);
}

// Moving the extracted tree into dest. `apply` false only checks that it can be done, so a
// conflict is found before the first rename.
void merge_into(const fs::path& from, const fs::path& to, bool apply) {
  std::error_code ec;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path src = it->path();
    const fs::path dst = to / src.filename();
    struct stat s {}, d {};
    if (::lstat(src.c_str(), &s) != 0) throw io_error("cannot read", src, errno);
    if (::lstat(dst.c_str(), &d) != 0) {
      if (errno != ENOENT) throw io_error("cannot inspect", dst, errno);
      if (apply && ::rename(src.c_str(), dst.c_str()) != 0) throw io_error("cannot move extracted entry to", dst, errno);
      continue;
    }
    const bool src_dir = S_ISDIR(s.st_mode), dst_dir = S_ISDIR(d.st_mode);
    if (src_dir && dst_dir) {
      merge_into(src, dst, apply);
    } else if (dst_dir) {
      throw error(errc::local_io, "cannot extract: " + dst.string() +
                                      " is an existing directory and the archive has a file of that name");
    } else if (apply) {
      // rename(2) replaces a file or symlink in place but not with a directory.
      if (src_dir && ::unlink(dst.c_str()) != 0) throw io_error("cannot replace", dst, errno);
      if (::rename(src.c_str(), dst.c_str()) != 0) throw io_error("cannot move extracted entry to", dst, errno);
    }
  }
  if (ec) throw io_error("cannot list", from, ec.value());
}

// Removes the temporary extraction directory on every path out of extract_archive, and the state
// directory when that leaves it empty (the transfer engine keeps its records there).
struct temp_dir_guard {
  fs::path state, path;
  void cleanup() noexcept {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
    if (!state.empty()) ::rmdir(state.c_str());
    path.clear();
    state.clear();
  }
  ~temp_dir_guard() { cleanup(); }
};

}  // namespace

bool is_archive_name(std::string_view file_name) {
  for (std::string_view suffix : {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"})
    if (file_name.size() > suffix.size() && iends_with(file_name, suffix)) return true;
  return false;
}

bool symlink_stays_inside(std::string_view entry, std::string_view target) {
  if (target.empty() || target.front() == '/' || target.find('\0') != std::string_view::npos) return false;
  std::string cleaned;
  if (clean_relative(entry, cleaned) || cleaned.empty()) return false;
  const std::size_t depth = depth_of(cleaned);
  std::size_t ups = 0;
  bool named = false;
  bool ok = true;
  for_each_segment(target, [&](std::string_view seg) {
    if (seg.empty() || seg == ".") return;
    if (seg != "..") {
      named = true;
    } else if (named || ++ups > depth) {
      // ".." after a name could climb out of whatever that name (a symlink) points to.
      ok = false;
    }
  });
  return ok;
}

extract_result extract_archive(const fs::path& archive_path, const fs::path& dest, const extract_limits& limits) {
  struct stat archive_st {}, target_st {};
  if (::lstat(archive_path.c_str(), &archive_st) != 0 || ::stat(archive_path.c_str(), &target_st) != 0)
    throw io_error("cannot open archive", archive_path, errno);
  if (!S_ISREG(target_st.st_mode)) throw error(errc::local_io, "archive " + archive_path.string() + " is not a regular file");

  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) throw io_error("cannot create destination", dest, ec.value());
  const fs::path root = fs::canonical(dest, ec);
  if (ec) throw io_error("cannot resolve destination", dest, ec.value());

  const fs::path state = root / state_dir_name;
  ensure_real_dir(state);
  temp_dir_guard temp{state, {}};
  {
    std::string tmpl = (state / "extract-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw io_error("cannot create a temporary directory in", state, errno);
    temp.path = tmpl;
  }

  extract_result result;
  {
    extractor x(archive_path, temp.path, limits, result);
    x.run();
  }  // reader and writer closed: the archive file is no longer open

  merge_into(temp.path, root, false);
  merge_into(temp.path, root, true);

  // Before removing the archive, so that a failure there still cleans up.
  temp.cleanup();
  // An entry may have had the archive's own name and replaced it; that one stays.
  struct stat now {};
  if (::lstat(archive_path.c_str(), &now) == 0 && now.st_dev == archive_st.st_dev && now.st_ino == archive_st.st_ino &&
      ::unlink(archive_path.c_str()) != 0)
    throw io_error("extracted, but cannot remove archive", archive_path, errno);
  return result;
}

}  // namespace mrsi::archive
