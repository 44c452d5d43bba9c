// Loopback load test of AppraiseToken: starts the server in-process over a
// temporary data directory, provisions the Veraison CoRIM vector, then
// `--connections` clients (one channel each) call AppraiseToken with token
// 02 against the stored set for `--seconds`. Prints throughput and latency
// percentiles; exits 1 if any call failed or did not affirm.
//
//   bazel run -c opt //grpc:appraise_load -- --seconds=20 --connections=16
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpc/service.h"
#include "grpc/store.h"
#include "measure/crypto.h"

ABSL_FLAG(int, seconds, 20, "duration of the measured phase");
ABSL_FLAG(int, connections, 16, "concurrent clients, one channel each");
ABSL_FLAG(int, max_concurrent_calls, 16, "server computing slots");
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
  o.store = store->get();
  o.ear_key = std::make_shared<const crypto::EcPrivateKey>(std::move(*key));
  o.limits.max_concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(o);
  if (!server.ok()) {
    std::fprintf(stderr, "ERROR %s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string target = absl::StrCat("127.0.0.1:", (*server)->port());
  {
    auto stub = v1::RealmMeasurementsService::NewStub(
        ::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials()));
    ::grpc::ClientContext ctx;
    v1::ProvisionReferenceValuesRequest req;
    req.set_name("veraison");
    req.set_corim(corim);
    v1::ProvisionReferenceValuesResponse r;
    if (!stub->ProvisionReferenceValues(&ctx, req, &r).ok()) return 1;
  }
  v1::AppraiseTokenRequest req;
  req.set_token(token);
  req.set_cpak(cpak);
  req.set_stored_set("veraison");

  const int n = absl::GetFlag(FLAGS_connections);
  const auto duration = std::chrono::seconds(absl::GetFlag(FLAGS_seconds));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};
  std::vector<std::vector<double>> latencies(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ::grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto stub =
          v1::RealmMeasurementsService::NewStub(::grpc::CreateCustomChannel(
              target, ::grpc::InsecureChannelCredentials(), args));
      while (!stop.load()) {
        ::grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
        v1::AppraiseTokenResponse r;
        const auto t0 = std::chrono::steady_clock::now();
        ::grpc::Status s = stub->AppraiseToken(&ctx, req, &r);
        const auto t1 = std::chrono::steady_clock::now();
        if (!s.ok() || !r.affirms() || r.ear_jwt().empty()) {
          ++errors;
          continue;
        }
        latencies[i].push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
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
  (*server)->Shutdown();
  return errors.load() == 0 && !all.empty() ? 0 : 1;
}

}  // namespace
}  // namespace realm_measurements::service

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return realm_measurements::service::Run();
}
