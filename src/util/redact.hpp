// The one place that decides what is secret: URLs and headers pass through here before they reach
// a log line, an error message or the stats file.
#pragma once

#include <string>
#include <string_view>

namespace mrsi {

// Drops the password of user:password@, and replaces the value of every query parameter that can
// carry a credential (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, sig, token, ...) with
// "REDACTED". Works on anything URL-shaped, with or without a scheme; parameters are recognised
// by name, so unparsable text keeps its shape with the secret values replaced.
std::string redact_url(std::string_view url);

// True for header names whose values are secrets (Authorization, Proxy-Authorization, Cookie,
// X-Amz-Security-Token, x-ms-*-key, ...).
bool is_secret_header(std::string_view name);

// "name: value" for logs, with the value replaced by "REDACTED" when the header is secret.
std::string redact_header(std::string_view name, std::string_view value);

}  // namespace mrsi
