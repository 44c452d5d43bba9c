// File: grpc/service.cc
//
// GetServiceInfo, the service's construction, the EAR key as a JWK, TLS
// credentials and Server start/shutdown. The other handlers live in one file
// per area (grpc/*_handlers.cc); conversions in grpc/internal/convert.h.
#include "grpc/service.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <openssl/opensslv.h>

#include <ctime>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/hex.h"
#include "corim/comid.h"
#include "corim/platform_endorsements.h"
#include "corim/token.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/handler_support.h"
#include "grpc/internal/metered_store.h"
#include "measure/digest_cache.h"

namespace realm_measurements::service {
namespace {

using internal::Admit;
using internal::CheckRequest;

// The reference tool's package version (spec-core §10.1).
constexpr char kVersion[] = "0.1.0";

// Veraison's CCA evidence media type (spec-token-corim §1.2, §6.2).
constexpr char kCcaEvidenceMediaType[] =
    "application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\"";

// gRPC threads beyond the admission limits: reflection streams and the
// pollers of the synchronous server.
constexpr int kSpareThreads = 16;
// Idle sync-server workers kept alive (see BuildAndStart below).
constexpr int kIdleWorkers = 16;

}  // namespace

ServiceInfo DefaultServiceInfo() {
  ServiceInfo info;
  info.version = kVersion;
  // SHA-384 for RMM 2.0 realms (spec-rmm2).
  info.hash_algorithms = {v1::HASH_ALGORITHM_SHA256, v1::HASH_ALGORITHM_SHA512,
                          v1::HASH_ALGORITHM_SHA384};
  info.vmms = {v1::VMM_KVMTOOL, v1::VMM_QEMU, v1::VMM_CLOUD_HYPERVISOR};
  // gRPC binaries are always built against OpenSSL (see service.h).
  info.crypto_backend = v1::CRYPTO_BACKEND_OPENSSL;
  info.crypto_backend_name = OPENSSL_VERSION_TEXT;
  info.evidence_media_types = {kCcaEvidenceMediaType};
  info.corim_profiles = {std::string(corim::kProfileCcaRealm2025),
                         std::string(corim::kProfileCcaRealmLegacy),
                         std::string(corim::kProfileCcaPlatform2025),
                         std::string(corim::kProfileCcaPlatformLegacy)};
  for (int f = v1::ENDORSEMENT_FORMAT_COMID_2025;
       f <= v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024; ++f) {
    info.endorsement_formats.push_back(static_cast<v1::EndorsementFormat>(f));
  }
  return info;
}

absl::StatusOr<std::string> PublicJwk(const crypto::EcPrivateKey& key) {
  if (key.curve() != crypto::Curve::kP256) {
    return absl::InvalidArgumentError("EAR key: expected a P-256 key (ES256)");
  }
  absl::StatusOr<crypto::EcPublicKey> pub = key.PublicKey();
  if (!pub.ok()) return pub.status();
  absl::StatusOr<std::vector<uint8_t>> sec1 = pub->ToSec1();
  if (!sec1.ok()) return sec1.status();
  const size_t n = crypto::CurveFieldSize(key.curve());
  if (sec1->size() != 1 + 2 * n) {
    return absl::InternalError("EAR key: unexpected SEC1 point size");
  }
  absl::Span<const uint8_t> p(*sec1);
  return absl::StrCat(R"({"kty":"EC","crv":"P-256","alg":"ES256","x":")",
                      base::Base64UrlOf(p.subspan(1, n)), R"(","y":")",
                      base::Base64UrlOf(p.subspan(1 + n, n)), R"("})");
}

absl::StatusOr<std::string> PublicJwkWithKid(const crypto::EcPrivateKey& key) {
  absl::StatusOr<std::string> jwk = PublicJwk(key);
  if (!jwk.ok()) return jwk.status();
  absl::StatusOr<std::string> kid = corim::EarKeyId(key);
  if (!kid.ok()) return kid.status();
  return absl::StrCat(R"({"kid":")", *kid, R"(","use":"sig",)", jwk->substr(1));
}

absl::StatusOr<std::shared_ptr<::grpc::ServerCredentials>> TlsCredentials(
    absl::string_view cert_chain_pem, absl::string_view private_key_pem,
    std::optional<std::string> client_ca_pem) {
  if (cert_chain_pem.empty() || private_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "TLS: expected both a certificate chain and a private key");
  }
  ::grpc::SslServerCredentialsOptions opts(
      client_ca_pem.has_value()
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (client_ca_pem.has_value()) opts.pem_root_certs = *client_ca_pem;
  opts.pem_key_cert_pairs.push_back(
      {std::string(private_key_pem), std::string(cert_chain_pem)});
  std::shared_ptr<::grpc::ServerCredentials> c =
      ::grpc::SslServerCredentials(opts);
  if (c == nullptr) return absl::InvalidArgumentError("TLS: bad credentials");
  return c;
}

