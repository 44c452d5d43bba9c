// File: grpc/internal/request_check.h
//
// Generic checks of decoded request messages, by protobuf reflection, run by
// every handler before anything else. No gRPC dependency (fuzzed without a
// server, see grpc/request_fuzz.cc).
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_REQUEST_CHECK_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_REQUEST_CHECK_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::service::internal {

// Every enum field set in `message` (singular, repeated, in oneofs, and in
// every set message field below it) holds a number its enum defines. Proto3
// enums are open: the parser keeps unknown numbers (e.g.
// ReplayEventLogRequest.source = 99), so handlers would otherwise see them.
// Fails with INVALID_ARGUMENT naming the field path, the enum and the
// number: "inline_set.realms[1].hash_algorithm: expected a HashAlgorithm
// (HASH_ALGORITHM_UNSPECIFIED=0, ...), found 99".
absl::Status CheckEnumValues(const google::protobuf::Message& message);

// The field path of `field` below `parent` as CheckEnumValues spells it:
// "a.b" or "a[2].b" (`index` >= 0 for an element of a repeated field).
std::string FieldPath(absl::string_view parent, absl::string_view field,
                      int index = -1);

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_REQUEST_CHECK_H_
