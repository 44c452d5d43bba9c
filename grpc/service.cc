#include "grpc/service.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <openssl/opensslv.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "corim/appraisal.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "corim/token.h"
#include "corim/verify.h"
#include "eventlog/parser.h"
#include "eventlog/replay.h"
#include "grpc/internal/corim_signing.h"
#include "grpc/internal/metered_store.h"
#include "grpc/internal/request_check.h"
#include "measure/cloud_hv.h"
#include "measure/digest_cache.h"
#include "measure/engine.h"
#include "measure/granule_hasher.h"
#include "measure/host_caps.h"
#include "measure/kvmtool.h"
#include "measure/payload.h"
#include "measure/qemu.h"
#include "measure/realm_config.h"
#include "measure/sweep.h"
#include "measure/vmm.h"

namespace realm_measurements::service {
namespace {

// The reference tool's package version (spec-core §10.1).
constexpr char kVersion[] = "0.1.0";

// Veraison's CCA evidence media type (spec-token-corim §1.2, §6.2).
constexpr char kCcaEvidenceMediaType[] =
    "application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\"";

// Request bounds beyond the message size (robustness: no unbounded work).
constexpr int kMaxVmmArgs = 1024;
constexpr size_t kMaxVmmArgBytes = 4096;
constexpr int kMaxHostCapsDocs = 16;
// Sweeps: every entry carries a whole ComputeMeasurementsResponse (DTB and
// layout included), so a call is bounded well below the CLI's 4096 shapes;
// the response size is checked against max_message_bytes as well.
constexpr size_t kMaxGrpcSweepShapes = 256;
constexpr int kMaxSweepAxes = 16;
constexpr int kMaxCatalogueImages = 64;
constexpr size_t kMaxNonceBytes = 64;  // spec-token-corim §1.8
// How long a call without a deadline waits for an admission slot.
constexpr absl::Duration kDefaultSlotWait = absl::Seconds(30);
// gRPC threads beyond the admission limits: reflection streams and the
// pollers of the synchronous server.
constexpr int kSpareThreads = 16;

::grpc::Status ToGrpc(const absl::Status& s, absl::string_view what = "") {
  if (s.ok()) return ::grpc::Status::OK;
  // absl::StatusCode uses the gRPC numbering (absl/status/status.h).
  std::string msg = what.empty() ? std::string(s.message())
                                 : absl::StrCat(what, ": ", s.message());
  return ::grpc::Status(static_cast<::grpc::StatusCode>(s.code()), msg);
}

::grpc::Status Invalid(absl::string_view msg) {
  return ::grpc::Status(::grpc::StatusCode::INVALID_ARGUMENT, std::string(msg));
}

// The first check of every request (grpc/internal/request_check.h): enum
// fields hold defined values.
::grpc::Status CheckRequest(const google::protobuf::Message& request) {
  return ToGrpc(internal::CheckEnumValues(request));
}

::grpc::Status NoStore() {
  return ::grpc::Status(::grpc::StatusCode::FAILED_PRECONDITION,
                        "this server runs without a data directory");
}

// The reference values of a stored set (errors name "stored_set"; a stored
// CoRIM that no longer decodes is DATA_LOSS).
::grpc::Status LoadStoredSet(Store* store, const std::string& name,
                             corim::ReferenceValues* out) {
  if (store == nullptr) return NoStore();
  absl::StatusOr<ReferenceSetRecord> r = store->GetReferenceSet(name);
  if (!r.ok()) return ToGrpc(r.status(), "stored_set");
  absl::StatusOr<corim::DecodedCorim> d = corim::DecodeCorim(r->corim);
  if (!d.ok()) {
    return ToGrpc(absl::DataLossError(d.status().message()), "stored_set");
  }
  *out = std::move(d->values);
  return ::grpc::Status::OK;
}

std::string Bytes(absl::Span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

absl::Span<const uint8_t> Span(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                   s.size());
}

std::vector<uint8_t> Vec(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// The call's cancellation as a measure::CancelCheck: DEADLINE_EXCEEDED once
// its deadline has passed, CANCELLED once the client has gone. Measurement
// work polls it (about every millisecond) and stops.
measure::CancelCheck CallCancel(::grpc::ServerContext* ctx) {
  const auto deadline = ctx->deadline();
  return [ctx, deadline]() -> absl::Status {
    if (deadline != std::chrono::system_clock::time_point::max() &&
        std::chrono::system_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          "deadline exceeded; the work was stopped");
    }
    if (ctx->IsCancelled()) {
      return absl::CancelledError("call cancelled; the work was stopped");
    }
    return absl::OkStatus();
  };
}

// Admits the call to `c` (grpc/internal/admission.h): the wait for a slot is
// bounded by the call's deadline (kDefaultSlotWait without one) and ends
// when the client leaves.
::grpc::Status Admit(internal::AdmissionClass& c, ::grpc::ServerContext* ctx,
                     std::optional<internal::AdmissionClass::Ticket>* out) {
  absl::Time deadline = absl::Now() + kDefaultSlotWait;
  const auto d = ctx->deadline();
  if (d != std::chrono::system_clock::time_point::max()) {
    deadline = std::min(deadline, absl::FromChrono(d));
  }
  absl::StatusOr<internal::AdmissionClass::Ticket> t =
      c.Admit(deadline, CallCancel(ctx));
  if (!t.ok()) return ToGrpc(t.status());
  out->emplace(*std::move(t));
  return ::grpc::Status::OK;
}

v1::HashAlgorithm ToProto(measure::HashAlgorithm a) {
  switch (a) {
    case measure::HashAlgorithm::kSha256:
      return v1::HASH_ALGORITHM_SHA256;
    case measure::HashAlgorithm::kSha384:
      return v1::HASH_ALGORITHM_SHA384;
    case measure::HashAlgorithm::kSha512:
      return v1::HASH_ALGORITHM_SHA512;
  }
  return v1::HASH_ALGORITHM_UNSPECIFIED;
}

v1::RmmVersion ToProto(measure::RmmVersion v) {
  return v == measure::RmmVersion::k2_0 ? v1::RMM_VERSION_2_0
                                        : v1::RMM_VERSION_1_0;
}

// A request's RmmVersion: nullopt for UNSPECIFIED; unknown numbers (a newer
// client, or garbage) are INVALID_ARGUMENT naming the field.
absl::StatusOr<std::optional<measure::RmmVersion>> FromProto(
    v1::RmmVersion v, absl::string_view field) {
  switch (static_cast<int>(v)) {
    case v1::RMM_VERSION_UNSPECIFIED:
      return std::nullopt;
    case v1::RMM_VERSION_1_0:
      return measure::RmmVersion::k1_0;
    case v1::RMM_VERSION_2_0:
      return measure::RmmVersion::k2_0;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": expected RMM_VERSION_1_0 or RMM_VERSION_2_0, found ",
      static_cast<int>(v)));
}

v1::HashAlgorithm ToProto(corim::RealmHashAlgorithm a) {
  switch (a) {
    case corim::RealmHashAlgorithm::kSha256:
      return v1::HASH_ALGORITHM_SHA256;
    case corim::RealmHashAlgorithm::kSha384:
      return v1::HASH_ALGORITHM_SHA384;
    case corim::RealmHashAlgorithm::kSha512:
      return v1::HASH_ALGORITHM_SHA512;
  }
  return v1::HASH_ALGORITHM_UNSPECIFIED;
}

absl::StatusOr<corim::RealmHashAlgorithm> FromProto(v1::HashAlgorithm a,
                                                    absl::string_view field) {
  switch (a) {
    case v1::HASH_ALGORITHM_SHA256:
      return corim::RealmHashAlgorithm::kSha256;
    case v1::HASH_ALGORITHM_SHA384:
      return corim::RealmHashAlgorithm::kSha384;
    case v1::HASH_ALGORITHM_SHA512:
      return corim::RealmHashAlgorithm::kSha512;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": expected SHA256, SHA384 or SHA512, found ",
                       static_cast<int>(a)));
  }
}

