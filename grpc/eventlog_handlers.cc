// File: grpc/eventlog_handlers.cc
//
// ReplayEventLog: proto <-> eventlog:: adapter (conversions in
// grpc/internal/convert.h).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eventlog/parser.h"
#include "eventlog/replay.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/handler_support.h"
#include "grpc/internal/rem_policy_request.h"
#include "grpc/service.h"
#include "measure/engine.h"

namespace realm_measurements::service {
namespace {

using internal::Admit;
using internal::Bytes;
using internal::CallCancel;
using internal::CheckRequest;
using internal::FromProto;
using internal::Invalid;
using internal::NoStore;
using internal::Span;
using internal::ToGrpc;
using internal::ToProto;

// Request bounds beyond the message size (robustness: no unbounded work).
constexpr int kMaxCatalogueImages = 64;

}  // namespace

::grpc::Status RealmMeasurementsServiceImpl::ReplayEventLog(
    ::grpc::ServerContext* context, const v1::ReplayEventLogRequest* request,
    v1::ReplayEventLogResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (request->images_size() > kMaxCatalogueImages) {
    return Invalid(absl::StrCat("images: expected at most ",
                                kMaxCatalogueImages, ", found ",
                                request->images_size()));
  }
  if (request->images_size() > 0 && options_.store == nullptr) {
    return NoStore();
  }
  const std::optional<measure::RmmVersion> rmm_version =
      FromProto(request->rmm_version());
  eventlog::ParseOptions popts;
  popts.allow_truncation = request->allow_truncation();
  absl::StatusOr<eventlog::EventLog> log =
      eventlog::Parse(Span(request->event_log()), popts);
  if (!log.ok()) return ToGrpc(log.status(), "event_log");

  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(expensive_, context, &ticket); !s.ok()) {
    return s;
  }
  const measure::CancelCheck cancel = CallCancel(context);

  // The catalogue lives in memory: its total size is bounded.
  std::vector<std::string> digests;
  for (const v1::PayloadRef& ref : request->images()) {
    digests.push_back(ref.sha256());
  }
  absl::StatusOr<eventlog::ImageCatalogue> catalogue =
      internal::LoadImageCatalogue(*options_.store, digests,
                                   options_.limits.max_payload_bytes, cancel,
                                   "images");
  if (!catalogue.ok()) return ToGrpc(catalogue.status());
  eventlog::ReplayOptions ropts;
  ropts.source = request->source() == v1::LOG_SOURCE_FIRMWARE
                     ? eventlog::LogSource::kFirmware
                     : eventlog::LogSource::kVmm;
  if (absl::Status s = cancel(); !s.ok()) return ToGrpc(s);
  ropts.rmm_version = rmm_version.value_or(measure::RmmVersion::k1_0);
  ropts.realm_hash_algorithm =
      internal::MeasureHashFromProto(request->hash_algorithm());
  response->set_rmm_version(ToProto(ropts.rmm_version));
  eventlog::Replayer replayer(&*catalogue);
  if (absl::Status s = replayer.Replay(*log, ropts); !s.ok()) {
    return ToGrpc(s, "replay");
  }
  if (const measure::Engine* e = replayer.engine()) {
    const size_t n = measure::HashSize(e->hash_algorithm());
    response->set_hash_algorithm(ToProto(e->hash_algorithm()));
    if (replayer.rim_known()) {
      response->set_rim(Bytes(absl::MakeConstSpan(e->rim()).first(n)));
    }
    for (int i = 0; i < 4; ++i) {
      response->add_rems(Bytes(absl::MakeConstSpan(e->rem(i)).first(n)));
    }
  }
  for (const eventlog::ReportEntry& r : replayer.report()) {
    v1::ReplayedEvent* e = response->add_events();
    e->set_event(r.event);
    e->set_offset(r.offset);
    e->set_index(r.index);
    e->set_type(r.type);
    e->set_target_register(ToProto(r.reg));
    e->set_action(r.action);
    e->set_digest(r.digest);
    e->set_match(ToProto(r.match));
    e->set_image(r.image);
    e->set_value_after(r.value_after);
  }
  response->set_report_text(replayer.FormatReport());
  return ::grpc::Status::OK;
}

}  // namespace realm_measurements::service
