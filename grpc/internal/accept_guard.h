// The server's accept4(2). Debian's gRPC 1.51 stops its listener for good
// when accept4 fails with anything but EINTR, EAGAIN or ECONNABORTED
// (grpc/grpc#16058, #20418): one moment with every descriptor in use
// (EMFILE), e.g. a client holding a thousand idle connections, and the
// server never accepts again, although it looks alive. The server binary
// links the accept4 defined here, which gRPC's listener and the metrics
// endpoint then call instead of libc's (the executable comes first in
// symbol lookup), and which:
// - skips the errors that belong to one connection (accept(2) "Error
//   handling": ENETDOWN, EPROTO, ...) and goes on with the next;
// - closes at once a connection that would get a descriptor at or above
//   the ceiling. Descriptors are handed out lowest first, so every
//   connection accepted lives below it: that bounds their number
//   (--max_connections) and keeps the descriptors above it for the store,
//   uploads and the metrics endpoint;
// - with no descriptor left (EMFILE, ENFILE), frees a reserved one to
//   accept and close each waiting connection, which is then refused at
//   once instead of waiting in the backlog, and reports EAGAIN.
// Only the server binary depends on this (alwayslink): libraries and
// tests keep libc's accept4 unless they link it.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_ACCEPT_GUARD_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_ACCEPT_GUARD_H_

#include <sys/socket.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace realm_measurements::service::accept_guard {

// Connections accepted from now on get descriptors below `ceiling`; 0 for
// no ceiling. Also opens the reserved descriptor (once).
void SetCeiling(int ceiling);

// Connections on `listener` (the metrics endpoint's) are not subject to
// the ceiling.
void ExemptListener(int listener);

// Connections closed at once since the start of the process.
struct Refusals {
  uint64_t over_limit = 0;     // their descriptor was at or above the ceiling
  uint64_t no_descriptor = 0;  // none was free (EMFILE, ENFILE)
};
Refusals GetRefusals();

// The lowest descriptor number that is free now (what the next accept or
// open gets).
absl::StatusOr<int> LowestFreeDescriptor();

// accept4 with the rules above; the definition of ::accept4 calls it.
int Accept(int listener, sockaddr* address, socklen_t* length, int flags);

}  // namespace realm_measurements::service::accept_guard

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_ACCEPT_GUARD_H_
