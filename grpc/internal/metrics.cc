#include "grpc/internal/metrics.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <vector>

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

std::string HttpReply(absl::string_view status, absl::string_view type,
                      absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type,
                      "\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
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

void Metrics::SetProcessCounterSource(
    std::function<std::vector<std::pair<std::string, double>>()> source) {
  absl::MutexLock lock(&mu_);
  process_source_ = std::move(source);
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
  for (const auto* counters : {&source_, &process_source_}) {
    if (!*counters) continue;
    for (const auto& [name, v] : (*counters)()) {
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
  int fd =
      socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
      listen(fd, 128) != 0) {
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

std::string MetricsHttpServer::ReplyTo(absl::string_view head,
                                       const Metrics& metrics) {
  const absl::string_view line = head.substr(0, head.find("\r\n"));
  if (!absl::StartsWith(line, "GET ")) {
    return HttpReply("405 Method Not Allowed", "text/plain",
                     "only GET /metrics\n");
  }
  absl::string_view path = line.substr(4);
  path = path.substr(0, path.find(' '));
  if (path != "/metrics" && !absl::StartsWith(path, "/metrics?")) {
    return HttpReply("404 Not Found", "text/plain", "only /metrics\n");
  }
  return HttpReply("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                   metrics.Render());
}

void MetricsHttpServer::Loop() {
  using Clock = std::chrono::steady_clock;
  struct Connection {
    int fd;
    Clock::time_point deadline;
    std::string in;
    std::string out;  // the reply once the request is complete
    size_t sent = 0;
    bool replying = false;
  };
  std::vector<Connection> conns;
  auto drop = [&](size_t i) {
    close(conns[i].fd);
    conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
  };
  const auto timeout = std::chrono::milliseconds(kRequestTimeoutMs);
  std::vector<struct pollfd> fds;
  while (!stop_) {
    Clock::time_point now = Clock::now();
    for (size_t i = conns.size(); i-- > 0;) {
      if (now >= conns[i].deadline) drop(i);
    }
    fds.assign(1, {fd_, POLLIN, 0});
    int wait_ms = 100;  // how often stop_ is looked at
    for (const Connection& c : conns) {
      fds.push_back(
          {c.fd, static_cast<short>(c.replying ? POLLOUT : POLLIN), 0});
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            c.deadline - now)
                            .count() +
                        1;
      wait_ms = std::min<int>(wait_ms, static_cast<int>(left));
    }
    if (poll(fds.data(), fds.size(), wait_ms) <= 0) continue;
    now = Clock::now();
    // Connections first (indices match fds[1..]), then new ones.
    for (size_t i = conns.size(); i-- > 0;) {
      const short ev = fds[i + 1].revents;
      if (ev == 0) continue;
      Connection& c = conns[i];
      if (!c.replying) {
        char buf[4096];
        const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
          drop(i);  // closed before a whole request, or an error
          continue;
        }
        c.in.append(buf, static_cast<size_t>(n));
        const size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos && c.in.size() <= kMaxRequestBytes) {
          continue;
        }
        c.out =
            end == std::string::npos || end > kMaxRequestBytes
                ? HttpReply("431 Request Header Fields Too Large", "text/plain",
                            absl::StrCat("request head over ", kMaxRequestBytes,
                                         " bytes\n"))
                : ReplyTo(absl::string_view(c.in).substr(0, end), *metrics_);
        c.in.clear();
        c.replying = true;
        c.deadline = now + timeout;
        continue;
      }
      const ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent,
                             MSG_NOSIGNAL);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        drop(i);
        continue;
      }
      c.sent += static_cast<size_t>(n);
      if (c.sent == c.out.size()) drop(i);
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    for (;;) {
      const int conn =
          accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (conn < 0) break;
      if (conns.size() >= kMaxConnections) {
        // The one nearest its deadline goes (a reply's deadline is renewed
        // when it starts): idle connections cannot keep new ones out.
        size_t oldest = 0;
        for (size_t i = 1; i < conns.size(); ++i) {
          if (conns[i].deadline < conns[oldest].deadline) oldest = i;
        }
        drop(oldest);
      }
      conns.push_back({conn, now + timeout, {}, {}, 0, false});
    }
  }
  for (Connection& c : conns) close(c.fd);
}

}  // namespace realm_measurements::service
