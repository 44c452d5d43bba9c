// libFuzzer target for the access policy (--access_policy=FILE, TOML through
// toml++ after grpc/internal/access_policy.h's size and nesting checks). A
// policy that parses must authorize consistently: no credential is always
// UNAUTHENTICATED, and a caller presenting a principal's subject is that
// principal (or an earlier one with the same subject) or refused.
// Seeds: testdata/grpc/access_policy_corpus (docs/deploy.md's example).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpc/internal/access_policy.h"

namespace s = realm_measurements::service;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<s::AccessPolicy> policy = s::AccessPolicy::Parse(text, "f");
  if (!policy.ok()) return 0;
  const std::string method =
      "/realm_measurements.v1.RealmMeasurementsService/AppraiseToken";
  if (policy->Authorize({}, method).status().code() !=
      absl::StatusCode::kUnauthenticated) {
    std::abort();
  }
  for (const s::Principal& p : policy->principals()) {
    if (p.subject.empty()) continue;
    s::CallerCredentials who;
    who.cert_subject = p.subject;
    absl::StatusOr<std::string> name = policy->Authorize(who, method);
    if (name.ok()) {
      bool known = false;
      for (const s::Principal& q : policy->principals()) {
        known |= q.name == *name && q.subject == p.subject;
      }
      if (!known) std::abort();
    } else if (name.status().code() != absl::StatusCode::kPermissionDenied &&
               name.status().code() != absl::StatusCode::kUnauthenticated) {
      std::abort();
    }
  }
  s::CallerCredentials bearer;
  bearer.authorization = "Bearer fuzz";
  (void)policy->Authorize(bearer, method);
  return 0;
}
