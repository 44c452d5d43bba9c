// Early-return helpers for corim/ (abseil 20220623 has no status macros).
#ifndef REALM_MEASUREMENTS_CORIM_INTERNAL_STATUS_MACROS_H_
#define REALM_MEASUREMENTS_CORIM_INTERNAL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

#define CORIM_CONCAT_INNER_(a, b) a##b
#define CORIM_CONCAT_(a, b) CORIM_CONCAT_INNER_(a, b)

#define CORIM_RETURN_IF_ERROR(expr)                \
  do {                                             \
    absl::Status corim_status_ = (expr);           \
    if (!corim_status_.ok()) return corim_status_; \
  } while (0)

#define CORIM_ASSIGN_OR_RETURN(lhs, expr) \
  CORIM_ASSIGN_OR_RETURN_IMPL_(CORIM_CONCAT_(corim_so_, __LINE__), lhs, expr)
#define CORIM_ASSIGN_OR_RETURN_IMPL_(so, lhs, expr) \
  auto so = (expr);                                 \
  if (!so.ok()) return so.status();                 \
  lhs = std::move(*so)

#endif  // REALM_MEASUREMENTS_CORIM_INTERNAL_STATUS_MACROS_H_
