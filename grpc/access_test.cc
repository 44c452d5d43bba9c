// Access control over a real loopback server (issue 15): every method of
// RealmMeasurementsService x every role (and anonymous, and a wrong token)
// -> the expected status; health stays open; every mutating call, refused
// or not, is in the audit log; and the metrics endpoint and the JSON access
// log see the calls.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/internal/test_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/grpc/health/v1/health.grpc.pb.h"

namespace realm_measurements::service {
namespace {

using ::grpc::StatusCode;
using testing::MakeTempDir;
using testing::SetDeadline;
using testing::TestServer;

// Token hashes from coreutils sha256sum (independent of our crypto).
// printf provisioner-token | sha256sum
constexpr char kProvisionerHash[] =
    "ab8e9d15206289926f582158431d7044221e10157a5db23acbe2131de8490b11";
// printf verifier-token | sha256sum
constexpr char kVerifierHash[] =
    "9bfafa388ba685213d9364f1db10f03ecdeada9a4930f9cf129e7ef9bd7038a7";
// printf reader-token | sha256sum
constexpr char kReaderHash[] =
    "ba5005a40cf5212e4ac0190104cc127edab013294bb71279a975b27a80982d45";

using Call = std::function<::grpc::Status(v1::RealmMeasurementsService::Stub&,
                                          ::grpc::ClientContext&)>;

struct MethodCase {
  const char* name;
  const char* role;
  Call call;
};

template <typename Req, typename Resp>
Call Unary(::grpc::Status (v1::RealmMeasurementsService::Stub::*m)(
    ::grpc::ClientContext*, const Req&, Resp*)) {
  return
      [m](v1::RealmMeasurementsService::Stub& s, ::grpc::ClientContext& ctx) {
        Req req;
        Resp resp;
        return (s.*m)(&ctx, req, &resp);
      };
}

std::vector<MethodCase> AllMethods() {
  using S = v1::RealmMeasurementsService::Stub;
  return {
      {"GetServiceInfo", "reader", Unary(&S::GetServiceInfo)},
      {"ListReferenceValues", "reader", Unary(&S::ListReferenceValues)},
      {"GetMeasurementCacheStats", "reader",
       Unary(&S::GetMeasurementCacheStats)},
      {"ComputeMeasurements", "verifier", Unary(&S::ComputeMeasurements)},
      {"ReplayEventLog", "verifier", Unary(&S::ReplayEventLog)},
      {"ExportEndorsements", "verifier", Unary(&S::ExportEndorsements)},
      {"VerifyToken", "verifier", Unary(&S::VerifyToken)},
      {"AppraiseToken", "verifier", Unary(&S::AppraiseToken)},
      {"SweepMeasurements", "verifier", Unary(&S::SweepMeasurements)},
      {"ProvisionReferenceValues", "provisioner",
       Unary(&S::ProvisionReferenceValues)},
      {"DeleteReferenceValues", "provisioner",
       Unary(&S::DeleteReferenceValues)},
      {"DeletePayload", "provisioner", Unary(&S::DeletePayload)},
      {"ListAuditEvents", "provisioner", Unary(&S::ListAuditEvents)},
      {"UploadPayload", "provisioner",
       [](S& s, ::grpc::ClientContext& ctx) {
         v1::UploadPayloadResponse resp;
         auto w = s.UploadPayload(&ctx, &resp);
         v1::UploadPayloadRequest m;
         m.set_sha256(std::string(32, 'x'));
         m.set_size(1);
         m.set_chunk("y");
         w->Write(m);
         w->WritesDone();
         return w->Finish();
       }},
  };
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string policy =
        absl::StrCat("[[principal]]\nname = \"pipeline\"\ntoken_sha256 = \"",
                     kProvisionerHash,
                     "\"\nroles = [\"provisioner\"]\n\n[[principal]]\nname = "
                     "\"verifier\"\ntoken_sha256 = \"",
                     verifier_hash_,
                     "\"\nroles = [\"verifier\"]\n\n[[principal]]\nname = "
                     "\"dashboard\"\ntoken_sha256 = \"",
                     reader_hash_, "\"\nroles = [\"reader\"]\n");
    absl::StatusOr<AccessPolicy> p = AccessPolicy::Parse(policy, "test");
    ASSERT_TRUE(p.ok()) << p.status();
    ServerOptions o;
    o.allow_unsigned_corim = true;  // provisions unsigned CoRIMs
    o.guard.policy = std::make_shared<const AccessPolicy>(std::move(*p));
    o.guard.metrics = metrics_;
    server_.Start(MakeTempDir(), o);
  }