// An inline set as a CoRIM model: one CoMID tagged with the CoRIM id.
absl::StatusOr<corim::ReferenceValues> FromProto(
    const v1::ReferenceValueSet& set, absl::string_view default_id) {
  corim::ReferenceValues values;
  const std::string id =
      set.corim_id().empty() ? std::string(default_id) : set.corim_id();
  values.corim_id = id;
  corim::Comid comid;
  comid.tag_identity.id = id;
  for (int i = 0; i < set.realms_size(); ++i) {
    const v1::RealmReferenceValue& r = set.realms(i);
    const std::string field = absl::StrCat("inline_set.realms[", i, "]");
    corim::RealmReferenceValue v;
    absl::StatusOr<corim::RealmHashAlgorithm> a =
        FromProto(r.hash_algorithm(), field + ".hash_algorithm");
    if (!a.ok()) return a.status();
    v.algorithm = *a;
    v.rim = Vec(r.rim());
    if (r.rems_size() != 0 && r.rems_size() != corim::kRemCount) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".rems: expected 0 or 4 entries, found ", r.rems_size()));
    }
    for (int k = 0; k < r.rems_size(); ++k) v.rem[k] = Vec(r.rems(k));
    if (!r.rpv().empty()) v.rpv = Vec(r.rpv());
    if (absl::Status s = corim::ValidateRealm(v); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
    }
    comid.realms.push_back(std::move(v));
  }
  if (comid.realms.empty()) {
    return absl::InvalidArgumentError(
        "inline_set.realms: expected at least one realm, found none");
  }
  values.comids.push_back(std::move(comid));
  return values;
}

v1::CorimProfile ToProto(corim::Profile p) {
  return p == corim::Profile::kCcaRealmLegacy
             ? v1::CORIM_PROFILE_CCA_REALM_LEGACY
             : v1::CORIM_PROFILE_CCA_REALM_2025;
}

void ToProto(const ReferenceSetRecord& r, v1::ReferenceValueSetInfo* out) {
  out->set_name(r.name);
  out->set_profile(static_cast<v1::CorimProfile>(r.profile));
  out->set_realm_count(r.realm_count);
  out->set_corim_sha256(Bytes(r.corim_sha256));
  out->set_created_unix(r.created_unix);
}

v1::Register ToProto(eventlog::Register r) {
  switch (r) {
    case eventlog::Register::kRim:
      return v1::REGISTER_RIM;
    case eventlog::Register::kRem0:
      return v1::REGISTER_REM0;
    case eventlog::Register::kRem1:
      return v1::REGISTER_REM1;
    case eventlog::Register::kRem2:
      return v1::REGISTER_REM2;
    case eventlog::Register::kRem3:
      return v1::REGISTER_REM3;
    default:
      return v1::REGISTER_UNSPECIFIED;
  }
}

void ToProto(const corim::TrustVector& t, v1::TrustVector* out) {
  out->set_instance_identity(t.instance_identity);
  out->set_configuration(t.configuration);
  out->set_executables(t.executables);
  out->set_file_system(t.file_system);
  out->set_hardware(t.hardware);
  out->set_runtime_opaque(t.runtime_opaque);
  out->set_storage_opaque(t.storage_opaque);
  out->set_sourced_data(t.sourced_data);
}

v1::CheckStatus ToProto(corim::CheckStatus s) {
  switch (s) {
    case corim::CheckStatus::kSkipped:
      return v1::CHECK_STATUS_SKIPPED;
    case corim::CheckStatus::kPass:
      return v1::CHECK_STATUS_PASS;
    case corim::CheckStatus::kFail:
      return v1::CHECK_STATUS_FAIL;
  }
  return v1::CHECK_STATUS_UNSPECIFIED;
}

void ToProto(const corim::VerificationReport& r, v1::VerifyTokenResponse* out) {
  out->set_ok(r.ok());
  const std::pair<const char*, const corim::Check*> checks[] = {
      {"freshness", &r.freshness},
      {"platform_signature", &r.platform_signature},
      {"realm_key", &r.realm_key},
      {"realm_signature", &r.realm_signature},
      {"binding", &r.binding},
  };
  for (const auto& [name, check] : checks) {
    v1::CheckResult* c = out->add_checks();
    c->set_name(name);
    c->set_status(ToProto(check->status));
    c->set_detail(check->detail);
  }
  for (const corim::LintFinding& l : r.lints) {
    v1::LintFinding* f = out->add_lints();
    f->set_id(l.id);
    f->set_warning(l.warning);
    f->set_message(l.message);
  }
  out->set_report_json(corim::VerificationReportToJson(r));
}

