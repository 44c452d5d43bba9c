#include "grpc/internal/guarded_service.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace realm_measurements::service {
namespace {

constexpr char kPrefix[] = "/realm_measurements.v1.RealmMeasurementsService/";
constexpr int kDefaultAuditPage = 100;
constexpr int kMaxAuditPage = 1000;
constexpr size_t kMaxRequestIdBytes = 64;

// JSON string body (RFC 8259 §7): quotes, backslashes and control
// characters escaped; bytes >= 0x7f replaced (identities are ASCII).
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += absl::StrFormat("\\u%04x", u);
    } else if (u >= 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string RequestId(::grpc::ServerContext* context) {
  const auto& md = context->client_metadata();
  auto it = md.find("x-request-id");
  if (it != md.end() && !it->second.empty() &&
      it->second.size() <= kMaxRequestIdBytes) {
    std::string id(it->second.data(), it->second.size());
    bool printable = true;
    for (char c : id) printable = printable && c > 0x20 && c < 0x7f;
    if (printable) return id;
  }
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

CallerCredentials Credentials(::grpc::ServerContext* context) {
  CallerCredentials c;
  std::shared_ptr<const ::grpc::AuthContext> auth = context->auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const ::grpc::string_ref& v :
         auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
      c.cert_subject.assign(v.data(), v.size());
    }
    for (const char* p :
         {GRPC_X509_SAN_PROPERTY_NAME, GRPC_X509_CN_PROPERTY_NAME}) {
      for (const ::grpc::string_ref& v : auth->FindPropertyValues(p)) {
        c.cert_names.emplace_back(v.data(), v.size());
      }
    }
  }
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it != md.end())
    c.authorization.emplace(it->second.data(), it->second.size());
  return c;
}

}  // namespace

const char* StatusCodeName(::grpc::StatusCode code) {
  switch (code) {
    case ::grpc::StatusCode::OK:
      return "OK";
    case ::grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case ::grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case ::grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case ::grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case ::grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case ::grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case ::grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case ::grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case ::grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case ::grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case ::grpc::StatusCode::ABORTED:
      return "ABORTED";
    case ::grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case ::grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case ::grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case ::grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case ::grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    default:
      return "UNKNOWN";
  }
}

GuardedService::GuardedService(v1::RealmMeasurementsService::Service* impl,
                               GuardOptions options)
    : impl_(impl), options_(std::move(options)) {}

