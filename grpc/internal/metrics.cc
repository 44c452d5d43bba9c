#include "grpc/internal/metrics.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace realm_measurements::service {
namespace {

constexpr char kPrefix[] = "realm_measurements_";

// Label values: backslash, quote and newline escaped (exposition format).
std::string Label(absl::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The shortest text that reads back as `v` (absl::StrCat keeps 6
// significant digits: a counter past 999,999 was printed rounded, e.g.
// 1.72801e+08).
std::string Num(double v) {
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

const std::vector<double>& Metrics::Buckets() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,  0.1,    0.25,  0.5,  1,
                                        2.5,   5,      10,    30};
  return b;
}

void Metrics::Observe(Histogram& h, double v) {
  if (h.buckets.empty()) h.buckets.assign(Buckets().size(), 0);
  for (size_t i = 0; i < Buckets().size(); ++i) {
    if (v <= Buckets()[i]) {
      ++h.buckets[i];
      break;
    }
  }
  h.sum += v;
  ++h.count;
}

void Metrics::CallStarted(absl::string_view method) {
  absl::MutexLock lock(&mu_);
  ++in_flight_[std::string(method)];
}

void Metrics::CallFinished(absl::string_view method, absl::string_view code,
                           double seconds) {
  absl::MutexLock lock(&mu_);
  --in_flight_[std::string(method)];
  ++requests_[{std::string(method), std::string(code)}];
  Observe(durations_[std::string(method)], seconds);
}

void Metrics::AdmissionWait(absl::string_view klass, double seconds) {
  absl::MutexLock lock(&mu_);
  Observe(admission_[std::string(klass)], seconds);
}

void Metrics::StoreError(absl::string_view operation) {
  absl::MutexLock lock(&mu_);
  ++store_errors_[std::string(operation)];
}

void Metrics::SetCounterSource(
    std::function<std::vector<std::pair<std::string, double>>()> source) {
  absl::MutexLock lock(&mu_);
  source_ = std::move(source);
}

void Metrics::SetGaugeSource(
    std::function<std::vector<std::pair<std::string, double>>()> source) {
  absl::MutexLock lock(&mu_);
  gauge_source_ = std::move(source);
}

std::string Metrics::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  auto histogram = [&](absl::string_view name, absl::string_view label,
                       const std::map<std::string, Histogram>& m) {
    absl::StrAppend(&out, "# TYPE ", kPrefix, name, " histogram\n");
    for (const auto& [key, h] : m) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < Buckets().size(); ++i) {
        cumulative += h.buckets.empty() ? 0 : h.buckets[i];
        absl::StrAppend(&out, kPrefix, name, "_bucket{", label, "=\"",
                        Label(key), "\",le=\"", Num(Buckets()[i]), "\"} ",
                        cumulative, "\n");
      }
      absl::StrAppend(&out, kPrefix, name, "_bucket{", label, "=\"", Label(key),
                      "\",le=\"+Inf\"} ", h.count, "\n");
      absl::StrAppend(&out, kPrefix, name, "_sum{", label, "=\"", Label(key),
                      "\"} ", Num(h.sum), "\n");
      absl::StrAppend(&out, kPrefix, name, "_count{", label, "=\"", Label(key),
                      "\"} ", h.count, "\n");
    }
  };
  absl::StrAppend(&out, "# HELP ", kPrefix,
                  "grpc_requests_total Calls finished, by method and status "
                  "code.\n# TYPE ",
                  kPrefix, "grpc_requests_total counter\n");
  for (const auto& [key, n] : requests_) {
    absl::StrAppend(&out, kPrefix, "grpc_requests_total{method=\"",
                    Label(key.first), "\",code=\"", Label(key.second), "\"} ",
                    n, "\n");
  }
  absl::StrAppend(&out, "# HELP ", kPrefix,
                  "grpc_request_duration_seconds Call latency.\n");
  histogram("grpc_request_duration_seconds", "method", durations_);
  absl::StrAppend(&out, "# HELP ", kPrefix,
                  "grpc_in_flight Calls in progress.\n# TYPE ", kPrefix,
                  "grpc_in_flight gauge\n");
  for (const auto& [m, n] : in_flight_) {
    absl::StrAppend(&out, kPrefix, "grpc_in_flight{method=\"", Label(m), "\"} ",
                    n, "\n");
  }
  absl::StrAppend(&out, "# HELP ", kPrefix,
                  "admission_wait_seconds Time waiting for a call slot.\n");
  histogram("admission_wait_seconds", "class", admission_);
  absl::StrAppend(&out, "# HELP ", kPrefix,
                  "store_errors_total Store operations that failed (not "
                  "counting not-found, already-exists, invalid-argument or "
                  "quota refusals).\n# TYPE ",
                  kPrefix, "store_errors_total counter\n");
  for (const auto& [op, n] : store_errors_) {
    absl::StrAppend(&out, kPrefix, "store_errors_total{operation=\"", Label(op),
                    "\"} ", n, "\n");
  }
  if (source_) {
    for (const auto& [name, v] : source_()) {
      absl::StrAppend(&out, "# TYPE ", kPrefix, name, " counter\n", kPrefix,
                      name, " ", Num(v), "\n");
    }
  }
  if (gauge_source_) {
    for (const auto& [name, v] : gauge_source_()) {
      absl::StrAppend(&out, "# TYPE ", kPrefix, name, " gauge\n", kPrefix, name,
                      " ", Num(v), "\n");
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, const Metrics* metrics) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_listen: expected host:port, found '", address, "'"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  const std::string service = absl::StrCat(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(),
                  &hints, &res) != 0 ||
      res == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen: cannot resolve '", host, "'"));
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
      listen(fd, 16) != 0) {
    const int e = errno;
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for metrics on '", address, "': ", std::strerror(e)));
  }
  freeaddrinfo(res);
  struct sockaddr_storage bound = {};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<struct sockaddr*>(&bound), &len);
  const int bound_port =
      bound.ss_family == AF_INET6
          ? ntohs(reinterpret_cast<struct sockaddr_in6*>(&bound)->sin6_port)
          : ntohs(reinterpret_cast<struct sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(fd, bound_port, metrics));
}

