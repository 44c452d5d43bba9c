// File: grpc/measure_handlers.cc
//
// ComputeMeasurements, SweepMeasurements, GetMeasurementCacheStats and
// UploadPayload: proto <-> measure:: adapters (conversions in
// grpc/internal/convert.h).
#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/crypto.h"
#include "eventlog/compare.h"
#include "eventlog/parser.h"
#include "google/protobuf/io/coded_stream.h"
#include "grpc/internal/convert.h"
#include "grpc/internal/handler_support.h"
#include "grpc/service.h"
#include "measure/digest_cache.h"
#include "measure/engine.h"
#include "measure/granule_hasher.h"
#include "measure/host_caps.h"
#include "measure/measure.h"
#include "measure/rim_search.h"
#include "measure/sweep.h"
#include "measure/sweep_runner.h"
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
  return Compute(context, *request, nullptr, nullptr, nullptr, response);
}

::grpc::Status RealmMeasurementsServiceImpl::Compute(
    ::grpc::ServerContext* context, const v1::ComputeMeasurementsRequest& req,
    const std::vector<std::string>* vmm_args, measure::GranuleHasher* hasher,
    measure::ChainBatch* batch, v1::ComputeMeasurementsResponse* response) {
  const v1::ComputeMeasurementsRequest* request = &req;
  measure::MeasureRequest m;
  measure::VmmKind kind;
  switch (request->vmm()) {
    case v1::VMM_KVMTOOL:
      kind = measure::VmmKind::kKvmtool;
      break;
    case v1::VMM_QEMU:
      kind = measure::VmmKind::kQemu;
      break;
    case v1::VMM_CLOUD_HYPERVISOR:
      kind = measure::VmmKind::kCloudHv;
      break;
    default:
      return Invalid(absl::StrCat(
          "vmm: expected KVMTOOL, QEMU or CLOUD_HYPERVISOR, found ",
          static_cast<int>(request->vmm())));
  }
  m.model = measure::ModelOf(kind);
  m.vmm_name = v1::Vmm_Name(request->vmm());
  if (request->vmm_args_size() > kMaxVmmArgs) {
    return Invalid(absl::StrCat("vmm_args: expected at most ", kMaxVmmArgs,
                                " arguments, found ",
                                request->vmm_args_size()));
  }
  // A sweep passes the substituted arguments (placeholders can grow them).
  m.vmm_args = vmm_args != nullptr
                   ? *vmm_args
                   : std::vector<std::string>(request->vmm_args().begin(),
                                              request->vmm_args().end());
  for (size_t i = 0; i < m.vmm_args.size(); ++i) {
    if (m.vmm_args[i].size() > kMaxVmmArgBytes) {
      return Invalid(absl::StrCat("vmm_args[", i, "]: expected at most ",
                                  kMaxVmmArgBytes, " bytes, found ",
                                  m.vmm_args[i].size()));
    }
  }
  if (request->host_caps_toml_size() > kMaxHostCapsDocs) {
    return Invalid(absl::StrCat("host_caps_toml: expected at most ",
                                kMaxHostCapsDocs, " documents, found ",
                                request->host_caps_toml_size()));
  }

  // compare_log: parsed before any work, with the CLI's limits.
  std::optional<eventlog::EventLog> compare_log;
  if (!request->compare_log().empty()) {
    eventlog::ParseOptions limits;
    if (request->compare_log().size() > limits.max_log_size) {
      return Invalid(absl::StrCat("compare_log: expected at most ",
                                  limits.max_log_size, " bytes, found ",
                                  request->compare_log().size()));
    }
    absl::StatusOr<eventlog::EventLog> log =
        eventlog::Parse(Span(request->compare_log()), limits);
    if (!log.ok()) return ToGrpc(log.status(), "compare_log");
    compare_log = *std::move(log);
  }
  // find_rim: a RIM's length, before any work.
  const std::string& find_rim = request->find_rim();
  if (!find_rim.empty()) {
    if (find_rim.size() != 32 && find_rim.size() != 48 &&
        find_rim.size() != 64) {
      return Invalid(absl::StrCat(
          "find_rim: expected 32, 48 or 64 bytes (the token's RIM), found ",
          find_rim.size()));
    }
    if (compare_log.has_value()) {
      return Invalid(
          "find_rim and compare_log: expected at most one of them (the log "
          "shows the step that differs; find_rim is for when there is none)");
    }
  }
  if (request->find_rim_pairs() && find_rim.empty()) {
    return Invalid("find_rim_pairs: expected find_rim with it");
  }

  // Host capabilities: configs restrict, overrides update (spec-core §5.3).
  for (int i = 0; i < request->host_caps_toml_size(); ++i) {
    m.host_caps.push_back({absl::StrCat("host_caps_toml[", i, "]"),
                           std::nullopt, request->host_caps_toml(i)});
  }
  // Everything a front end checks between the steps of the flow answers
  // with its own gRPC status (`hook`); Measure returns it as `kHook`.
  ::grpc::Status hook = ::grpc::Status::OK;
  const absl::Status kHook = absl::AbortedError("compute hook");
  // Out-of-range overrides are reported after the documents were parsed
  // (before_build), as they always were.
  const v1::HostCapsOverrides& o = request->overrides();
  ::grpc::Status bad_override = ::grpc::Status::OK;
  auto small = [&](const char* field, uint32_t v, uint32_t max) {
    if (v > max && bad_override.ok()) {
      bad_override = Invalid(absl::StrCat("overrides.", field, ": expected 0..",
                                          max, ", found ", v));
    }
    return bad_override.ok();
  };
  if (o.has_ipa_bits() && small("ipa_bits", o.ipa_bits(), 255)) {
    m.overrides.ipa_bits = o.ipa_bits();
  }
  if (bad_override.ok() && o.has_num_bps() &&
      small("num_bps", o.num_bps(), 255)) {
    m.overrides.num_bps = o.num_bps();
  }
  if (bad_override.ok() && o.has_num_wps() &&
      small("num_wps", o.num_wps(), 255)) {
    m.overrides.num_wps = o.num_wps();
  }
  if (bad_override.ok() && o.has_sve_vl() &&
      small("sve_vl", o.sve_vl(), 65535)) {
    m.overrides.sve_vl = o.sve_vl();
  }
  if (bad_override.ok() && o.has_pmu_num_ctrs() &&
      small("pmu_num_ctrs", o.pmu_num_ctrs(), 255)) {
    m.overrides.pmu_num_ctrs = o.pmu_num_ctrs();
  }
  if (bad_override.ok()) {
    if (o.has_pmu()) m.overrides.pmu = o.pmu();
    if (o.has_lpa2()) m.overrides.lpa2 = o.lpa2();
    m.overrides.rmm_version = FromProto(request->rmm_version());
  }
  // A bad override is reported instead of the overrides' Update.
  if (!bad_override.ok()) m.overrides = measure::HostCaps();

  // Payload files are named by digest in errors, not by the server's path.
  std::vector<std::pair<std::string, std::string>> scrub;
  // The stored payloads' paths as resolved for this call (find_rim's tries
  // use them again).
  std::array<std::optional<std::string>, 5> resolved;
  std::optional<internal::AdmissionClass::Ticket> ticket;
  m.before_build = [&](measure::VmmInputs& inputs) -> absl::Status {
    if (!bad_override.ok()) {
      hook = bad_override;
      return kHook;
    }
    const std::pair<const v1::PayloadRef*, std::optional<std::string>*> refs[] =
        {{&request->kernel(), &inputs.kernel},
         {&request->initrd(), &inputs.initrd},
         {&request->firmware(), &inputs.firmware},
         {&request->dtb(), &inputs.dtb},
         {&request->dtb_template(), &inputs.dtb_template}};
    const char* const names[] = {"kernel", "initrd", "firmware", "dtb",
                                 "dtb_template"};
    for (int i = 0; i < 5; ++i) {
      if (refs[i].first->sha256().empty()) continue;
      if (options_.store == nullptr) {
        hook = NoStore();
        return kHook;
      }
      absl::StatusOr<std::string> path = PayloadPath(*refs[i].first, names[i]);
      if (!path.ok()) {
        hook = ToGrpc(path.status());
        return kHook;
      }
      *refs[i].second = *path;
      resolved[i] = *path;
      scrub.push_back(
          {*path, absl::StrCat("payload sha256:",
                               HexOf(Span(refs[i].first->sha256())))});
    }
    if (request->has_dtb() && request->has_dtb_template()) {
      hook = Invalid("dtb and dtb_template: expected at most one of them");
      return kHook;
    }
    // A sweep holds one slot for all its shapes.
    if (hasher == nullptr) {
      if (::grpc::Status s = Admit(expensive_, context, &ticket); !s.ok()) {
        hook = s;
        return kHook;
      }
    }
    return absl::OkStatus();
  };
  // find_rim's tries run on one hashing pool with the first run (a sweep
  // brings its own; other calls get Measure's temporary one).
  std::optional<measure::GranuleHasher> search_hasher;
  measure::GranuleHasher* pool = hasher;
  if (!find_rim.empty() && pool == nullptr) pool = &search_hasher.emplace();
  // Gzip kernels, granules and the blob digests stop when the call is
  // cancelled or its deadline passes. The long-lived digest cache: requests
  // over the same stored payload (content-addressed, never rewritten) reuse
  // its granule digests.
  m.options.hasher = pool;
  m.options.chain_batch = batch;
  m.options.cache = digest_cache_.get();
  m.options.cancel = CallCancel(context);
  m.layout_digests = true;
  // compare_log: the computed side, each image hashed once more with the
  // realm's algorithm beside the measurement (stopped like the rest on
  // cancellation).
  eventlog::ExpectedRealm expected;
  if (compare_log.has_value())
    m.beside = eventlog::ExpectedRealmBeside(&expected);

  absl::StatusOr<measure::MeasureResult> result = measure::Measure(m);
  if (!result.ok()) {
    if (!hook.ok()) return hook;
    const absl::Status& s = result.status();
    auto clean = [&](const absl::Status& s) {
      std::string msg(s.message());
      for (const auto& [path, name] : scrub) {
        absl::StrReplaceAll({{path, name}}, &msg);
      }
      return absl::Status(s.code(), msg);
    };
    std::optional<measure::MeasureFailure> f = measure::MeasureFailureOf(s);
    switch (f.has_value() ? f->stage : measure::MeasureStage::kReport) {
      case measure::MeasureStage::kHostCaps:
        return ToGrpc(s);
      case measure::MeasureStage::kRestrict:
        return ToGrpc(s, f->document);
      case measure::MeasureStage::kOverrides:
        return ToGrpc(s, "overrides");
      case measure::MeasureStage::kBuild:
        return ToGrpc(clean(s), "cannot build parameters");
      case measure::MeasureStage::kMeasure:
        return ToGrpc(clean(s), "failed to compute measurements");
      case measure::MeasureStage::kReport:
        return ToGrpc(clean(s));
    }
  }

  const measure::Measurements& values = *result->measurements;
  const size_t n = measure::HashSize(values.hash_algorithm);
  response->set_rmm_version(ToProto(values.rmm_version));
  response->set_hash_algorithm(ToProto(values.hash_algorithm));
  response->set_vmm_behaviour(std::string(measure::ModelBehaviour(kind)));
  response->set_rim(Bytes(absl::MakeConstSpan(values.rim).first(n)));
  for (const measure::Measurement& r : values.rem) {
    response->add_rems(Bytes(absl::MakeConstSpan(r).first(n)));
  }
  response->set_personalization_value(Bytes(result->personalization_value));
  const measure::RealmCreateParams& p = result->parameters;
  v1::RealmParameters* rp = response->mutable_parameters();
  rp->set_ipa_bits(p.ipa_bits);
  rp->set_num_bps(p.num_bps);
  rp->set_num_wps(p.num_wps);
  rp->set_sve_vl(p.sve_vl);
  rp->set_pmu(p.pmu);
  rp->set_pmu_num_ctrs(p.pmu_num_ctrs);
  rp->set_lpa2(p.lpa2);

  const measure::MeasureLayout& l = result->layout;
  v1::Layout* layout = response->mutable_layout();
  for (const measure::MeasureLayout::Range& r : l.ram) {
    v1::MemoryRange* out = layout->add_ram();
    out->set_base(r.base);
    out->set_size(r.size);
  }
  for (const measure::MeasureLayout::Blob& b : l.blobs) {
    v1::LayoutBlob* out = layout->add_blobs();
    out->set_name(b.name);
    out->set_ipa(b.ipa);
    out->set_size(b.size);
    out->set_into(b.rem < 0
                      ? v1::REGISTER_RIM
                      : static_cast<v1::Register>(v1::REGISTER_REM0 + b.rem));
    if (!b.measured) continue;
    out->set_load_size(b.load_size);
    out->set_measured(true);
    if (b.sha256.has_value()) out->set_sha256(Bytes(*b.sha256));
  }
  if (l.rec.has_value()) {
    layout->set_has_rec(true);
    layout->set_rec_pc(l.rec->pc);
    for (uint64_t gpr : l.rec->gprs) layout->add_rec_gprs(gpr);
  }
  if (result->dtb.has_value()) {
    layout->set_has_dtb(true);
    if (l.dtb_address.has_value()) layout->set_dtb_address(*l.dtb_address);
    response->set_dtb(Bytes(*result->dtb));
  }
  for (const std::string& w : result->warnings) response->add_warnings(w);
  if (compare_log.has_value()) {
    expected.params = result->parameters;
    // Hints name the image's source: a payload by digest, not its path.
    auto name = [&](std::string& source) {
      for (const auto& [path, scrubbed] : scrub) {
        if (source == path) source = scrubbed;
      }
    };
    for (eventlog::ExpectedRealm::Blob& b : expected.rim_blobs) name(b.source);
    for (auto& [rem, b] : expected.rem_blobs) name(b.source);
    absl::StatusOr<eventlog::LogComparison> c =
        eventlog::CompareWithLog(*compare_log, expected);
    if (!c.ok()) return ToGrpc(c.status(), "compare_log");
    v1::LogComparison* out = response->mutable_log_comparison();
    out->set_vmm(c->vmm);
    out->set_algorithm(c->algorithm);
    out->set_same(!c->first_difference.has_value());
    if (c->first_difference.has_value()) {
      out->set_first_difference(
          static_cast<uint32_t>(*c->first_difference + 1));
    }
    for (const eventlog::StepComparison& step : c->steps) {
      v1::LogComparisonStep* st = out->add_steps();
      st->set_step(step.step);
      st->set_same(step.same);
      st->set_computed(step.expected);
      st->set_logged(step.logged);
      if (step.event.has_value()) {
        st->set_has_event(true);
        st->set_event(*step.event);
        st->set_offset(*step.offset);
      }
      for (const std::string& d : step.differences) st->add_differences(d);
      st->set_decided_by(step.hint);
    }
  }
  if (!find_rim.empty()) {
    // The tries: the same request with the paths resolved above, under the
    // admission slot this call holds; their errors only count as refused.
    measure::MeasureRequest tries = m;
    tries.before_build = [&resolved](measure::VmmInputs& inputs) {
      std::optional<std::string>* const to[] = {&inputs.kernel, &inputs.initrd,
                                                &inputs.firmware, &inputs.dtb,
                                                &inputs.dtb_template};
      for (size_t i = 0; i < resolved.size(); ++i) {
        if (resolved[i].has_value()) *to[i] = resolved[i];
      }
      return absl::OkStatus();
    };
    absl::StatusOr<measure::RimSearchResult> found =
        measure::SearchRim(tries, *result, Span(find_rim),
                           {pool->threads(), request->find_rim_pairs()});
    if (!found.ok()) return ToGrpc(found.status(), "find_rim");
    v1::RimSearch* out = response->mutable_rim_search();
    using Verdict = measure::RimSearchResult::Verdict;
    switch (found->verdict) {
      case Verdict::kSame:
        out->set_result(v1::RIM_SEARCH_RESULT_SAME);
        break;
      case Verdict::kFound:
        out->set_result(v1::RIM_SEARCH_RESULT_FOUND);
        break;
      case Verdict::kNone:
        out->set_result(v1::RIM_SEARCH_RESULT_NONE);
        break;
      case Verdict::kOtherAlgorithm:
        out->set_result(v1::RIM_SEARCH_RESULT_OTHER_ALGORITHM);
        break;
    }
    for (const measure::RimSearchCandidate& c : found->matches) {
      v1::RimSearchMatch* match = out->add_matches();
      match->set_option(c.option);
      const measure::HostCaps& h = c.change;
      v1::HostCapsOverrides* o = match->mutable_overrides();
      if (h.ipa_bits.has_value()) o->set_ipa_bits(*h.ipa_bits);
      if (h.num_bps.has_value()) o->set_num_bps(*h.num_bps);
      if (h.num_wps.has_value()) o->set_num_wps(*h.num_wps);
      if (h.sve_vl.has_value()) o->set_sve_vl(*h.sve_vl);
      if (h.pmu.has_value()) o->set_pmu(*h.pmu);
      if (h.pmu_num_ctrs.has_value()) o->set_pmu_num_ctrs(*h.pmu_num_ctrs);
      if (h.lpa2.has_value()) o->set_lpa2(*h.lpa2);
      if (h.rmm_version.has_value()) {
        match->set_rmm_version(ToProto(*h.rmm_version));
      }
    }
    out->set_tried(static_cast<uint32_t>(found->tried));
    out->set_refused(static_cast<uint32_t>(found->refused));
    out->set_tried_pairs(static_cast<uint32_t>(found->tried_pairs));
  }
  return ::grpc::Status::OK;
}

