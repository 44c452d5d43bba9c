#include "grpc/service.h"

#include <grpcpp/health_check_service_interface.h>
#include <openssl/opensslv.h>

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace realm_measurements::service {
namespace {

// The reference tool's package version (spec-core §10.1).
constexpr char kVersion[] = "0.1.0";

// How long Shutdown() lets in-flight calls finish before cancelling them.
constexpr std::chrono::seconds kShutdownGrace(5);

}  // namespace

ServiceInfo DefaultServiceInfo() {
  ServiceInfo info;
  info.version = kVersion;
  info.hash_algorithms = {v1::HASH_ALGORITHM_SHA256, v1::HASH_ALGORITHM_SHA512};
  info.vmms = {v1::VMM_KVMTOOL, v1::VMM_QEMU, v1::VMM_CLOUD_HYPERVISOR};
  // gRPC binaries are always built against OpenSSL (see service.h).
  info.crypto_backend = v1::CRYPTO_BACKEND_OPENSSL;
  info.crypto_backend_name = OPENSSL_VERSION_TEXT;
  return info;
}

RealmMeasurementsServiceImpl::RealmMeasurementsServiceImpl(ServiceInfo info)
    : info_(std::move(info)) {}

::grpc::Status RealmMeasurementsServiceImpl::GetServiceInfo(
    ::grpc::ServerContext* /*context*/,
    const v1::GetServiceInfoRequest* /*request*/,
    v1::GetServiceInfoResponse* response) {
  response->set_version(info_.version);
  for (v1::HashAlgorithm a : info_.hash_algorithms) {
    response->add_hash_algorithms(a);
  }
  for (v1::Vmm v : info_.vmms) response->add_vmms(v);
  response->set_crypto_backend(info_.crypto_backend);
  response->set_crypto_backend_name(info_.crypto_backend_name);
  return ::grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const std::string& address, ServiceInfo info) {
  // Process-wide switch read by ServerBuilder::BuildAndStart; it must be set
  // before building.
  ::grpc::EnableDefaultHealthCheckService(true);

  auto service =
      std::make_unique<RealmMeasurementsServiceImpl>(std::move(info));
  int port = 0;
  ::grpc::ServerBuilder builder;
  builder.AddListeningPort(address, ::grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  std::unique_ptr<::grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(
        absl::StrCat("cannot start gRPC server on '", address,
                     "': address could not be bound"));
  }
  ::grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health == nullptr) {
    server->Shutdown();
    return absl::InternalError("gRPC default health service is not enabled");
  }
  health->SetServingStatus(true);
  health->SetServingStatus(v1::RealmMeasurementsService::service_full_name(),
                           true);
  return std::unique_ptr<Server>(
      new Server(std::move(service), std::move(server), port));
}

Server::Server(std::unique_ptr<RealmMeasurementsServiceImpl> service,
               std::unique_ptr<::grpc::Server> server, int port)
    : service_(std::move(service)), server_(std::move(server)), port_(port) {}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (::grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    health->Shutdown();  // all NOT_SERVING, no later changes
  }
  server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  server_->Wait();
}

}  // namespace realm_measurements::service
