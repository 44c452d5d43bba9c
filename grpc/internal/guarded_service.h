// File: grpc/internal/guarded_service.h
//
// The RealmMeasurementsService that the server registers: every call goes
// through here first for access control (grpc/internal/access_policy.h),
// then to RealmMeasurementsServiceImpl; on the way out it records metrics
// (grpc/internal/metrics.h), one JSON access-log line on stderr, and for
// mutating calls an audit event in the store. It also implements the two
// store-only calls, DeletePayload and ListAuditEvents. Health and
// reflection are separate services and stay open.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_GUARDED_SERVICE_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_GUARDED_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpc/internal/access_policy.h"
#include "grpc/internal/metrics.h"
#include "grpc/store.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service {

struct GuardOptions {
  // nullptr: every caller may call every method (development on loopback).
  std::shared_ptr<const AccessPolicy> policy;
  // nullptr: no metrics.
  std::shared_ptr<Metrics> metrics;
  // One JSON line per call on stderr.
  bool access_log = false;
  // Audit log of mutating calls (not owned); nullptr: none.
  Store* store = nullptr;
  // GetServiceInfo.ear_verification_jwks: each key's JWK (with "kid"),
  // published until `until`; the signing key first. Empty: not set.
  struct PublishedKey {
    std::string jwk;
    absl::Time until = absl::InfiniteFuture();
  };
  std::vector<PublishedKey> ear_keys;
};

class GuardedService final : public v1::RealmMeasurementsService::Service {
 public:
  // `impl` is not owned and must outlive this.
  GuardedService(v1::RealmMeasurementsService::Service* impl,
                 GuardOptions options);

#define RM_GUARDED_UNARY(Name)                          \
  ::grpc::Status Name(::grpc::ServerContext* context,   \
                      const v1::Name##Request* request, \
                      v1::Name##Response* response) override;
  RM_GUARDED_UNARY(GetServiceInfo)
  RM_GUARDED_UNARY(ComputeMeasurements)
  RM_GUARDED_UNARY(ReplayEventLog)
  RM_GUARDED_UNARY(ExportEndorsements)
  RM_GUARDED_UNARY(ProvisionReferenceValues)
  RM_GUARDED_UNARY(ListReferenceValues)
  RM_GUARDED_UNARY(DeleteReferenceValues)
  RM_GUARDED_UNARY(VerifyToken)
  RM_GUARDED_UNARY(AppraiseToken)
  RM_GUARDED_UNARY(SweepMeasurements)
  RM_GUARDED_UNARY(GetMeasurementCacheStats)
  RM_GUARDED_UNARY(DeletePayload)
  RM_GUARDED_UNARY(ListAuditEvents)
#undef RM_GUARDED_UNARY
  ::grpc::Status UploadPayload(
      ::grpc::ServerContext* context,
      ::grpc::ServerReader<v1::UploadPayloadRequest>* reader,
      v1::UploadPayloadResponse* response) override;

 private:
  // Authorises, runs `body`, records. `target` names what a mutating call
  // changes (for the audit log); `mutating` calls are audited.
  ::grpc::Status Run(::grpc::ServerContext* context, const char* method,
                     bool mutating, const std::function<std::string()>& target,
                     const std::function<::grpc::Status()>& body);

  v1::RealmMeasurementsService::Service* impl_;
  GuardOptions options_;
};

// gRPC status code name ("OK", "PERMISSION_DENIED", ...).
const char* StatusCodeName(::grpc::StatusCode code);

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_GUARDED_SERVICE_H_
