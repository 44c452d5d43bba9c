// Early-return helpers shared by every package (abseil 20220623 has no status
// macros).
#ifndef REALM_MEASUREMENTS_BASE_STATUS_MACROS_H_
#define REALM_MEASUREMENTS_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

#define BASE_CONCAT_INNER_(a, b) a##b
#define BASE_CONCAT_(a, b) BASE_CONCAT_INNER_(a, b)

// Returns the absl::Status `expr` from the enclosing function if not OK.
#define BASE_RETURN_IF_ERROR(expr)               \
  do {                                           \
    absl::Status base_status_ = (expr);          \
    if (!base_status_.ok()) return base_status_; \
  } while (0)

// Evaluates the absl::StatusOr `expr`; returns its status if not OK, else
// moves its value into `lhs` (a declaration such as `auto x` or an lvalue).
#define BASE_ASSIGN_OR_RETURN(lhs, expr) \
  BASE_ASSIGN_OR_RETURN_IMPL_(BASE_CONCAT_(base_so_, __LINE__), lhs, expr)
#define BASE_ASSIGN_OR_RETURN_IMPL_(so, lhs, expr) \
  auto so = (expr);                                \
  if (!so.ok()) return so.status();                \
  lhs = std::move(*so)

#endif  // REALM_MEASUREMENTS_BASE_STATUS_MACROS_H_
