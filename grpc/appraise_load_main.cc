// Loopback load test of AppraiseToken: starts the server in-process over a
// temporary data directory, provisions the Veraison CoRIM vector, then
// `--connections` clients (one channel each) call AppraiseToken with token
// 02 against the stored set for `--seconds`. Prints throughput and latency
// percentiles and, for every failed or non-affirming call, its status code
// and message (counted); exits 1 if any call failed or did not affirm.
//
// Correctness, not speed: the clients wait until their channel is connected
// (and use wait_for_ready), and deadlines are generous (--deadline_seconds),
// so a loaded 2-core machine slows the calls down but does not fail them.
//
//   bazel run -c opt //grpc:appraise_load -- --seconds=20 --connections=16
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "base/crypto.h"
#include "grpc/service.h"
#include "grpc/store.h"

ABSL_FLAG(int, seconds, 20, "duration of the measured phase");
ABSL_FLAG(int, connections, 16, "concurrent clients, one channel each");
ABSL_FLAG(int, deadline_seconds, 60, "deadline of every call");
ABSL_FLAG(std::string, vectors, "testdata/vectors",
          "directory with cca-token-02.cbor, ta-iak-p256.json, "
          "corim-cca-realm-2025.cbor");

namespace realm_measurements::service {
namespace {

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "ERROR cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

int Run() {
  const std::string v = absl::GetFlag(FLAGS_vectors);
  const std::string token = Read(v + "/cca-token-02.cbor");
  const std::string cpak = Read(v + "/ta-iak-p256.json");
  const std::string corim = Read(v + "/corim-cca-realm-2025.cbor");

  char tmpl[] = "/tmp/appraise-load-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir == nullptr) return 1;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(dir);
  if (!store.ok()) return 1;
  absl::StatusOr<crypto::EcPrivateKey> key =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  if (!key.ok()) return 1;
  ServerOptions o;
  o.allow_unsigned_corim = true;  // provisions unsigned CoRIMs
  o.store = store->get();
  o.ear_key = std::make_shared<const crypto::EcPrivateKey>(std::move(*key));
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(o);
  if (!server.ok()) {
    std::fprintf(stderr, "ERROR %s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string target = absl::StrCat("127.0.0.1:", (*server)->port());
  const auto deadline =
      std::chrono::seconds(absl::GetFlag(FLAGS_deadline_seconds));
  {
    auto stub = v1::RealmMeasurementsService::NewStub(
        ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials()));
    ::grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    v1::ProvisionReferenceValuesRequest req;
    req.set_name("veraison");
    req.set_corim(corim);
    v1::ProvisionReferenceValuesResponse r;
    ::grpc::Status s = stub->ProvisionReferenceValues(&ctx, req, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "ERROR provisioning: code %d: %s\n", s.error_code(),
                   s.error_message().c_str());
      return 1;
    }
  }
  v1::AppraiseTokenRequest req;
  req.set_token(token);
  req.set_cpak(cpak);
  req.set_stored_set("veraison");

  const int n = absl::GetFlag(FLAGS_connections);
  const auto duration = std::chrono::seconds(absl::GetFlag(FLAGS_seconds));
  std::atomic<bool> stop{false};
  std::atomic<bool> go{false};
  std::atomic<int> connected{0};
  std::atomic<int64_t> errors{0};
  absl::Mutex mu;
  // "code N: message" -> count, for every failed call.
  std::map<std::string, int64_t> failures;
  std::vector<std::vector<double>> latencies(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ::grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      std::shared_ptr<::grpc::Channel> channel = ::grpc::CreateCustomChannel(
          target, ::grpc::InsecureChannelCredentials(), args);
      // Connected before the clock starts (a slow start is not a failure).
      if (channel->WaitForConnected(std::chrono::system_clock::now() +
                                    deadline)) {
        ++connected;
      }
      while (!go.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      auto stub = v1::RealmMeasurementsService::NewStub(channel);
      while (!stop.load()) {
        ::grpc::ClientContext ctx;
        ctx.set_wait_for_ready(true);
        ctx.set_deadline(std::chrono::system_clock::now() + deadline);
        v1::AppraiseTokenResponse r;
        const auto t0 = std::chrono::steady_clock::now();
        ::grpc::Status s = stub->AppraiseToken(&ctx, req, &r);
        const auto t1 = std::chrono::steady_clock::now();
        if (!s.ok() || !r.affirms() || r.ear_jwt().empty()) {
          ++errors;
          absl::MutexLock lock(&mu);
          ++failures[s.ok() ? std::string("OK but not affirming or no EAR JWT")
                            : absl::StrCat("code ", s.error_code(), ": ",
                                           s.error_message())];
          continue;
        }
        latencies[i].push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  // A channel that did not connect in time still runs: its calls wait for
  // ready and report their status.
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (connected.load() < n && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (connected.load() < n) {
    std::printf("only %d of %d channels connected within %lld s\n",
                connected.load(), n, static_cast<long long>(deadline.count()));
  }
  go = true;
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(duration);
  stop = true;
  for (std::thread& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1,
                                      static_cast<size_t>(p * all.size()))];
  };
  std::printf(
      "AppraiseToken loopback: %d connections, %.1f s, %zu calls, %.0f "
      "calls/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, errors %lld\n",
      n, secs, all.size(), all.size() / secs, pct(0.50), pct(0.99),
      all.empty() ? 0.0 : all.back(), static_cast<long long>(errors.load()));
  for (const auto& [what, count] : failures) {
    std::printf("  failed %lld times: %s\n", static_cast<long long>(count),
                what.c_str());
  }
  (*server)->Shutdown();
  return errors.load() == 0 && !all.empty() ? 0 : 1;
}

}  // namespace
}  // namespace realm_measurements::service

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return realm_measurements::service::Run();
}
