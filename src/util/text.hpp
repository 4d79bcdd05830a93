// ASCII text helpers shared by the parsers: case folding and case-insensitive comparison, trimming,
// hex digits, percent-encoding and TCP port numbers. Pure, and independent of the C locale: bytes
// outside ASCII (UTF-8 included) are never letters, digits or spaces here.
#pragma once

#include <string>
#include <string_view>

namespace mrsi {

// The characters std::isspace accepts in the "C" locale.
inline constexpr std::string_view ascii_whitespace = " \t\n\v\f\r";

// 'A'-'Z' become 'a'-'z'; every other byte is returned unchanged.
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string ascii_lower(std::string_view s);

// Equal, or equal but for the case of ASCII letters.
bool iequals(std::string_view a, std::string_view b) noexcept;
// `s` begins with `prefix`, ignoring the case of ASCII letters.
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
// `s` ends with `suffix`, ignoring the case of ASCII letters.
bool iends_with(std::string_view s, std::string_view suffix) noexcept;

// `s` without the leading and trailing characters that appear in `chars`. The result views `s`.
std::string_view trim(std::string_view s, std::string_view chars = ascii_whitespace) noexcept;

// 0-15 for '0'-'9', 'a'-'f' and 'A'-'F'; -1 for any other byte.
int hex_value(char c) noexcept;

// Percent-encodes every byte but the RFC 3986 unreserved characters A-Z a-z 0-9 - _ . ~ (and '/'
// unless encode_slash) as %XX with upper-case hex; a space becomes %20, never '+'.
std::string percent_encode(std::string_view s, bool encode_slash = true);

// True for the text of a TCP port: one to five ASCII digits with a value from 1 to 65535
// (leading zeros allowed, as in URLs: "08080" is 8080). False for empty text.
bool is_valid_port(std::string_view port) noexcept;

}  // namespace mrsi