MetricsHttpServer::MetricsHttpServer(int fd, int port, const Metrics* metrics)
    : fd_(fd), port_(port), metrics_(metrics) {
  thread_ = std::thread([this] { Loop(); });
}

MetricsHttpServer::~MetricsHttpServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

void MetricsHttpServer::Loop() {
  while (!stop_) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    Serve(conn);
    close(conn);
  }
}

void MetricsHttpServer::Serve(int conn) {
  struct timeval tv = {2, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string req;
  char buf[1024];
  while (req.find("\r\n\r\n") == std::string::npos) {
    if (req.size() > kMaxRequestBytes) {
      WriteAll(conn,
               "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length:"
               " 0\r\nConnection: close\r\n\r\n");
      return;
    }
    ssize_t n = recv(conn, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed or timed out
    req.append(buf, static_cast<size_t>(n));
  }
  const std::string line = req.substr(0, req.find("\r\n"));
  auto reply = [&](absl::string_view status, absl::string_view type,
                   absl::string_view body) {
    WriteAll(conn, absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type,
                                "\r\nContent-Length: ", body.size(),
                                "\r\nConnection: close\r\n\r\n", body));
  };
  if (!absl::StartsWith(line, "GET ")) {
    reply("405 Method Not Allowed", "text/plain", "only GET /metrics\n");
    return;
  }
  const size_t sp = line.find(' ');
  const std::string path = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
  if (path != "/metrics" && !absl::StartsWith(path, "/metrics?")) {
    reply("404 Not Found", "text/plain", "only /metrics\n");
    return;
  }
  reply("200 OK", "text/plain; version=0.0.4; charset=utf-8",
        metrics_->Render());
}

}  // namespace realm_measurements::service