// Token, CPAK and nonce of VerifyToken / AppraiseToken.
struct TokenInputs {
  corim::CcaToken token;
  std::optional<crypto::EcPublicKey> cpak;
  std::optional<std::vector<uint8_t>> nonce;
};

absl::StatusOr<TokenInputs> DecodeTokenInputs(const std::string& token,
                                              const std::string& cpak,
                                              const std::string& nonce,
                                              bool strict) {
  if (token.empty()) {
    return absl::InvalidArgumentError("token: expected CCA token bytes");
  }
  if (nonce.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("nonce: expected at most ", kMaxNonceBytes,
                     " bytes, found ", nonce.size()));
  }
  corim::TokenDecodeOptions opts;
  opts.strict = strict;
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(Span(token), opts);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token: ", t.status().message()));
  }
  TokenInputs in{std::move(*t), std::nullopt, std::nullopt};
  if (!cpak.empty()) {
    absl::StatusOr<crypto::EcPublicKey> k =
        corim::LoadPublicKey(cpak, in.token.platform.instance_id);
    if (!k.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cpak: ", k.status().message()));
    }
    in.cpak = std::move(*k);
  }
  if (!nonce.empty()) in.nonce = Vec(nonce);
  return in;
}

std::string Base64Url(absl::Span<const uint8_t> b) {
  return absl::WebSafeBase64Escape(Bytes(b));  // RFC 4648 §5, no padding
}

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
                         std::string(corim::kProfileCcaRealmLegacy)};
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
                      Base64Url(p.subspan(1, n)), R"(","y":")",
                      Base64Url(p.subspan(1 + n, n)), R"("})");
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
  }
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

absl::StatusOr<std::string> RealmMeasurementsServiceImpl::PayloadPath(
    const v1::PayloadRef& ref, absl::string_view field) {
  absl::StatusOr<PayloadRecord> r =
      options_.store->GetPayload(Span(ref.sha256()));
  if (!r.ok()) {
    return absl::Status(r.status().code(),
                        absl::StrCat(field, ": ", r.status().message()));
  }
  return r->path;
}

::grpc::Status RealmMeasurementsServiceImpl::ComputeMeasurements(
    ::grpc::ServerContext* context,
    const v1::ComputeMeasurementsRequest* request,
    v1::ComputeMeasurementsResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  return Compute(context, *request, nullptr, nullptr, response);
}

