// src/archive: archives are built at test time with libarchive's write API, extracted, and the
// outcome checked on disk: bytes equal, nothing written outside DEST, refusals name the entry,
// failed extractions leave no partial files and keep the archive.
// GCC 12 at -O3 reports a bogus -Wrestrict inside Boost.Test's data-case name generation
// (GCC bug 105329); nothing in this file copies strings that way.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <clocale>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "archive/extract.hpp"
#include "util/error.hpp"

using namespace mrsi;
using namespace mrsi::archive;
namespace fs = std::filesystem;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)

// Helpers live in a named namespace: test cases capture them, and the cases have external linkage.
namespace archive_test {

// ---------------------------------------------------------------------------------------------
// Building archives

enum class fmt { tar, tar_gz, tar_bz2, tar_xz, zip, zip_stored };
const char* suffix(fmt f) {
  switch (f) {
    case fmt::tar: return ".tar";
    case fmt::tar_gz: return ".tar.gz";
    case fmt::tar_bz2: return ".tar.bz2";
    case fmt::tar_xz: return ".tar.xz";
    case fmt::zip: case fmt::zip_stored: return ".zip";
  }
  return "";
}
std::ostream& operator<<(std::ostream& os, fmt f) { return os << suffix(f); }

enum class kind { file, dir, symlink, hardlink, chardev, fifo };

struct spec {
  std::string path;
  kind type = kind::file;
  std::string data;  // file content
  std::string link;  // symlink or hard link target
  int perm = 0644;
};

spec file_e(std::string path, std::string data, int perm = 0644) { return {std::move(path), kind::file, std::move(data), {}, perm}; }
spec dir_e(std::string path) { return {std::move(path), kind::dir, {}, {}, 0755}; }
spec symlink_e(std::string path, std::string target) { return {std::move(path), kind::symlink, {}, std::move(target)}; }
spec hardlink_e(std::string path, std::string target) { return {std::move(path), kind::hardlink, {}, std::move(target)}; }

void write_archive(const fs::path& out, fmt f, const std::vector<spec>& entries) {
  ::archive* a = archive_write_new();
  BOOST_REQUIRE(a);
  switch (f) {
    case fmt::tar: case fmt::tar_gz: case fmt::tar_bz2: case fmt::tar_xz:
      BOOST_REQUIRE_EQUAL(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
      // Names as raw bytes, as GNU tar writes them: no translation from the (C) locale.
      BOOST_REQUIRE_EQUAL(archive_write_set_options(a, "hdrcharset=BINARY"), ARCHIVE_OK);
      break;
    case fmt::zip: case fmt::zip_stored:
      BOOST_REQUIRE_EQUAL(archive_write_set_format_zip(a), ARCHIVE_OK);
      break;
  }
  if (f == fmt::tar_gz) BOOST_REQUIRE_EQUAL(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  if (f == fmt::tar_bz2) BOOST_REQUIRE_EQUAL(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
  if (f == fmt::tar_xz) BOOST_REQUIRE_EQUAL(archive_write_add_filter_xz(a), ARCHIVE_OK);
  if (f == fmt::zip_stored) BOOST_REQUIRE_EQUAL(archive_write_set_options(a, "zip:compression=store"), ARCHIVE_OK);
  BOOST_REQUIRE_EQUAL(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  for (const auto& s : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, s.path.c_str());
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_entry_set_perm(e, static_cast<mode_t>(s.perm));
    switch (s.type) {
      case kind::file:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(s.data.size()));
        break;
      case kind::dir:
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_size(e, 0);
        break;
      case kind::symlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_copy_symlink(e, s.link.c_str());
        archive_entry_set_size(e, 0);
        break;
      case kind::hardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_copy_hardlink(e, s.link.c_str());
        archive_entry_set_size(e, 0);
        break;
      case kind::chardev:
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, makedev(1, 3));
        archive_entry_set_size(e, 0);
        break;
      case kind::fifo:
        archive_entry_set_filetype(e, AE_IFIFO);
        archive_entry_set_size(e, 0);
        break;
    }
    const int r = archive_write_header(a, e);
    const char* why = archive_error_string(a);
    BOOST_REQUIRE_MESSAGE(r == ARCHIVE_OK, "writing " << s.path << ": " << (why ? why : "?") << " (" << r << ")");
    if (!s.data.empty())
      BOOST_REQUIRE_EQUAL(archive_write_data(a, s.data.data(), s.data.size()), static_cast<la_ssize_t>(s.data.size()));
    archive_entry_free(e);
  }
  BOOST_REQUIRE_EQUAL(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

// ---------------------------------------------------------------------------------------------
// Files and trees

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  out << data;
}

// Deterministic, incompressible-enough bytes.
std::string pseudo_random(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

// Every path under dir, relative, directories with a trailing '/', symlinks as "name -> target";
// symlinks are not followed.
std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), dir).generic_string();
    const auto st = it->symlink_status();
    if (fs::is_symlink(st)) rel += " -> " + fs::read_symlink(it->path()).string();
    else if (fs::is_directory(st)) rel += "/";
    out.insert(rel);
  }
  return out;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  BOOST_REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode;
}

