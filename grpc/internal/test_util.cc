#include "grpc/internal/test_util.h"

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "gtest/gtest.h"

namespace realm_measurements::service::testing {

std::string MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base ? base : "/tmp", "/grpc-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) std::abort();
  return buf.data();
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    ADD_FAILURE() << "cannot read " << path;
    std::abort();
  }
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Sha256(const std::string& data) {
  absl::StatusOr<std::vector<uint8_t>> h = crypto::HashOnce(
      crypto::DigestAlgorithm::kSha256,
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()),
                                data.size()));
  if (!h.ok()) std::abort();
  return std::string(h->begin(), h->end());
}

void SetDeadline(::grpc::ClientContext& ctx, int seconds) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(seconds));
}

std::shared_ptr<::grpc::Channel> LoopbackChannel(
    const std::string& target, const ::grpc::ChannelArguments& args) {
  return ::grpc::CreateCustomChannel(
      target, ::grpc::InsecureChannelCredentials(), args);
}

std::shared_ptr<::grpc::Channel> LoopbackChannel(int port) {
  return LoopbackChannel(absl::StrCat("127.0.0.1:", port));
}

std::unique_ptr<v1::RealmMeasurementsService::Stub> LoopbackStub(int port) {
  return v1::RealmMeasurementsService::NewStub(LoopbackChannel(port));
}

TokenVectors Token02Vectors() {
  return {ReadFileOrDie("testdata/vectors/cca-token-02.cbor"),
          ReadFileOrDie("testdata/vectors/ta-iak-p256.json"),
          ReadFileOrDie("testdata/vectors/corim-cca-realm-2025.cbor")};
}

TokenVectors DraftTokenVectors() {
  return {ReadFileOrDie("testdata/vectors/cca-token-draft-ffm-00.cbor"),
          ReadFileOrDie("testdata/vectors/cpak-tfm-p384.jwk.json"), ""};
}

v1::ComputeMeasurementsRequest KvmMin() {
  v1::ComputeMeasurementsRequest req;
  req.set_vmm(v1::VMM_KVMTOOL);
  for (const char* a : {"--realm", "-c", "1", "-m", "512M"}) {
    req.add_vmm_args(a);
  }
  req.mutable_overrides()->set_num_bps(6);
  req.mutable_overrides()->set_num_wps(6);
  return req;
}

::grpc::Status ProvisionCorim(v1::RealmMeasurementsService::Stub& stub,
                              const std::string& name,
                              const std::string& corim) {
  ::grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ProvisionReferenceValuesRequest req;
  req.set_name(name);
  req.set_corim(corim);
  v1::ProvisionReferenceValuesResponse r;
  return stub.ProvisionReferenceValues(&ctx, req, &r);
}

void TestServer::Start(const std::string& data_dir, ServerOptions options) {
  dir = data_dir;
  absl::StatusOr<std::unique_ptr<Store>> s =
      OpenSqliteStore(dir, options.limits.max_payload_bytes);
  ASSERT_TRUE(s.ok()) << s.status();
  store = std::move(*s);
  if (ear_key == nullptr) {
    absl::StatusOr<crypto::EcPrivateKey> k =
        crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
    ASSERT_TRUE(k.ok());
    ear_key = std::make_shared<const crypto::EcPrivateKey>(std::move(*k));
  }
  options.store = store.get();
  options.ear_key = ear_key;
  options.address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Server>> srv = Server::Start(options);
  ASSERT_TRUE(srv.ok()) << srv.status();
  server = std::move(*srv);
}

void TestServer::Stop() {
  server.reset();
  store.reset();
}

std::string TestServer::target() const {
  return absl::StrCat("127.0.0.1:", server->port());
}

std::shared_ptr<::grpc::Channel> TestServer::Channel() const {
  ::grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  return LoopbackChannel(target(), args);
}

std::unique_ptr<v1::RealmMeasurementsService::Stub> TestServer::Stub() const {
  return v1::RealmMeasurementsService::NewStub(Channel());
}

}  // namespace realm_measurements::service::testing
