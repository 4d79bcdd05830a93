// Configuration of the s3:// provider from an environment snapshot, with KServe's variable names.
// Pure: no getenv, and the only file-system question (does a CA bundle exist?) goes through a
// callback that tests replace.
//
// Precedence, highest first:
//  1. STORAGE_OVERRIDE_CONFIG (JSON) keys over STORAGE_CONFIG (JSON) keys; when the merged
//     object has "type": "s3", its endpoint_url, access_key_id, secret_access_key, region,
//     ca_bundle, verify_ssl and anonymous replace AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
//     AWS_SECRET_ACCESS_KEY, AWS_REGION/AWS_DEFAULT_REGION, AWS_CA_BUNDLE, S3_VERIFY_SSL and
//     awsAnonymousCredential (as KServe's storage initializer does).
//  2. Endpoint: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else S3_ENDPOINT (+ S3_USE_HTTPS,
//     default https), else AWS (https://s3.REGION.amazonaws.com).
//  3. Region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
//  4. Credentials: awsAnonymousCredential=true (unsigned requests) wins; else AWS_ACCESS_KEY_ID +
//     AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE
//     (EKS IRSA, exchanged at STS); else unsigned requests.
//  5. TLS: S3_VERIFY_SSL=0/false disables verification; trusted CAs from AWS_CA_BUNDLE, else
//     CA_BUNDLE_VOLUME_MOUNT_POINT/cabundle.crt when CA_BUNDLE_CONFIGMAP_NAME is set.
//  6. Addressing: S3_USER_VIRTUAL_BUCKET; default path-style for a custom endpoint and
//     virtual-hosted for AWS.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "http/client.hpp"
#include "storage/s3_sigv4.hpp"
#include "util/env.hpp"

namespace mrsi::storage::s3 {

struct web_identity {
  std::string role_arn;
  std::string token_file;
  std::string session_name;  // AWS_ROLE_SESSION_NAME, default "mr-storage-initializer"
  std::string sts_endpoint;  // "https://sts.REGION.amazonaws.com" or an override
};

struct config {
  // Normalized "scheme://host[:port][/base-path]": lower-case scheme and host, no default port,
  // no trailing slash. Empty means AWS itself.
  std::string endpoint;
  std::string region = "us-east-1";
  bool virtual_hosted = true;
  bool verify_tls = true;
  std::string ca_bundle;  // PEM file, empty for the system store only
  bool anonymous = false;
  credentials static_credentials;        // empty unless set through the environment
  std::optional<web_identity> irsa;      // set when IRSA is the credential source
  bool verify_md5 = true;                // S3_VERIFY_MD5: check plain-MD5 ETags and x-amz-checksum-*
  // KServe's tuning knobs, when set.
  std::optional<std::chrono::milliseconds> connect_timeout;  // S3_CONNECT_TIMEOUT (seconds)
  std::optional<std::chrono::milliseconds> read_timeout;     // S3_READ_TIMEOUT (seconds)
  std::optional<int> max_attempts;                           // S3_MAX_ATTEMPTS
  std::optional<int> max_file_concurrency;                   // S3_MAX_FILE_CONCURRENCY
};

using file_exists_fn = std::function<bool(const std::string&)>;

// `env` with STORAGE_CONFIG / STORAGE_OVERRIDE_CONFIG applied as described above. Throws
// mrsi::error(usage) when either is not a JSON object.
env_map apply_storage_config(const env_map& env);

// Reads the whole configuration (apply_storage_config included). Throws mrsi::error(usage) for
// malformed values and for a configured CA bundle that does not exist.
config load_config(const env_map& env, const file_exists_fn& file_exists = {});

// Normalizes an endpoint URL ("HTTP://Minio:80/" -> "http://minio"); a value without a scheme
// takes `default_scheme`. Throws mrsi::error(usage) when it is not http(s).
std::string normalize_endpoint(std::string_view endpoint, std::string_view default_scheme);

// What the HTTP client needs from this configuration: CA bundle, verification switch, timeouts.
void apply_to_client_config(const config& cfg, http::client_config& client);

}  // namespace mrsi::storage::s3