// A private directory with dest/ and outside/ (a place an escaping entry would land in).
struct sandbox {
  fs::path root, dest, outside;
  sandbox() {
    std::string tmpl = (fs::temp_directory_path() / "mrsi-archive-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(tmpl.data()));
    root = tmpl;
    dest = root / "dest";
    outside = root / "outside";
    fs::create_directories(dest);
    fs::create_directories(outside);
  }
  ~sandbox() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  sandbox(const sandbox&) = delete;
  sandbox& operator=(const sandbox&) = delete;
};

std::optional<mrsi::error> failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const mrsi::error& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace archive_test

using namespace archive_test;

// ---------------------------------------------------------------------------------------------
// Pure functions

BOOST_AUTO_TEST_SUITE(archive_names)

struct name_case {
  const char* name;
  bool archive;
};
std::ostream& operator<<(std::ostream& os, const name_case& c) { return os << c.name; }

const name_case name_cases[] = {
    {"model.tar", true},        {"model.tar.gz", true},  {"model.tgz", true},     {"model.tar.bz2", true},
    {"model.tar.xz", true},     {"model.zip", true},     {"MODEL.TAR.GZ", true},  {"m.TgZ", true},
    {"a.b.c.Zip", true},        {"model.bin", false},    {"model.gz", false},     {"model.bz2", false},
    {"model.xz", false},        {"model.tar.zst", false}, {"model.tar.gz.part", false}, {"tar", false},
    {".tar", false},            {"", false},             {"model.tar.gz ", false}, {"model_tar", false},
};

BOOST_DATA_TEST_CASE(suffixes, boost::unit_test::data::make(name_cases), c) {
  BOOST_TEST(is_archive_name(c.name) == c.archive);
}

struct link_case {
  const char* entry;
  std::string target;
  bool inside;
};
std::ostream& operator<<(std::ostream& os, const link_case& c) { return os << c.entry << " -> " << c.target; }

const link_case link_cases[] = {
    {"a", "b", true},
    {"a", ".", true},
    {"a", "b//c/", true},
    {"a", "..", false},
    {"a/b", "../c", true},
    {"a/b", "./../c", true},
    {"a//b", "../c", true},          // the entry's depth is counted on its cleaned name
    {"./a/b", "../c", true},
    {"a/b", "../../c", false},
    {"a/b", "..//..", false},
    {"a/b/c", "../../x/y", true},
    {"a/b/x", "../../l1/..", false},  // ".." after a name: l1 could be a link to "."
    {"a", "b/../c", false},
    {"a", "/etc", false},
    {"a", "/", false},
    {"a", "", false},
    {"x", std::string("a\0b", 3), false},
    {"../a", "b", false},             // the entry itself is unsafe
};

BOOST_DATA_TEST_CASE(symlink_targets, boost::unit_test::data::make(link_cases), c) {
  BOOST_TEST(symlink_stays_inside(c.entry, c.target) == c.inside);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Extraction that must succeed

BOOST_AUTO_TEST_SUITE(archive_extract)

struct format_case {
  fmt format;
};
std::ostream& operator<<(std::ostream& os, const format_case& c) { return os << c.format; }

const format_case all_formats[] = {{fmt::tar}, {fmt::tar_gz}, {fmt::tar_bz2}, {fmt::tar_xz}, {fmt::zip}, {fmt::zip_stored}};
const format_case utf8_formats[] = {{fmt::tar}, {fmt::zip}};

BOOST_DATA_TEST_CASE(round_trip, boost::unit_test::data::make(all_formats), c) {
  const fmt f = c.format;
  sandbox sb;
  const std::string big = pseudo_random(300 * 1024 + 17, 7);
  std::vector<spec> entries = {
      dir_e("./"),
      file_e("./top.txt", "top level\n"),
      dir_e("dir/"),
      dir_e("dir/sub/"),
      file_e("dir/sub/deep.bin", big),
      file_e("dir/empty", ""),
      file_e("implicit/parent/file.txt", "parents created on the fly"),
      file_e("caf\xc3\xa9/\xc3\xbcn\xc3\xaf.txt", "utf-8 names"),
      file_e("exec.sh", "#!/bin/sh\n", 0755),
      file_e("setuid", "s", 04755),
      file_e("noperm", "n", 0000),
      symlink_e("dir/sub/link", "../../top.txt"),
  };
  const bool tar = f != fmt::zip && f != fmt::zip_stored;
  if (tar) entries.push_back(hardlink_e("hard", "top.txt"));  // zip has no hard links
  const fs::path arc = sb.dest / (std::string("model") + suffix(f));
  write_archive(arc, f, entries);

  const extract_result r = extract_archive(arc, sb.dest, {});

  BOOST_TEST(r.files == 8u);
  BOOST_TEST(r.symlinks == 1u);
  BOOST_TEST(r.hardlinks == (tar ? 1u : 0u));
  BOOST_TEST(r.directories == 2u);  // "./" is the destination itself and is not counted
  BOOST_TEST(r.bytes == big.size() + 10 + 26 + 11 + 10 + 1 + 1);
  BOOST_TEST(slurp(sb.dest / "top.txt") == "top level\n");
  BOOST_TEST((slurp(sb.dest / "dir/sub/deep.bin") == big));
  BOOST_TEST(fs::file_size(sb.dest / "dir/empty") == 0u);
  BOOST_TEST(slurp(sb.dest / "implicit/parent/file.txt") == "parents created on the fly");
  BOOST_TEST(slurp(sb.dest / "caf\xc3\xa9/\xc3\xbcn\xc3\xaf.txt") == "utf-8 names");
  BOOST_TEST(fs::read_symlink(sb.dest / "dir/sub/link") == fs::path("../../top.txt"));
  BOOST_TEST(slurp(sb.dest / "dir/sub/link") == "top level\n");
  if (tar) {
    BOOST_TEST(slurp(sb.dest / "hard") == "top level\n");
    BOOST_TEST(fs::equivalent(sb.dest / "hard", sb.dest / "top.txt"));
  }
  BOOST_TEST((mode_of(sb.dest / "exec.sh") & S_IXUSR) != 0u);
  BOOST_TEST((mode_of(sb.dest / "setuid") & (S_ISUID | S_ISGID | S_ISVTX)) == 0u);
  BOOST_TEST((mode_of(sb.dest / "noperm") & 0600) == 0600u);
  BOOST_TEST(!fs::exists(arc));                                 // the archive is removed
  BOOST_TEST(!fs::exists(sb.dest / ".mr-storage-initializer"));  // and the temporary directory
  BOOST_TEST(tree(sb.outside).empty());
}

BOOST_AUTO_TEST_CASE(merges_into_existing_destination) {
  sandbox sb;
  put(sb.dest / "keep.txt", "mine");
  fs::create_directories(sb.dest / "dir");
  put(sb.dest / "dir/old.txt", "old");
  put(sb.dest / "top.txt", "stale");
  fs::create_directory_symlink(sb.outside, sb.dest / "was-link");  // must be replaced, not followed
  // The engine's records live in the state directory; they must survive.
  fs::create_directories(sb.dest / ".mr-storage-initializer");
  put(sb.dest / ".mr-storage-initializer/x.done", "record");

  const fs::path arc = sb.dest / "m.tar.gz";
  write_archive(arc, fmt::tar_gz,
                {file_e("top.txt", "fresh"), file_e("dir/new.txt", "new"), file_e("was-link/f", "inside")});
  extract_archive(arc, sb.dest, {});

  BOOST_TEST(slurp(sb.dest / "keep.txt") == "mine");
  BOOST_TEST(slurp(sb.dest / "dir/old.txt") == "old");
  BOOST_TEST(slurp(sb.dest / "dir/new.txt") == "new");
  BOOST_TEST(slurp(sb.dest / "top.txt") == "fresh");
  BOOST_TEST(!fs::is_symlink(sb.dest / "was-link"));
  BOOST_TEST(slurp(sb.dest / "was-link/f") == "inside");
  BOOST_TEST(tree(sb.outside).empty());
  BOOST_TEST(tree(sb.dest / ".mr-storage-initializer") == (std::set<std::string>{"x.done"}));
}

BOOST_AUTO_TEST_CASE(entry_with_the_archives_own_name_survives) {
  sandbox sb;
  const fs::path arc = sb.dest / "model.tar";
  write_archive(arc, fmt::tar, {file_e("model.tar", "the real content"), file_e("other", "o")});
  extract_archive(arc, sb.dest, {});
  BOOST_TEST(slurp(sb.dest / "model.tar") == "the real content");
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{"model.tar", "other"}));
}

