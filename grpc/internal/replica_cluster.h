// File: grpc/internal/replica_cluster.h
//
// Test and benchmark helper (issue 15): real processes of a replicated
// deployment on loopback: realm-measurements-server replicas over one
// PostgreSQL database, and Debian's nginx as the gRPC load balancer
// (grpc_pass to every replica, its own temporary prefix and configuration,
// no daemon, one process). Plus an AppraiseToken load driver that retries
// UNAVAILABLE, as a client of a load balancer must.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_REPLICA_CLUSTER_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_REPLICA_CLUSTER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service::testing {

// Uploads `content` in chunks of `chunk` bytes under `sha256` (the raw
// digest; the content's SHA-256 when empty), with a 5-minute deadline.
::grpc::Status Upload(v1::RealmMeasurementsService::Stub& stub,
                      const std::string& content, v1::UploadPayloadResponse* r,
                      std::string sha256 = "", size_t chunk = 1 << 20);

// A child process with stdout and stderr in `log`.
struct Child {
  pid_t pid = -1;
  std::string log;
  // Waits until the log contains `text` (false after `seconds` or when the
  // process exited).
  bool WaitForLog(const std::string& text, double seconds) const;
  std::string ReadLog() const;
  void Kill(int sig);  // and reap
};

struct Replica {
  Child process;
  int port = 0;  // -1 on a Unix socket
  int metrics_port = 0;
};

// Starts `server_binary --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0
// <args>` (its log in `dir`) and waits for its ports; with `unix_socket`,
// --listen=unix:<unix_socket> instead.
absl::StatusOr<Replica> StartServer(const std::string& server_binary,
                                    const std::string& dir,
                                    const std::vector<std::string>& args,
                                    const std::string& unix_socket = "");

// Starts `server_binary --store=<conninfo> --listen=127.0.0.1:0
// --metrics_listen=127.0.0.1:0 <extra>` and waits for its ports.
absl::StatusOr<Replica> StartReplica(const std::string& server_binary,
                                     const std::string& conninfo,
                                     const std::string& dir,
                                     const std::vector<std::string>& extra);

// nginx (/usr/sbin/nginx or $NGINX) balancing gRPC over `ports`; its
// prefix, configuration and logs in `dir`. Returns the listening port.
absl::StatusOr<int> StartNginx(const std::string& dir,
                               const std::vector<int>& ports, Child* out);

// `curl -s` of http://127.0.0.1:<port>/metrics.
std::string CurlMetrics(int port);
// The value of one sample line "<name>{<labels>} <value>" (0 when absent).
double MetricValue(const std::string& text, const std::string& series);

struct LoadResult {
  int64_t calls = 0;              // succeeded and affirmed
  int64_t failures = 0;           // failed after retries, or not affirmed
  int64_t retries = 0;            // UNAVAILABLE answers retried
  std::vector<std::string> ears;  // a sample of EAR JWTs (every 16th)
  std::vector<std::string> failure_messages;  // the first few
  double seconds = 0;
};

// `connections` threads call AppraiseToken on `target` until `stop`, each
// retrying UNAVAILABLE (up to 100 times, 20 ms apart) before counting a
// failure.
LoadResult AppraiseLoad(const std::string& target,
                        const v1::AppraiseTokenRequest& request,
                        int connections, const std::atomic<bool>& stop);

// A free loopback TCP port (bound once and released).
int FreePort();

}  // namespace realm_measurements::service::testing

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_REPLICA_CLUSTER_H_