  std::string verifier_hash_ = kVerifierHash;
  std::string reader_hash_ = kReaderHash;
  std::shared_ptr<Metrics> metrics_ = std::make_shared<Metrics>();
  TestServer server_;
};

TEST_F(AccessTest, EveryMethodEveryRole) {
  struct Caller {
    const char* label;
    std::optional<std::string> token;  // nullopt: anonymous
    const char* role;
  };
  const std::vector<Caller> callers = {
      {"provisioner", "provisioner-token", "provisioner"},
      {"verifier", "verifier-token", "verifier"},
      {"reader", "reader-token", "reader"},
      {"anonymous", std::nullopt, ""},
      {"wrong token", "not-a-token", ""},
  };
  auto stub = server_.Stub();
  int checked = 0;
  for (const MethodCase& m : AllMethods()) {
    for (const Caller& c : callers) {
      ::grpc::ClientContext ctx;
      SetDeadline(ctx, 30);
      if (c.token.has_value()) {
        ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *c.token));
      }
      ::grpc::Status s = m.call(*stub, ctx);
      const std::string where =
          absl::StrCat(m.name, " as ", c.label, ": ", s.error_message());
      if (std::string(c.role).empty()) {
        EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << where;
      } else if (std::string(c.role) == m.role) {
        // Allowed: whatever the (empty) request gets, it is not a refusal.
        EXPECT_NE(s.error_code(), StatusCode::UNAUTHENTICATED) << where;
        EXPECT_NE(s.error_code(), StatusCode::PERMISSION_DENIED) << where;
        EXPECT_NE(s.error_code(), StatusCode::UNIMPLEMENTED) << where;
      } else {
        EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED) << where;
        EXPECT_TRUE(absl::StrContains(s.error_message(),
                                      absl::StrCat("lacks role ", m.role)))
            << where;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 14 * 5);

  // Health stays open without credentials.
  auto health = ::grpc::health::v1::Health::NewStub(server_.Channel());
  ::grpc::ClientContext hctx;
  ::grpc::health::v1::HealthCheckRequest hreq;
  ::grpc::health::v1::HealthCheckResponse hresp;
  EXPECT_TRUE(health->Check(&hctx, hreq, &hresp).ok());

  // Every mutating call is audited, refusals included.
  absl::StatusOr<std::vector<AuditEvent>> events =
      server_.store->ListAuditEvents(0, 1000);
  ASSERT_TRUE(events.ok());
  std::map<std::string, int> by_outcome;
  for (const AuditEvent& e : *events) ++by_outcome[e.outcome];
  // 4 mutating methods x 5 callers.
  EXPECT_EQ(events->size(), 20u);
  EXPECT_EQ(by_outcome["UNAUTHENTICATED"], 8);
  EXPECT_EQ(by_outcome["PERMISSION_DENIED"], 8);
  for (const AuditEvent& e : *events) {
    if (e.outcome != "UNAUTHENTICATED" && e.outcome != "PERMISSION_DENIED") {
      EXPECT_EQ(e.principal, "pipeline") << e.method;
    }
  }

