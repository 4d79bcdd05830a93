// pugixml-based parsers for S3 listings, S3/STS error bodies and STS credentials.
#include "storage/s3_xml.hpp"

#include <charconv>
#include <cstring>

#include <pugixml.hpp>

#include "util/crypto.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace mrsi::storage::s3 {

namespace {

// Element name without a namespace prefix ("s3:Key" -> "Key").
std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view name) {
  for (auto c : parent.children())
    if (c.type() == pugi::node_element && local_name(c) == name) return c;
  return {};
}

std::string text_of(const pugi::xml_node& parent, std::string_view name) {
  return child(parent, name).child_value();
}

bool load(pugi::xml_document& doc, std::string_view xml) {
  return static_cast<bool>(doc.load_buffer(xml.data(), xml.size(), pugi::parse_default,
                                           pugi::encoding_utf8));
}

pugi::xml_node root_element(const pugi::xml_document& doc) {
  for (auto c : doc.children())
    if (c.type() == pugi::node_element) return c;
  return {};
}

// S3's encoding-type=url is form encoding: '+' stands for a space, a literal '+' is %2B.
std::string form_decode(std::string s) {
  for (auto& c : s)
    if (c == '+') c = ' ';
  return uri_decode(s);
}

std::string excerpt(std::string_view body) {
  std::string s(body.substr(0, 120));
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return s;
}

}  // namespace

list_page parse_list_objects_v2(std::string_view xml) {
  pugi::xml_document doc;
  if (!load(doc, xml) || local_name(root_element(doc)) != "ListBucketResult")
    throw error(errc::source, "the server's listing is not a ListBucketResult XML document: \"" +
                                  excerpt(xml) + "\"");
  auto root = root_element(doc);
  const bool url_encoded = text_of(root, "EncodingType") == "url";

  list_page page;
  for (auto c : root.children()) {
    if (c.type() != pugi::node_element || local_name(c) != "Contents") continue;
    object_entry e;
    e.key = text_of(c, "Key");
    if (url_encoded) e.key = form_decode(std::move(e.key));
    std::string size = text_of(c, "Size");
    auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), e.size);
    if (ec != std::errc{} || p != size.data() + size.size())
      throw error(errc::source, "the server's listing has an invalid size \"" + excerpt(size) +
                                    "\" for key \"" + excerpt(e.key) + "\"");
    e.etag = text_of(c, "ETag");
    // S3 lists one <ChecksumAlgorithm> per algorithm the object carries; take one we can verify.
    for (auto a : c.children())
      if (a.type() == pugi::node_element && local_name(a) == "ChecksumAlgorithm" && e.checksum_algorithm.empty())
        e.checksum_algorithm = verifiable_checksum_algorithm(a.child_value());
    page.objects.push_back(std::move(e));
  }
  page.truncated = text_of(root, "IsTruncated") == "true";
  page.next_continuation_token = text_of(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty())
    throw error(errc::source,
                "the server's listing is truncated but gives no NextContinuationToken");
  return page;
}

std::optional<error_body> parse_error(std::string_view xml) {
  pugi::xml_document doc;
  if (!load(doc, xml)) return std::nullopt;
  auto root = root_element(doc);
  pugi::xml_node err;
  if (local_name(root) == "Error") err = root;
  else if (local_name(root) == "ErrorResponse") err = child(root, "Error");
  if (!err) return std::nullopt;
  error_body b;
  b.code = text_of(err, "Code");
  b.message = text_of(err, "Message");
  b.request_id = text_of(err, "RequestId");
  if (b.request_id.empty()) b.request_id = text_of(root, "RequestId");  // STS puts it beside <Error>
  b.resource = text_of(err, "BucketName");
  if (b.resource.empty()) b.resource = text_of(err, "Key");
  if (b.resource.empty()) b.resource = text_of(err, "Resource");
  return b;
}

sts_result parse_assume_role_response(std::string_view xml) {
  if (auto e = parse_error(xml)) {
    diagnostics d;
    d.server_code = e->code;
    d.server_message = e->message;
    d.request_id = e->request_id;
    throw error(errc::source, "STS refused the web identity token: " + e->code, d);
  }
  pugi::xml_document doc;
  if (!load(doc, xml))
    throw error(errc::source, "the STS response is not XML: \"" + excerpt(xml) + "\"");
  auto root = root_element(doc);
  auto result = child(root, "AssumeRoleWithWebIdentityResult");
  if (!result) result = child(root, "AssumeRoleResult");
  auto c = child(result, "Credentials");
  sts_result r;
  r.creds.access_key_id = text_of(c, "AccessKeyId");
  r.creds.secret_access_key = text_of(c, "SecretAccessKey");
  r.creds.session_token = text_of(c, "SessionToken");
  r.expiration = text_of(c, "Expiration");
  if (r.creds.access_key_id.empty() || r.creds.secret_access_key.empty())
    throw error(errc::source, "the STS response carries no credentials: \"" + excerpt(xml) + "\"");
  return r;
}

std::string verifiable_checksum_algorithm(std::string_view name) {
  std::string a;
  for (char c : name)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') a.push_back(ascii_lower(c));
  if (a == "crc32" || a == "crc32c" || a == "sha1" || a == "sha256") return a;
  return {};
}

std::string full_object_checksum(std::string_view algorithm, std::string_view value) {
  std::size_t want = 0;
  if (algorithm == "crc32" || algorithm == "crc32c") want = 4;
  else if (algorithm == "sha1") want = 20;
  else if (algorithm == "sha256") want = 32;
  else return {};
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.find('-') != std::string_view::npos) return {};  // composite: "<b64>-<parts>"
  std::string raw;
  if (!crypto::base64_decode(value, raw) || raw.size() != want) return {};
  return crypto::base64_encode(raw);  // canonical padded form, as the engine computes it
}

std::string md5_from_etag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  if (etag.size() != 32) return {};
  std::string out;
  for (char c : etag) {
    if (hex_value(c) < 0) return {};
    out.push_back(ascii_lower(c));
  }
  return out;
}

}  // namespace mrsi::storage::s3
