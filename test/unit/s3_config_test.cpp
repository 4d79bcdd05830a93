// s3:// configuration from KServe's environment variables, STORAGE_CONFIG JSON and their
// precedence, plus the URLs the resulting addressing produces.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "storage/s3_addressing.hpp"
#include "storage/s3_config.hpp"
#include "util/error.hpp"

using namespace mrsi;

BOOST_TEST_DONT_PRINT_LOG_VALUE(mrsi::errc)
using namespace mrsi::storage::s3;

namespace {

file_exists_fn files(std::set<std::string> existing) {
  return [existing](const std::string& p) { return existing.contains(p); };
}
const file_exists_fn no_files = files({});

errc kind_of(const env_map& env, const file_exists_fn& fe = no_files) {
  try {
    load_config(env, fe);
  } catch (const mrsi::error& e) {
    return e.kind();
  }
  return errc::internal;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(s3_config)

BOOST_AUTO_TEST_CASE(defaults_are_aws_virtual_hosted_us_east_1) {
  auto c = load_config({}, no_files);
  BOOST_TEST(c.endpoint.empty());
  BOOST_TEST(c.region == "us-east-1");
  BOOST_TEST(c.virtual_hosted);
  BOOST_TEST(c.verify_tls);
  BOOST_TEST(c.ca_bundle.empty());
  BOOST_TEST(!c.anonymous);
  BOOST_TEST(c.static_credentials.empty());
  BOOST_TEST(!c.irsa.has_value());
  BOOST_TEST(c.verify_md5);
  BOOST_TEST(bucket_url(c, "models") == "https://models.s3.us-east-1.amazonaws.com");
  BOOST_TEST(object_url(c, "models", "a b/c+d") == "https://models.s3.us-east-1.amazonaws.com/a%20b/c%2Bd");
}

BOOST_AUTO_TEST_CASE(custom_endpoint_defaults_to_path_style) {
  auto c = load_config({{"AWS_ENDPOINT_URL", "HTTP://127.0.0.1:9000/"}, {"AWS_REGION", "eu-west-3"}}, no_files);
  BOOST_TEST(c.endpoint == "http://127.0.0.1:9000");
  BOOST_TEST(!c.virtual_hosted);
  BOOST_TEST(c.region == "eu-west-3");
  BOOST_TEST(object_url(c, "models", "m/w.bin") == "http://127.0.0.1:9000/models/m/w.bin");
  BOOST_TEST(list_url(c, "models", "m/", "") ==
             "http://127.0.0.1:9000/models?list-type=2&encoding-type=url&prefix=m%2F");
  BOOST_TEST(list_url(c, "models", "", "tok/+=") ==
             "http://127.0.0.1:9000/models?list-type=2&continuation-token=tok%2F%2B%3D&encoding-type=url");

  auto v = load_config({{"AWS_ENDPOINT_URL", "https://minio.example:443"}, {"S3_USER_VIRTUAL_BUCKET", "true"}}, no_files);
  BOOST_TEST(v.endpoint == "https://minio.example");
  BOOST_TEST(v.virtual_hosted);
  BOOST_TEST(object_url(v, "models", "x") == "https://models.minio.example/x");
  BOOST_TEST(list_url(v, "models", "", "") == "https://models.minio.example/?list-type=2&encoding-type=url");
  // Dotted bucket names break the wildcard certificate: path-style instead.
  BOOST_TEST(object_url(v, "my.models", "x") == "https://minio.example/my.models/x");
}

BOOST_AUTO_TEST_CASE(aws_with_path_style) {
  auto c = load_config({{"AWS_DEFAULT_REGION", "us-west-2"}, {"S3_USER_VIRTUAL_BUCKET", "false"}}, no_files);
  BOOST_TEST(!c.virtual_hosted);
  BOOST_TEST(object_url(c, "b", "k") == "https://s3.us-west-2.amazonaws.com/b/k");
}

BOOST_AUTO_TEST_CASE(s3_endpoint_and_use_https) {
  BOOST_TEST(load_config({{"S3_ENDPOINT", "minio-service.kubeflow:9000"}}, no_files).endpoint ==
             "https://minio-service.kubeflow:9000");
  BOOST_TEST(load_config({{"S3_ENDPOINT", "minio:9000"}, {"S3_USE_HTTPS", "0"}}, no_files).endpoint ==
             "http://minio:9000");
  BOOST_TEST(load_config({{"S3_ENDPOINT", "minio:80"}, {"S3_USE_HTTPS", "false"}}, no_files).endpoint ==
             "http://minio");
  BOOST_TEST(load_config({{"S3_ENDPOINT", "http://minio:9000"}, {"S3_USE_HTTPS", "1"}}, no_files).endpoint ==
             "http://minio:9000");
  // AWS_ENDPOINT_URL wins over S3_ENDPOINT, AWS_ENDPOINT_URL_S3 over both.
  BOOST_TEST(load_config({{"S3_ENDPOINT", "a:1"}, {"AWS_ENDPOINT_URL", "http://b:2"}}, no_files).endpoint ==
             "http://b:2");
  BOOST_TEST(load_config({{"AWS_ENDPOINT_URL_S3", "http://c:3"}, {"AWS_ENDPOINT_URL", "http://b:2"}}, no_files)
                 .endpoint == "http://c:3");
  BOOST_TEST(kind_of({{"AWS_ENDPOINT_URL", "ftp://x"}}) == errc::usage);
}

BOOST_AUTO_TEST_CASE(region_precedence) {
  BOOST_TEST(load_config({{"AWS_REGION", "a"}, {"AWS_DEFAULT_REGION", "b"}}, no_files).region == "a");
  BOOST_TEST(load_config({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "b"}}, no_files).region == "b");
}

BOOST_AUTO_TEST_CASE(tls_options) {
  BOOST_TEST(!load_config({{"S3_VERIFY_SSL", "0"}}, no_files).verify_tls);
  BOOST_TEST(!load_config({{"S3_VERIFY_SSL", "False"}}, no_files).verify_tls);
  BOOST_TEST(load_config({{"S3_VERIFY_SSL", "no"}}, no_files).verify_tls);  // only 0/false disable
  BOOST_TEST(load_config({{"S3_VERIFY_SSL", "1"}}, no_files).verify_tls);

  BOOST_TEST(load_config({{"AWS_CA_BUNDLE", "/ca.pem"}}, files({"/ca.pem"})).ca_bundle == "/ca.pem");
  BOOST_TEST(kind_of({{"AWS_CA_BUNDLE", "/missing.pem"}}) == errc::usage);

  env_map cm{{"CA_BUNDLE_CONFIGMAP_NAME", "odh-trusted-ca"}, {"CA_BUNDLE_VOLUME_MOUNT_POINT", "/etc/ssl/custom/"}};
  BOOST_TEST(load_config(cm, files({"/etc/ssl/custom/cabundle.crt"})).ca_bundle == "/etc/ssl/custom/cabundle.crt");
  try {
    load_config(cm, no_files);
    BOOST_FAIL("missing CA bundle accepted");
  } catch (const mrsi::error& e) {
    BOOST_TEST(e.kind() == errc::usage);
    BOOST_TEST(std::string(e.what()).find("/etc/ssl/custom/cabundle.crt") != std::string::npos);
  }
  // AWS_CA_BUNDLE wins over the config map.
  cm["AWS_CA_BUNDLE"] = "/ca.pem";
  BOOST_TEST(load_config(cm, files({"/ca.pem"})).ca_bundle == "/ca.pem");

  mrsi::http::client_config cc;
  auto c = load_config({{"S3_VERIFY_SSL", "0"}, {"AWS_CA_BUNDLE", "/ca.pem"}, {"S3_CONNECT_TIMEOUT", "2.5"},
                        {"S3_READ_TIMEOUT", "7"}},
                       files({"/ca.pem"}));
  apply_to_client_config(c, cc);
  BOOST_TEST(cc.insecure);
  BOOST_TEST(cc.ca_bundle == "/ca.pem");
  BOOST_TEST(cc.timeout.connect.count() == 2500);
  BOOST_TEST(cc.timeout.idle_read.count() == 7000);
  BOOST_TEST(kind_of({{"S3_READ_TIMEOUT", "soon"}}) == errc::usage);
  BOOST_TEST(kind_of({{"S3_MAX_ATTEMPTS", "0"}}) == errc::usage);
  BOOST_TEST(*load_config({{"S3_MAX_ATTEMPTS", "3"}}, no_files).max_attempts == 3);
}

BOOST_AUTO_TEST_CASE(credentials_precedence) {
  auto s = load_config({{"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SECRET_ACCESS_KEY", "sk"}, {"AWS_SESSION_TOKEN", "tok"},
                        {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}, {"AWS_WEB_IDENTITY_TOKEN_FILE", "/t"}},
                       no_files);
  BOOST_TEST(s.static_credentials.access_key_id == "id");
  BOOST_TEST(s.static_credentials.session_token == "tok");
  BOOST_TEST(!s.irsa.has_value());

  auto anon = load_config({{"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SECRET_ACCESS_KEY", "sk"},
                           {"awsAnonymousCredential", "True"}},
                          no_files);
  BOOST_TEST(anon.anonymous);
  BOOST_TEST(anon.static_credentials.empty());

  BOOST_TEST(kind_of({{"AWS_ACCESS_KEY_ID", "id"}}) == errc::usage);
  BOOST_TEST(kind_of({{"AWS_SECRET_ACCESS_KEY", "sk"}}) == errc::usage);
  BOOST_TEST(kind_of({{"AWS_ROLE_ARN", "arn"}}) == errc::usage);
}

BOOST_AUTO_TEST_CASE(irsa) {
  env_map env{{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/model-reader"},
              {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
              {"AWS_REGION", "eu-central-1"}};
  auto c = load_config(env, no_files);
  BOOST_REQUIRE(c.irsa.has_value());
  BOOST_TEST(c.irsa->role_arn == "arn:aws:iam::123456789012:role/model-reader");
  BOOST_TEST(c.irsa->session_name == "mr-storage-initializer");
  BOOST_TEST(c.irsa->sts_endpoint == "https://sts.eu-central-1.amazonaws.com");
  env["AWS_STS_REGIONAL_ENDPOINTS"] = "legacy";
  env["AWS_ROLE_SESSION_NAME"] = "pod-1";
  c = load_config(env, no_files);
  BOOST_TEST(c.irsa->sts_endpoint == "https://sts.amazonaws.com");
  BOOST_TEST(c.irsa->session_name == "pod-1");
  env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:8123/";
  BOOST_TEST(load_config(env, no_files).irsa->sts_endpoint == "http://127.0.0.1:8123");
}

BOOST_AUTO_TEST_CASE(storage_config_overrides_environment) {
  env_map env{
      {"AWS_ACCESS_KEY_ID", "env-id"},
      {"AWS_SECRET_ACCESS_KEY", "env-secret"},
      {"AWS_REGION", "env-region"},
      {"AWS_ENDPOINT_URL_S3", "http://env:1"},
      {"STORAGE_CONFIG",
       R"({"type":"s3","access_key_id":"json-id","secret_access_key":"json-secret","endpoint_url":"http://json:9000","region":"json-region","verify_ssl":"0","bucket":"models"})"},
  };
  auto c = load_config(env, no_files);
  BOOST_TEST(c.static_credentials.access_key_id == "json-id");
  BOOST_TEST(c.static_credentials.secret_access_key == "json-secret");
  BOOST_TEST(c.endpoint == "http://json:9000");
  BOOST_TEST(c.region == "json-region");
  BOOST_TEST(!c.verify_tls);

  // STORAGE_OVERRIDE_CONFIG keys win over STORAGE_CONFIG keys; JSON booleans are accepted.
  env["STORAGE_OVERRIDE_CONFIG"] = R"({"region":"override-region","verify_ssl":true,"anonymous":true})";
  c = load_config(env, no_files);
  BOOST_TEST(c.region == "override-region");
  BOOST_TEST(c.verify_tls);
  BOOST_TEST(c.anonymous);

  // Another type leaves the environment alone.
  env_map gcs{{"AWS_REGION", "env-region"}, {"STORAGE_CONFIG", R"({"type":"gs","region":"x"})"}};
  BOOST_TEST(load_config(gcs, no_files).region == "env-region");
  // The override alone can carry the type (KServe's storage.parameters).
  env_map only_override{{"STORAGE_OVERRIDE_CONFIG", R"({"type":"s3","endpoint_url":"http://o:1"})"}};
  BOOST_TEST(load_config(only_override, no_files).endpoint == "http://o:1");

  BOOST_TEST(kind_of({{"STORAGE_CONFIG", "{not json"}}) == errc::usage);
  BOOST_TEST(kind_of({{"STORAGE_CONFIG", "[1]"}}) == errc::usage);
  BOOST_TEST(load_config({{"STORAGE_CONFIG", ""}}, no_files).region == "us-east-1");
}

BOOST_AUTO_TEST_CASE(storage_config_ca_bundle_key) {
  env_map env{{"STORAGE_CONFIG", R"({"type":"s3","ca_bundle":"/json-ca.pem"})"}, {"AWS_CA_BUNDLE", "/env.pem"}};
  BOOST_TEST(load_config(env, files({"/json-ca.pem"})).ca_bundle == "/json-ca.pem");
}

BOOST_AUTO_TEST_CASE(uris) {
  auto l = parse_uri("s3://models/llama/7b/");
  BOOST_TEST(l.bucket == "models");
  BOOST_TEST(l.key == "llama/7b/");
  BOOST_TEST(parse_uri("s3://models").key == "");
  BOOST_TEST(parse_uri("s3://models/").key == "");
  BOOST_TEST(parse_uri("s3://models/a b+c%20d").key == "a b+c%20d");  // keys are not decoded
  BOOST_TEST(parse_uri("s3://models/a").uri() == "s3://models/a");
  BOOST_CHECK_THROW(parse_uri("s3://"), mrsi::error);
  BOOST_CHECK_THROW(parse_uri("s3:///key"), mrsi::error);
  BOOST_CHECK_THROW(parse_uri("gs://b/k"), mrsi::error);
  BOOST_CHECK_THROW(parse_uri("s3://bad bucket/k"), mrsi::error);
  BOOST_CHECK_THROW(parse_uri("s3://user@host/k"), mrsi::error);
}

BOOST_AUTO_TEST_CASE(virtual_host_rules) {
  BOOST_TEST(virtual_host_compatible("models-1", true));
  BOOST_TEST(!virtual_host_compatible("my.models", true));
  BOOST_TEST(virtual_host_compatible("my.models", false));
  BOOST_TEST(!virtual_host_compatible("Models", false));
  BOOST_TEST(!virtual_host_compatible("my_models", false));
  BOOST_TEST(!virtual_host_compatible("ab", false));
  BOOST_TEST(!virtual_host_compatible("-ab", false));
}

BOOST_AUTO_TEST_SUITE_END()
