// Turns object names from a remote listing into paths that are guaranteed to stay inside the
// destination directory, and finds names that would collide on disk. Pure functions, no I/O.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mrsi::storage {

// A relative path for `name` (an object key with the listing prefix removed). Empty segments
// ("a//b") and "." segments are dropped; backslashes are ordinary characters. Throws
// mrsi::error(source) naming `key` (the full key, for the message) when the name is empty,
// absolute, contains a NUL byte or a ".." segment: such a key would escape the destination.
std::filesystem::path sanitize_relative_path(std::string_view name, std::string_view key);

// Printable form of a key for messages: control bytes and quotes escaped as \xNN.
std::string printable_key(std::string_view key);

// Checks that no two entries land on the same file and that no entry is both a file and a
// directory ("a" and "a/b"). `keys` names each entry's source for the message. Throws
// mrsi::error(source) naming both keys.
void check_path_conflicts(const std::vector<std::filesystem::path>& paths,
                          const std::vector<std::string>& keys);

}  // namespace mrsi::storage
