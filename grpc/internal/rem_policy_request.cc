#include "grpc/internal/rem_policy_request.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "measure/payload.h"

namespace realm_measurements::service::internal {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string Hex(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

}  // namespace

absl::StatusOr<std::optional<RemPolicyRequest>> ParseRemPolicyRequest(
    const v1::AppraiseTokenRequest& request) {
  const bool any = request.event_logs_size() > 0 ||
                   !request.event_catalogue().empty() ||
                   request.event_log_images_size() > 0;
  if (!any) return std::nullopt;
  if (request.event_logs_size() == 0 || request.event_catalogue().empty()) {
    return Invalid("event_logs",
                   "expected event_logs and event_catalogue together");
  }
  if (request.event_logs_size() > kMaxRemPolicyLogs) {
    return Invalid("event_logs",
                   absl::StrCat("expected at most ", kMaxRemPolicyLogs,
                                ", found ", request.event_logs_size()));
  }
  if (request.event_log_images_size() > kMaxRemPolicyImages) {
    return Invalid("event_log_images",
                   absl::StrCat("expected at most ", kMaxRemPolicyImages,
                                ", found ", request.event_log_images_size()));
  }
  RemPolicyRequest out;
  for (int i = 0; i < request.event_logs_size(); ++i) {
    const v1::RealmEventLog& log = request.event_logs(i);
    const bool firmware = log.source() == v1::LOG_SOURCE_FIRMWARE;
    if (!firmware && i > 0) {
      return Invalid(absl::StrCat("event_logs[", i, "]"),
                     "a VMM log must come first");
    }
    out.logs.push_back(
        {std::vector<uint8_t>(log.data().begin(), log.data().end()),
         firmware ? eventlog::LogSource::kFirmware
                  : eventlog::LogSource::kVmm});
  }
  absl::StatusOr<eventlog::EventDigestCatalogue> c =
      eventlog::EventDigestCatalogue::FromJson(request.event_catalogue());
  if (!c.ok()) return Invalid("event_catalogue", c.status().message());
  out.catalogue = *std::move(c);
  out.rmm_version = request.event_log_rmm_version() == v1::RMM_VERSION_2_0
                        ? measure::RmmVersion::k2_0
                        : measure::RmmVersion::k1_0;
  for (int i = 0; i < request.event_log_images_size(); ++i) {
    const std::string& d = request.event_log_images(i).sha256();
    if (d.size() != 32) {
      return Invalid(absl::StrCat("event_log_images[", i, "].sha256"),
                     absl::StrCat("expected 32 bytes, found ", d.size()));
    }
    out.image_sha256s.push_back(d);
  }
  return out;
}

absl::StatusOr<eventlog::ImageCatalogue> LoadImageCatalogue(
    Store& store, const std::vector<std::string>& sha256s, uint64_t max_bytes,
    const measure::CancelCheck& cancel, absl::string_view field) {
  eventlog::ImageCatalogue catalogue;
  uint64_t total = 0;
  for (size_t i = 0; i < sha256s.size(); ++i) {
    const std::string where = absl::StrCat(field, "[", i, "]");
    absl::Span<const uint8_t> digest(
        reinterpret_cast<const uint8_t*>(sha256s[i].data()), sha256s[i].size());
    absl::StatusOr<PayloadRecord> r = store.GetPayload(digest);
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat(where, ": ", r.status().message()));
    }
    total += r->size;
    if (total > max_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          field, ": catalogue larger than the limit of ", max_bytes, " bytes"));
    }
    std::vector<uint8_t> content;
    content.reserve(r->size);
    absl::Status stopped;
    absl::Status s = measure::Payload::FromFile(r->path).Read(
        [&](absl::Span<const uint8_t> chunk) {
          stopped = cancel ? cancel() : absl::OkStatus();
          if (!stopped.ok()) return stopped;
          content.insert(content.end(), chunk.begin(), chunk.end());
          return absl::OkStatus();
        });
    if (!stopped.ok()) return stopped;
    if (!s.ok()) {
      return absl::InternalError(absl::StrCat(where, ": ", s.message()));
    }
    std::string name = r->name.empty() ? Hex(digest) : r->name;
    if (absl::Status a =
            catalogue.AddImage(std::move(name), std::move(content));
        !a.ok()) {
      return absl::Status(a.code(), absl::StrCat(where, ": ", a.message()));
    }
  }
  return catalogue;
}

eventlog::RemPolicyResult ApplyRemPolicy(const RemPolicyRequest& request,
                                         const eventlog::ImageCatalogue& images,
                                         const corim::CcaToken& token,
                                         corim::AppraisalResult& result) {
  return eventlog::ApplyRemPolicy(request.logs, token, request.rmm_version,
                                  images, request.catalogue, result);
}

void ToProto(const eventlog::RemPolicyResult& r, v1::RemPolicyReport* out) {
  out->set_outcome(eventlog::RemPolicyOutcomeName(r.outcome));
  out->set_applies(r.applies);
  out->set_executables(r.executables);
  out->set_problem(r.problem);
  auto events = [](const std::vector<eventlog::RemEvent>& in,
                   google::protobuf::RepeatedPtrField<v1::RemPolicyEvent>* o) {
    for (const eventlog::RemEvent& e : in) {
      v1::RemPolicyEvent* p = o->Add();
      p->set_log(static_cast<uint32_t>(e.log));
      p->set_event(e.event);
      p->set_offset(e.offset);
      p->set_rem(static_cast<uint32_t>(e.rem));
      p->set_type(e.type);
      p->set_description(e.description);
      p->set_digest(e.digest);
    }
  };
  events(r.unknown_events, out->mutable_unknown_events());
  events(r.approved_events, out->mutable_approved_events());
  if (r.replayed_rim.has_value()) {
    out->set_replayed_rim(
        std::string(r.replayed_rim->begin(), r.replayed_rim->end()));
  }
  for (const std::vector<uint8_t>& v : r.replayed_rems) {
    if (!v.empty()) out->add_replayed_rems(std::string(v.begin(), v.end()));
  }
}

absl::Status RunRemPolicy(const RemPolicyRequest& request, Store* store,
                          uint64_t max_image_bytes,
                          const measure::CancelCheck& cancel,
                          const corim::CcaToken& token,
                          corim::AppraisalResult& result,
                          v1::RemPolicyReport* out) {
  eventlog::ImageCatalogue images;
  if (!request.image_sha256s.empty()) {
    if (store == nullptr) {
      return absl::FailedPreconditionError(
          "event_log_images: this server runs without a data directory");
    }
    absl::StatusOr<eventlog::ImageCatalogue> c =
        LoadImageCatalogue(*store, request.image_sha256s, max_image_bytes,
                           cancel, "event_log_images");
    if (!c.ok()) return c.status();
    images = *std::move(c);
  }
  ToProto(ApplyRemPolicy(request, images, token, result), out);
  return absl::OkStatus();
}

}  // namespace realm_measurements::service::internal