  // ListAuditEvents through gRPC for the provisioner.
  ::grpc::ClientContext actx;
  actx.AddMetadata("authorization", "Bearer provisioner-token");
  v1::ListAuditEventsRequest areq;
  areq.set_limit(5);
  v1::ListAuditEventsResponse aresp;
  ASSERT_TRUE(stub->ListAuditEvents(&actx, areq, &aresp).ok());
  ASSERT_EQ(aresp.events_size(), 5);
  EXPECT_EQ(aresp.events(0).id(), (*events)[0].id);
  EXPECT_TRUE(
      absl::StartsWith(aresp.events(0).method(), "/realm_measurements.v1."));

  // The metrics counted every refusal by code (provisioner and reader).
  const std::string text = metrics_->Render();
  EXPECT_TRUE(absl::StrContains(
      text,
      "realm_measurements_grpc_requests_total{method=\"AppraiseToken\","
      "code=\"PERMISSION_DENIED\"} 2"))
      << text;
}

// One JSON access-log line per call on stderr: method, peer, principal,
// status, duration, request id; never the token.
TEST(AccessLog, OneJsonLinePerCall) {
  ServerOptions o;
  o.allow_unsigned_corim = true;  // provisions unsigned CoRIMs
  o.guard.access_log = true;
  TestServer ts;
  ts.Start(MakeTempDir(), o);
  std::vector<std::string> echoed;
  const std::string log = MakeTempDir() + "/stderr";
  fflush(stderr);
  const int saved = dup(2);
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  dup2(fd, 2);
  close(fd);
  {
    auto stub = ts.Stub();
    ::grpc::ClientContext ctx;
    SetDeadline(ctx);
    ctx.AddMetadata("x-request-id", "req-123");
    ctx.AddMetadata("authorization", "Bearer secret-token-value");
    v1::GetServiceInfoResponse r;
    ASSERT_TRUE(stub->GetServiceInfo(&ctx, {}, &r).ok());
    ::grpc::ClientContext ctx2;
    SetDeadline(ctx2);
    v1::DeleteReferenceValuesRequest d;
    d.set_name("absent");
    v1::DeleteReferenceValuesResponse dr;
    EXPECT_EQ(stub->DeleteReferenceValues(&ctx2, d, &dr).error_code(),
              StatusCode::NOT_FOUND);
    // The id each call was logged under comes back, also on an error.
    for (auto* c : {&ctx, &ctx2}) {
      const auto& md = c->GetServerInitialMetadata();
      ASSERT_EQ(md.count("x-request-id"), 1u);
      echoed.emplace_back(md.find("x-request-id")->second.data(),
                          md.find("x-request-id")->second.size());
    }
  }
  // The audit event of the mutating call has the id its caller got.
  absl::StatusOr<std::vector<AuditEvent>> audit =
      ts.store->ListAuditEvents(0, 10);
  ts.Stop();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::ifstream f(log);
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(f, line)) {
    EXPECT_FALSE(absl::StrContains(line, "secret-token")) << line;
    if (absl::StartsWith(line, "{"))
      lines.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["method"], "GetServiceInfo");
  EXPECT_EQ(lines[0]["status"], "OK");
  EXPECT_EQ(lines[0]["request_id"], "req-123");
  EXPECT_EQ(lines[0]["principal"], "anonymous");
  EXPECT_TRUE(
      absl::StrContains(lines[0]["peer"].get<std::string>(), "127.0.0.1"));
  EXPECT_GE(lines[0]["duration_ms"].get<double>(), 0);
  EXPECT_EQ(lines[1]["method"], "DeleteReferenceValues");
  EXPECT_EQ(lines[1]["status"], "NOT_FOUND");
  EXPECT_EQ(lines[1]["request_id"].get<std::string>().size(), 16u);
  ASSERT_EQ(echoed.size(), 2u);
  EXPECT_EQ(echoed[0], "req-123");
  EXPECT_EQ(echoed[1], lines[1]["request_id"]);
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->size(), 1u);  // GetServiceInfo is not audited
  EXPECT_EQ(audit->front().outcome, "NOT_FOUND");
  EXPECT_EQ(audit->front().request_id, echoed[1]);
}

}  // namespace
}  // namespace realm_measurements::service
