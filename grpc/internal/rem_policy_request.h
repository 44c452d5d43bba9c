// The REM-policy part of AppraiseToken (issue 16 item 5): request fields
// event_logs / event_catalogue / event_log_images / event_log_rmm_version to
// eventlog/rem_policy.h inputs, the policy applied to the appraisal, and its
// report to proto. Kept out of the handler so that the handler's edit is a
// few calls.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_REM_POLICY_REQUEST_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_REM_POLICY_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/cancellation.h"
#include "corim/appraisal.h"
#include "corim/token.h"
#include "eventlog/rem_policy.h"
#include "eventlog/replay.h"
#include "grpc/store.h"
#include "measure/engine.h"
#include "proto/realm_measurements/v1/service.pb.h"

namespace realm_measurements::service::internal {

// At most this many logs and images per call.
inline constexpr int kMaxRemPolicyLogs = 8;
inline constexpr int kMaxRemPolicyImages = 64;

struct RemPolicyRequest {
  std::vector<eventlog::PolicyLog> logs;
  eventlog::EventDigestCatalogue catalogue;
  measure::RmmVersion rmm_version = measure::RmmVersion::k1_0;
  std::vector<std::string> image_sha256s;  // 32 raw bytes each
};

// The request's REM-policy fields, checked without the store: nullopt when
// it has none; kInvalidArgument naming the field when event_logs and
// event_catalogue do not come together, there are too many logs or images,
// a VMM log is not first, or the catalogue is malformed. The logs are parsed
// later, with the token's algorithm known.
absl::StatusOr<std::optional<RemPolicyRequest>> ParseRemPolicyRequest(
    const v1::AppraiseTokenRequest& request);

// The images of `sha256s` from `store`, at most `max_bytes` in all, polling
// `cancel` while reading (also ReplayEventLog's catalogue). Errors name
// "<field>[i]"; too many bytes is kResourceExhausted "<field>: catalogue
// larger than the limit of N bytes".
absl::StatusOr<eventlog::ImageCatalogue> LoadImageCatalogue(
    Store& store, const std::vector<std::string>& sha256s, uint64_t max_bytes,
    const measure::CancelCheck& cancel, absl::string_view field);

// Runs the policy for `token` (its claims 44236, 44238, 44239; the RIM is a
// known reference when the appraisal matched a candidate) and, when it
// applies, sets the realm submod's executables, problem and policy id.
eventlog::RemPolicyResult ApplyRemPolicy(const RemPolicyRequest& request,
                                         const eventlog::ImageCatalogue& images,
                                         const corim::CcaToken& token,
                                         corim::AppraisalResult& result);

void ToProto(const eventlog::RemPolicyResult& result, v1::RemPolicyReport* out);

// All of it for the handler, after the appraisal of a verified token: the
// images from `store` (nullptr: kFailedPrecondition when there are any),
// ApplyRemPolicy(), the report into `out`. Errors are the images'.
absl::Status RunRemPolicy(const RemPolicyRequest& request, Store* store,
                          uint64_t max_image_bytes,
                          const measure::CancelCheck& cancel,
                          const corim::CcaToken& token,
                          corim::AppraisalResult& result,
                          v1::RemPolicyReport* out);

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_REM_POLICY_REQUEST_H_
