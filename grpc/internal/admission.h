// File: grpc/internal/admission.h
//
// Admission control of the gRPC service. Every call belongs to one class:
// "cheap" (bounded CPU, no payload I/O: GetServiceInfo, ListReferenceValues,
// VerifyToken, AppraiseToken, ...) or "expensive" (ComputeMeasurements,
// SweepMeasurements, ReplayEventLog, UploadPayload). Each class has its own
// running slots and its own bounded waiting room, so a flood of expensive
// calls never delays a cheap one at admission, and waiting calls (each holds
// a server thread) never pile up without bound. No gRPC dependency.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_ADMISSION_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_ADMISSION_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/cancellation.h"

namespace realm_measurements::service::internal {

struct AdmissionLimits {
  int running = 16;  // calls of the class running at once (>= 1)
  int waiting = 32;  // calls waiting for a slot (>= 0); more are refused
};

// One admission class. Thread-safe.
class AdmissionClass {
 public:
  // `name` appears in messages ("expensive", "cheap").
  AdmissionClass(std::string name, AdmissionLimits limits);
  AdmissionClass(const AdmissionClass&) = delete;
  AdmissionClass& operator=(const AdmissionClass&) = delete;

  // A running slot, released when destroyed (move-only).
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : owner_(other.owner_) {
      other.owner_ = nullptr;
    }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class AdmissionClass;
    explicit Ticket(AdmissionClass* owner) : owner_(owner) {}
    AdmissionClass* owner_;
  };

  // A slot at once when one is free; otherwise waits for one until
  // `deadline`. Fails with RESOURCE_EXHAUSTED when the waiting room is full
  // (at once) or the deadline passes first, and with what `cancel` returns
  // (polled every 10 ms while waiting) when that is not OK.
  absl::StatusOr<Ticket> Admit(absl::Time deadline,
                               const measure::CancelCheck& cancel = {});

  // Told every wait for a slot in seconds, granted or not (metrics). Set
  // before the first Admit.
  void set_wait_observer(std::function<void(double)> f) {
    observer_ = std::move(f);
  }

  const std::string& name() const { return name_; }
  AdmissionLimits limits() const { return limits_; }
  int running() const;
  int waiting() const;

 private:
  void Release();

  const std::string name_;
  const AdmissionLimits limits_;
  std::function<void(double)> observer_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_ADMISSION_H_
