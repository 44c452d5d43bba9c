// File: grpc/internal/access_policy.h
//
// Who may call which method of RealmMeasurementsService (issue 15). A
// policy file (TOML) lists principals, each identified by an mTLS client
// certificate subject (or one of its subject alternative names / its common
// name) or by the SHA-256 of a bearer token, and its roles:
//
//   [[principal]]
//   name = "pipeline"                 # shown in the audit and access logs
//   subject = "CN=pipeline,O=Example" # or: token_sha256 = "<64 hex>"
//   roles = ["provisioner"]
//
// Roles: provisioner (ProvisionReferenceValues, DeleteReferenceValues,
// UploadPayload, DeletePayload, ListAuditEvents), verifier (VerifyToken,
// AppraiseToken, ComputeMeasurements, ReplayEventLog, ExportEndorsements,
// SweepMeasurements), reader (GetServiceInfo, ListReferenceValues,
// GetMeasurementCacheStats). No gRPC here: the service passes what it knows
// of the caller.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_ACCESS_POLICY_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_ACCESS_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::service {

enum class Role : uint8_t {
  kProvisioner = 1 << 0,
  kVerifier = 1 << 1,
  kReader = 1 << 2,
};

// The role a method needs; nullopt for a method this build does not know
// (refused).
std::optional<Role> RequiredRole(absl::string_view method_name);
const char* RoleName(Role r);

// What the transport knows of a caller.
struct CallerCredentials {
  // From the verified client certificate (mTLS): the subject in RFC 2253
  // form, the SANs and the common name. Empty without one.
  std::string cert_subject;
  std::vector<std::string> cert_names;  // SANs and CN
  // The value of "authorization" metadata, when sent.
  std::optional<std::string> authorization;
};

struct Principal {
  std::string name;
  std::string subject;                // or
  std::vector<uint8_t> token_sha256;  // 32 bytes
  uint8_t roles = 0;                  // Role bits
};

// Bounds on a policy file, checked before the TOML library sees it (deep
// nesting crashes toml++, issue 14).
inline constexpr size_t kMaxPolicyBytes = 64 << 10;
inline constexpr int kMaxPolicyNesting = 4;
inline constexpr size_t kMaxPrincipals = 1024;

class AccessPolicy {
 public:
  // Parses a policy (errors: what, expected, found, where; `source` names
  // the file).
  static absl::StatusOr<AccessPolicy> Parse(absl::string_view toml,
                                            absl::string_view source);

  // The principal's name when `who` may call `method_name`.
  // kUnauthenticated: no credential, or one that matches no principal (a
  // token is compared in constant time with every principal's hash).
  // kPermissionDenied: known, but without the role.
  absl::StatusOr<std::string> Authorize(const CallerCredentials& who,
                                        absl::string_view method_name) const;

  const std::vector<Principal>& principals() const { return principals_; }

 private:
  std::vector<Principal> principals_;
};

// The bearer token of an "authorization" metadata value ("Bearer <t>").
std::optional<std::string> BearerToken(absl::string_view authorization);

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_ACCESS_POLICY_H_