BOOST_AUTO_TEST_CASE(later_duplicate_entries_win) {
  sandbox sb;
  const fs::path arc = sb.dest / "d.tar";
  write_archive(arc, fmt::tar, {file_e("a", "first"), file_e("a", "second"), symlink_e("b", "a"), file_e("b", "file now")});
  extract_archive(arc, sb.dest, {});
  BOOST_TEST(slurp(sb.dest / "a") == "second");
  BOOST_TEST(!fs::is_symlink(sb.dest / "b"));
  BOOST_TEST(slurp(sb.dest / "b") == "file now");
}

// Containers run in the C locale; pax "path" records and zip names flagged UTF-8 must still come
// out as the UTF-8 bytes their authors meant.
BOOST_DATA_TEST_CASE(utf8_names_in_the_c_locale, boost::unit_test::data::make(utf8_formats), c) {
  const fmt f = c.format;
  sandbox sb;
  const std::string name = "mod\xc3\xa8le/\xe6\xa8\xa1\xe5\x9e\x8b.bin";
  const fs::path arc = sb.dest / (std::string("u") + suffix(f));
  {
    const std::string saved = std::setlocale(LC_ALL, nullptr);
    if (!std::setlocale(LC_ALL, "C.UTF-8")) {
      BOOST_TEST_MESSAGE("no C.UTF-8 locale here; skipping");
      return;
    }
    ::archive* a = archive_write_new();
    if (f == fmt::tar) archive_write_set_format_pax_restricted(a);  // writes a UTF-8 "path" record
    else archive_write_set_format_zip(a);                          // sets the UTF-8 flag
    BOOST_REQUIRE_EQUAL(archive_write_open_filename(a, arc.c_str()), ARCHIVE_OK);
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 3);
    BOOST_REQUIRE_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
    BOOST_REQUIRE_EQUAL(archive_write_data(a, "abc", 3), 3);
    archive_entry_free(e);
    BOOST_REQUIRE_EQUAL(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    std::setlocale(LC_ALL, saved.c_str());
  }
  BOOST_REQUIRE(std::string(std::setlocale(LC_ALL, nullptr)) == "C");
  const extract_result r = extract_archive(arc, sb.dest, {});
  BOOST_TEST(r.files == 1u);
  BOOST_TEST(slurp(sb.dest / name) == "abc");
}