::grpc::Status RealmMeasurementsServiceImpl::Compute(
    ::grpc::ServerContext* context, const v1::ComputeMeasurementsRequest& req,
    const std::vector<std::string>* vmm_args, measure::GranuleHasher* hasher,
    v1::ComputeMeasurementsResponse* response) {
  const v1::ComputeMeasurementsRequest* request = &req;
  measure::VmmModel model = nullptr;
  switch (request->vmm()) {
    case v1::VMM_KVMTOOL:
      model = &measure::BuildKvmtool;
      break;
    case v1::VMM_QEMU:
      model = &measure::BuildQemu;
      break;
    case v1::VMM_CLOUD_HYPERVISOR:
      model = &measure::BuildCloudHv;
      break;
    default:
      return Invalid(absl::StrCat(
          "vmm: expected KVMTOOL, QEMU or CLOUD_HYPERVISOR, found ",
          static_cast<int>(request->vmm())));
  }
  if (request->vmm_args_size() > kMaxVmmArgs) {
    return Invalid(absl::StrCat("vmm_args: expected at most ", kMaxVmmArgs,
                                " arguments, found ",
                                request->vmm_args_size()));
  }
  // A sweep passes the substituted arguments (placeholders can grow them).
  const std::vector<std::string> args =
      vmm_args != nullptr
          ? *vmm_args
          : std::vector<std::string>(request->vmm_args().begin(),
                                     request->vmm_args().end());
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].size() > kMaxVmmArgBytes) {
      return Invalid(absl::StrCat("vmm_args[", i, "]: expected at most ",
                                  kMaxVmmArgBytes, " bytes, found ",
                                  args[i].size()));
    }
  }
  if (request->host_caps_toml_size() > kMaxHostCapsDocs) {
    return Invalid(absl::StrCat("host_caps_toml: expected at most ",
                                kMaxHostCapsDocs, " documents, found ",
                                request->host_caps_toml_size()));
  }

  // Host capabilities: configs restrict, overrides update (spec-core §5.3).
  measure::HostCaps caps;
  for (int i = 0; i < request->host_caps_toml_size(); ++i) {
    const std::string name = absl::StrCat("host_caps_toml[", i, "]");
    absl::StatusOr<measure::HostCaps> c =
        measure::HostCaps::FromToml(request->host_caps_toml(i), name);
    if (!c.ok()) return ToGrpc(c.status());
    if (absl::Status s = caps.Restrict(*c); !s.ok()) return ToGrpc(s, name);
  }
  const v1::HostCapsOverrides& o = request->overrides();
  measure::HostCaps over;
  auto small = [](const char* field, uint32_t v,
                  uint32_t max) -> ::grpc::Status {
    if (v > max) {
      return Invalid(absl::StrCat("overrides.", field, ": expected 0..", max,
                                  ", found ", v));
    }
    return ::grpc::Status::OK;
  };
  ::grpc::Status g;
  if (o.has_ipa_bits()) {
    if (!(g = small("ipa_bits", o.ipa_bits(), 255)).ok()) return g;
    over.ipa_bits = o.ipa_bits();
  }
  if (o.has_num_bps()) {
    if (!(g = small("num_bps", o.num_bps(), 255)).ok()) return g;
    over.num_bps = o.num_bps();
  }
  if (o.has_num_wps()) {
    if (!(g = small("num_wps", o.num_wps(), 255)).ok()) return g;
    over.num_wps = o.num_wps();
  }
  if (o.has_sve_vl()) {
    if (!(g = small("sve_vl", o.sve_vl(), 65535)).ok()) return g;
    over.sve_vl = o.sve_vl();
  }
  if (o.has_pmu_num_ctrs()) {
    if (!(g = small("pmu_num_ctrs", o.pmu_num_ctrs(), 255)).ok()) return g;
    over.pmu_num_ctrs = o.pmu_num_ctrs();
  }
  if (o.has_pmu()) over.pmu = o.pmu();
  if (o.has_lpa2()) over.lpa2 = o.lpa2();
  {
    absl::StatusOr<std::optional<measure::RmmVersion>> v =
        FromProto(request->rmm_version(), "rmm_version");
    if (!v.ok()) return ToGrpc(v.status());
    over.rmm_version = *v;
  }
  if (absl::Status s = caps.Update(over); !s.ok()) {
    return ToGrpc(s, "overrides");
  }

  measure::VmmInputs inputs;
  const std::pair<const v1::PayloadRef*, std::optional<std::string>*> refs[] = {
      {&request->kernel(), &inputs.kernel},
      {&request->initrd(), &inputs.initrd},
      {&request->firmware(), &inputs.firmware},
      {&request->dtb(), &inputs.dtb},
      {&request->dtb_template(), &inputs.dtb_template}};
  const char* const names[] = {"kernel", "initrd", "firmware", "dtb",
                               "dtb_template"};
  for (int i = 0; i < 5; ++i) {
    if (refs[i].first->sha256().empty()) continue;
    if (options_.store == nullptr) return NoStore();
    absl::StatusOr<std::string> path = PayloadPath(*refs[i].first, names[i]);
    if (!path.ok()) return ToGrpc(path.status());
    *refs[i].second = *path;
  }
  if (request->has_dtb() && request->has_dtb_template()) {
    return Invalid("dtb and dtb_template: expected at most one of them");
  }

  // A sweep holds one slot for all its shapes.
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (hasher == nullptr) {
    if (::grpc::Status s = Admit(expensive_, context, &ticket); !s.ok()) {
      return s;
    }
  }

  // Gzip kernels, granules and the blob digests below stop when the call is
  // cancelled or its deadline passes.
  const measure::CancelCheck cancel = CallCancel(context);
  inputs.cancel = cancel;
  measure::RealmConfig config(caps);
  absl::Status built = model(inputs, args, config);
  if (built.ok()) built = config.Validate();
  auto clean = [&](const absl::Status& s) {
    // Payload files are named by digest; show that, not the server's path.
    std::string msg(s.message());
    if (options_.store != nullptr) {
      for (const auto& [ref, path] : refs) {
        if (path->has_value()) {
          absl::StrReplaceAll(
              {{**path,
                absl::StrCat("payload sha256:", HexOf(Span(ref->sha256())))}},
              &msg);
        }
      }
    }
    return absl::Status(s.code(), msg);
  };
  if (!built.ok()) return ToGrpc(clean(built), "cannot build parameters");
  // The long-lived digest cache: requests over the same stored payload
  // (content-addressed, never rewritten) reuse its granule digests.
  measure::MeasureOptions measure_options;
  measure_options.hasher = hasher;
  measure_options.cache = digest_cache_.get();
  measure_options.cancel = cancel;
  absl::StatusOr<measure::Measurements> m =
      measure::ComputeMeasurements(config, measure_options);
  if (!m.ok()) {
    return ToGrpc(clean(m.status()), "failed to compute measurements");
  }
  absl::StatusOr<measure::RealmCreateParams> p = config.ResolveParams();
  if (!p.ok()) return ToGrpc(clean(p.status()));

  const size_t n = measure::HashSize(m->hash_algorithm);
  response->set_rmm_version(ToProto(m->rmm_version));
  response->set_hash_algorithm(ToProto(m->hash_algorithm));
  response->set_rim(Bytes(absl::MakeConstSpan(m->rim).first(n)));
  for (const measure::Measurement& r : m->rem) {
    response->add_rems(Bytes(absl::MakeConstSpan(r).first(n)));
  }
  response->set_personalization_value(Bytes(config.personalization_value()));
  v1::RealmParameters* rp = response->mutable_parameters();
  rp->set_ipa_bits(p->ipa_bits);
  rp->set_num_bps(p->num_bps);
  rp->set_num_wps(p->num_wps);
  rp->set_sve_vl(p->sve_vl);
  rp->set_pmu(p->pmu);
  rp->set_pmu_num_ctrs(p->pmu_num_ctrs);
  rp->set_lpa2(p->lpa2);

  v1::Layout* layout = response->mutable_layout();
  for (const auto& [base, size] : config.ram()) {
    v1::MemoryRange* r = layout->add_ram();
    r->set_base(base);
    r->set_size(size);
  }
  absl::Status stopped;  // a cancellation while digesting the blobs
  auto add_blob = [&](const measure::Blob& b, v1::Register into) {
    v1::LayoutBlob* out = layout->add_blobs();
    out->set_name(b.name);
    out->set_ipa(b.guest_start);
    out->set_load_size(b.load_size);
    out->set_measured(true);
    out->set_into(into);
    absl::StatusOr<uint64_t> size = b.payload.Size();
    if (size.ok()) out->set_size(*size);
    absl::StatusOr<crypto::Digest> d =
        crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
    if (!d.ok()) return;
    if (!b.payload
             .Read([&](absl::Span<const uint8_t> c) {
               if (stopped.ok()) stopped = cancel();
               return stopped.ok() ? d->Update(c) : stopped;
             })
             .ok()) {
      return;
    }
    absl::StatusOr<std::vector<uint8_t>> h = d->Finish();
    if (h.ok()) out->set_sha256(Bytes(*h));
  };
  for (const auto& [addr, b] : config.rim_blobs()) {
    add_blob(b, v1::REGISTER_RIM);
  }
  for (const auto& [index, b] : config.rem_blobs()) {
    add_blob(b, static_cast<v1::Register>(v1::REGISTER_REM0 + index));
  }
  if (!stopped.ok()) return ToGrpc(stopped);
  for (const measure::MemoryRange& r : config.rim_unmeasured()) {
    v1::LayoutBlob* out = layout->add_blobs();
    out->set_name("unmeasured");
    out->set_ipa(r.base);
    out->set_size(r.size);
    out->set_into(v1::REGISTER_RIM);
  }
  if (config.rec().has_value()) {
    layout->set_has_rec(true);
    layout->set_rec_pc(config.rec()->pc);
    for (uint64_t gpr : config.rec()->gprs) layout->add_rec_gprs(gpr);
  }
  if (config.dtb().has_value()) {
    layout->set_has_dtb(true);
    if (config.dtb_address().has_value()) {
      layout->set_dtb_address(*config.dtb_address());
    }
    response->set_dtb(Bytes(*config.dtb()));
  }
  for (const std::string& w : config.warnings()) response->add_warnings(w);
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::SweepMeasurements(
    ::grpc::ServerContext* context, const v1::SweepMeasurementsRequest* request,
    v1::SweepMeasurementsResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (request->base().vmm_args_size() > kMaxVmmArgs) {
    return Invalid(absl::StrCat("base.vmm_args: expected at most ", kMaxVmmArgs,
                                " arguments, found ",
                                request->base().vmm_args_size()));
  }
  if (request->axes_size() > kMaxSweepAxes) {
    return Invalid(absl::StrCat("axes: expected at most ", kMaxSweepAxes,
                                ", found ", request->axes_size()));
  }
  if (request->shapes_size() > kMaxGrpcSweepShapes) {
    return Invalid(absl::StrCat("shapes: expected at most ",
                                kMaxGrpcSweepShapes, ", found ",
                                request->shapes_size()));
  }
  // The CLI's parsers check keys and values; a value holding a comma or a
  // key holding '=' would re-split, so the counts must survive the trip.
  std::vector<measure::SweepAxis> axes;
  for (int i = 0; i < request->axes_size(); ++i) {
    const v1::SweepAxis& a = request->axes(i);
    if (a.values_size() > kMaxGrpcSweepShapes) {
      return Invalid(absl::StrCat("axes[", i, "].values: expected at most ",
                                  kMaxGrpcSweepShapes, ", found ",
                                  a.values_size()));
    }
    std::string spec = absl::StrCat(a.key(), "=");
    for (int j = 0; j < a.values_size(); ++j) {
      absl::StrAppend(&spec, j ? "," : "", a.values(j));
    }
    absl::StatusOr<measure::SweepAxis> axis = measure::ParseSweepAxis(spec);
    if (!axis.ok()) return ToGrpc(axis.status(), absl::StrCat("axes[", i, "]"));
    if (axis->key != a.key() ||
        axis->values.size() != static_cast<size_t>(a.values_size())) {
      return Invalid(absl::StrCat("axes[", i,
                                  "]: expected a key without '=' and values "
                                  "without ',', found key '",
                                  a.key(), "'"));
    }
    axes.push_back(*std::move(axis));
  }
  std::vector<measure::SweepParams> shapes;
  for (int i = 0; i < request->shapes_size(); ++i) {
    const v1::SweepShape& sh = request->shapes(i);
    std::string spec;
    for (int j = 0; j < sh.parameters_size(); ++j) {
      absl::StrAppend(&spec, j ? "," : "", sh.parameters(j).key(), "=",
                      sh.parameters(j).value());
    }
    absl::StatusOr<measure::SweepParams> params =
        measure::ParseSweepShape(spec);
    if (!params.ok()) {
      return ToGrpc(params.status(), absl::StrCat("shapes[", i, "]"));
    }
    bool same = params->size() == static_cast<size_t>(sh.parameters_size());
    for (size_t j = 0; same && j < params->size(); ++j) {
      same = (*params)[j].first == sh.parameters(j).key() &&
             (*params)[j].second == sh.parameters(j).value();
    }
    if (!same) {
      return Invalid(absl::StrCat("shapes[", i,
                                  "]: expected keys without '=' and values "
                                  "without ','"));
    }
    shapes.push_back(*std::move(params));
  }
  const std::vector<std::string> vmm_args(request->base().vmm_args().begin(),
                                          request->base().vmm_args().end());
  absl::StatusOr<std::vector<measure::SweepShape>> expanded =
      measure::ExpandSweep(axes, shapes, vmm_args);
  if (!expanded.ok()) return ToGrpc(expanded.status());
  if (expanded->size() > kMaxGrpcSweepShapes) {
    return Invalid(absl::StrCat("sweep: expected at most ", kMaxGrpcSweepShapes,
                                " shapes, found ", expanded->size()));
  }

  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(expensive_, context, &ticket); !s.ok()) {
    return s;
  }
  // One hashing pool for the whole sweep; shapes run in order and share
  // the server's digest cache (the first shape fills it).
  measure::GranuleHasher hasher;
  const size_t n = expanded->size();
  for (size_t i = 0; i < n; ++i) {
    const measure::SweepShape& shape = (*expanded)[i];
    v1::SweepEntry* e = response->add_entries();
    e->set_shape(static_cast<uint32_t>(i + 1));
    for (const auto& [k, v] : shape.params) {
      v1::SweepParameter* p = e->add_parameters();
      p->set_key(k);
      p->set_value(v);
    }
    for (const std::string& a : shape.vmm_args) e->add_vmm_args(a);
    ::grpc::Status s = Compute(context, request->base(), &shape.vmm_args,
                               &hasher, e->mutable_result());
    if (!s.ok()) {
      return ::grpc::Status(s.error_code(),
                            absl::StrCat("sweep: shape ", i + 1, "/", n, " (",
                                         measure::SweepParamsText(shape.params),
                                         "): ", s.error_message()));
    }
    if (response->ByteSizeLong() >
        static_cast<size_t>(options_.limits.max_message_bytes)) {
      return ::grpc::Status(
          ::grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("sweep: the response exceeds ",
                       options_.limits.max_message_bytes, " bytes after shape ",
                       i + 1, "/", n, "; split the sweep"));
    }
  }
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::GetMeasurementCacheStats(
    ::grpc::ServerContext* context,
    const v1::GetMeasurementCacheStatsRequest* request,
    v1::GetMeasurementCacheStatsResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  *response = CacheStats();
  return ::grpc::Status::OK;
}

