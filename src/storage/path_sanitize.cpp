// Key-to-path sanitizing and collision checks.
#include "storage/path_sanitize.hpp"

#include <cstdio>
#include <unordered_map>

#include "util/error.hpp"

namespace mrsi::storage {

std::string printable_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::filesystem::path sanitize_relative_path(std::string_view name, std::string_view key) {
  auto refuse = [&](const char* why) {
    return error(errc::source, "refusing key \"" + printable_key(key) + "\": " + why);
  };
  if (name.find('\0') != std::string_view::npos) throw refuse("contains a NUL byte");
  if (!name.empty() && name.front() == '/') throw refuse("is an absolute path and would escape the destination");
  std::filesystem::path out;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    std::string_view seg = name.substr(start, slash - start);
    if (seg == "..") throw refuse("would escape the destination");
    if (!seg.empty() && seg != ".") out /= std::string(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (out.empty()) throw refuse("names no file below the destination");
  return out;
}

void check_path_conflicts(const std::vector<std::filesystem::path>& paths,
                          const std::vector<std::string>& keys) {
  std::unordered_map<std::string, std::size_t> files;
  files.reserve(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto [it, inserted] = files.emplace(paths[i].generic_string(), i);
    if (!inserted)
      throw error(errc::source, "keys \"" + printable_key(keys[it->second]) + "\" and \"" +
                                    printable_key(keys[i]) + "\" would both be written to " +
                                    paths[i].generic_string());
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const std::string p = paths[i].generic_string();
    for (auto slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      auto it = files.find(p.substr(0, slash));
      if (it != files.end())
        throw error(errc::source, "key \"" + printable_key(keys[it->second]) +
                                      "\" is a file but key \"" + printable_key(keys[i]) +
                                      "\" needs it to be a directory");
    }
  }
}

}  // namespace mrsi::storage
