// Issue 15: two replicas of the real server binary on one real PostgreSQL
// (started by the test), behind Debian's nginx as the gRPC load balancer.
// Through nginx: upload, provision, compute and appraise; one replica is
// killed (SIGKILL) in the middle of an appraisal load; the client retries
// UNAVAILABLE and ends with zero failed appraisals, the provisioned set is
// still there, and every EAR from either replica verifies against the one
// published JWK set. The survivor's /metrics (read with curl) moves.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "grpc/internal/pg_test_server.h"
#include "grpc/internal/replica_cluster.h"
#include "grpc/internal/test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::service {
namespace {

using testing::AppraiseLoad;
using testing::Child;
using testing::CurlMetrics;
using testing::LoadResult;
using testing::LoopbackStub;
using testing::MetricValue;
using testing::ProvisionCorim;
using testing::ReadFileOrDie;
using testing::Replica;
using testing::SetDeadline;
using testing::Sha256;
using testing::Token02Vectors;
using testing::Upload;

// ES256 JWS verification with the key of `jwks` named by the header's kid.
bool VerifiesWithKeySet(const std::string& jwt, const nlohmann::json& jwks) {
  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  if (parts.size() != 3) return false;
  std::string header, sig;
  if (!absl::WebSafeBase64Unescape(parts[0], &header) ||
      !absl::WebSafeBase64Unescape(parts[2], &sig)) {
    return false;
  }
  const std::string kid = nlohmann::json::parse(header).value("kid", "");
  for (const nlohmann::json& k : jwks["keys"]) {
    if (k.value("kid", "") != kid) continue;
    std::string x, y;
    if (!absl::WebSafeBase64Unescape(k["x"].get<std::string>(), &x) ||
        !absl::WebSafeBase64Unescape(k["y"].get<std::string>(), &y)) {
      return false;
    }
    auto span = [](const std::string& s) {
      return absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(s.data()), s.size());
    };
    absl::StatusOr<crypto::EcPublicKey> key =
        crypto::EcPublicKey::FromCoordinates(crypto::Curve::kP256, span(x),
                                             span(y));
    if (!key.ok()) return false;
    const std::string input = parts[0] + "." + parts[1];
    return key
        ->VerifyRaw(crypto::DigestAlgorithm::kSha256, span(input), span(sig))
        .ok();
  }
  return false;
}

TEST(ReplicasBehindNginx, KillOneReplicaMidLoad) {
  const std::string server = "grpc/realm-measurements-server";
  const std::string dir = testing::NewTempDir();
  const std::string conninfo = testing::PgTestServer::Get().NewDatabase();

  std::vector<Replica> replicas;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Replica> r =
        testing::StartReplica(server, conninfo, dir, {"--access_log=false"});
    ASSERT_TRUE(r.ok()) << r.status();
    replicas.push_back(std::move(*r));
  }
  Child nginx;
  absl::StatusOr<int> lb =
      testing::StartNginx(dir, {replicas[0].port, replicas[1].port}, &nginx);
  ASSERT_TRUE(lb.ok()) << lb.status();
  auto via_lb = LoopbackStub(*lb);

  // Both replicas publish the one key set (the key is in the database).
  std::string jwks_text;
  for (const Replica& r : replicas) {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::GetServiceInfoResponse info;
    ASSERT_TRUE(LoopbackStub(r.port)->GetServiceInfo(&ctx, {}, &info).ok());
    ASSERT_FALSE(info.ear_verification_jwks().empty());
    if (jwks_text.empty()) jwks_text = info.ear_verification_jwks();
    EXPECT_EQ(info.ear_verification_jwks(), jwks_text);
  }
  const nlohmann::json jwks = nlohmann::json::parse(jwks_text);

  // Upload and compute through nginx; the same request straight to each
  // replica gives the same RIM (both read the payload from PostgreSQL).
  const std::string kernel = ReadFileOrDie("testdata/golden/inputs/Image-a");
  {
    v1::UploadPayloadResponse up;
    ::grpc::Status s = Upload(*via_lb, kernel, &up, "", 256 << 10);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(up.sha256(), Sha256(kernel));
  }
  v1::ComputeMeasurementsRequest compute = testing::KvmMin();
  for (const char* a : {"-k", "Image"}) compute.add_vmm_args(a);
  compute.mutable_kernel()->set_sha256(Sha256(kernel));
  std::set<std::string> rims;
  for (int port : {*lb, replicas[0].port, replicas[1].port}) {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ComputeMeasurementsResponse r;
    ::grpc::Status s =
        LoopbackStub(port)->ComputeMeasurements(&ctx, compute, &r);
    ASSERT_TRUE(s.ok()) << port << ": " << s.error_message();
    rims.insert(r.SerializeAsString());
  }
  EXPECT_EQ(rims.size(), 1u);

  // Provision through nginx.
  const testing::TokenVectors vectors = Token02Vectors();
  {
    ::grpc::Status s = ProvisionCorim(*via_lb, "veraison", vectors.corim);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::AppraiseTokenRequest appraise;
  appraise.set_token(vectors.token);
  appraise.set_cpak(vectors.cpak);
  appraise.set_stored_set("veraison");

  const std::string ok_series =
      "realm_measurements_grpc_requests_total{method=\"AppraiseToken\","
      "code=\"OK\"}";
  const double before =
      MetricValue(CurlMetrics(replicas[1].metrics_port), ok_series);
  std::atomic<bool> stop{false};
  LoadResult result;
  std::thread load([&] {
    result = AppraiseLoad(absl::StrCat("127.0.0.1:", *lb), appraise, 8, stop);
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double mid =
      MetricValue(CurlMetrics(replicas[1].metrics_port), ok_series);
  replicas[0].process.Kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop = true;
  load.join();
  const std::string after_text = CurlMetrics(replicas[1].metrics_port);
  const double after = MetricValue(after_text, ok_series);

  std::printf(
      "appraisals through nginx: %lld ok, %lld failed, %lld UNAVAILABLE "
      "retried, %.1f s; survivor AppraiseToken OK %g -> %g -> %g\n",
      static_cast<long long>(result.calls),
      static_cast<long long>(result.failures),
      static_cast<long long>(result.retries), result.seconds, before, mid,
      after);
  EXPECT_EQ(result.failures, 0)
      << (result.failure_messages.empty() ? "" : result.failure_messages[0]);
  EXPECT_GT(result.calls, 0);
  // The counters move (curl of the survivor's /metrics during the load).
  EXPECT_GT(mid, before) << after_text;
  EXPECT_GT(after, mid) << after_text;
  EXPECT_TRUE(absl::StrContains(
      after_text,
      "realm_measurements_grpc_request_duration_seconds_bucket{"
      "method=\"AppraiseToken\""));
  EXPECT_GT(MetricValue(after_text,
                        "realm_measurements_admission_wait_seconds_count{"
                        "class=\"cheap\"}"),
            0)
      << after_text;

  // Every sampled EAR verifies against the published key set.
  ASSERT_FALSE(result.ears.empty());
  for (const std::string& jwt : result.ears) {
    EXPECT_TRUE(VerifiesWithKeySet(jwt, jwks));
  }

  // No lost set: still listed through nginx (now only the survivor).
  {
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListReferenceValuesResponse list;
    ASSERT_TRUE(via_lb->ListReferenceValues(&ctx, {}, &list).ok());
    ASSERT_EQ(list.sets_size(), 1);
    EXPECT_EQ(list.sets(0).name(), "veraison");
  }
  nginx.Kill(SIGTERM);
  replicas[1].process.Kill(SIGTERM);
}

}  // namespace
}  // namespace realm_measurements::service
