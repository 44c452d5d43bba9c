// File: grpc/internal/metered_store.h
//
// A Store that forwards to another and counts its failures in Metrics
// (store_errors_total{operation}); refusals that are the caller's doing
// (not found, already exists, invalid argument, quota) are not errors.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_METERED_STORE_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_METERED_STORE_H_

#include <memory>

#include "grpc/internal/metrics.h"
#include "grpc/store.h"

namespace realm_measurements::service {

// `inner` is not owned; both must outlive the result.
std::unique_ptr<Store> NewMeteredStore(Store* inner,
                                       std::shared_ptr<Metrics> metrics);

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_METERED_STORE_H_