v1::GetMeasurementCacheStatsResponse RealmMeasurementsServiceImpl::CacheStats()
    const {
  v1::GetMeasurementCacheStatsResponse r;
  r.set_max_bytes(options_.limits.digest_cache_bytes);
  if (digest_cache_ == nullptr) return r;
  r.set_bytes(digest_cache_->bytes());
  r.set_entries(digest_cache_->entries());
  r.set_hits(digest_cache_->hits());
  r.set_misses(digest_cache_->misses());
  r.set_chain_hits(digest_cache_->chain_hits());
  r.set_chain_entries(digest_cache_->chain_entries());
  return r;
}

::grpc::Status RealmMeasurementsServiceImpl::UploadPayload(
    ::grpc::ServerContext* context,
    ::grpc::ServerReader<v1::UploadPayloadRequest>* reader,
    v1::UploadPayloadResponse* response) {
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(expensive_, context, &ticket); !s.ok()) {
    return s;
  }
  v1::UploadPayloadRequest msg;
  if (!reader->Read(&msg)) {
    return Invalid("upload: expected at least one message, found none");
  }
  if (msg.sha256().size() != 32) {
    return Invalid(
        absl::StrCat("sha256 (first message): expected 32 bytes, found ",
                     msg.sha256().size()));
  }
  if (msg.size() > options_.limits.max_payload_bytes) {
    return ::grpc::Status(
        ::grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("size: payload of ", msg.size(),
                     " bytes exceeds the limit of ",
                     options_.limits.max_payload_bytes, " bytes"));
  }
  const std::string sha = msg.sha256();
  absl::StatusOr<std::unique_ptr<PayloadUpload>> up =
      options_.store->BeginPayload(Span(sha), msg.size(), msg.name());
  if (!up.ok()) return ToGrpc(up.status());
  size_t index = 0;
  do {
    if (::grpc::Status e = CheckRequest(msg); !e.ok()) return e;
    if (index > 0 &&
        (!msg.sha256().empty() || msg.size() != 0 || !msg.name().empty())) {
      return Invalid(absl::StrCat("message ", index,
                                  ": sha256, size and name belong in the "
                                  "first message only"));
    }
    if (msg.chunk().size() > kMaxUploadChunk) {
      return Invalid(absl::StrCat("chunk of message ", index,
                                  ": expected at most ", kMaxUploadChunk,
                                  " bytes, found ", msg.chunk().size()));
    }
    if (absl::Status s = (*up)->Append(Span(msg.chunk())); !s.ok()) {
      return ToGrpc(s);
    }
    ++index;
  } while (reader->Read(&msg));
  // A stream that ended because the client went away is not complete, even
  // if the byte count happens to match.
  if (context->IsCancelled()) {
    return ::grpc::Status(::grpc::StatusCode::CANCELLED,
                          "upload cancelled; nothing stored");
  }
  bool present = false;
  absl::StatusOr<PayloadRecord> r = (*up)->Commit(&present);
  if (!r.ok()) return ToGrpc(r.status());
  response->set_sha256(Bytes(r->sha256));
  response->set_size(r->size);
  response->set_already_present(present);
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::ReplayEventLog(
    ::grpc::ServerContext* context, const v1::ReplayEventLogRequest* request,
    v1::ReplayEventLogResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (request->images_size() > kMaxCatalogueImages) {
    return Invalid(absl::StrCat("images: expected at most ",
                                kMaxCatalogueImages, ", found ",
                                request->images_size()));
  }
  if (request->images_size() > 0 && options_.store == nullptr) {
    return NoStore();
  }
  absl::StatusOr<std::optional<measure::RmmVersion>> rmm_version =
      FromProto(request->rmm_version(), "rmm_version");
  if (!rmm_version.ok()) return ToGrpc(rmm_version.status());
  eventlog::ParseOptions popts;
  popts.allow_truncation = request->allow_truncation();
  absl::StatusOr<eventlog::EventLog> log =
      eventlog::Parse(Span(request->event_log()), popts);
  if (!log.ok()) return ToGrpc(log.status(), "event_log");

  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(expensive_, context, &ticket); !s.ok()) {
    return s;
  }
  const measure::CancelCheck cancel = CallCancel(context);

  eventlog::ImageCatalogue catalogue;
  // The catalogue lives in memory: bound its total size.
  uint64_t catalogue_bytes = 0;
  for (int i = 0; i < request->images_size(); ++i) {
    const std::string field = absl::StrCat("images[", i, "]");
    absl::StatusOr<PayloadRecord> r =
        options_.store->GetPayload(Span(request->images(i).sha256()));
    if (!r.ok()) return ToGrpc(r.status(), field);
    catalogue_bytes += r->size;
    if (catalogue_bytes > options_.limits.max_payload_bytes) {
      return ::grpc::Status(
          ::grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("images: catalogue larger than the limit of ",
                       options_.limits.max_payload_bytes, " bytes"));
    }
    std::vector<uint8_t> content;
    content.reserve(r->size);
    absl::Status stopped;
    absl::Status s = measure::Payload::FromFile(r->path).Read(
        [&](absl::Span<const uint8_t> c) {
          stopped = cancel();
          if (!stopped.ok()) return stopped;
          content.insert(content.end(), c.begin(), c.end());
          return absl::OkStatus();
        });
    if (!stopped.ok()) return ToGrpc(stopped);
    if (!s.ok()) return ToGrpc(absl::InternalError(s.message()), field);
    const std::string name =
        r->name.empty() ? HexOf(Span(request->images(i).sha256())) : r->name;
    if (absl::Status a = catalogue.AddImage(name, std::move(content));
        !a.ok()) {
      return ToGrpc(a, field);
    }
  }
  eventlog::ReplayOptions ropts;
  ropts.source = request->source() == v1::LOG_SOURCE_FIRMWARE
                     ? eventlog::LogSource::kFirmware
                     : eventlog::LogSource::kVmm;
  if (absl::Status s = cancel(); !s.ok()) return ToGrpc(s);
  ropts.rmm_version = rmm_version->value_or(measure::RmmVersion::k1_0);
  response->set_rmm_version(ToProto(ropts.rmm_version));
  eventlog::Replayer replayer(&catalogue);
  if (absl::Status s = replayer.Replay(*log, ropts); !s.ok()) {
    return ToGrpc(s, "replay");
  }
  if (const measure::Engine* e = replayer.engine()) {
    const size_t n = measure::HashSize(e->hash_algorithm());
    response->set_hash_algorithm(ToProto(e->hash_algorithm()));
    response->set_rim(Bytes(absl::MakeConstSpan(e->rim()).first(n)));
    for (int i = 0; i < 4; ++i) {
      response->add_rems(Bytes(absl::MakeConstSpan(e->rem(i)).first(n)));
    }
  }
  for (const eventlog::ReportEntry& r : replayer.report()) {
    v1::ReplayedEvent* e = response->add_events();
    e->set_event(r.event);
    e->set_offset(r.offset);
    e->set_index(r.index);
    e->set_type(r.type);
    e->set_target_register(ToProto(r.reg));
    e->set_action(r.action);
    e->set_digest(r.digest);
    switch (r.match) {
      case eventlog::CatalogueMatch::kNotApplicable:
        e->set_match(v1::CATALOGUE_MATCH_NOT_APPLICABLE);
        break;
      case eventlog::CatalogueMatch::kVerified:
        e->set_match(v1::CATALOGUE_MATCH_VERIFIED);
        break;
      case eventlog::CatalogueMatch::kUnverified:
        e->set_match(v1::CATALOGUE_MATCH_UNVERIFIED);
        break;
    }
    e->set_image(r.image);
    e->set_value_after(r.value_after);
  }
  response->set_report_text(replayer.FormatReport());
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::ExportEndorsements(
    ::grpc::ServerContext* context,
    const v1::ExportEndorsementsRequest* request,
    v1::ExportEndorsementsResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  corim::ReferenceValues values;
  switch (request->source_case()) {
    case v1::ExportEndorsementsRequest::kInlineSet: {
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), "realm-measurements");
      if (!v.ok()) return ToGrpc(v.status());
      values = std::move(*v);
      break;
    }
    case v1::ExportEndorsementsRequest::kStoredSet: {
      ::grpc::Status st =
          LoadStoredSet(options_.store, request->stored_set(), &values);
      if (!st.ok()) return st;
      break;
    }
    default:
      return Invalid("source: expected inline_set or stored_set");
  }
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;

  auto single_comid = [&]() -> absl::StatusOr<const corim::Comid*> {
    if (values.comids.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "format: a CoMID format needs a set with exactly one CoMID, found ",
          values.comids.size(), " (export a CoRIM instead)"));
    }
    return &values.comids[0];
  };
  absl::StatusOr<corim::EncodedObject> out =
      absl::InvalidArgumentError("format: expected an EndorsementFormat");
  const v1::EndorsementFormat f = request->format();
  const corim::Profile profile =
      (f == v1::ENDORSEMENT_FORMAT_COMID_LEGACY ||
       f == v1::ENDORSEMENT_FORMAT_CORIM_LEGACY_UNSIGNED ||
       f == v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024)
          ? corim::Profile::kCcaRealmLegacy
          : corim::Profile::kCcaRealm2025;
  switch (f) {
    case v1::ENDORSEMENT_FORMAT_COMID_2025:
    case v1::ENDORSEMENT_FORMAT_COMID_LEGACY:
    case v1::ENDORSEMENT_FORMAT_CORIM_JSON_2026:
    case v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024: {
      absl::StatusOr<const corim::Comid*> c = single_comid();
      if (!c.ok()) return ToGrpc(c.status());
      const bool json = f == v1::ENDORSEMENT_FORMAT_CORIM_JSON_2026 ||
                        f == v1::ENDORSEMENT_FORMAT_COCLI_JSON_2024;
      out = json ? corim::EncodeComidJson(**c, profile)
                 : corim::EncodeComid(**c, profile);
      break;
    }
    case v1::ENDORSEMENT_FORMAT_CORIM_2025_UNSIGNED:
    case v1::ENDORSEMENT_FORMAT_CORIM_LEGACY_UNSIGNED:
      out = corim::EncodeCorim(values, profile);
      break;
    case v1::ENDORSEMENT_FORMAT_CORIM_2025_SIGNED: {
      const v1::CorimSigner& s = request->signer();
      if (s.key_pem().empty() || s.chain_pem().empty()) {
        return Invalid("signer: a signed CoRIM needs key_pem and chain_pem");
      }
      out = internal::SignCorimWithPem(
          values, profile, s.key_pem(), s.chain_pem(),
          s.signer_name().empty() ? "realm-measurements" : s.signer_name());
      break;
    }
    default:
      break;
  }
  if (!out.ok()) return ToGrpc(out.status());
  response->set_content(Bytes(out->bytes));
  response->set_media_type(out->media_type);
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::ProvisionReferenceValues(
    ::grpc::ServerContext* context,
    const v1::ProvisionReferenceValuesRequest* request,
    v1::ProvisionReferenceValuesResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  ReferenceSetRecord record;
  record.name = request->name();
  switch (request->source_case()) {
    case v1::ProvisionReferenceValuesRequest::kCorim: {
      absl::StatusOr<corim::DecodedCorim> d =
          corim::DecodeCorim(Span(request->corim()));
      if (!d.ok()) return ToGrpc(d.status(), "corim");
      record.corim = Vec(request->corim());
      record.profile = ToProto(d->profile);
      record.realm_count = corim::FlattenReferenceValues(d->values).size();
      break;
    }
    case v1::ProvisionReferenceValuesRequest::kInlineSet: {
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), request->name());
      if (!v.ok()) return ToGrpc(v.status());
      absl::StatusOr<corim::EncodedObject> e =
          corim::EncodeCorim(*v, corim::Profile::kCcaRealm2025);
      if (!e.ok()) return ToGrpc(e.status(), "inline_set");
      record.corim = std::move(e->bytes);
      record.profile = v1::CORIM_PROFILE_CCA_REALM_2025;
      record.realm_count = corim::FlattenReferenceValues(*v).size();
      break;
    }
    default:
      return Invalid("source: expected corim or inline_set");
  }
  absl::StatusOr<ReferenceSetRecord> r =
      options_.store->PutReferenceSet(std::move(record), request->replace());
  if (!r.ok()) return ToGrpc(r.status());
  ToProto(*r, response->mutable_set());
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::ListReferenceValues(
    ::grpc::ServerContext* context,
    const v1::ListReferenceValuesRequest* request,
    v1::ListReferenceValuesResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  absl::StatusOr<std::vector<ReferenceSetRecord>> all =
      options_.store->ListReferenceSets();
  if (!all.ok()) return ToGrpc(all.status());
  for (const ReferenceSetRecord& r : *all) ToProto(r, response->add_sets());
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::DeleteReferenceValues(
    ::grpc::ServerContext* context,
    const v1::DeleteReferenceValuesRequest* request,
    v1::DeleteReferenceValuesResponse* /*response*/) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (options_.store == nullptr) return NoStore();
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  return ToGrpc(options_.store->DeleteReferenceSet(request->name()));
}