BOOST_AUTO_TEST_CASE(state_directory_that_is_a_symlink_is_refused) {
  sandbox sb;
  fs::create_directory_symlink(sb.outside, sb.dest / ".mr-storage-initializer");
  const fs::path arc = sb.dest / "m.tar";
  write_archive(arc, fmt::tar, {file_e("a", "a")});
  const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::local_io);
  BOOST_TEST(tree(sb.outside).empty());
  BOOST_TEST(fs::exists(arc));
}

BOOST_AUTO_TEST_CASE(archive_outside_dest_and_missing_dest) {
  sandbox sb;
  const fs::path arc = sb.root / "elsewhere.zip";
  write_archive(arc, fmt::zip, {file_e("x/y.txt", "y")});
  extract_archive(arc, sb.dest / "new/deeper", {});
  BOOST_TEST(slurp(sb.dest / "new/deeper/x/y.txt") == "y");
  BOOST_TEST(!fs::exists(arc));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Extraction that must be refused

BOOST_AUTO_TEST_SUITE(archive_refused)

struct refused_case {
  const char* name;
  fmt format;
  std::function<std::vector<spec>(const sandbox&)> entries;
  std::string must_mention;  // in the message, e.g. the quoted entry name
  errc kind = errc::source;
  extract_limits limits = {};
};
std::ostream& operator<<(std::ostream& os, const refused_case& c) { return os << c.name; }

// Each archive starts with a harmless file: after the refusal it must not be in DEST either.
std::vector<spec> with_ok(std::vector<spec> rest) {
  rest.insert(rest.begin(), file_e("ok.txt", "fine"));
  return rest;
}

const refused_case refused_cases[] = {
    {"dotdot", fmt::tar, [](const sandbox&) { return with_ok({file_e("../evil", "x")}); },
     "\"../evil\""},
    {"nested dotdot", fmt::tar_gz, [](const sandbox&) { return with_ok({file_e("a/../../evil", "x")}); },
     "\"a/../../evil\""},
    {"dotdot in zip", fmt::zip, [](const sandbox&) { return with_ok({file_e("../evil", "x")}); },
     "\"../evil\""},
    {"absolute", fmt::tar,
     [](const sandbox& sb) { return with_ok({file_e((sb.outside / "abs").string(), "x")}); }, "/outside/abs\""},
    {"absolute /tmp/x", fmt::tar, [](const sandbox&) { return with_ok({file_e("/tmp/x", "x")}); },
     "\"/tmp/x\": is an absolute path"},
    {"absolute in zip", fmt::zip,
     [](const sandbox& sb) { return with_ok({file_e((sb.outside / "abs").string(), "x")}); }, "/outside/abs\""},
    {"symlink to /etc then a file under it", fmt::tar,
     [](const sandbox&) { return with_ok({symlink_e("etc", "/etc"), file_e("etc/mrsi-test-passwd", "x")}); },
     "\"etc\": is a symbolic link to \"/etc\""},
    {"symlink to an absolute outside dir then a file under it", fmt::tar,
     [](const sandbox& sb) { return with_ok({symlink_e("out", sb.outside.string()), file_e("out/x", "x")}); },
     "\"out\": is a symbolic link"},
    {"relative symlink climbing out", fmt::tar_xz,
     [](const sandbox&) { return with_ok({symlink_e("up", "../outside"), file_e("up/x", "x")}); },
     "\"up\": is a symbolic link to \"../outside\""},
    {"symlink climbing out in zip", fmt::zip,
     [](const sandbox&) { return with_ok({symlink_e("up", "../outside"), file_e("up/x", "x")}); }, "\"up\""},
    {"symlink chain through a link to the root", fmt::tar,
     [](const sandbox&) {
       return with_ok({symlink_e("l1", "."), dir_e("a/"), dir_e("a/b/"), symlink_e("a/b/x", "../../l1/.."), file_e("a/b/x/y", "x")});
     },
     "\"a/b/x\""},
    {"file through a symlink from the same archive", fmt::tar,
     [](const sandbox&) { return with_ok({dir_e("sub/"), symlink_e("inner", "sub"), file_e("inner/f", "x")}); },
     "\"inner/f\": its path goes through the symbolic link \"inner\""},
    {"file below a file", fmt::tar, [](const sandbox&) { return with_ok({file_e("f", "x"), file_e("f/g", "y")}); },
     "\"f/g\": its path goes through \"f\", which is not a directory"},
    {"hard link climbing out", fmt::tar,
     [](const sandbox&) { return with_ok({hardlink_e("h", "../outside/secret")}); }, "\"h\": is a hard link to \"../outside/secret\""},
    {"hard link to an absolute path", fmt::tar,
     [](const sandbox& sb) { return with_ok({hardlink_e("h", (sb.outside / "secret").string())}); }, "\"h\": is a hard link"},
    {"hard link to nothing extracted", fmt::tar, [](const sandbox&) { return with_ok({hardlink_e("h", "missing")}); },
     "not a regular file extracted earlier"},
    {"hard link to a symlink", fmt::tar,
     [](const sandbox&) { return with_ok({dir_e("a/"), symlink_e("a/s", "../ok.txt"), hardlink_e("h", "a/s")}); },
     "\"h\": is a hard link to \"a/s\""},
    {"hard link through a symlink", fmt::tar,
     [](const sandbox&) { return with_ok({dir_e("a/"), symlink_e("l", "a"), file_e("a/f", "x"), hardlink_e("h", "l/f")}); },
     "its hard link target goes through the symbolic link \"l\""},
    {"character device", fmt::tar,
     [](const sandbox&) { return with_ok({{"dev/null0", kind::chardev, {}, {}, 0666}}); },
     "\"dev/null0\": is a character device"},
    {"fifo", fmt::tar, [](const sandbox&) { return with_ok({{"pipe", kind::fifo, {}, {}, 0644}}); }, "\"pipe\": is a FIFO"},
    {"reserved name", fmt::tar,
     [](const sandbox&) { return with_ok({file_e(".mr-storage-initializer/x.done", "forged")}); },
     "\".mr-storage-initializer/x.done\": uses the reserved name"},
    {"too many entries", fmt::tar, [](const sandbox&) { return with_ok({file_e("b", "b"), file_e("c", "c")}); },
     "more than 2 entries", errc::source, {std::uint64_t{1} << 40, 2}},
    {"too many bytes", fmt::tar_gz, [](const sandbox&) { return with_ok({file_e("big", std::string(4096, 'z'))}); },
     "more than 1000 bytes (limit), reached at entry \"big\"", errc::source, {1000, 100}},
    {"too many bytes in zip", fmt::zip, [](const sandbox&) { return with_ok({file_e("big", std::string(4096, 'z'))}); },
     "reached at entry \"big\"", errc::source, {1000, 100}},
};

BOOST_DATA_TEST_CASE(refused, boost::unit_test::data::make(refused_cases), c) {
  sandbox sb;
  put(sb.outside / "secret", "do not touch");
  const fs::path arc = sb.dest / (std::string("bad") + suffix(c.format));
  write_archive(arc, c.format, c.entries(sb));

  const auto err = failure_of([&] { extract_archive(arc, sb.dest, c.limits); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == c.kind);
  const std::string msg = err->what();
  BOOST_TEST_MESSAGE(msg);
  BOOST_TEST(msg.find(c.must_mention) != std::string::npos, "\"" << msg << "\" lacks " << c.must_mention);
  BOOST_TEST(msg.find(arc.filename().string()) != std::string::npos);
  // Nothing escaped, nothing half-extracted is presented, the archive is kept for a retry.
  BOOST_TEST(tree(sb.outside) == (std::set<std::string>{"secret"}));
  BOOST_TEST(slurp(sb.outside / "secret") == "do not touch");
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{arc.filename().string()}));
  BOOST_TEST(!fs::exists(sb.root / "evil"));
  BOOST_TEST(!fs::exists("/etc/mrsi-test-passwd"));
}

