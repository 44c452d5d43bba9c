#include "grpc/internal/access_policy.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

// SHA-256("provisioner-token"), computed with coreutils sha256sum
// (independent of base/crypto.h).
constexpr char kTokenHash[] =
    "AB8E9D15206289926F582158431D7044221E10157A5DB23ACBE2131DE8490B11";

constexpr char kMethodPrefix[] =
    "/realm_measurements.v1.RealmMeasurementsService/";

std::string M(const char* name) { return absl::StrCat(kMethodPrefix, name); }

TEST(AccessPolicy, RolesPerMethod) {
  EXPECT_EQ(RequiredRole(M("ProvisionReferenceValues")), Role::kProvisioner);
  EXPECT_EQ(RequiredRole(M("DeletePayload")), Role::kProvisioner);
  EXPECT_EQ(RequiredRole(M("ListAuditEvents")), Role::kProvisioner);
  EXPECT_EQ(RequiredRole(M("AppraiseToken")), Role::kVerifier);
  EXPECT_EQ(RequiredRole(M("SweepMeasurements")), Role::kVerifier);
  EXPECT_EQ(RequiredRole(M("GetServiceInfo")), Role::kReader);
  EXPECT_EQ(RequiredRole(M("Nope")), std::nullopt);
  EXPECT_EQ(RequiredRole("/grpc.health.v1.Health/Check"), std::nullopt);
}