::grpc::Status RealmMeasurementsServiceImpl::VerifyToken(
    ::grpc::ServerContext* context, const v1::VerifyTokenRequest* request,
    v1::VerifyTokenResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  absl::StatusOr<TokenInputs> in = DecodeTokenInputs(
      request->token(), request->cpak(), request->nonce(), request->strict());
  if (!in.ok()) return ToGrpc(in.status());
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;
  corim::VerifyOptions opts;
  opts.cpak = in->cpak.has_value() ? &*in->cpak : nullptr;
  opts.nonce = in->nonce;
  opts.strict = request->strict();
  ToProto(corim::VerifyCcaToken(in->token, opts), response);
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::AppraiseToken(
    ::grpc::ServerContext* context, const v1::AppraiseTokenRequest* request,
    v1::AppraiseTokenResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  absl::StatusOr<TokenInputs> in = DecodeTokenInputs(
      request->token(), request->cpak(), request->nonce(), request->strict());
  if (!in.ok()) return ToGrpc(in.status());
  std::vector<corim::RealmReferenceValue> refs;
  switch (request->reference_values_case()) {
    case v1::AppraiseTokenRequest::kInlineSet: {
      absl::StatusOr<corim::ReferenceValues> v =
          FromProto(request->inline_set(), "inline");
      if (!v.ok()) return ToGrpc(v.status());
      refs = corim::FlattenReferenceValues(*v);
      break;
    }
    case v1::AppraiseTokenRequest::kStoredSet: {
      corim::ReferenceValues values;
      ::grpc::Status st =
          LoadStoredSet(options_.store, request->stored_set(), &values);
      if (!st.ok()) return st;
      refs = corim::FlattenReferenceValues(values);
      break;
    }
    case v1::AppraiseTokenRequest::kCorim: {
      absl::StatusOr<corim::DecodedCorim> d =
          corim::DecodeCorim(Span(request->corim()));
      if (!d.ok()) return ToGrpc(d.status(), "corim");
      refs = corim::FlattenReferenceValues(d->values);
      break;
    }
    default:
      return Invalid(
          "reference_values: expected inline_set, stored_set or corim");
  }
  std::optional<internal::AdmissionClass::Ticket> ticket;
  if (::grpc::Status s = Admit(cheap_, context, &ticket); !s.ok()) return s;

  corim::AppraisalOptions opts;
  opts.verify.cpak = in->cpak.has_value() ? &*in->cpak : nullptr;
  opts.verify.nonce = in->nonce;
  opts.verify.strict = request->strict();
  opts.require_hash_algorithm_match = request->require_hash_algorithm_match();
  corim::AppraisalResult result =
      corim::AppraiseCcaToken(in->token, refs, opts);

  corim::EarOptions ear;
  ear.issued_at = static_cast<int64_t>(std::time(nullptr));
  ear.nonce = in->nonce;
  const std::string json = corim::EarToJson(in->token, result, ear);
  response->set_ear_json(json);
  if (options_.ear_key != nullptr) {
    absl::StatusOr<std::string> jwt =
        corim::SignEarJwt(json, *options_.ear_key);
    if (!jwt.ok()) return ToGrpc(jwt.status(), "EAR signing");
    response->set_ear_jwt(*jwt);
  }
  ToProto(result.platform.vector, response->mutable_platform());
  ToProto(result.realm.vector, response->mutable_realm());
  response->set_platform_status(corim::TierName(result.platform.status()));
  response->set_realm_status(corim::TierName(result.realm.status()));
  response->set_affirms(result.affirms());
  for (const corim::CandidateReport& c : result.candidates) {
    v1::CandidateReport* out = response->add_candidates();
    out->set_index(c.index);
    out->set_executables(c.executables);
    for (const corim::FieldMatch& f : c.fields) {
      v1::FieldMatch* fm = out->add_fields();
      fm->set_field(f.field);
      switch (f.outcome) {
        case corim::FieldOutcome::kMatch:
          fm->set_outcome(v1::FIELD_OUTCOME_MATCH);
          break;
        case corim::FieldOutcome::kMismatch:
          fm->set_outcome(v1::FIELD_OUTCOME_MISMATCH);
          break;
        case corim::FieldOutcome::kNotSupplied:
          fm->set_outcome(v1::FIELD_OUTCOME_NOT_SUPPLIED);
          break;
      }
      fm->set_expected(f.expected);
      fm->set_found(f.found);
    }
  }
  if (result.matched.has_value()) {
    response->set_has_matched(true);
    response->set_matched(*result.matched);
  }
  ToProto(result.verification, response->mutable_verification());
  response->set_report_json(corim::AppraisalToJson(in->token, result, ear));
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
       options.max_connection_age_grace_ms}};
  auto service =
      std::make_unique<RealmMeasurementsServiceImpl>(std::move(options));
  if (guard.metrics != nullptr) {
    RealmMeasurementsServiceImpl* impl = service.get();
    guard.metrics->SetCounterSource([impl] {
      const v1::GetMeasurementCacheStatsResponse r = impl->CacheStats();
      return std::vector<std::pair<std::string, double>>{
          {"digest_cache_hits_total", static_cast<double>(r.hits())},
          {"digest_cache_misses_total", static_cast<double>(r.misses())}};
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
  if (metrics_ != nullptr) metrics_->SetCounterSource(nullptr);
}

}  // namespace realm_measurements::service