BOOST_AUTO_TEST_CASE(conflict_with_existing_directory_moves_nothing) {
  sandbox sb;
  fs::create_directories(sb.dest / "x/inner");
  const fs::path arc = sb.dest / "c.tar";
  write_archive(arc, fmt::tar, {file_e("a-first", "1"), file_e("x", "a file where DEST has a directory")});
  const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::local_io);
  BOOST_TEST(std::string(err->what()).find("is an existing directory") != std::string::npos);
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{"c.tar", "x/", "x/inner/"}));
}

// A write failure on this machine (here EFBIG from RLIMIT_FSIZE, standing in for a full disk,
// which also works as root) is a local error naming the entry, and leaves nothing behind.
BOOST_AUTO_TEST_CASE(write_failure_is_a_local_error) {
  sandbox sb;
  const fs::path arc = sb.dest / "big.tar";
  write_archive(arc, fmt::tar, {file_e("small", "s"), file_e("large.bin", pseudo_random(512 * 1024, 9))});
  struct rlimit saved {};
  BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::local_io);
  BOOST_TEST_MESSAGE(err->what());
  BOOST_TEST(std::string(err->what()).find("entry \"large.bin\"") != std::string::npos, err->what());
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{"big.tar"}));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Corrupt and truncated archives

BOOST_AUTO_TEST_SUITE(archive_corrupt)

