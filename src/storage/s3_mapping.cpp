// Key-to-file mapping for the s3:// provider.
#include "storage/s3_mapping.hpp"

#include "storage/path_sanitize.hpp"
#include "util/error.hpp"

namespace mrsi::storage::s3 {

std::string folder_prefix(std::string_view key) {
  if (key.empty() || key.back() == '/') return std::string(key);
  return std::string(key) + "/";
}

planned_file map_single_object(std::string_view key, std::uint64_t size, std::string etag) {
  auto slash = key.rfind('/');
  std::string_view base = slash == std::string_view::npos ? key : key.substr(slash + 1);
  planned_file f;
  f.key = std::string(key);
  f.relative_path = sanitize_relative_path(base, key);
  f.size = size;
  f.etag = std::move(etag);
  return f;
}

std::vector<planned_file> map_listing(const std::vector<object_entry>& objects,
                                      std::string_view bucket, std::string_view prefix,
                                      const path_filter& filter) {
  std::vector<planned_file> out;
  std::size_t listed = 0;
  for (const auto& o : objects) {
    if (o.key.size() < prefix.size() || o.key.compare(0, prefix.size(), prefix) != 0) continue;
    if (o.key.back() == '/') continue;  // folder marker
    ++listed;
    std::string_view rel = std::string_view(o.key).substr(prefix.size());
    // Sanitize every key before filtering: a hostile key is refused even if a filter would
    // have skipped it, so the outcome never depends on pattern details.
    planned_file f;
    f.relative_path = sanitize_relative_path(rel, o.key);
    if (!filter.accepts(f.relative_path.generic_string())) continue;
    f.key = o.key;
    f.size = o.size;
    f.etag = o.etag;
    out.push_back(std::move(f));
  }
  const std::string where = "s3://" + std::string(bucket) + "/" + std::string(prefix);
  if (listed == 0)
    throw error(errc::source, "no objects found in bucket \"" + std::string(bucket) + "\" under prefix \"" +
                                  std::string(prefix) + "\" (" + where + ")");
  if (out.empty())
    throw error(errc::source, "none of the " + std::to_string(listed) + " objects under " + where +
                                  " pass " + filter.describe());
  std::vector<std::filesystem::path> paths;
  std::vector<std::string> keys;
  paths.reserve(out.size());
  keys.reserve(out.size());
  for (const auto& f : out) {
    paths.push_back(f.relative_path);
    keys.push_back(f.key);
  }
  check_path_conflicts(paths, keys);
  return out;
}

}  // namespace mrsi::storage::s3