RealmMeasurementsServiceImpl::RealmMeasurementsServiceImpl(
    ServerOptions options)
    : options_(std::move(options)),
      cheap_("cheap", {options_.limits.max_cheap_calls,
                       options_.limits.max_waiting_calls}),
      expensive_("expensive", {options_.limits.max_concurrent_calls,
                               options_.limits.max_waiting_calls}) {
  if (options_.limits.digest_cache_bytes > 0) {
    digest_cache_ = std::make_unique<measure::DigestCache>(
        options_.limits.digest_cache_bytes);
  }
  if (options_.ear_key != nullptr) {
    absl::StatusOr<std::string> jwk = PublicJwk(*options_.ear_key);
    if (jwk.ok()) ear_jwk_ = *jwk;
    // A key EarSigner refuses (not P-256) stays unset: AppraiseToken then
    // reports SignEarJwt's error, as before.
    absl::StatusOr<corim::EarSigner> signer =
        corim::EarSigner::Create(options_.ear_key);
    if (signer.ok()) ear_signer_ = *std::move(signer);
  }
  if (options_.limits.platform_token_cache_entries > 0) {
    platform_token_cache_ = std::make_unique<corim::PlatformTokenCache>(
        options_.limits.platform_token_cache_entries);
  }
  if (options_.limits.public_key_cache_entries > 0) {
    key_cache_ = std::make_unique<corim::PublicKeyCache>(
        options_.limits.public_key_cache_entries);
  }
  reference_cache_ = std::make_unique<internal::ReferenceIndexCache>(
      options_.store, options_.reference_index_bytes);
  // Every admission wait, granted or not, per class (metrics).
  if (std::shared_ptr<Metrics> m = options_.guard.metrics) {
    for (internal::AdmissionClass* c : {&cheap_, &expensive_}) {
      c->set_wait_observer([m, name = c->name()](double seconds) {
        m->AdmissionWait(name, seconds);
      });
    }
  }
}

