// The Prometheus text of grpc/internal/metrics.h: numbers exact (a counter
// past a million used to be printed with 6 significant digits), callback
// counters and gauges typed as such. Its HTTP server over real loopback
// sockets: replies by method and path, and no slow, idle or trickling client
// holds up a scrape.
#include "grpc/internal/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace realm_measurements::service {
namespace {

TEST(MetricsTest, CallbackValuesAreExactAndTyped) {
  Metrics m;
  m.SetCounterSource([] {
    return std::vector<std::pair<std::string, double>>{
        {"big_total", 172800001.0}, {"small_total", 3.0}};
  });
  m.SetGaugeSource([] {
    return std::vector<std::pair<std::string, double>>{
        {"expiry_seconds", 2335219200.0}, {"fraction", 0.1}};
  });
  const std::string text = m.Render();
  for (const char* want : {"# TYPE realm_measurements_big_total counter\n"
                           "realm_measurements_big_total 172800001\n",
                           "realm_measurements_small_total 3\n",
                           "# TYPE realm_measurements_expiry_seconds gauge\n"
                           "realm_measurements_expiry_seconds 2335219200\n",
                           "# TYPE realm_measurements_fraction gauge\n"
                           "realm_measurements_fraction 0.1\n"}) {
    EXPECT_TRUE(absl::StrContains(text, want)) << want << "\n" << text;
  }
  m.SetGaugeSource(nullptr);
  EXPECT_FALSE(absl::StrContains(m.Render(), "expiry_seconds"));
}

TEST(MetricsTest, HistogramBoundsKeepTheirShortForm) {
  Metrics m;
  m.CallFinished("AppraiseToken", "OK", 0.003);
  const std::string text = m.Render();
  EXPECT_TRUE(absl::StrContains(text, "le=\"0.005\"} 1\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "le=\"+Inf\"} 1\n")) << text;
}

TEST(MetricsHttpTest, RepliesByMethodAndPath) {
  Metrics m;
  m.CallStarted("GetServiceInfo");
  const std::string ok =
      MetricsHttpServer::ReplyTo("GET /metrics HTTP/1.1\r\nHost: x", m);
  EXPECT_TRUE(absl::StartsWith(ok, "HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_TRUE(absl::EndsWith(ok, "\r\n\r\n" + m.Render())) << ok;
  EXPECT_TRUE(absl::StartsWith(
      MetricsHttpServer::ReplyTo("GET /metrics?x=1 HTTP/1.1", m),
      "HTTP/1.1 200 OK\r\n"));
  for (const char* head :
       {"POST /metrics HTTP/1.1", "", "GET", "get /metrics"}) {
    EXPECT_TRUE(absl::StartsWith(MetricsHttpServer::ReplyTo(head, m),
                                 "HTTP/1.1 405 Method Not Allowed\r\n"))
        << head;
  }
  for (const char* head : {"GET / HTTP/1.1", "GET /metricsx HTTP/1.1",
                           "GET  /metrics HTTP/1.1", "GET "}) {
    EXPECT_TRUE(absl::StartsWith(MetricsHttpServer::ReplyTo(head, m),
                                 "HTTP/1.1 404 Not Found\r\n"))
        << head;
  }
}

// Real sockets on loopback.
class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> s =
        MetricsHttpServer::Start("127.0.0.1:0", &metrics_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  void TearDown() override {
    for (int fd : open_) close(fd);
  }
  int Connect() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(server_->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    timeval tv = {5, 0};  // a test never hangs on a broken server
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    open_.push_back(fd);
    return fd;
  }
  static void Send(int fd, absl::string_view data) {
    ASSERT_EQ(send(fd, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // Everything until the server closes (or 5 s without a byte).
  static std::string ReadAll(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // True when the server has closed `fd` (recv sees the end or a reset)
  // rather than still waiting for its request.
  static bool ClosedByServer(int fd) {
    char c;
    const ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  std::string Scrape() {
    const int fd = Connect();
    Send(fd, "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    return ReadAll(fd);
  }

  Metrics metrics_;
  std::unique_ptr<MetricsHttpServer> server_;
  std::vector<int> open_;
};

TEST_F(MetricsHttpServerTest, ScrapeAndRefusals) {
  metrics_.CallFinished("AppraiseToken", "OK", 0.003);
  const std::string reply = Scrape();
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "method=\"AppraiseToken\"")) << reply;
  int fd = Connect();
  Send(fd, "DELETE /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(
      absl::StartsWith(ReadAll(fd), "HTTP/1.1 405 Method Not Allowed\r\n"));
  fd = Connect();
  Send(fd, std::string(MetricsHttpServer::kMaxRequestBytes + 100, 'a'));
  EXPECT_TRUE(absl::StartsWith(
      ReadAll(fd), "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

// Idle connections, any number of them, never hold up a scrape.
TEST_F(MetricsHttpServerTest, IdleConnectionsDoNotBlockAScrape) {
  std::vector<int> idle;
  for (size_t i = 0; i < 10; ++i) idle.push_back(Connect());
  Send(idle[0], "GET /met");  // half a request
  EXPECT_TRUE(absl::StartsWith(Scrape(), "HTTP/1.1 200 OK\r\n"));
  // Served while they were all still waiting for their requests.
  for (int fd : idle) EXPECT_FALSE(ClosedByServer(fd));
  // Beyond the connection limit the oldest is dropped.
  for (size_t i = 0; i < MetricsHttpServer::kMaxConnections; ++i) {
    idle.push_back(Connect());
  }
  EXPECT_TRUE(absl::StartsWith(Scrape(), "HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(ClosedByServer(idle[0]));
}

// A request trickling in a byte at a time is cut off at its deadline (it
// used to be 2 s per byte, so a slow client could hold the only connection
// slot forever).
TEST_F(MetricsHttpServerTest, TrickleIsCutOffAtTheDeadline) {
  const int fd = Connect();
  const auto start = std::chrono::steady_clock::now();
  const std::string request =
      "GET /metrics HTTP/1.1\r\nX-Slow: " + std::string(200, 'x') + "\r\n\r\n";
  bool cut = false;
  for (char c : request) {
    if (send(fd, &c, 1, MSG_NOSIGNAL) != 1 || ClosedByServer(fd)) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // 230 bytes at 50 ms take ~11.5 s; the deadline is 2 s (generous bound).
  EXPECT_TRUE(cut) << "the whole request was accepted";
  EXPECT_LT(seconds, 8.0);
  EXPECT_GE(seconds, MetricsHttpServer::kRequestTimeoutMs / 1000.0 - 0.1);
}

}  // namespace
}  // namespace realm_measurements::service
