#include "measure/measure.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "measure/digest_cache.h"
#include "measure/payload.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"

namespace realm_measurements::measure {
namespace {

constexpr char kStagePayload[] = "realm_measurements/measure_stage";

// `s` with its stage (and document) attached; the message is unchanged.
absl::Status AtStage(absl::Status s, MeasureStage stage,
                     absl::string_view document = "") {
  s.SetPayload(kStagePayload, absl::Cord(absl::StrCat(static_cast<int>(stage),
                                                      ":", document)));
  return s;
}

// The warnings for --hash-algo / config hash_algo disagreeing with the
// algorithm the VMM arguments select: those never choose it
// (deviations.md), so say so.
void AddHashAlgoWarnings(const std::optional<std::string>& option,
                         const std::optional<std::string>& config_hash_algo,
                         HashAlgorithm selected,
                         std::vector<std::string>& warnings) {
  const std::string vmm = HashAlgorithmName(selected);
  if (option && *option != vmm) {
    warnings.push_back(absl::StrCat("--hash-algo ", *option,
                                    " is ignored: the VMM arguments select ",
                                    vmm));
  }
  if (config_hash_algo) {
    // The TOML spellings are the reference's two variants (host_caps.cc).
    const std::string cfg =
        *config_hash_algo == "RmiHashSha512" ? "sha512" : "sha256";
    if (cfg != vmm) {
      warnings.push_back(absl::StrCat("config hash_algo ", *config_hash_algo,
                                      " is ignored: the VMM arguments select ",
                                      vmm));
    }
  }
}

// SHA-256 of a payload's content, polling `cancel` per chunk. With a cache,
// a file's digest is kept under the identity of the descriptor it is read
// from: the shapes of a sweep and repeated server requests over the same
// payloads hash each once.
absl::StatusOr<std::array<uint8_t, 32>> Sha256Of(const Payload& p,
                                                 DigestCache* cache,
                                                 const CancelCheck& cancel) {
  std::array<uint8_t, 32> out;
  absl::StatusOr<crypto::Digest> d =
      crypto::Digest::Create(crypto::DigestAlgorithm::kSha256);
  if (!d.ok()) return d.status();
  absl::StatusOr<Payload::Reader> r = p.Open();
  if (!r.ok()) return r.status();
  std::optional<DigestKey> key;
  if (cache != nullptr && !r->file_identity().empty()) {
    key = DigestKey{r->file_identity(), 0, HashAlgorithm::kSha256, true};
    if (std::shared_ptr<const GranuleDigests> hit = cache->Find(*key);
        hit != nullptr && hit->size() == out.size()) {
      std::copy(hit->begin(), hit->end(), out.begin());
      return out;
    }
  }
  if (const std::vector<uint8_t>* bytes = p.bytes(); bytes != nullptr) {
    if (absl::Status s = d->Update(*bytes); !s.ok()) return s;
  } else {
    std::vector<uint8_t> buf(1 << 20);
    for (;;) {
      if (absl::Status stop = PollCancel(cancel); !stop.ok()) return stop;
      absl::StatusOr<size_t> n = r->Read(absl::MakeSpan(buf));
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      if (absl::Status s = d->Update(absl::MakeConstSpan(buf.data(), *n));
          !s.ok()) {
        return s;
      }
    }
  }
  absl::StatusOr<std::vector<uint8_t>> h = d->Finish();
  if (!h.ok()) return h.status();
  if (h->size() != out.size()) {
    return absl::InternalError(
        absl::StrCat("SHA-256 digest: expected 32 bytes, found ", h->size()));
  }
  std::copy(h->begin(), h->end(), out.begin());
  if (key.has_value()) {
    cache->Insert(*key, std::make_shared<const GranuleDigests>(*std::move(h)));
  }
  return out;
}

absl::StatusOr<MeasureLayout> LayoutOf(const RealmConfig& config, bool digests,
                                       DigestCache* cache,
                                       const CancelCheck& cancel) {
  MeasureLayout layout;
  for (const auto& [base, size] : config.ram()) {
    layout.ram.push_back({base, size});
  }
  auto add = [&](const Blob& b, int rem) -> absl::Status {
    MeasureLayout::Blob out;
    out.name = b.name;
    out.source = b.payload.name();
    out.ipa = b.guest_start;
    out.load_size = b.load_size;
    out.rem = rem;
    absl::StatusOr<uint64_t> size = b.payload.Size();
    if (!size.ok()) return size.status();
    out.size = *size;
    if (digests) {
      absl::StatusOr<std::array<uint8_t, 32>> sha =
          Sha256Of(b.payload, cache, cancel);
      if (!sha.ok()) return sha.status();
      out.sha256 = *sha;
    }
    layout.blobs.push_back(std::move(out));
    return absl::OkStatus();
  };
  for (const auto& [addr, b] : config.rim_blobs()) {
    if (absl::Status s = add(b, -1); !s.ok()) return s;
  }
  for (const auto& [index, b] : config.rem_blobs()) {
    if (absl::Status s = add(b, index); !s.ok()) return s;
  }
  for (const MemoryRange& r : config.rim_unmeasured()) {
    MeasureLayout::Blob out;
    out.name = "unmeasured";
    out.ipa = r.base;
    out.size = r.size;
    out.measured = false;
    layout.blobs.push_back(std::move(out));
  }
  if (config.rec().has_value()) {
    layout.rec = MeasureLayout::Rec{
        config.rec()->pc, std::vector<uint64_t>(config.rec()->gprs.begin(),
                                                config.rec()->gprs.end())};
  }
  layout.dtb_address = config.dtb_address();
  return layout;
}

// A sequential pass over the payloads on its own thread beside the
// measurement: the layout digests (MeasureRequest::layout_digests), which
// after the measurement doubled a JSON run of a large payload (issue 18),
// and MeasureRequest::beside. The work's cancel check also turns non-OK once
// Stop() was called; the destructor stops and joins, so no return path
// leaves it running.
class Beside {
 public:
  Beside(std::function<absl::Status(const CancelCheck&)> work,
         CancelCheck outer)
      : thread_([this, work = std::move(work), outer = std::move(outer)] {
          const CancelCheck cancel = [this, &outer]() -> absl::Status {
            if (stop_.load(std::memory_order_relaxed)) {
              return absl::CancelledError("payload pass stopped");
            }
            return outer ? outer() : absl::OkStatus();
          };
          status_ = work(cancel);
        }) {}
  Beside(const Beside&) = delete;
  Beside& operator=(const Beside&) = delete;
  ~Beside() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }
  void Stop() { stop_.store(true, std::memory_order_relaxed); }
  // Waits for the work and returns its status.
  absl::Status Join() {
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  std::atomic<bool> stop_{false};
  absl::Status status_;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace

VmmModel ModelOf(VmmKind kind) {
  switch (kind) {
    case VmmKind::kQemu:
      return &BuildQemu;
    case VmmKind::kKvmtool:
      return &BuildKvmtool;
    case VmmKind::kCloudHv:
      return &BuildCloudHv;
  }
  return nullptr;
}

absl::string_view ModelBehaviour(VmmKind kind) {
  switch (kind) {
    case VmmKind::kQemu:
      return "QEMU 9.1 virt machine with the rme-guest object "
             "(docs/vmm-qemu.md)";
    case VmmKind::kKvmtool:
      return "kvmtool with Arm CCA (lkvm run --realm) as veraison/"
             "cca-realm-measurements 08aaf5a models it, with kvmtool's IPA "
             "width (docs/vmm-kvmtool.md)";
    case VmmKind::kCloudHv:
      return "cloud-hypervisor with Arm CCA, direct kernel boot, as veraison/"
             "cca-realm-measurements 08aaf5a models it (docs/vmm-cloud-hv.md)";
  }
  return "";
}

std::optional<VmmKind> VmmKindNamed(absl::string_view name) {
  if (name == "qemu") return VmmKind::kQemu;
  if (name == "kvmtool") return VmmKind::kKvmtool;
  if (name == "cloud-hv") return VmmKind::kCloudHv;
  return std::nullopt;
}

std::optional<MeasureFailure> MeasureFailureOf(const absl::Status& status) {
  auto p = status.GetPayload(kStagePayload);
  if (!p.has_value()) return std::nullopt;
  const std::string text(*p);
  const size_t colon = text.find(':');
  int stage = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(text.substr(0, colon), &stage)) {
    return std::nullopt;
  }
  return MeasureFailure{static_cast<MeasureStage>(stage),
                        text.substr(colon + 1)};
}

uint64_t PayloadBytes(const RealmConfig& config) {
  uint64_t total = 0;
  for (const auto& [addr, b] : config.rim_blobs()) {
    if (absl::StatusOr<uint64_t> s = b.payload.Size(); s.ok()) total += *s;
  }
  for (const auto& [index, b] : config.rem_blobs()) {
    if (absl::StatusOr<uint64_t> s = b.payload.Size(); s.ok()) total += *s;
  }
  return total;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          uint64_t limit) {
  Payload p = Payload::FromFile(path);
  absl::StatusOr<uint64_t> size = p.Size();
  if (!size.ok()) return size.status();
  if (*size > limit) {
    return absl::FailedPreconditionError(
        absl::StrCat("file ", path, " error: ", *size,
                     " bytes, more than the limit of ", limit, " bytes"));
  }
  std::string text;
  absl::Status s = p.Read([&](absl::Span<const uint8_t> chunk) -> absl::Status {
    if (text.size() + chunk.size() > limit) {
      return absl::FailedPreconditionError(absl::StrCat(
          "file ", path, " error: larger than the limit of ", limit, " bytes"));
    }
    text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return text;
}

absl::StatusOr<MeasureResult> Measure(const MeasureRequest& request) {
  // Host capabilities: documents restrict, overrides update (§5.3).
  HostCaps caps;
  std::optional<std::string> config_hash_algo;  // the first document's
  for (const HostCapsDocument& doc : request.host_caps) {
    std::string read;
    if (doc.path.has_value()) {
      absl::StatusOr<std::string> text =
          ReadSmallFile(*doc.path, kMaxHostCapsTomlBytes);
      if (!text.ok()) {
        return AtStage(text.status(), MeasureStage::kHostCaps, doc.name);
      }
      read = *std::move(text);
    }
    absl::StatusOr<HostCaps> doc_caps =
        HostCaps::FromToml(doc.path.has_value() ? read : doc.text, doc.name);
    if (!doc_caps.ok()) {
      return AtStage(doc_caps.status(), MeasureStage::kHostCaps, doc.name);
    }
    if (!config_hash_algo && doc_caps->hash_algo) {
      config_hash_algo = *doc_caps->hash_algo;
    }
    if (absl::Status s = caps.Restrict(*doc_caps); !s.ok()) {
      return AtStage(s, MeasureStage::kRestrict, doc.name);
    }
  }
  if (absl::Status s = caps.Update(request.overrides); !s.ok()) {
    return AtStage(s, MeasureStage::kOverrides);
  }
  if (request.debug) {
    request.debug(absl::StrCat("Host config: ", caps.DebugString()));
  }
  if (request.model == nullptr) {
    return AtStage(
        absl::UnimplementedError(absl::StrCat("the ", request.vmm_name,
                                              " model is not implemented yet")),
        MeasureStage::kBuild);
  }
  VmmInputs inputs = request.inputs;
  if (request.before_build) {
    if (absl::Status s = request.before_build(inputs); !s.ok()) return s;
  }
  if (!inputs.cancel) inputs.cancel = request.options.cancel;
  RealmConfig config(caps);
  absl::Status built = request.model(inputs, request.vmm_args, config);
  if (built.ok()) built = config.Validate();
  MeasureResult result;
  result.warnings = config.warnings();
  if (built.ok() && config.hash_algorithm().has_value()) {
    AddHashAlgoWarnings(request.hash_algo_option, config_hash_algo,
                        *config.hash_algorithm(), result.warnings);
  }
  if (request.on_warnings) request.on_warnings(result.warnings);
  if (!built.ok()) return AtStage(built, MeasureStage::kBuild);
  if (request.after_build) {
    if (absl::Status s = request.after_build(config); !s.ok()) return s;
  }
  result.host_caps = std::move(caps);
  result.dtb = config.dtb();
  result.personalization_value = config.personalization_value();
  if (request.no_measurements) return result;

  // Declared before the threads that fill them, so destroyed after.
  std::optional<absl::StatusOr<MeasureLayout>> digest_layout;
  std::optional<Beside> digests, beside;
  if (request.layout_digests) {
    digests.emplace(
        [&](const CancelCheck& cancel) {
          digest_layout = LayoutOf(config, true, request.options.cache, cancel);
          return absl::OkStatus();
        },
        request.options.cancel);
  }
  if (request.beside) {
    beside.emplace(
        [&](const CancelCheck& cancel) {
          return request.beside(config, cancel);
        },
        request.options.cancel);
  }
  MeasureOptions options = request.options;
  if (request.progress != nullptr) {
    request.progress->Start(PayloadBytes(config));
    options.on_hashed = [p = request.progress](uint64_t bytes) {
      p->Add(bytes);
    };
  }
  absl::StatusOr<Measurements> m = ComputeMeasurements(config, options);
  if (request.progress != nullptr) request.progress->Finish();
  if (!m.ok()) return AtStage(m.status(), MeasureStage::kMeasure);
  result.measurements = *m;
  if (beside.has_value()) {
    if (absl::Status s = beside->Join(); !s.ok()) {
      return AtStage(s, MeasureStage::kMeasure);
    }
  }

  absl::StatusOr<RealmCreateParams> p = config.ResolveParams();
  if (!p.ok()) return AtStage(p.status(), MeasureStage::kReport);
  result.parameters = *p;
  if (digests.has_value()) digests->Join().IgnoreError();
  absl::StatusOr<MeasureLayout> layout =
      digest_layout.has_value()
          ? *std::move(digest_layout)
          : LayoutOf(config, false, nullptr, request.options.cancel);
  if (!layout.ok()) return AtStage(layout.status(), MeasureStage::kReport);
  result.layout = *std::move(layout);
  return result;
}

}  // namespace realm_measurements::measure
