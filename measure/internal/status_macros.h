// Early-return helper of the measure package (abseil 20220623 has no status
// macros).
#ifndef REALM_MEASUREMENTS_MEASURE_INTERNAL_STATUS_MACROS_H_
#define REALM_MEASUREMENTS_MEASURE_INTERNAL_STATUS_MACROS_H_

#include "absl/status/status.h"

#define MEASURE_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    absl::Status measure_status_ = (expr);             \
    if (!measure_status_.ok()) return measure_status_; \
  } while (0)

#endif  // REALM_MEASUREMENTS_MEASURE_INTERNAL_STATUS_MACROS_H_