// A .tar.gz cut anywhere is an integrity error, and no entry (not even a complete one) is
// presented in DEST.
BOOST_AUTO_TEST_CASE(truncated_tar_gz) {
  sandbox sb;
  const fs::path whole = sb.root / "whole.tar.gz";
  write_archive(whole, fmt::tar_gz,
                {file_e("first.txt", "complete before the cut"), file_e("big.bin", pseudo_random(200 * 1024, 3)),
                 file_e("last.txt", "tail")});
  const std::string bytes = slurp(whole);
  std::vector<std::size_t> cuts = {0, 1, 10, 100, bytes.size() / 3, bytes.size() / 2, bytes.size() - 100,
                                   bytes.size() - 9, bytes.size() - 4, bytes.size() - 1};
  for (std::size_t cut = 512; cut < bytes.size(); cut += 4099) cuts.push_back(cut);
  bool named_big = false;
  for (std::size_t cut : cuts) {
    BOOST_TEST_CONTEXT("cut at " << cut << " of " << bytes.size()) {
      const fs::path arc = sb.dest / "model.tar.gz";
      put(arc, bytes.substr(0, cut));
      const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
      BOOST_REQUIRE(err);
      BOOST_TEST(err->kind() == errc::integrity);
      const std::string msg = err->what();
      BOOST_TEST_MESSAGE(msg);
      BOOST_TEST(msg.find("\"model.tar.gz\"") != std::string::npos, msg);
      if (msg.find("in entry \"big.bin\"") != std::string::npos) named_big = true;
      BOOST_TEST(tree(sb.dest) == (std::set<std::string>{"model.tar.gz"}));
    }
  }
  BOOST_TEST(named_big);  // a cut inside big.bin's data names that entry
}

