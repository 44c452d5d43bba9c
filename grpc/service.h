// File: grpc/service.h
//
// The realm-measurements gRPC service (proto/realm_measurements/v1) and a
// small in-process server that also serves the standard gRPC health protocol
// (grpc.health.v1.Health, built into libgrpc++).
//
// Usage:
//   absl::StatusOr<std::unique_ptr<Server>> s =
//       Server::Start("127.0.0.1:0", DefaultServiceInfo());
//   ... connect to 127.0.0.1:(*s)->port() ...
//   (*s)->Shutdown();
//
// Handlers are thin: they copy library facts into responses. gRPC binaries
// link OpenSSL only (bazel-offline.md); they never load BoringSSL.
#ifndef REALM_MEASUREMENTS_GRPC_SERVICE_H_
#define REALM_MEASUREMENTS_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service {

// What GetServiceInfo reports.
struct ServiceInfo {
  std::string version;
  std::vector<v1::HashAlgorithm> hash_algorithms;
  std::vector<v1::Vmm> vmms;
  v1::CryptoBackend crypto_backend = v1::CRYPTO_BACKEND_UNSPECIFIED;
  std::string crypto_backend_name;
};

// This build: version 0.1.0 (the reference's package version, spec-core
// §10.1), SHA-256 and SHA-512 (spec-core §2.3), kvmtool, QEMU and
// cloud-hypervisor (spec-vmm), OpenSSL with its header version text.
ServiceInfo DefaultServiceInfo();

// Implements realm_measurements.v1.RealmMeasurementsService. Thread-safe:
// the state is immutable after construction.
class RealmMeasurementsServiceImpl final
    : public v1::RealmMeasurementsService::Service {
 public:
  explicit RealmMeasurementsServiceImpl(ServiceInfo info);

  ::grpc::Status GetServiceInfo(::grpc::ServerContext* context,
                                const v1::GetServiceInfoRequest* request,
                                v1::GetServiceInfoResponse* response) override;

 private:
  const ServiceInfo info_;
};

// A running server with RealmMeasurementsService and the default health
// service, both reported SERVING until Shutdown(). Plaintext: meant for
// loopback and tests; deployments put it behind TLS termination.
class Server {
 public:
  // `address` is "host:port"; port 0 picks a free port (see port()).
  // Fails with kUnavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& address, ServiceInfo info);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Calls Shutdown().
  ~Server();

  // The bound port (the selected one when started with port 0).
  int port() const { return port_; }

  // Reports NOT_SERVING, then stops accepting calls and waits briefly for
  // in-flight ones. Idempotent.
  void Shutdown();

 private:
  Server(std::unique_ptr<RealmMeasurementsServiceImpl> service,
         std::unique_ptr<::grpc::Server> server, int port);

  std::unique_ptr<RealmMeasurementsServiceImpl> service_;
  std::unique_ptr<::grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_SERVICE_H_
