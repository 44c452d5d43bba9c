// Test helpers for the gRPC tests: temporary data directories, a real server
// on 127.0.0.1:0 over a real SqliteStore, and a streaming upload client.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_TEST_UTIL_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grpc/service.h"
#include "grpc/store.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service::testing {

// A fresh directory under $TEST_TMPDIR.
std::string MakeTempDir();
// Whole file (dies on error: test inputs are part of the repository).
std::string ReadFileOrDie(const std::string& path);
// Raw SHA-256 of `data` through measure/crypto.h.
std::string Sha256(const std::string& data);

// Sets a deadline `seconds` from now.
void SetDeadline(::grpc::ClientContext& ctx, int seconds = 30);

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

// Uploads `content` in chunks of `chunk` bytes under `sha256`
// (Sha256(content) when empty).
::grpc::Status Upload(v1::RealmMeasurementsService::Stub& stub,
                      const std::string& content, v1::UploadPayloadResponse* r,
                      std::string sha256 = "", size_t chunk = 1 << 20);

}  // namespace realm_measurements::service::testing

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_TEST_UTIL_H_
