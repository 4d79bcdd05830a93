// How S3 keys map to files under DEST (ours, documented): a key equal to the URI's path is that
// object alone, saved under its basename; otherwise the path is a folder, listed as "PATH/",
// each key written relative to it. Pure functions: they decide, the provider fetches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "storage/filters.hpp"
#include "storage/s3_addressing.hpp"
#include "storage/s3_xml.hpp"

namespace mrsi::storage::s3 {

struct planned_file {
  std::string key;
  std::filesystem::path relative_path;
  std::uint64_t size = 0;
  std::string etag;
};

// The prefix to list for `key`: "" for the whole bucket, `key` when it already ends in '/',
// else `key` + "/" (so "model" never pulls "model-v2/...").
std::string folder_prefix(std::string_view key);

// The single-object case: the file is the key's basename. Throws mrsi::error(source) when that
// basename cannot be a file name ("..").
planned_file map_single_object(std::string_view key, std::uint64_t size, std::string etag);

// The folder case: keys under `prefix` with the prefix removed. Folder markers (keys ending in
// '/') are skipped, zero-byte objects kept, keys outside the prefix ignored, the filter applied.
// Throws mrsi::error(source): a key that would escape DEST (before anything is written), two
// keys on one path, nothing listed (naming bucket and prefix) or nothing left after filtering.
std::vector<planned_file> map_listing(const std::vector<object_entry>& objects,
                                      std::string_view bucket, std::string_view prefix,
                                      const path_filter& filter);

}  // namespace mrsi::storage::s3
