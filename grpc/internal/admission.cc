#include "grpc/internal/admission.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace realm_measurements::service::internal {
namespace {

// How often a waiting call looks at its cancellation hook (a client that
// leaves frees its place in the waiting room within this time).
constexpr absl::Duration kCancelPoll = absl::Milliseconds(10);

}  // namespace

AdmissionClass::AdmissionClass(std::string name, AdmissionLimits limits)
    : name_(std::move(name)),
      limits_{std::max(1, limits.running), std::max(0, limits.waiting)} {}

AdmissionClass::Ticket& AdmissionClass::Ticket::operator=(
    Ticket&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

AdmissionClass::Ticket::~Ticket() {
  if (owner_ != nullptr) owner_->Release();
}

absl::StatusOr<AdmissionClass::Ticket> AdmissionClass::Admit(
    absl::Time deadline, const measure::CancelCheck& cancel) {
  absl::MutexLock lock(&mu_);
  if (running_ < limits_.running) {
    ++running_;
    if (observer_) observer_(0);
    return Ticket(this);
  }
  if (waiting_ >= limits_.waiting) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "server busy: ", running_, " ", name_, " calls running and ", waiting_,
        " waiting (the limits); retry later"));
  }
  ++waiting_;
  const absl::Time start = absl::Now();
  auto free_slot = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return running_ < limits_.running;
  };
  absl::Status stop;
  for (;;) {
    const absl::Time until = std::min(deadline, absl::Now() + kCancelPoll);
    if (mu_.AwaitWithDeadline(absl::Condition(&free_slot), until)) break;
    if (absl::Now() >= deadline) {
      stop = absl::ResourceExhaustedError(
          absl::StrCat("server busy: no ", name_,
                       " call slot became free before the deadline (",
                       limits_.running, " running)"));
      break;
    }
    // The hook may be slow-ish (it asks gRPC); do not hold the lock.
    mu_.Unlock();
    stop = measure::PollCancel(cancel);
    mu_.Lock();
    if (!stop.ok()) break;
  }
  --waiting_;
  if (observer_) observer_(absl::ToDoubleSeconds(absl::Now() - start));
  if (!stop.ok()) return stop;
  ++running_;
  return Ticket(this);
}

void AdmissionClass::Release() {
  absl::MutexLock lock(&mu_);
  --running_;
}

int AdmissionClass::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int AdmissionClass::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

}  // namespace realm_measurements::service::internal