::grpc::Status RealmMeasurementsServiceImpl::SweepMeasurements(
    ::grpc::ServerContext* context, const v1::SweepMeasurementsRequest* request,
    v1::SweepMeasurementsResponse* response) {
  if (::grpc::Status e = CheckRequest(*request); !e.ok()) return e;
  if (!request->base().compare_log().empty()) {
    return Invalid(
        "base.compare_log: expected empty: a log records one realm, a sweep "
        "measures many (ComputeMeasurements compares one)");
  }
  if (!request->base().find_rim().empty() || request->base().find_rim_pairs()) {
    return Invalid(
        "base.find_rim: expected empty: ComputeMeasurements searches around "
        "one realm");
  }
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
  // One hashing pool for the whole sweep and the server's digest cache: the
  // first shape runs alone and fills it, then the others run concurrently
  // with their RIM chains in lockstep (measure/sweep_runner.h). Entries
  // exist before any shape runs, so each one writes only its own.
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
  }
  std::vector<::grpc::Status> status(n);
  // The response grows by each shape's result; past the limit no further
  // shape starts (the in-order check below names where it was crossed).
  const size_t max_bytes =
      static_cast<size_t>(options_.limits.max_message_bytes);
  std::atomic<size_t> bytes{response->ByteSizeLong()};
  auto run = [&](size_t i, measure::ChainBatch* batch) {
    v1::ComputeMeasurementsResponse* result =
        response->mutable_entries(static_cast<int>(i))->mutable_result();
    status[i] = Compute(context, request->base(), &(*expanded)[i].vmm_args,
                        &hasher, batch, result);
    return status[i].ok() && (bytes += result->ByteSizeLong()) <= max_bytes;
  };
  if (run(0, nullptr) && n > 1) {
    measure::RunRemainingShapes(
        n, hasher.threads(),
        internal::MeasureHashFromProto(
            response->entries(0).result().hash_algorithm())
            .value_or(measure::HashAlgorithm::kSha256),
        run);
  }
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const measure::SweepShape& shape = (*expanded)[i];
    if (!status[i].ok()) {
      return ::grpc::Status(status[i].error_code(),
                            absl::StrCat("sweep: shape ", i + 1, "/", n, " (",
                                         measure::SweepParamsText(shape.params),
                                         "): ", status[i].error_message()));
    }
    // The response's bytes up to entry i: each entry with its field tag
    // (entries = 1: one byte) and length prefix.
    const size_t entry = response->entries(static_cast<int>(i)).ByteSizeLong();
    total += 1 +
             ::google::protobuf::io::CodedOutputStream::VarintSize64(entry) +
             entry;
    if (total > max_bytes) {
      return ::grpc::Status(::grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat("sweep: the response exceeds ",
                                         max_bytes, " bytes after shape ",
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
