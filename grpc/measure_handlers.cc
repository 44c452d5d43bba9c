// File: grpc/measure_handlers.cc
//
// ComputeMeasurements, SweepMeasurements, GetMeasurementCacheStats and
// UploadPayload: proto <-> measure:: adapters (conversions in
// grpc/internal/convert.h).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/crypto.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/handler_support.h"
#include "grpc/service.h"
#include "measure/digest_cache.h"
#include "measure/engine.h"
#include "measure/granule_hasher.h"
#include "measure/host_caps.h"
#include "measure/realm_config.h"
#include "measure/sweep.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::service {
namespace {

using internal::Admit;
using internal::Bytes;
using internal::CallCancel;
using internal::CheckRequest;
using internal::FromProto;
using internal::Invalid;
using internal::NoStore;
using internal::Span;
using internal::ToGrpc;
using internal::ToProto;

// Request bounds beyond the message size (robustness: no unbounded work).
constexpr int kMaxVmmArgs = 1024;
constexpr size_t kMaxVmmArgBytes = 4096;
constexpr int kMaxHostCapsDocs = 16;
// Sweeps: every entry carries a whole ComputeMeasurementsResponse (DTB and
// layout included), so a call is bounded well below the CLI's 4096 shapes;
// the response size is checked against max_message_bytes as well.
constexpr size_t kMaxGrpcSweepShapes = 256;
constexpr int kMaxSweepAxes = 16;

}  // namespace

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
  over.rmm_version = FromProto(request->rmm_version());
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

}  // namespace realm_measurements::service