BOOST_AUTO_TEST_CASE(truncated_plain_tar_inside_an_entry) {
  sandbox sb;
  const fs::path whole = sb.root / "whole.tar";
  write_archive(whole, fmt::tar, {file_e("a.txt", "a"), file_e("big.bin", pseudo_random(64 * 1024, 5))});
  const std::string bytes = slurp(whole);
  const fs::path arc = sb.dest / "model.tar";
  put(arc, bytes.substr(0, 512 * 3 + 10000));  // header a, data a, header big, part of big
  const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::integrity);
  BOOST_TEST(std::string(err->what()).find("in entry \"big.bin\"") != std::string::npos, err->what());
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{"model.tar"}));
}

BOOST_AUTO_TEST_CASE(zip_with_a_bad_crc) {
  sandbox sb;
  const fs::path arc = sb.dest / "m.zip";
  const std::string data = pseudo_random(10000, 11);
  write_archive(arc, fmt::zip_stored, {file_e("data.bin", data)});
  std::string bytes = slurp(arc);
  const auto at = bytes.find(data.substr(0, 64));
  BOOST_REQUIRE(at != std::string::npos);
  bytes[at + 5000] = static_cast<char>(bytes[at + 5000] ^ 0x40);
  put(arc, bytes);
  const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::integrity);
  BOOST_TEST(std::string(err->what()).find("\"data.bin\"") != std::string::npos, err->what());
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{"m.zip"}));
}

struct junk_case {
  const char* name;
  std::string bytes;
};
std::ostream& operator<<(std::ostream& os, const junk_case& c) { return os << c.name; }

const junk_case junk_cases[] = {
    {"empty.tar", ""},
    {"text.tar.gz", "this is not an archive at all, just some words that go on for a while\n"},
    {"random.zip", pseudo_random(5000, 1)},
    {"gzip-of-garbage.tgz", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + pseudo_random(300, 2)},
};

BOOST_DATA_TEST_CASE(not_an_archive, boost::unit_test::data::make(junk_cases), c) {
  sandbox sb;
  const fs::path arc = sb.dest / c.name;
  put(arc, c.bytes);
  const auto err = failure_of([&] { extract_archive(arc, sb.dest, {}); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::integrity);
  BOOST_TEST(std::string(err->what()).find(c.name) != std::string::npos, err->what());
  BOOST_TEST(tree(sb.dest) == (std::set<std::string>{c.name}));
}

BOOST_AUTO_TEST_CASE(missing_archive_is_a_local_error) {
  sandbox sb;
  const auto err = failure_of([&] { extract_archive(sb.dest / "nope.tar", sb.dest, {}); });
  BOOST_REQUIRE(err);
  BOOST_TEST(err->kind() == errc::local_io);
}

BOOST_AUTO_TEST_SUITE_END()
