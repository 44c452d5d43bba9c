// File: grpc/internal/metrics.h
//
// The service's Prometheus metrics (text exposition format 0.0.4) and a
// minimal HTTP/1.1 server answering GET /metrics on its own port
// (--metrics_listen). No gRPC here.
//
// Metrics (all prefixed realm_measurements_):
//   grpc_requests_total{method,code}              counter
//   grpc_request_duration_seconds{method}         histogram
//   grpc_in_flight{method}                        gauge
//   admission_wait_seconds{class}                 histogram
//   store_errors_total{operation}                 counter
//   digest_cache_hits_total, digest_cache_misses_total  (from a callback)
//   platform_token_cache_{hits,misses,evictions}_total  (from a callback)
//   public_key_cache_{hits,misses,evictions}_total      (from a callback)
//   reference_parts_with_validity, reference_parts_outside_validity,
//   reference_parts_next_expiry_seconds           gauges (from a callback)
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_METRICS_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace realm_measurements::service {

class Metrics {
 public:
  // Upper bounds (seconds) of the latency buckets.
  static const std::vector<double>& Buckets();

  void CallStarted(absl::string_view method);
  void CallFinished(absl::string_view method, absl::string_view code,
                    double seconds);
  void AdmissionWait(absl::string_view klass, double seconds);
  void StoreError(absl::string_view operation);
  // Extra counters read at each scrape (name -> value), e.g. the digest
  // cache's.
  void SetCounterSource(
      std::function<std::vector<std::pair<std::string, double>>()> source);
  // Counters of the process rather than of one server (connections
  // refused by the accept guard), kept when the server stops.
  void SetProcessCounterSource(
      std::function<std::vector<std::pair<std::string, double>>()> source);
  // The same for gauges.
  void SetGaugeSource(
      std::function<std::vector<std::pair<std::string, double>>()> source);

  // The whole exposition text.
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative at render
    double sum = 0;
    uint64_t count = 0;
  };
  static void Observe(Histogram& h, double v);
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> durations_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> in_flight_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> admission_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> store_errors_ ABSL_GUARDED_BY(mu_);
  std::function<std::vector<std::pair<std::string, double>>()> gauge_source_
      ABSL_GUARDED_BY(mu_);
  std::function<std::vector<std::pair<std::string, double>>()> source_
      ABSL_GUARDED_BY(mu_);
  std::function<std::vector<std::pair<std::string, double>>()> process_source_
      ABSL_GUARDED_BY(mu_);
};

// Serves GET /metrics (anything else 404 or 405) on one thread that
// multiplexes its connections with poll(2), so a slow or idle client never
// holds up a scrape: each connection has kRequestTimeoutMs for its request
// (at most kMaxRequestBytes, else 431) and as long again for the reply, then
// it is closed; beyond kMaxConnections the oldest connection is dropped.
class MetricsHttpServer {
 public:
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr size_t kMaxConnections = 64;
  static constexpr int kRequestTimeoutMs = 2000;
  // "host:port" (port 0 picks one). kUnavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, const Metrics* metrics);
  ~MetricsHttpServer();
  int port() const { return port_; }
  int listener_fd() const { return fd_; }

  // The whole reply (status line, headers, body) to a request head (request
  // line and headers, without the blank line).
  static std::string ReplyTo(absl::string_view head, const Metrics& metrics);

 private:
  MetricsHttpServer(int fd, int port, const Metrics* metrics);
  void Loop();

  const int fd_;
  const int port_;
  const Metrics* metrics_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_METRICS_H_
