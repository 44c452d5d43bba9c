#include "grpc/internal/metered_store.h"

#include <utility>

namespace realm_measurements::service {
namespace {

bool IsError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kResourceExhausted:
      return false;
    default:
      return true;
  }
}

class MeteredStore final : public Store {
 public:
  MeteredStore(Store* inner, std::shared_ptr<Metrics> metrics)
      : inner_(inner), metrics_(std::move(metrics)) {}

  template <typename T>
  T Count(const char* op, T result) {
    if (IsError(StatusOf(result))) metrics_->StoreError(op);
    return result;
  }
  static absl::Status StatusOf(const absl::Status& s) { return s; }
  template <typename T>
  static absl::Status StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }

  absl::StatusOr<ReferenceSetRecord> PutReferenceSet(ReferenceSetRecord r,
                                                     bool replace) override {
    return Count("PutReferenceSet",
                 inner_->PutReferenceSet(std::move(r), replace));
  }
  absl::StatusOr<ReferenceSetRecord> GetReferenceSet(
      absl::string_view name) override {
    return Count("GetReferenceSet", inner_->GetReferenceSet(name));
  }
  absl::StatusOr<std::vector<ReferenceSetRecord>> ListReferenceSets() override {
    return Count("ListReferenceSets", inner_->ListReferenceSets());
  }
  absl::Status DeleteReferenceSet(absl::string_view name) override {
    return Count("DeleteReferenceSet", inner_->DeleteReferenceSet(name));
  }
  absl::StatusOr<ReferenceSetRecord> AppendReferenceSetPart(
      absl::string_view name, int profile, ReferenceSetPart part,
      uint32_t max_realm_count) override {
    return Count("AppendReferenceSetPart",
                 inner_->AppendReferenceSetPart(name, profile, std::move(part),
                                                max_realm_count));
  }
  absl::StatusOr<int64_t> GetReferenceSetRevision(
      absl::string_view name) override {
    return Count("GetReferenceSetRevision",
                 inner_->GetReferenceSetRevision(name));
  }
  absl::StatusOr<std::unique_ptr<PayloadUpload>> BeginPayload(
      absl::Span<const uint8_t> sha256, uint64_t size,
      std::string name) override {
    return Count("BeginPayload",
                 inner_->BeginPayload(sha256, size, std::move(name)));
  }
  absl::StatusOr<PayloadRecord> GetPayload(
      absl::Span<const uint8_t> sha256) override {
    return Count("GetPayload", inner_->GetPayload(sha256));
  }
  absl::StatusOr<std::vector<PayloadRecord>> ListPayloads() override {
    return Count("ListPayloads", inner_->ListPayloads());
  }
  absl::Status DeletePayload(absl::Span<const uint8_t> sha256) override {
    return Count("DeletePayload", inner_->DeletePayload(sha256));
  }
  absl::StatusOr<std::optional<std::string>> GetEarKeyPem() override {
    return Count("GetEarKeyPem", inner_->GetEarKeyPem());
  }
  absl::StatusOr<std::string> EnsureEarKeyPem(
      absl::string_view candidate_pem) override {
    return Count("EnsureEarKeyPem", inner_->EnsureEarKeyPem(candidate_pem));
  }
  absl::Status AppendAuditEvent(AuditEvent event) override {
    return Count("AppendAuditEvent",
                 inner_->AppendAuditEvent(std::move(event)));
  }
  absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(int64_t after_id,
                                                          int limit) override {
    return Count("ListAuditEvents", inner_->ListAuditEvents(after_id, limit));
  }
  absl::Status CheckConsistency() override {
    return Count("CheckConsistency", inner_->CheckConsistency());
  }

 private:
  Store* inner_;
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace

std::unique_ptr<Store> NewMeteredStore(Store* inner,
                                       std::shared_ptr<Metrics> metrics) {
  return std::make_unique<MeteredStore>(inner, std::move(metrics));
}

}  // namespace realm_measurements::service
