// Fuzzes the server's request decoding, validation and conversion: the first
// byte picks a unary method of RealmMeasurementsService, the rest is decoded
// as its request with explicit limits (the server's message size, a
// recursion depth) and handed to the real handler of an in-process
// RealmMeasurementsServiceImpl (no network, no store, an EAR key). No crash,
// no hang, no UNKNOWN status (every error maps to a precise code).
#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "base/crypto.h"
#include "grpc/service.h"

namespace realm_measurements::service {
namespace {

// Request messages nest at most 4 levels (SweepMeasurementsRequest.base.
// overrides); gRPC's decoder allows protobuf's default of 100.
constexpr int kRecursionLimit = 100;

RealmMeasurementsServiceImpl& Impl() {
  static RealmMeasurementsServiceImpl* impl = [] {
    ServerOptions o;
    o.allow_unsigned_corim = true;  // provisions unsigned CoRIMs
    absl::StatusOr<crypto::EcPrivateKey> key =
        crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
    if (!key.ok()) abort();
    o.ear_key = std::make_shared<const crypto::EcPrivateKey>(std::move(*key));
    o.limits.digest_cache_bytes = 1 << 20;
    return new RealmMeasurementsServiceImpl(std::move(o));
  }();
  return *impl;
}

template <typename Request, typename Response>
void Call(::grpc::Status (RealmMeasurementsServiceImpl::*method)(
              ::grpc::ServerContext*, const Request*, Response*),
          const uint8_t* data, size_t size) {
  google::protobuf::io::CodedInputStream in(data, static_cast<int>(size));
  in.SetTotalBytesLimit(ServerLimits().max_message_bytes);
  in.SetRecursionLimit(kRecursionLimit);
  Request request;
  if (!request.ParseFromCodedStream(&in)) return;  // gRPC refuses it too
  ::grpc::ServerContext context;
  Response response;
  ::grpc::Status s = (Impl().*method)(&context, &request, &response);
  if (s.error_code() == ::grpc::StatusCode::UNKNOWN) abort();
  if (!s.ok() && s.error_message().empty()) abort();
}

}  // namespace
}  // namespace realm_measurements::service

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using realm_measurements::service::Call;
  using Impl = realm_measurements::service::RealmMeasurementsServiceImpl;
  if (size == 0 || size > (4u << 20) + 1) return 0;
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  // Method order of the service (UploadPayload, a stream, is left out).
  switch (data[0] % 11) {
    case 0:
      Call(&Impl::GetServiceInfo, body, n);
      break;
    case 1:
      Call(&Impl::ComputeMeasurements, body, n);
      break;
    case 2:
      Call(&Impl::ReplayEventLog, body, n);
      break;
    case 3:
      Call(&Impl::ExportEndorsements, body, n);
      break;
    case 4:
      Call(&Impl::ProvisionReferenceValues, body, n);
      break;
    case 5:
      Call(&Impl::ListReferenceValues, body, n);
      break;
    case 6:
      Call(&Impl::DeleteReferenceValues, body, n);
      break;
    case 7:
      Call(&Impl::VerifyToken, body, n);
      break;
    case 8:
      Call(&Impl::AppraiseToken, body, n);
      break;
    case 9:
      Call(&Impl::SweepMeasurements, body, n);
      break;
    case 10:
      Call(&Impl::GetMeasurementCacheStats, body, n);
      break;
  }
  return 0;
}