::grpc::Status RealmMeasurementsServiceImpl::GetServiceInfo(
    ::grpc::ServerContext* context, const v1::GetServiceInfoRequest* request,
    v1::GetServiceInfoResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  const ServiceInfo& info = options_.info;
  response->set_version(info.version);
  for (v1::HashAlgorithm a : info.hash_algorithms) {
    response->add_hash_algorithms(a);
  }
  for (v1::Vmm v : info.vmms) response->add_vmms(v);
  response->set_crypto_backend(info.crypto_backend);
  response->set_crypto_backend_name(info.crypto_backend_name);
  for (const std::string& m : info.evidence_media_types) {
    response->add_evidence_media_types(m);
  }
  for (const std::string& p : info.corim_profiles) {
    response->add_corim_profiles(p);
  }
  for (v1::EndorsementFormat f : info.endorsement_formats) {
    response->add_endorsement_formats(f);
  }
  response->set_ear_verification_key_jwk(ear_jwk_);
  response->set_max_message_bytes(options_.limits.max_message_bytes);
  response->set_max_payload_bytes(options_.limits.max_payload_bytes);
  return ::grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const std::string& address, ServiceInfo info) {
  ServerOptions o;
  o.address = address;
  o.info = std::move(info);
  return Start(std::move(o));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  // Process-wide switches read by ServerBuilder::BuildAndStart; they must be
  // set before building.
  ::grpc::EnableDefaultHealthCheckService(true);
  ::grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  const std::string address = options.address;
  const ServerLimits limits = options.limits;
  // Every admitted or waiting call holds a gRPC thread; without enough of
  // them gRPC itself refuses calls ("Server Threadpool Exhausted") and cheap
  // calls would no longer be independent of expensive ones.
  const int admission_threads = std::max(1, limits.max_cheap_calls) +
                                std::max(1, limits.max_concurrent_calls) +
                                2 * std::max(0, limits.max_waiting_calls) +
                                kSpareThreads;
  if (limits.max_threads != 0 && limits.max_threads < admission_threads) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_threads: expected 0 or at least ", admission_threads,
                     " (cheap + expensive + 2 x waiting calls + ",
                     kSpareThreads, "), found ", limits.max_threads));
  }
  if (limits.max_streams_per_connection < 1 ||
      limits.max_streams_per_connection > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_streams_per_connection: expected 1 to 65536, found ",
                     limits.max_streams_per_connection));
  }
  std::shared_ptr<::grpc::ServerCredentials> creds =
      options.credentials != nullptr ? options.credentials
                                     : ::grpc::InsecureServerCredentials();
  // Every call passes the guard (access control, metrics, logs, audit);
  // with metrics the store's failures are counted too.
  GuardOptions guard = options.guard;
  std::unique_ptr<Store> metered;
  if (guard.metrics != nullptr && options.store != nullptr) {
    metered = NewMeteredStore(options.store, guard.metrics);
    options.store = metered.get();
  }
  if (guard.store == nullptr) guard.store = options.store;
  if (guard.ear_keys.empty() && options.ear_key != nullptr) {
    absl::StatusOr<std::string> jwk = PublicJwkWithKid(*options.ear_key);
    if (!jwk.ok()) return jwk.status();
    guard.ear_keys.push_back({*jwk, absl::InfiniteFuture()});
    for (const ServerOptions::RetiredEarKey& r : options.retired_ear_keys) {
      absl::StatusOr<std::string> old = PublicJwkWithKid(*r.key);
      if (!old.ok()) return old.status();
      guard.ear_keys.push_back({*old, r.until});
    }
  }
  const std::pair<const char*, int> channel_args[] = {
      {GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms},
      {GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms},
      {GRPC_ARG_MAX_CONNECTION_AGE_MS, options.max_connection_age_ms},
      {GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
       options.max_connection_age_grace_ms},
      {GRPC_ARG_MAX_CONNECTION_IDLE_MS, options.max_connection_idle_ms},
      {GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, options.handshake_timeout_ms},
      {GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_streams_per_connection}};
  auto service =
      std::make_unique<RealmMeasurementsServiceImpl>(std::move(options));
  // Decode and index the stored reference sets now rather than in the
  // first calls; a set that fails here fails its calls (DATA_LOSS).
  service->LoadReferenceSets().IgnoreError();
  if (guard.metrics != nullptr) {
    RealmMeasurementsServiceImpl* impl = service.get();
    guard.metrics->SetCounterSource([impl] {
      const v1::GetMeasurementCacheStatsResponse r = impl->CacheStats();
      std::vector<std::pair<std::string, double>> counters = {
          {"digest_cache_hits_total", static_cast<double>(r.hits())},
          {"digest_cache_misses_total", static_cast<double>(r.misses())}};
      for (auto& c : impl->TokenCacheCounters()) {
        counters.push_back(std::move(c));
      }
      return counters;
    });
  }
  if (guard.metrics != nullptr) {
    RealmMeasurementsServiceImpl* impl = service.get();
    guard.metrics->SetGaugeSource([impl] {
      return impl->ValidityGauges(static_cast<int64_t>(std::time(nullptr)));
    });
  }
  std::shared_ptr<Metrics> metrics = guard.metrics;
  auto front =
      std::make_unique<GuardedService>(service.get(), std::move(guard));
  int port = 0;
  ::grpc::ServerBuilder builder;
  builder.AddListeningPort(address, creds, &port);
  builder.RegisterService(front.get());
  for (const auto& [name, value] : channel_args) {
    if (value > 0) builder.AddChannelArgument(name, value);
  }
  builder.SetMaxReceiveMessageSize(limits.max_message_bytes);
  // Responses carry DTBs and reports; allow the same size back.
  builder.SetMaxSendMessageSize(std::max(limits.max_message_bytes, 4 << 20));
  ::grpc::ResourceQuota quota("realm-measurements");
  quota.SetMaxThreads(limits.max_threads != 0 ? limits.max_threads
                                              : admission_threads);
  builder.SetResourceQuota(quota);
  // gRPC's sync server ends a worker thread once more than MAX_POLLERS
  // (default 2) are idle and starts a new one when none is free: under a
  // steady load of more calls in flight than that, threads are created and
  // destroyed all the time (stack mmap/munmap, TLB shootdowns). Keeping idle
  // workers up to the admission limits avoids that churn (issue 18).
  builder.SetSyncServerOption(
      ::grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kIdleWorkers);
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
      new Server(std::move(metered), std::move(service), std::move(front),
                 std::move(server), port, std::move(metrics)));
}

Server::Server(std::unique_ptr<Store> metered_store,
               std::unique_ptr<RealmMeasurementsServiceImpl> service,
               std::unique_ptr<GuardedService> front,
               std::unique_ptr<::grpc::Server> server, int port,
               std::shared_ptr<Metrics> metrics)
    : metered_store_(std::move(metered_store)),
      service_(std::move(service)),
      front_(std::move(front)),
      metrics_(std::move(metrics)),
      server_(std::move(server)),
      port_(port) {}

Server::~Server() { Shutdown(); }

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (::grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    health->Shutdown();  // all NOT_SERVING, no later changes
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  // The metrics may outlive the server: stop reading its cache.
  if (metrics_ != nullptr) {
    metrics_->SetCounterSource(nullptr);
    metrics_->SetGaugeSource(nullptr);
  }
}

}  // namespace realm_measurements::service