TEST(AccessPolicy, SubjectAndTokenPrincipals) {
  const std::string toml = absl::StrCat(R"(
# comment
[[principal]]
name = "pipeline"
subject = "CN=pipeline,O=Example"
roles = ["provisioner", "reader"]

[[principal]]
token_sha256 = ")",
                                        kTokenHash, R"("
roles = ["verifier"]
)");
  absl::StatusOr<AccessPolicy> p = AccessPolicy::Parse(toml, "policy.toml");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->principals().size(), 2u);

  CallerCredentials cert;
  cert.cert_subject = "CN=pipeline,O=Example";
  absl::StatusOr<std::string> who =
      p->Authorize(cert, M("ProvisionReferenceValues"));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "pipeline");
  EXPECT_EQ(p->Authorize(cert, M("AppraiseToken")).status().code(),
            absl::StatusCode::kPermissionDenied);

  // A SAN matches as well.
  CallerCredentials san;
  san.cert_subject = "CN=other";
  san.cert_names = {"CN=pipeline,O=Example"};
  EXPECT_TRUE(p->Authorize(san, M("GetServiceInfo")).ok());

  CallerCredentials stranger;
  stranger.cert_subject = "CN=stranger";
  EXPECT_EQ(p->Authorize(stranger, M("GetServiceInfo")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(p->Authorize({}, M("GetServiceInfo")).status().code(),
            absl::StatusCode::kUnauthenticated);

  CallerCredentials token;
  token.authorization = "Bearer provisioner-token";
  who = p->Authorize(token, M("AppraiseToken"));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "token:ab8e9d15");
  EXPECT_EQ(p->Authorize(token, M("UploadPayload")).status().code(),
            absl::StatusCode::kPermissionDenied);

  CallerCredentials bad_token;
  bad_token.authorization = "Bearer wrong";
  EXPECT_EQ(p->Authorize(bad_token, M("AppraiseToken")).status().code(),
            absl::StatusCode::kUnauthenticated);
  CallerCredentials basic;
  basic.authorization = "Basic abc";
  EXPECT_EQ(p->Authorize(basic, M("AppraiseToken")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AccessPolicy, BearerToken) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer  abc "), "abc");
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Basic abc"), std::nullopt);
}

void ExpectRefused(const std::string& toml, absl::string_view why) {
  absl::StatusOr<AccessPolicy> p = AccessPolicy::Parse(toml, "p.toml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(p.status().message(), why)) << p.status();
}

TEST(AccessPolicy, BadPolicies) {
  ExpectRefused("", "expected at least one [[principal]]");
  ExpectRefused("x = 1\n", "expected only [[principal]] tables, found 'x'");
  ExpectRefused("[[principal]]\nroles = [\"reader\"]\n",
                "exactly one of subject and token_sha256");
  ExpectRefused(
      "[[principal]]\nsubject = \"a\"\ntoken_sha256 = \"b\"\n"
      "roles = [\"reader\"]\n",
      "exactly one of subject and token_sha256");
  ExpectRefused("[[principal]]\ntoken_sha256 = \"abc\"\nroles = [\"reader\"]\n",
                "token_sha256: expected 64 hex digits, found 3");
  ExpectRefused("[[principal]]\nsubject = \"a\"\nroles = [\"admin\"]\n",
                "found 'admin'");
  ExpectRefused("[[principal]]\nsubject = \"a\"\nroles = []\n",
                "roles: expected a non-empty array");
  ExpectRefused("[[principal]]\nsubject = \"a\"\nrole = [\"reader\"]\n",
                "found 'role'");
  ExpectRefused("[[principal]\n", "p.toml:1");
}

// The first principal that matches decides, so a second one with the same
// identity (or name) is refused rather than silently never used.
TEST(AccessPolicy, EachIdentityAndNameOnce) {
  const std::string token = std::string(64, 'a');
  ExpectRefused(
      "[[principal]]\nsubject = \"CN=a\"\nroles = [\"reader\"]\n"
      "[[principal]]\nname = \"b\"\nsubject = \"CN=a\"\n"
      "roles = [\"verifier\"]\n",
      "access policy p.toml: principal 2: subject: expected each identity in "
      "one principal with all its roles, found 'CN=a' also in principal 1");
  ExpectRefused(
      absl::StrCat("[[principal]]\ntoken_sha256 = \"", token,
                   "\"\nroles = [\"reader\"]\n[[principal]]\nname = \"b\"\n"
                   "token_sha256 = \"",
                   absl::AsciiStrToUpper(token), "\"\nroles = [\"reader\"]\n"),
      "principal 2: token_sha256: expected each identity in one principal "
      "with all its roles, found aaaaaaaa... also in principal 1");
  ExpectRefused(
      "[[principal]]\nname = \"x\"\nsubject = \"CN=a\"\nroles = "
      "[\"reader\"]\n[[principal]]\nname = \"x\"\nsubject = \"CN=b\"\n"
      "roles = [\"reader\"]\n",
      "principal 2: name: expected each name once, found 'x' also in "
      "principal 1");
}

// Issue 14's class of crash: deep nesting or dotted keys never reach the
// TOML library; nor does an oversized file.
TEST(AccessPolicy, DeepNestingAndSizeBoundedBeforeParsing) {
  // The issue's reproductions (80 KB) are refused by size; smaller ones
  // that still crash toml++ by nesting.
  std::string dotted = "a";
  for (int i = 0; i < 40000; ++i) dotted += ".a";
  ExpectRefused(dotted + " = 1", "expected at most 65536 bytes");
  dotted = "a";
  for (int i = 0; i < 20000; ++i) dotted += ".a";
  ExpectRefused(dotted + " = 1", "levels of nesting or dotted keys");
  std::string header = "[a";
  for (int i = 0; i < 20000; ++i) header += ".a";
  ExpectRefused(header + "]", "levels of nesting or dotted keys");
  std::string inline_table = "a = {b";
  for (int i = 0; i < 400; ++i) inline_table += " = {b";
  ExpectRefused(inline_table, "levels of nesting or dotted keys");
  std::string arrays = "a = ";
  for (int i = 0; i < 100000; ++i) arrays += "[";
  ExpectRefused(arrays, "expected at most 65536 bytes");
  ExpectRefused(std::string(70000, '#'), "expected at most 65536 bytes");
}

}  // namespace
}  // namespace realm_measurements::service
