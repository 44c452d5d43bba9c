// File: grpc/service.h
//
// The realm-measurements gRPC service (proto/realm_measurements/v1) and a
// small in-process server that also serves the standard gRPC health protocol
// (grpc.health.v1.Health, built into libgrpc++) and server reflection.
//
// Usage:
//   ServerOptions o;
//   o.address = "127.0.0.1:0";
//   o.store = store.get();        // from OpenSqliteStore(data_dir)
//   o.ear_key = ...;              // EAR signing key (P-256)
//   absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(std::move(o));
//   ... connect to 127.0.0.1:(*s)->port() ...
//   (*s)->Shutdown();
//
// Handlers are thin: check the request, call one library function, map the
// absl::Status to the gRPC code of the same meaning. gRPC binaries link
// OpenSSL only (bazel-offline.md); they never load BoringSSL.
#ifndef REALM_MEASUREMENTS_GRPC_SERVICE_H_
#define REALM_MEASUREMENTS_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/crypto.h"
#include "corim/appraisal.h"
#include "corim/platform_index.h"
#include "corim/platform_token_cache.h"
#include "corim/public_key_cache.h"
#include "grpc/internal/admission.h"
#include "grpc/internal/guarded_service.h"
#include "grpc/internal/reference_index_cache.h"
#include "grpc/store.h"
#include "measure/chain_batch.h"
#include "measure/digest_cache.h"
#include "measure/granule_hasher.h"
#include "proto/realm_measurements/v1/service.grpc.pb.h"