::grpc::Status GuardedService::Run(
    ::grpc::ServerContext* context, const char* method, bool mutating,
    const std::function<std::string()>& target,
    const std::function<::grpc::Status()>& body) {
  const std::string full = absl::StrCat(kPrefix, method);
  const absl::Time start = absl::Now();
  // Echoed so a client can quote the id its call was logged under
  // (veraison/services#236); a sync handler sends its initial metadata
  // with the response, after this.
  const std::string request_id = RequestId(context);
  context->AddInitialMetadata("x-request-id", request_id);
  if (options_.metrics != nullptr) options_.metrics->CallStarted(method);
  const CallerCredentials who = Credentials(context);
  std::string principal =
      !who.cert_subject.empty() ? who.cert_subject : "anonymous";
  ::grpc::Status status;
  if (options_.policy != nullptr) {
    absl::StatusOr<std::string> p = options_.policy->Authorize(who, full);
    if (p.ok()) {
      principal = *p;
    } else {
      status =
          ::grpc::Status(static_cast<::grpc::StatusCode>(p.status().code()),
                         std::string(p.status().message()));
    }
  }
  if (status.ok()) status = body();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const char* code = StatusCodeName(status.error_code());
  if (options_.metrics != nullptr) {
    options_.metrics->CallFinished(method, code, seconds);
  }
  if (mutating && options_.store != nullptr) {
    AuditEvent e;
    e.principal = principal;
    e.method = full;
    e.target = target();
    e.outcome = code;
    e.detail = status.error_message();
    e.request_id = request_id;
    if (!options_.store->AppendAuditEvent(std::move(e)).ok() &&
        options_.metrics != nullptr) {
      options_.metrics->StoreError("AppendAuditEvent");
    }
  }
  if (options_.access_log) {
    // Never payload bytes, tokens or keys: names, codes and times only.
    const std::string line = absl::StrCat(
        "{\"time\":",
        JsonString(
            absl::FormatTime(absl::RFC3339_full, start, absl::UTCTimeZone())),
        ",\"method\":", JsonString(method),
        ",\"peer\":", JsonString(context->peer()),
        ",\"principal\":", JsonString(principal),
        ",\"status\":", JsonString(code),
        ",\"duration_ms\":", absl::StrFormat("%.3f", seconds * 1000),
        ",\"request_id\":", JsonString(request_id), "}\n");
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  return status;
}

#define RM_FORWARD(Name, mutating, target_expr)                         \
  ::grpc::Status GuardedService::Name(::grpc::ServerContext* context,   \
                                      const v1::Name##Request* request, \
                                      v1::Name##Response* response) {   \
    return Run(                                                         \
        context, #Name, mutating,                                       \
        [&]() -> std::string { return target_expr; },                   \
        [&] { return impl_->Name(context, request, response); });       \
  }
RM_FORWARD(ComputeMeasurements, false, "")
RM_FORWARD(ReplayEventLog, false, "")
RM_FORWARD(ExportEndorsements, false, "")
RM_FORWARD(ProvisionReferenceValues, true, request->name())
RM_FORWARD(ListReferenceValues, false, "")
RM_FORWARD(DeleteReferenceValues, true, request->name())
RM_FORWARD(VerifyToken, false, "")
RM_FORWARD(AppraiseToken, false, "")
RM_FORWARD(SweepMeasurements, false, "")
RM_FORWARD(GetMeasurementCacheStats, false, "")
#undef RM_FORWARD

::grpc::Status GuardedService::GetServiceInfo(
    ::grpc::ServerContext* context, const v1::GetServiceInfoRequest* request,
    v1::GetServiceInfoResponse* response) {
  return Run(
      context, "GetServiceInfo", false, [] { return std::string(); },
      [&] {
        ::grpc::Status s = impl_->GetServiceInfo(context, request, response);
        if (s.ok() && !options_.ear_keys.empty()) {
          // Retired keys drop out of the set when their time is up.
          const absl::Time now = absl::Now();
          std::string jwks = "{\"keys\":[";
          bool first = true;
          for (const GuardOptions::PublishedKey& k : options_.ear_keys) {
            if (now >= k.until) continue;
            absl::StrAppend(&jwks, first ? "" : ",", k.jwk);
            first = false;
          }
          response->set_ear_verification_jwks(absl::StrCat(jwks, "]}"));
        }
        return s;
      });
}

::grpc::Status GuardedService::UploadPayload(
    ::grpc::ServerContext* context,
    ::grpc::ServerReader<v1::UploadPayloadRequest>* reader,
    v1::UploadPayloadResponse* response) {
  return Run(
      context, "UploadPayload", true,
      [&]() -> std::string {
        return response->sha256().empty()
                   ? std::string()
                   : absl::BytesToHexString(response->sha256());
      },
      [&] { return impl_->UploadPayload(context, reader, response); });
}

::grpc::Status GuardedService::DeletePayload(
    ::grpc::ServerContext* context, const v1::DeletePayloadRequest* request,
    v1::DeletePayloadResponse* /*response*/) {
  return Run(
      context, "DeletePayload", true,
      [&]() -> std::string {
        return absl::BytesToHexString(request->sha256());
      },
      [&] {
        if (options_.store == nullptr) {
          return ::grpc::Status(::grpc::StatusCode::FAILED_PRECONDITION,
                                "this server runs without a store");
        }
        absl::Status s =
            options_.store->DeletePayload(absl::Span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(request->sha256().data()),
                request->sha256().size()));
        return ::grpc::Status(static_cast<::grpc::StatusCode>(s.code()),
                              std::string(s.message()));
      });
}

::grpc::Status GuardedService::ListAuditEvents(
    ::grpc::ServerContext* context, const v1::ListAuditEventsRequest* request,
    v1::ListAuditEventsResponse* response) {
  return Run(
      context, "ListAuditEvents", false, [] { return std::string(); },
      [&] {
        if (options_.store == nullptr) {
          return ::grpc::Status(::grpc::StatusCode::FAILED_PRECONDITION,
                                "this server runs without a store");
        }
        if (request->limit() > kMaxAuditPage) {
          return ::grpc::Status(
              ::grpc::StatusCode::INVALID_ARGUMENT,
              absl::StrCat("limit: expected at most ", kMaxAuditPage,
                           ", found ", request->limit()));
        }
        const int limit = request->limit() == 0
                              ? kDefaultAuditPage
                              : static_cast<int>(request->limit());
        absl::StatusOr<std::vector<AuditEvent>> events =
            options_.store->ListAuditEvents(request->after_id(), limit);
        if (!events.ok()) {
          return ::grpc::Status(
              static_cast<::grpc::StatusCode>(events.status().code()),
              std::string(events.status().message()));
        }
        for (const AuditEvent& e : *events) {
          v1::AuditEvent* out = response->add_events();
          out->set_id(e.id);
          out->set_time_unix_ms(e.time_unix_ms);
          out->set_principal(e.principal);
          out->set_method(e.method);
          out->set_target(e.target);
          out->set_outcome(e.outcome);
          out->set_detail(e.detail);
          out->set_request_id(e.request_id);
        }
        return ::grpc::Status::OK;
      });
}

}  // namespace realm_measurements::service
