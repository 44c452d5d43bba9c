#include "grpc/internal/accept_guard.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace realm_measurements::service::accept_guard {
namespace {

std::atomic<int> g_ceiling{0};
std::atomic<int> g_exempt{-1};
std::atomic<uint64_t> g_over_limit{0};
std::atomic<uint64_t> g_no_descriptor{0};
// Seconds (steady clock) of the last refusal notice on stderr.
std::atomic<int64_t> g_last_notice{0};

// The reserved descriptor; -1 when none (not yet opened, or taken by
// another thread between our close and open).
std::mutex g_reserve_mu;
int g_reserve = -1;

int OpenReserve() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

// libc's accept4, past the definition below.
int RawAccept(int listener, sockaddr* address, socklen_t* length, int flags) {
  return static_cast<int>(
      syscall(SYS_accept4, listener, address, length, flags));
}

// accept(2): "Linux accept() passes already-pending network errors on the
// new socket as an error code"; that connection is gone, the next may not
// be.
bool BelongsToOneConnection(int error) {
  switch (error) {
    case ENETDOWN:
    case EPROTO:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

// At most one line per 10 s, in the access log's JSON form.
void Notice() {
  const int64_t now = absl::ToInt64Seconds(
      absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch()));
  int64_t last = g_last_notice.load(std::memory_order_relaxed);
  if (now - last < 10 || !g_last_notice.compare_exchange_strong(
                             last, now, std::memory_order_relaxed)) {
    return;
  }
  const std::string line = absl::StrCat(
      "{\"time\":\"",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
      "\",\"event\":\"connections refused\",\"over_limit\":",
      g_over_limit.load(std::memory_order_relaxed),
      ",\"no_descriptor\":", g_no_descriptor.load(std::memory_order_relaxed),
      ",\"descriptor_ceiling\":", g_ceiling.load(std::memory_order_relaxed),
      "}\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// No descriptor is free: the reserved one makes room to accept the first
// waiting connection and close it. false when there was none waiting or
// the room was taken meanwhile.
bool RefuseOneWithoutDescriptor(int listener) {
  std::lock_guard<std::mutex> lock(g_reserve_mu);
  if (g_reserve < 0) g_reserve = OpenReserve();
  if (g_reserve < 0) return false;
  close(g_reserve);
  const int c = RawAccept(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) close(c);
  g_reserve = OpenReserve();
  return c >= 0;
}

}  // namespace

void ExemptListener(int listener) {
  g_exempt.store(listener, std::memory_order_relaxed);
}

void SetCeiling(int ceiling) {
  {
    std::lock_guard<std::mutex> lock(g_reserve_mu);
    if (g_reserve < 0) g_reserve = OpenReserve();
  }
  g_ceiling.store(ceiling < 0 ? 0 : ceiling, std::memory_order_relaxed);
}

Refusals GetRefusals() {
  Refusals r;
  r.over_limit = g_over_limit.load(std::memory_order_relaxed);
  r.no_descriptor = g_no_descriptor.load(std::memory_order_relaxed);
  return r;
}

absl::StatusOr<int> LowestFreeDescriptor() {
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "open-file limit: no descriptor free (errno ", errno, ")"));
  }
  close(fd);
  return fd;
}

int Accept(int listener, sockaddr* address, socklen_t* length, int flags) {
  const socklen_t given = length != nullptr ? *length : 0;
  // Bounds the skipping: EOPNOTSUPP also means "not a stream socket",
  // which no retry changes.
  int skipped = 0;
  for (;;) {
    if (length != nullptr) *length = given;
    const int c = RawAccept(listener, address, length, flags);
    if (c >= 0) {
      const int ceiling = g_ceiling.load(std::memory_order_relaxed);
      if (ceiling == 0 || c < ceiling ||
          listener == g_exempt.load(std::memory_order_relaxed)) {
        return c;
      }
      close(c);
      g_over_limit.fetch_add(1, std::memory_order_relaxed);
      Notice();
      continue;
    }
    const int error = errno;
    if (BelongsToOneConnection(error) && ++skipped < 64) continue;
    if (error == EMFILE || error == ENFILE) {
      if (RefuseOneWithoutDescriptor(listener)) {
        g_no_descriptor.fetch_add(1, std::memory_order_relaxed);
        Notice();
        continue;
      }
      errno = EAGAIN;
      return -1;
    }
    // Kernel memory is short: the connection waits in the backlog.
    if (error == ENOBUFS || error == ENOMEM) {
      errno = EAGAIN;
      return -1;
    }
    errno = error;
    return -1;
  }
}

}  // namespace realm_measurements::service::accept_guard

extern "C" int accept4(int listener, sockaddr* address, socklen_t* length,
                       int flags) {
  return realm_measurements::service::accept_guard::Accept(listener, address,
                                                           length, flags);
}