namespace realm_measurements::service {

// What GetServiceInfo reports (the limits and the EAR key are added by the
// server from its options).
struct ServiceInfo {
  std::string version;
  std::vector<v1::HashAlgorithm> hash_algorithms;
  std::vector<v1::Vmm> vmms;
  v1::CryptoBackend crypto_backend = v1::CRYPTO_BACKEND_UNSPECIFIED;
  std::string crypto_backend_name;
  std::vector<std::string> evidence_media_types;
  std::vector<std::string> corim_profiles;
  std::vector<v1::EndorsementFormat> endorsement_formats;
};

// This build: version 0.1.0 (the reference's package version, spec-core
// §10.1), SHA-256 and SHA-512 (spec-core §2.3), kvmtool, QEMU and
// cloud-hypervisor (spec-vmm), OpenSSL with its header version text, the
// CCA evidence media type, both realm CoRIM profiles, every export format.
ServiceInfo DefaultServiceInfo();

struct ServerLimits {
  // Largest request message accepted (gRPC rejects larger ones with
  // RESOURCE_EXHAUSTED before a handler runs).
  int max_message_bytes = 4 << 20;
  // Largest uploaded payload.
  uint64_t max_payload_bytes = kDefaultMaxPayloadBytes;
  // Admission (grpc/internal/admission.h): expensive calls
  // (ComputeMeasurements, SweepMeasurements, ReplayEventLog, UploadPayload)
  // running at once; more wait for a slot until their deadline.
  int max_concurrent_calls = 16;
  // Cheap calls (every other method) running at once; they never wait
  // behind expensive ones.
  int max_cheap_calls = 32;
  // Calls of each class waiting for a slot (each holds a server thread);
  // beyond that a call is refused at once with RESOURCE_EXHAUSTED.
  int max_waiting_calls = 64;
  // gRPC threads serving calls (bounds memory under load). 0 = what the
  // admission limits can occupy (running + waiting of both classes) plus a
  // margin; a smaller positive value is refused by Server::Start.
  int max_threads = 0;
  // HTTP/2 streams one connection may have open at once
  // (SETTINGS_MAX_CONCURRENT_STREAMS; 1-65536). gRPC 1.51 holds every call
  // no thread has taken yet with its message, unbounded: without this one
  // connection could queue thousands (also the advice for CVE-2023-44487,
  // rapid reset). A well-behaved client queues beyond it; nginx opens one
  // stream per upstream connection.
  int max_streams_per_connection = 128;
  // Long-lived granule-digest cache shared by every compute/sweep call
  // (measure/digest_cache.h; LRU). 0 disables it. 64 MiB holds the digests
  // of 8 GiB of SHA-256 or 4 GiB of SHA-512 payload.
  size_t digest_cache_bytes = size_t{64} << 20;
  // AppraiseToken/VerifyToken (issue 18): platform tokens whose signature
  // verified (a realm's platform token repeats across its attestations),
  // and parsed keys (CPAK texts, RAKs), each an LRU of this many entries
  // (about 100 bytes and 1 KiB each). 0 disables either.
  size_t platform_token_cache_entries = 4096;
  size_t public_key_cache_entries = 1024;
};

// The largest UploadPayload chunk.
inline constexpr size_t kMaxUploadChunk = size_t{1} << 20;

struct ServerOptions {
  // "host:port"; port 0 picks a free port (see Server::port()).
  std::string address = "127.0.0.1:0";
  ServiceInfo info = DefaultServiceInfo();
  // Not owned; must outlive the server. Without a store, the calls that need
  // one fail with FAILED_PRECONDITION.
  Store* store = nullptr;
  // Signs EARs (P-256, ES256). Without it AppraiseToken returns the EAR JSON
  // only.
  std::shared_ptr<const crypto::EcPrivateKey> ear_key;
  // Former EAR keys still published for verification (in
  // ear_verification_jwks) until their time; they sign nothing.
  struct RetiredEarKey {
    std::shared_ptr<const crypto::EcPrivateKey> key;
    absl::Time until;
  };
  std::vector<RetiredEarKey> retired_ear_keys;
  // nullptr: plaintext (loopback and tests).
  std::shared_ptr<::grpc::ServerCredentials> credentials;
  ServerLimits limits;
  // Access policy, metrics, access log, audit (grpc/internal/
  // guarded_service.h); guard.store defaults to `store`.
  GuardOptions guard;
  // gRPC transport settings for load balancers (milliseconds; 0 keeps
  // gRPC's default): keepalive pings and their timeout, maximum connection
  // age (clients reconnect and spread over replicas) and its grace.
  int keepalive_time_ms = 0;
  int keepalive_timeout_ms = 0;
  int max_connection_age_ms = 0;
  int max_connection_age_grace_ms = 0;
  // A connection without calls for this long is closed, and one whose
  // TLS/HTTP/2 handshake takes longer is dropped: neither then holds one of
  // the --max_connections slots for ever (gRPC's defaults: never, 120 s).
  int max_connection_idle_ms = 0;
  int handshake_timeout_ms = 0;
  // Reference values (issue 16): memory for the decoded, indexed sets
  // (grpc/internal/reference_index_cache.h); a set whose index needs more
  // is refused when provisioned.
  size_t reference_index_bytes = internal::kDefaultReferenceIndexBytes;
  // ProvisionReferenceValues accepts signed CoRIMs (COSE_Sign1 + x5chain)
  // whose chain leads to one of these; unsigned CoRIMs and inline sets
  // only with allow_unsigned_corim (otherwise FAILED_PRECONDITION).
  std::vector<crypto::Certificate> corim_trust_anchors;
  bool allow_unsigned_corim = false;
};

// TLS server credentials from PEM texts. With `client_ca_pem`, clients must
// present a certificate chaining to it (mTLS).
absl::StatusOr<std::shared_ptr<::grpc::ServerCredentials>> TlsCredentials(
    absl::string_view cert_chain_pem, absl::string_view private_key_pem,
    std::optional<std::string> client_ca_pem);

// The public half of a P-256 key as a JWK (RFC 7517/7518 §6.2.1):
// {"kty":"EC","crv":"P-256","x":"...","y":"..."}, base64url unpadded.
absl::StatusOr<std::string> PublicJwk(const crypto::EcPrivateKey& key);

// The public half as a JWK with "kid" (corim::EarKeyId, the EAR JWT header's
// "kid") and "use":"sig", for the JWK set of GetServiceInfo.
absl::StatusOr<std::string> PublicJwkWithKid(const crypto::EcPrivateKey& key);

// Implements realm_measurements.v1.RealmMeasurementsService. Thread-safe.
class RealmMeasurementsServiceImpl final
    : public v1::RealmMeasurementsService::Service {
 public:
  explicit RealmMeasurementsServiceImpl(ServerOptions options);

  ::grpc::Status GetServiceInfo(::grpc::ServerContext* context,
                                const v1::GetServiceInfoRequest* request,
                                v1::GetServiceInfoResponse* response) override;
  ::grpc::Status ComputeMeasurements(
      ::grpc::ServerContext* context,
      const v1::ComputeMeasurementsRequest* request,
      v1::ComputeMeasurementsResponse* response) override;
  ::grpc::Status UploadPayload(
      ::grpc::ServerContext* context,
      ::grpc::ServerReader<v1::UploadPayloadRequest>* reader,
      v1::UploadPayloadResponse* response) override;
  ::grpc::Status ReplayEventLog(::grpc::ServerContext* context,
                                const v1::ReplayEventLogRequest* request,
                                v1::ReplayEventLogResponse* response) override;
  ::grpc::Status ExportEndorsements(
      ::grpc::ServerContext* context,
      const v1::ExportEndorsementsRequest* request,
      v1::ExportEndorsementsResponse* response) override;
  ::grpc::Status ProvisionReferenceValues(
      ::grpc::ServerContext* context,
      const v1::ProvisionReferenceValuesRequest* request,
      v1::ProvisionReferenceValuesResponse* response) override;
  ::grpc::Status ListReferenceValues(
      ::grpc::ServerContext* context,
      const v1::ListReferenceValuesRequest* request,
      v1::ListReferenceValuesResponse* response) override;
  ::grpc::Status DeleteReferenceValues(
      ::grpc::ServerContext* context,
      const v1::DeleteReferenceValuesRequest* request,
      v1::DeleteReferenceValuesResponse* response) override;
  ::grpc::Status VerifyToken(::grpc::ServerContext* context,
                             const v1::VerifyTokenRequest* request,
                             v1::VerifyTokenResponse* response) override;
  ::grpc::Status AppraiseToken(::grpc::ServerContext* context,
                               const v1::AppraiseTokenRequest* request,
                               v1::AppraiseTokenResponse* response) override;
  ::grpc::Status SweepMeasurements(
      ::grpc::ServerContext* context,
      const v1::SweepMeasurementsRequest* request,
      v1::SweepMeasurementsResponse* response) override;
  // The digest cache's counters, without admission (metrics scrapes).
  v1::GetMeasurementCacheStatsResponse CacheStats() const;
  // The token caches' counters (metrics scrapes): name -> value.
  std::vector<std::pair<std::string, double>> TokenCacheCounters() const;
  // CoRIM validity of the stored parts in memory, at `now` (metrics
  // scrapes): reference_parts_with_validity, reference_parts_outside_validity
  // and, when a part still inside its window has one,
  // reference_parts_next_expiry_seconds (to the earliest not-after).
  std::vector<std::pair<std::string, double>> ValidityGauges(int64_t now) const;
  // Fills the validity fields of a set's info from its index in memory.
  void AddValidity(v1::ReferenceValueSetInfo* info) const;
  ::grpc::Status GetMeasurementCacheStats(
      ::grpc::ServerContext* context,
      const v1::GetMeasurementCacheStatsRequest* request,
      v1::GetMeasurementCacheStatsResponse* response) override;

 private:
  // ComputeMeasurements of `request`, with `vmm_args` instead of the
  // request's when given (a sweep shape). With `hasher` (a sweep) the
  // caller holds the call slot and the pool; `batch` is the sweep's
  // lockstep RIM chains (may be null).
  ::grpc::Status Compute(::grpc::ServerContext* context,
                         const v1::ComputeMeasurementsRequest& request,
                         const std::vector<std::string>* vmm_args,
                         measure::GranuleHasher* hasher,
                         measure::ChainBatch* batch,
                         v1::ComputeMeasurementsResponse* response);
  // The platform endorsements a token call (VerifyToken, AppraiseToken)
  // names: its stored `platform_set` or unsigned `platform_corim`, indexed;
  // *out stays null when neither is given. Defined in token_handlers.cc.
  template <typename Request>
  ::grpc::Status PlatformEndorsementsOf(
      const Request& request, std::shared_ptr<const corim::PlatformIndex>* out);
  // The library path of a payload (kNotFound when not uploaded).
  absl::StatusOr<std::string> PayloadPath(const v1::PayloadRef& ref,
                                          absl::string_view field);

  const ServerOptions options_;
  std::string ear_jwk_;
  // Admission classes (see ServerLimits).
  internal::AdmissionClass cheap_;
  internal::AdmissionClass expensive_;
  std::unique_ptr<measure::DigestCache> digest_cache_;
  // Token work done once (issue 18); null when disabled.
  std::unique_ptr<corim::PlatformTokenCache> platform_token_cache_;
  std::unique_ptr<corim::PublicKeyCache> key_cache_;
  // The EAR key with its kid and JWS header; unset without a key.
  std::optional<corim::EarSigner> ear_signer_;
  // Decoded stored reference sets (created with the service).
  std::unique_ptr<internal::ReferenceIndexCache> reference_cache_;

 public:
  // Decodes every stored set into the cache (server start).
  absl::Status LoadReferenceSets() { return reference_cache_->LoadAll(); }
};

// A running server with RealmMeasurementsService, the default health
// service (SERVING until Shutdown()) and server reflection.
class Server {
 public:
  // Fails with kUnavailable when the address cannot be bound, with
  // kInvalidArgument when `max_threads` is below what admission needs.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  // Plaintext, no store, no EAR key (GetServiceInfo and the stateless
  // calls only).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& address, ServiceInfo info);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Calls Shutdown().
  ~Server();

  // The bound port (the selected one when started with port 0).
  int port() const { return port_; }

  // Reports NOT_SERVING, then stops accepting calls and waits up to `grace`
  // for in-flight ones before cancelling them. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  Server(std::unique_ptr<Store> metered_store,
         std::unique_ptr<RealmMeasurementsServiceImpl> service,
         std::unique_ptr<GuardedService> front,
         std::unique_ptr<::grpc::Server> server, int port,
         std::shared_ptr<Metrics> metrics);

  std::unique_ptr<Store> metered_store_;
  std::unique_ptr<RealmMeasurementsServiceImpl> service_;
  std::unique_ptr<GuardedService> front_;
  std::shared_ptr<Metrics> metrics_;
  std::unique_ptr<::grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace realm_measurements::service

#endif  // REALM_MEASUREMENTS_GRPC_SERVICE_H_
