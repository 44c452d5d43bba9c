// Early-return helpers (abseil 20220623 has no status macros).
#ifndef REALM_MEASUREMENTS_EVENTLOG_INTERNAL_STATUS_MACROS_H_
#define REALM_MEASUREMENTS_EVENTLOG_INTERNAL_STATUS_MACROS_H_

#include "absl/status/status.h"

#define EVENTLOG_CONCAT_INNER_(a, b) a##b
#define EVENTLOG_CONCAT_(a, b) EVENTLOG_CONCAT_INNER_(a, b)

#define EVENTLOG_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    absl::Status eventlog_status_ = (expr);              \
    if (!eventlog_status_.ok()) return eventlog_status_; \
  } while (0)

#define EVENTLOG_ASSIGN_OR_RETURN(lhs, expr) \
  EVENTLOG_ASSIGN_OR_RETURN_IMPL_(EVENTLOG_CONCAT_(so_, __LINE__), lhs, expr)
#define EVENTLOG_ASSIGN_OR_RETURN_IMPL_(so, lhs, expr) \
  auto so = (expr);                                    \
  if (!so.ok()) return so.status();                    \
  lhs = std::move(*so)

#endif  // REALM_MEASUREMENTS_EVENTLOG_INTERNAL_STATUS_MACROS_H_
