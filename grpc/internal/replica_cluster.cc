#include "grpc/internal/replica_cluster.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"

namespace realm_measurements::service::testing {
namespace {

// fork + exec; between them only async-signal-safe calls (the test has
// threads), so everything is prepared before the fork.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const int fd =
      open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = fork();
  if (pid != 0) {
    if (fd >= 0) close(fd);
    return pid;
  }
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  // Dies with the test (a test killed by its timeout leaves nothing).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  execv(args[0], args.data());
  _exit(127);
}

// The number after `prefix` up to the next non-digit, in the log.
int PortAfter(const std::string& log, const std::string& prefix) {
  size_t at = log.find(prefix);
  if (at == std::string::npos) return 0;
  at += prefix.size();
  size_t end = at;
  while (end < log.size() && log[end] >= '0' && log[end] <= '9') ++end;
  int port = 0;
  return absl::SimpleAtoi(log.substr(at, end - at), &port) ? port : 0;
}

}  // namespace

std::string Child::ReadLog() const {
  std::ifstream f(log);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

bool Child::WaitForLog(const std::string& text, double seconds) const {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    if (absl::StrContains(ReadLog(), text)) return true;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return absl::StrContains(ReadLog(), text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Child::Kill(int sig) {
  if (pid <= 0) return;
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
}

absl::StatusOr<Replica> StartServer(const std::string& server_binary,
                                    const std::string& dir,
                                    const std::vector<std::string>& args,
                                    const std::string& unix_socket) {
  static std::atomic<int> n{0};
  Replica r;
  r.process.log = absl::StrCat(dir, "/replica-", n++, ".log");
  const std::string listen = unix_socket.empty()
                                 ? std::string("127.0.0.1:0")
                                 : absl::StrCat("unix:", unix_socket);
  std::vector<std::string> argv = {server_binary, "--listen=" + listen,
                                   "--metrics_listen=127.0.0.1:0",
                                   // The tests provision unsigned CoRIMs.
                                   "--allow_unsigned_corim"};
  argv.insert(argv.end(), args.begin(), args.end());
  r.process.pid = Spawn(argv, r.process.log);
  const std::string listening = unix_socket.empty()
                                    ? std::string("listening on 127.0.0.1:")
                                    : "listening on " + listen;
  if (!r.process.WaitForLog(listening, 30)) {
    std::string log = r.process.ReadLog();
    r.process.Kill(SIGKILL);
    return absl::UnavailableError(absl::StrCat("replica did not start: ", log));
  }
  const std::string log = r.process.ReadLog();
  r.port = unix_socket.empty() ? PortAfter(log, listening) : -1;
  r.metrics_port = PortAfter(log, "metrics on http://127.0.0.1:");
  if (r.port == 0 || r.metrics_port == 0) {
    r.process.Kill(SIGKILL);
    return absl::InternalError(absl::StrCat("no ports in: ", log));
  }
  return r;
}

absl::StatusOr<Replica> StartReplica(const std::string& server_binary,
                                     const std::string& conninfo,
                                     const std::string& dir,
                                     const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--store=" + conninfo};
  args.insert(args.end(), extra.begin(), extra.end());
  return StartServer(server_binary, dir, args);
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<struct sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

absl::StatusOr<int> StartNginx(const std::string& dir,
                               const std::vector<int>& ports, Child* out) {
  const char* env = std::getenv("NGINX");
  const std::string nginx = env != nullptr && *env ? env : "/usr/sbin/nginx";
  const int port = FreePort();
  std::string upstreams;
  for (int p : ports) {
    absl::StrAppend(&upstreams, "    server 127.0.0.1:", p,
                    " max_fails=1 fail_timeout=2s;\n");
  }
  // One process (master_process off): no worker user to switch to, and it
  // dies with the test. Every path inside `dir`.
  const std::string conf = absl::StrCat(
      "daemon off;\nmaster_process off;\npid ", dir, "/nginx.pid;\n",
      "error_log ", dir, "/error.log warn;\n",
      "events { worker_connections 1024; }\n"
      "http {\n"
      "  access_log off;\n"
      "  client_body_temp_path ",
      dir, "/body;\n  proxy_temp_path ", dir, "/proxy;\n  fastcgi_temp_path ",
      dir, "/fastcgi;\n  uwsgi_temp_path ", dir, "/uwsgi;\n  scgi_temp_path ",
      dir,
      "/scgi;\n"
      "  client_max_body_size 0;\n"
      "  upstream replicas {\n",
      upstreams,
      "    keepalive 32;\n"
      "  }\n"
      "  server {\n"
      "    listen 127.0.0.1:",
      port,
      " http2;\n"
      "    location / {\n"
      "      grpc_pass grpc://replicas;\n"
      "      grpc_next_upstream error timeout;\n"
      "      grpc_connect_timeout 2s;\n"
      "      grpc_read_timeout 60s;\n"
      "      grpc_send_timeout 60s;\n"
      "    }\n"
      "  }\n"
      "}\n");
  {
    std::ofstream f(dir + "/nginx.conf");
    f << conf;
  }
  out->log = dir + "/nginx.out";
  out->pid = Spawn({nginx, "-e", dir + "/error.log", "-p", dir + "/", "-c",
                    dir + "/nginx.conf"},
                   out->log);
  // Ready when the port accepts.
  for (int i = 0; i < 200; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok =
        connect(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return port;
    int status = 0;
    if (waitpid(out->pid, &status, WNOHANG) == out->pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::ifstream e(dir + "/error.log");
  std::string err((std::istreambuf_iterator<char>(e)), {});
  out->Kill(SIGKILL);
  return absl::UnavailableError(
      absl::StrCat("nginx did not start: ", out->ReadLog(), err));
}

std::string CurlMetrics(int port) {
  const std::string cmd =
      absl::StrCat("curl -s --max-time 5 http://127.0.0.1:", port, "/metrics");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

double MetricValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, series) && line.size() > series.size() &&
        line[series.size()] == ' ') {
      double v = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
    }
  }
  return 0;
}

LoadResult AppraiseLoad(const std::string& target,
                        const v1::AppraiseTokenRequest& request,
                        int connections, const std::atomic<bool>& stop) {
  LoadResult total;
  std::mutex mu;
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      ::grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
      auto stub =
          v1::RealmMeasurementsService::NewStub(::grpc::CreateCustomChannel(
              target, ::grpc::InsecureChannelCredentials(), args));
      LoadResult mine;
      int64_t n = 0;
      while (!stop.load()) {
        ::grpc::Status s;
        v1::AppraiseTokenResponse r;
        for (int attempt = 0; attempt < 100; ++attempt) {
          ::grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(20));
          r.Clear();
          s = stub->AppraiseToken(&ctx, request, &r);
          if (s.error_code() != ::grpc::StatusCode::UNAVAILABLE) break;
          ++mine.retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!s.ok() || !r.affirms() || r.ear_jwt().empty()) {
          ++mine.failures;
          if (mine.failure_messages.size() < 5) {
            mine.failure_messages.push_back(
                absl::StrCat(s.error_code(), " ", s.error_message()));
          }
          continue;
        }
        ++mine.calls;
        if (n++ % 16 == 0) mine.ears.push_back(r.ear_jwt());
      }
      std::lock_guard<std::mutex> lock(mu);
      total.calls += mine.calls;
      total.failures += mine.failures;
      total.retries += mine.retries;
      total.ears.insert(total.ears.end(), mine.ears.begin(), mine.ears.end());
      for (std::string& m : mine.failure_messages) {
        if (total.failure_messages.size() < 5)
          total.failure_messages.push_back(m);
      }
      (void)i;
    });
  }
  for (std::thread& t : threads) t.join();
  total.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return total;
}

::grpc::Status Upload(v1::RealmMeasurementsService::Stub& stub,
                      const std::string& content, v1::UploadPayloadResponse* r,
                      std::string sha256, size_t chunk) {
  if (sha256.empty()) {
    absl::StatusOr<std::vector<uint8_t>> h = crypto::HashOnce(
        crypto::DigestAlgorithm::kSha256,
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(content.data()),
                            content.size()));
    if (!h.ok()) {
      return ::grpc::Status(::grpc::StatusCode::INTERNAL,
                            std::string(h.status().message()));
    }
    sha256.assign(h->begin(), h->end());
  }
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  auto writer = stub.UploadPayload(&ctx, r);
  v1::UploadPayloadRequest m;
  m.set_sha256(sha256);
  m.set_size(content.size());
  m.set_name("test");
  size_t off = 0;
  do {
    const size_t n = std::min(chunk, content.size() - off);
    m.set_chunk(content.substr(off, n));
    if (!writer->Write(m)) break;
    off += n;
    m.Clear();
  } while (off < content.size());
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace realm_measurements::service::testing
