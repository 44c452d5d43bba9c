// Test helpers for the gRPC tests: temporary data directories, a real server
// on 127.0.0.1:0 over a real SqliteStore, loopback channels, the token test
// vectors, provisioning and a streaming upload client.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_TEST_UTIL_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grpc/internal/replica_cluster.h"  // Upload
#include "grpc/service.h"
#include "grpc/store.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service::testing {

// A fresh directory under $TEST_TMPDIR.
std::string MakeTempDir();
// Whole file (dies on error: test inputs are part of the repository).
std::string ReadFileOrDie(const std::string& path);
// Raw SHA-256 of `data` through base/crypto.h.
std::string Sha256(const std::string& data);

// Sets a deadline `seconds` from now.
void SetDeadline(::grpc::ClientContext& ctx, int seconds = 30);

// An insecure channel to `target` ("127.0.0.1:<port>"), and a stub on one.
std::shared_ptr<::grpc::Channel> LoopbackChannel(
    const std::string& target,
    const ::grpc::ChannelArguments& args = ::grpc::ChannelArguments());
std::shared_ptr<::grpc::Channel> LoopbackChannel(int port);
std::unique_ptr<v1::RealmMeasurementsService::Stub> LoopbackStub(int port);

// A CCA token, the key its platform signature verifies with, and (for token
// 02) the Veraison CoRIM its realm claims match (testdata/vectors/README.md).
// Paths are relative to the runfiles root: the test's BUILD target lists
// the files as data.
struct TokenVectors {
  std::string token;
  std::string cpak;
  std::string corim;  // empty for the draft token
};
// cca-token-02.cbor, ta-iak-p256.json, corim-cca-realm-2025.cbor.
TokenVectors Token02Vectors();
// cca-token-draft-ffm-00.cbor, cpak-tfm-p384.jwk.json (spec-token-corim
// §1.10).
TokenVectors DraftTokenVectors();

// ComputeMeasurements of kvmtool "--realm -c 1 -m 512M" with 6 breakpoints
// and watchpoints, no payload.
v1::ComputeMeasurementsRequest KvmMin();

// ProvisionReferenceValues of the CoRIM bytes `corim` under `name`.
::grpc::Status ProvisionCorim(v1::RealmMeasurementsService::Stub& stub,
                              const std::string& name,
                              const std::string& corim);

// A server over a SqliteStore in `dir` with a fresh P-256 EAR key (or the
// given one).
struct TestServer {
  std::string dir;
  std::unique_ptr<Store> store;
  std::shared_ptr<const crypto::EcPrivateKey> ear_key;
  std::unique_ptr<Server> server;

  // Opens the store and starts; `options.store`/`ear_key` are filled in.
  void Start(const std::string& data_dir, ServerOptions options = {});
  void Stop();
  std::string target() const;
  std::shared_ptr<::grpc::Channel> Channel() const;
  std::unique_ptr<v1::RealmMeasurementsService::Stub> Stub() const;
};

}  // namespace realm_measurements::service::testing

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_TEST_UTIL_H_
