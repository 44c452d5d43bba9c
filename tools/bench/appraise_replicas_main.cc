// AppraiseToken calls/s through Debian's nginx balancing two replicas of the
// server (one PostgreSQL), then straight to one replica, in the same run on
// the same machine (issue 15). Prints the figures; asserts nothing about
// speed, but exits 1 on any failed appraisal.
//   ./bazelw run -c opt //tools/bench:appraise_replicas -- --seconds=10
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/pg_test_server.h"
#include "grpc/internal/replica_cluster.h"

ABSL_FLAG(int, seconds, 10, "seconds of load per configuration");
ABSL_FLAG(int, connections, 16, "client connections (threads)");

namespace realm_measurements::service {
namespace {

using testing::LoadResult;

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "ERROR cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

LoadResult Load(const std::string& target, const v1::AppraiseTokenRequest& r) {
  std::atomic<bool> stop{false};
  LoadResult result;
  std::thread t([&] {
    result = testing::AppraiseLoad(target, r, absl::GetFlag(FLAGS_connections),
                                   stop);
  });
  std::this_thread::sleep_for(
      std::chrono::seconds(absl::GetFlag(FLAGS_seconds)));
  stop = true;
  t.join();
  return result;
}

int Run() {
  const std::string dir = testing::NewTempDir();
  const std::string conninfo = testing::PgTestServer::Get().NewDatabase();
  std::vector<testing::Replica> replicas;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<testing::Replica> r =
        testing::StartReplica("grpc/realm-measurements-server", conninfo, dir,
                              {"--access_log=false"});
    if (!r.ok()) {
      std::fprintf(stderr, "ERROR %s\n", r.status().ToString().c_str());
      return 1;
    }
    replicas.push_back(std::move(*r));
  }
  testing::Child nginx;
  absl::StatusOr<int> lb =
      testing::StartNginx(dir, {replicas[0].port, replicas[1].port}, &nginx);
  if (!lb.ok()) {
    std::fprintf(stderr, "ERROR %s\n", lb.status().ToString().c_str());
    return 1;
  }
  {
    auto stub = v1::RealmMeasurementsService::NewStub(::grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", *lb), ::grpc::InsecureChannelCredentials()));
    ::grpc::ClientContext ctx;
    v1::ProvisionReferenceValuesRequest req;
    req.set_name("veraison");
    req.set_corim(Read("testdata/vectors/corim-cca-realm-2025.cbor"));
    v1::ProvisionReferenceValuesResponse resp;
    if (!stub->ProvisionReferenceValues(&ctx, req, &resp).ok()) return 1;
  }
  v1::AppraiseTokenRequest req;
  req.set_token(Read("testdata/vectors/cca-token-02.cbor"));
  req.set_cpak(Read("testdata/vectors/ta-iak-p256.json"));
  req.set_stored_set("veraison");

  const LoadResult via = Load(absl::StrCat("127.0.0.1:", *lb), req);
  const LoadResult direct =
      Load(absl::StrCat("127.0.0.1:", replicas[0].port), req);
  const unsigned cores = std::thread::hardware_concurrency();
  std::printf(
      "AppraiseToken, %d connections, %u cores, same run:\n"
      "  nginx -> 2 replicas (PostgreSQL): %.0f calls/s (%lld calls, %lld "
      "failed)\n"
      "  1 replica direct (PostgreSQL):    %.0f calls/s (%lld calls, %lld "
      "failed)\n",
      absl::GetFlag(FLAGS_connections), cores, via.calls / via.seconds,
      static_cast<long long>(via.calls), static_cast<long long>(via.failures),
      direct.calls / direct.seconds, static_cast<long long>(direct.calls),
      static_cast<long long>(direct.failures));
  nginx.Kill(SIGTERM);
  for (testing::Replica& r : replicas) r.process.Kill(SIGTERM);
  return via.failures == 0 && direct.failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace realm_measurements::service

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return realm_measurements::service::Run();
}
