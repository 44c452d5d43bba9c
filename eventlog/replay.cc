#include "eventlog/replay.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "base/status_macros.h"
#include "eventlog/errors.h"
#include "eventlog/internal/text_file.h"

namespace realm_measurements::eventlog {
namespace {

using measure::Engine;
using measure::HashAlgorithm;
using measure::kGranuleSize;

// §C.1 descriptions with a meaning for DTB synthesis (§E.4).
constexpr absl::string_view kDescInitrd = "INITRD";
constexpr absl::string_view kDescLog = "LOG";
constexpr absl::string_view kDescDtb = "DTB";
// §G.1: a REM value is at most 64 bytes.
constexpr size_t kMaxRemValue = 64;
// A checksum file is text; cap what we read of it.
constexpr size_t kMaxChecksumFileSize = size_t{1} << 20;
// K8: granularities a host may populate with.
constexpr uint64_t kGranule64K = 0x10000;

std::string Where(const Event& e) {
  return absl::StrCat("event ", e.index, " (", EventTypeName(e.type),
                      ") at offset ", e.offset);
}

absl::Status EventError(absl::StatusCode code, const Event& e,
                        absl::string_view message) {
  return WithLocation(
      absl::Status(code, absl::StrCat("replay: ", Where(e), ": ", message)),
      {code == absl::StatusCode::kUnimplemented ? ErrorClass::kUnsupported
                                                : ErrorClass::kReplay,
       e.index, e.offset});
}

// An error about the log as a whole, before any event is replayed.
absl::Status LogError(absl::Status s) {
  return WithLocation(
      std::move(s),
      {s.code() == absl::StatusCode::kUnimplemented ? ErrorClass::kUnsupported
                                                    : ErrorClass::kReplay,
       std::nullopt, std::nullopt});
}
absl::Status EventError(const Event& e, absl::string_view message) {
  return EventError(absl::StatusCode::kInvalidArgument, e, message);
}

std::optional<crypto::DigestAlgorithm> CryptoAlgorithm(TpmAlgorithm a) {
  switch (a) {
    case TpmAlgorithm::kSha256:
      return crypto::DigestAlgorithm::kSha256;
    case TpmAlgorithm::kSha384:
      return crypto::DigestAlgorithm::kSha384;
    case TpmAlgorithm::kSha512:
      return crypto::DigestAlgorithm::kSha512;
    case TpmAlgorithm::kSha1:
      return std::nullopt;
  }
  return std::nullopt;
}

// How the RMM names the operation that populates DATA granules: RMI 2.0
// replaced RMI_DATA_CREATE by RMI_RTT_DATA_MAP_INIT, same descriptor
// (spec-rmm2 §1 row 2).
const char* DataOperationName(measure::RmmVersion v) {
  return v == measure::RmmVersion::k2_0 ? "RTT_DATA_MAP_INIT" : "DATA";
}

std::string Description(const FirmwareBlob2& b, bool strip_nuls) {
  std::string d = b.description;
  if (strip_nuls) {
    while (!d.empty() && d.back() == '\0') d.pop_back();
  }
  return d;
}

bool IsCcaTag(const Event& e) {
  return std::holds_alternative<RealmCreateTag>(e.payload) ||
         std::holds_alternative<InitRipasTag>(e.payload) ||
         std::holds_alternative<RecCreateTag>(e.payload);
}

}  // namespace

measure::RealmCreateParams RealmCreateParamsOf(
    const RealmCreateTag& t, measure::RmmVersion rmm_version) {
  measure::RealmCreateParams p;
  p.rmm_version = rmm_version;
  // RmiHashAlgorithm values (the parser accepts 0..2).
  p.hash_algorithm = t.hash_algo == 2   ? HashAlgorithm::kSha384
                     : t.hash_algo == 1 ? HashAlgorithm::kSha512
                                        : HashAlgorithm::kSha256;
  p.ipa_bits = t.s2sz;
  p.num_bps = static_cast<uint8_t>(t.num_bps + 1);
  p.num_wps = static_cast<uint8_t>(t.num_wps + 1);
  if (t.flags & RealmCreateTag::kFlagSve) {
    p.sve_vl = static_cast<uint16_t>((t.sve_vl + 1) * 128);
  }
  p.pmu = t.flags & RealmCreateTag::kFlagPmu;
  if (p.pmu) p.pmu_num_ctrs = t.pmu_num_ctrs;
  p.lpa2 = t.flags & RealmCreateTag::kFlagLpa2;  // K2
  return p;
}

TpmAlgorithm RealmTpmAlgorithm(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::kSha384:
      return TpmAlgorithm::kSha384;
    case HashAlgorithm::kSha512:
      return TpmAlgorithm::kSha512;
    case HashAlgorithm::kSha256:
      break;
  }
  return TpmAlgorithm::kSha256;
}

const char* RegisterName(Register r) {
  switch (r) {
    case Register::kRim:
      return "RIM";
    case Register::kRem0:
      return "REM0";
    case Register::kRem1:
      return "REM1";
    case Register::kRem2:
      return "REM2";
    case Register::kRem3:
      return "REM3";
    case Register::kNone:
      return "-";
  }
  return "?";
}

absl::StatusOr<Register> MapIndex(uint32_t index, IndexSemantics semantics) {
  if (semantics == IndexSemantics::kCcMrIndex) {
    // §D.2: MR 0 = RIM, 1..4 = REM0..3 (the RSI index).
    if (index > 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CC MR index ", index, " has no register, expected 0..4"));
    }
    return static_cast<Register>(index);
  }
  // §D.1.
  if (index == 0) return Register::kRim;
  if (index == 1 || index == 7) return Register::kRem0;
  if (index <= 6) return Register::kRem1;
  if (index <= 15) return Register::kRem2;
  return Register::kRem3;
}

// --- ImageCatalogue ----------------------------------------------------------

absl::Status ImageCatalogue::AddKey(std::string hex, const Image& image) {
  auto [it, inserted] = by_digest_.emplace(std::move(hex), image);
  if (!inserted && *it->second.content != *image.content) {
    return absl::InvalidArgumentError(
        absl::StrCat("image catalogue: ", image.name, " and ", it->second.name,
                     " differ but share the digest ", it->first));
  }
  return absl::OkStatus();
}

absl::Status ImageCatalogue::AddImage(std::string name,
                                      std::vector<uint8_t> content) {
  Image image{std::move(name),
              std::make_shared<const std::vector<uint8_t>>(std::move(content))};
  for (crypto::DigestAlgorithm a :
       {crypto::DigestAlgorithm::kSha256, crypto::DigestAlgorithm::kSha384,
        crypto::DigestAlgorithm::kSha512}) {
    BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> d,
                          crypto::HashOnce(a, *image.content));
    BASE_RETURN_IF_ERROR(AddKey(base::HexOf(d), image));
  }
  return absl::OkStatus();
}

absl::Status ImageCatalogue::AddChecksumFile(const std::string& path,
                                             size_t max_image_size) {
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> text,
                        internal::ReadBoundedFile(path, kMaxChecksumFileSize));
  const std::string dir = internal::DirectoryOf(path);
  return internal::ForEachLine(
      text, [&](int line_no, absl::string_view line) -> absl::Status {
        auto fail = [&](absl::string_view why) {
          return absl::InvalidArgumentError(absl::StrCat(
              "checksum file ", path, " line ", line_no, ": ", why));
        };
        // "HEX  name" (text mode) or "HEX *name" (binary mode).
        size_t sp = line.find(' ');
        if (sp == absl::string_view::npos || sp + 2 > line.size() ||
            (line[sp + 1] != ' ' && line[sp + 1] != '*') ||
            sp + 2 == line.size()) {
          return fail("expected \"<hex digest>  <file>\" or \"<hex> *<file>\"");
        }
        absl::string_view hex = line.substr(0, sp);
        std::string name(line.substr(sp + 2));
        if (!base::IsHexDigits(hex) ||
            (hex.size() != 40 && hex.size() != 64 && hex.size() != 96 &&
             hex.size() != 128)) {
          return fail(absl::StrCat("digest \"", absl::CHexEscape(hex),
                                   "\" is not 40, 64, 96 or 128 hex digits"));
        }
        std::string key = absl::AsciiStrToLower(hex);
        std::string file = name[0] == '/' ? name : absl::StrCat(dir, "/", name);
        absl::StatusOr<std::vector<uint8_t>> content =
            internal::ReadBoundedFile(file, max_image_size);
        if (!content.ok()) return fail(content.status().message());
        Image image{name, std::make_shared<const std::vector<uint8_t>>(
                              *std::move(content))};
        std::optional<crypto::DigestAlgorithm> a;
        if (hex.size() == 64) a = crypto::DigestAlgorithm::kSha256;
        if (hex.size() == 96) a = crypto::DigestAlgorithm::kSha384;
        if (hex.size() == 128) a = crypto::DigestAlgorithm::kSha512;
        if (a.has_value()) {
          BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> d,
                                crypto::HashOnce(*a, *image.content));
          if (base::HexOf(d) != key) {
            return fail(absl::StrCat(name, " has ", crypto::DigestName(*a), " ",
                                     base::HexOf(d), ", the line says ", key));
          }
        }
        return AddKey(std::move(key), image);
      });
}

const ImageCatalogue::Image* ImageCatalogue::Find(absl::string_view hex) const {
  auto it = by_digest_.find(hex);
  return it == by_digest_.end() ? nullptr : &it->second;
}

// --- Replayer ---------------------------------------------------------------

struct Replayer::Pass1 {
  const Event* realm_create = nullptr;
  const VmVersion* vm = nullptr;
  std::optional<std::pair<uint64_t, uint64_t>> initrd, log;
  // The last DTB event whose digests are all unknown (§E.4).
  const Event* missing_dtb = nullptr;
};

const ImageCatalogue::Image* Replayer::FindImage(const Event& e,
                                                 const Digest** used) const {
  for (const Digest& d : e.digests) {
    std::string hex = d.Hex();
    const ImageCatalogue::Image* image = catalogue_->Find(hex);
    if (image == nullptr) {
      auto it = synthesised_.find(hex);
      if (it != synthesised_.end()) image = &it->second;
    }
    if (image != nullptr) {
      *used = &d;
      return image;
    }
  }
  return nullptr;
}

absl::Status Replayer::Configure(const EventLog& log,
                                 const ReplayOptions& options, Pass1& p1) {
  IndexSemantics semantics = options.index_semantics.value_or(
      options.source == LogSource::kVmm ? IndexSemantics::kPcr
                                        : IndexSemantics::kCcMrIndex);
  bool have_realm = engine_.has_value();
  for (const Event& e : log.events) {
    if (const auto* vm = std::get_if<VmVersion>(&e.payload)) p1.vm = vm;
    if (std::holds_alternative<RealmCreateTag>(e.payload)) {
      // K11 and §I.2 rule 11: one REALM_CREATE, in the first (VMM) log.
      if (options.source != LogSource::kVmm) {
        return EventError(e, "REALM_CREATE in a firmware log");
      }
      if (have_realm) {
        return EventError(e, p1.realm_create != nullptr
                                 ? absl::StrCat("second REALM_CREATE (first "
                                                "at event ",
                                                p1.realm_create->index, ")")
                                 : "REALM_CREATE on a realm that already "
                                   "exists (from an earlier log)");
      }
      p1.realm_create = &e;
      have_realm = true;
      continue;
    }
    bool affects_rim = std::holds_alternative<InitRipasTag>(e.payload) ||
                       std::holds_alternative<RecCreateTag>(e.payload);
    if (const auto* blob = std::get_if<FirmwareBlob2>(&e.payload)) {
      absl::StatusOr<Register> reg = MapIndex(e.pcr_index, semantics);
      if (reg.ok() && *reg == Register::kRim) {
        affects_rim = true;
        std::string d = Description(*blob, options.strip_description_nuls);
        if (d == kDescInitrd) p1.initrd = {{blob->base, blob->length}};
        if (d == kDescLog) p1.log = {{blob->base, blob->length}};
        if (d == kDescDtb && !e.digests.empty()) {
          const Digest* used = nullptr;
          if (FindImage(e, &used) == nullptr) p1.missing_dtb = &e;
        }
      }
    }
    if (affects_rim && !have_realm) {
      return EventError(absl::StatusCode::kFailedPrecondition, e,
                        "changes the RIM before any REALM_CREATE");
    }
  }
  return absl::OkStatus();
}

absl::Status Replayer::Synthesize(const EventLog& log,
                                  const ReplayOptions& options,
                                  const Pass1& p1) {
  if (p1.missing_dtb == nullptr || p1.vm == nullptr ||
      !options.dtb_synthesizer) {
    return absl::OkStatus();
  }
  const Event& e = *p1.missing_dtb;
  DtbRequest req;
  req.vmm_name = p1.vm->name;
  req.vmm_version = p1.vm->version;
  req.num_cpus = p1.vm->num_cpus;
  req.ram_size = p1.vm->ram_size;
  req.initrd = p1.initrd;
  req.log = p1.log;
  if (p1.realm_create != nullptr) {
    req.realm = std::get<RealmCreateTag>(p1.realm_create->payload);
    req.pmu = req.realm->flags & RealmCreateTag::kFlagPmu;
  } else if (engine_.has_value()) {
    req.pmu = engine_->params().pmu;
  }
  absl::StatusOr<std::vector<uint8_t>> dtb = options.dtb_synthesizer(req);
  if (!dtb.ok()) {
    return WithLocation(
        absl::Status(dtb.status().code(),
                     absl::StrCat("replay: ", Where(e), ": ",
                                  absl::StartsWith(dtb.status().message(),
                                                   "DTB synthesis")
                                      ? ""
                                      : "DTB synthesis failed: ",
                                  dtb.status().message())),
        {ErrorClass::kReplay, e.index, e.offset});
  }
  // K9: the generated bytes must be what the VMM measured.
  const Digest& want = e.digests.front();
  std::optional<crypto::DigestAlgorithm> a = CryptoAlgorithm(want.algorithm);
  if (!a.has_value()) {
    return EventError(absl::StatusCode::kUnimplemented, e,
                      "cannot check a synthesised DTB against a SHA-1 digest");
  }
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> got, crypto::HashOnce(*a, *dtb));
  if (got != want.value) {
    // Name the logged inputs: one of them, or an option the log cannot
    // carry (bootargs, ITS, ...), differs from what the VMM used.
    std::string inputs =
        absl::StrFormat("%u vCPUs, RAM 0x%x", req.num_cpus, req.ram_size);
    if (req.initrd.has_value()) {
      absl::StrAppendFormat(&inputs, ", initrd 0x%x+0x%x", req.initrd->first,
                            req.initrd->second);
    }
    if (req.log.has_value()) {
      absl::StrAppendFormat(&inputs, ", log 0x%x+0x%x", req.log->first,
                            req.log->second);
    }
    absl::StrAppend(&inputs, ", PMU ", req.pmu ? "on" : "off");
    return EventError(
        e, absl::StrCat("synthesised DTB for ", req.vmm_name, " ",
                        req.vmm_version, " (", inputs, "; ", dtb->size(),
                        " bytes) has ", TpmAlgorithmName(want.algorithm), " ",
                        base::HexOf(got), ", the log says ", want.Hex()));
  }
  synthesised_[want.Hex()] = ImageCatalogue::Image{
      absl::StrCat("synthesised DTB (", req.vmm_name, " ", req.vmm_version,
                   ")"),
      std::make_shared<const std::vector<uint8_t>>(*std::move(dtb))};
  return absl::OkStatus();
}

absl::Status Replayer::ReplayImage(const Event& e, const FirmwareBlob2& blob,
                                   const ReplayOptions& options,
                                   ReportEntry& entry) {
  const Engine& eng = *engine_;
  const uint64_t g = options.population_granule;
  if (blob.length > UINT64_MAX - blob.base ||
      blob.base + blob.length > UINT64_MAX - g) {
    return EventError(e, absl::StrFormat("blob 0x%x + 0x%x overflows",
                                         blob.base, blob.length));
  }
  // §I.2 rule 12: within the realm's protected IPA space.
  const uint64_t ipa_top = uint64_t{1} << (eng.params().ipa_bits - 1);
  const uint64_t start = blob.base / g * g;
  const uint64_t end = (blob.base + blob.length + g - 1) / g * g;
  if (end > ipa_top) {
    return EventError(
        e, absl::StrFormat("blob [0x%x, 0x%x) lies outside the %d-bit "
                           "realm's protected IPA space [0, 0x%x)",
                           blob.base, blob.base + blob.length,
                           eng.params().ipa_bits, ipa_top));
  }
  const uint64_t granules = (end - start) / kGranuleSize;
  if (granules > options.max_granules_per_event) {
    return EventError(e, absl::StrCat("blob covers ", granules,
                                      " granules, more than the limit of ",
                                      options.max_granules_per_event));
  }
  if (e.digests.empty()) {
    // Unmeasured (the LOG region, §C.1).
    BASE_RETURN_IF_ERROR(
        engine_->DataCreateUnmeasuredRange(start, end - start));
    entry.action = absl::StrCat(DataOperationName(eng.rmm_version()),
                                " unmeasured, ", granules, " granules");
    return absl::OkStatus();
  }
  const Digest* used = nullptr;
  const ImageCatalogue::Image* image = FindImage(e, &used);
  if (image == nullptr) {
    return EventError(absl::StatusCode::kNotFound, e,
                      absl::StrCat("no image in the catalogue has ",
                                   TpmAlgorithmName(e.digests[0].algorithm),
                                   " ", e.digests[0].Hex()));
  }
  entry.digest =
      absl::StrCat(TpmAlgorithmName(used->algorithm), ":", used->Hex());
  entry.match = CatalogueMatch::kVerified;
  entry.image = image->name;
  const std::vector<uint8_t>& content = *image->content;
  if (content.size() != blob.length) {
    return EventError(
        e, absl::StrCat("catalogue image ", image->name, " is ", content.size(),
                        " bytes, the log says ", blob.length));
  }
  // Each 4 KiB granule of [start, end): file bytes where the blob lies,
  // zeros around it (§F.4; K8 widens to the host page).
  Engine work = *engine_;
  std::vector<uint8_t> granule(kGranuleSize);
  for (uint64_t ipa = start; ipa < end; ipa += kGranuleSize) {
    std::fill(granule.begin(), granule.end(), 0);
    uint64_t lo = std::max(ipa, blob.base);
    uint64_t hi = std::min(ipa + kGranuleSize, blob.base + blob.length);
    if (lo < hi) {
      std::memcpy(granule.data() + (lo - ipa),
                  content.data() + (lo - blob.base), hi - lo);
    }
    BASE_RETURN_IF_ERROR(work.DataCreateMeasured(ipa, work.Hash(granule)));
  }
  engine_ = std::move(work);
  entry.action = absl::StrCat(DataOperationName(engine_->rmm_version()),
                              " measured, ", granules, " granules");
  return absl::OkStatus();
}

absl::Status Replayer::ExtendRem(const Event& e, Register reg,
                                 const ReplayOptions& options,
                                 ReportEntry& entry) {
  if (!engine_.has_value()) {
    return EventError(absl::StatusCode::kFailedPrecondition, e,
                      absl::StrCat("extends ", RegisterName(reg),
                                   " before any REALM_CREATE"));
  }
  // K7 / §I.2 rule 13: the logged digest of the realm's algorithm.
  TpmAlgorithm want = RealmTpmAlgorithm(engine_->hash_algorithm());
  const Digest* d = e.FindDigest(want);
  if (d == nullptr) {
    return EventError(
        e, absl::StrCat("no ", TpmAlgorithmName(want), " digest to extend ",
                        RegisterName(reg), " with (the realm uses ",
                        TpmAlgorithmName(want), ")"));
  }
  if (d->value.size() > kMaxRemValue) {
    return EventError(e, "digest longer than 64 bytes");
  }
  const ImageCatalogue::Image* image = catalogue_->Find(d->Hex());
  entry.digest = absl::StrCat(TpmAlgorithmName(d->algorithm), ":", d->Hex());
  entry.match = image != nullptr ? CatalogueMatch::kVerified
                                 : CatalogueMatch::kUnverified;
  if (image != nullptr) entry.image = image->name;
  BASE_RETURN_IF_ERROR(engine_->ExtendRem(static_cast<int>(reg) - 1, d->value,
                                          options.rem_formula));
  entry.action = "REM extend";
  return absl::OkStatus();
}

absl::Status Replayer::ReplayEvent(const Event& e, const ReplayOptions& options,
                                   IndexSemantics semantics,
                                   ReportEntry& entry) {
  if (e.type == static_cast<uint32_t>(EventType::kNoAction)) {
    entry.action = std::holds_alternative<VmVersion>(e.payload)
                       ? "VM VERSION (informational)"
                       : "ignored (EV_NO_ACTION)";
    return absl::OkStatus();
  }
  // CCA tags act on the RIM whatever their index (§C.3).
  if (const auto* t = std::get_if<RealmCreateTag>(&e.payload)) {
    entry.reg = Register::kRim;
    const measure::RealmCreateParams p =
        RealmCreateParamsOf(*t, options.rmm_version);
    if (options.realm_hash_algorithm.has_value() &&
        *options.realm_hash_algorithm != p.hash_algorithm) {
      return EventError(
          e, absl::StrCat(
                 "REALM_CREATE hash_algo is ",
                 measure::HashAlgorithmName(p.hash_algorithm),
                 ", expected the realm's ",
                 measure::HashAlgorithmName(*options.realm_hash_algorithm)));
    }
    absl::StatusOr<Engine> eng = Engine::RealmCreate(p);
    if (!eng.ok()) return EventError(e, eng.status().message());
    engine_ = *std::move(eng);
    entry.action = "REALM_CREATE";
    return absl::OkStatus();
  }
  if (IsCcaTag(e) && !engine_.has_value()) {
    // Only reachable after a REALM_CREATE that failed in non-fatal mode.
    return EventError(absl::StatusCode::kFailedPrecondition, e,
                      "no realm (REALM_CREATE failed)");
  }
  if (const auto* t = std::get_if<InitRipasTag>(&e.payload)) {
    entry.reg = Register::kRim;
    absl::Status s = engine_->InitRipas(t->base, t->base + t->size);
    if (!s.ok()) return EventError(e, s.message());
    entry.action =
        absl::StrFormat("INIT_RIPAS [0x%x, 0x%x)", t->base, t->base + t->size);
    // RMM 2.0 checks and applies it but does not measure it (spec-rmm2 §1).
    if (!engine_->MeasuresRipas()) {
      absl::StrAppend(&entry.action, " not measured (RMM ",
                      measure::RmmVersionName(engine_->rmm_version()), ")");
    }
    return absl::OkStatus();
  }
  if (const auto* t = std::get_if<RecCreateTag>(&e.payload)) {
    entry.reg = Register::kRim;
    measure::RecParams rec;
    rec.flags = t->flags;
    rec.pc = t->pc;
    rec.gprs = t->gprs;
    absl::Status s = engine_->RecCreate(rec);
    if (!s.ok()) return EventError(e, s.message());
    entry.action = "REC_CREATE";
    return absl::OkStatus();
  }
  absl::StatusOr<Register> reg = MapIndex(e.pcr_index, semantics);
  if (!reg.ok()) return EventError(e, reg.status().message());
  entry.reg = *reg;
  if (*reg == Register::kRim) {
    const auto* blob = std::get_if<FirmwareBlob2>(&e.payload);
    if (blob == nullptr) {
      return EventError(
          e, absl::StrCat(EventTypeName(e.type), " cannot change the RIM"));
    }
    if (options.source != LogSource::kVmm) {
      return EventError(e, "a firmware log cannot change the RIM");
    }
    if (!engine_.has_value()) {
      return EventError(absl::StatusCode::kFailedPrecondition, e,
                        "no realm (REALM_CREATE failed)");
    }
    absl::Status s = ReplayImage(e, *blob, options, entry);
    if (!s.ok() && !absl::StartsWith(s.message(), "replay:")) {
      return EventError(s.code(), e, s.message());
    }
    return s;
  }
  return ExtendRem(e, *reg, options, entry);
}

absl::Status Replayer::Replay(const EventLog& log,
                              const ReplayOptions& options) {
  const size_t log_number = logs_++;
  if (options.population_granule != kGranuleSize &&
      options.population_granule != kGranule64K) {
    return LogError(absl::InvalidArgumentError(
        absl::StrCat("replay: population granule ", options.population_granule,
                     " bytes, expected 4096 or 65536")));
  }
  if (engine_.has_value() && engine_->rmm_version() != options.rmm_version) {
    // K11: one realm, one RMM.
    return LogError(absl::InvalidArgumentError(
        absl::StrCat("replay: log ", log_number, " is replayed for RMM ",
                     measure::RmmVersionName(options.rmm_version),
                     ", but the realm (from "
                     "an earlier log) runs RMM ",
                     measure::RmmVersionName(engine_->rmm_version()))));
  }
  if (options.realm_hash_algorithm.has_value()) {
    const measure::HashAlgorithm want = *options.realm_hash_algorithm;
    if (absl::Status s = measure::CheckRmmSupports(options.rmm_version, want);
        !s.ok()) {
      return LogError(absl::UnimplementedError(
          absl::StrCat("replay: log ", log_number, ": ", s.message())));
    }
    if (engine_.has_value() && engine_->hash_algorithm() != want) {
      return LogError(absl::InvalidArgumentError(
          absl::StrCat("replay: log ", log_number,
                       ": the realm's hash algorithm is given "
                       "as ",
                       measure::HashAlgorithmName(want),
                       ", but the realm (from an earlier log) uses ",
                       measure::HashAlgorithmName(engine_->hash_algorithm()))));
    }
    if (!engine_.has_value() && options.source == LogSource::kFirmware) {
      // A firmware log on its own: a realm whose RIM nobody measured here.
      // Only the algorithm and the RMM version matter for REM extension;
      // the other parameters are any valid ones.
      measure::RealmCreateParams p;
      p.rmm_version = options.rmm_version;
      p.hash_algorithm = want;
      p.ipa_bits = 48;
      p.num_bps = 2;
      p.num_wps = 2;
      absl::StatusOr<Engine> eng = Engine::RealmCreate(p);
      if (!eng.ok()) return LogError(eng.status());
      engine_ = *std::move(eng);
      rim_known_ = false;
    }
  }
  if (log.spec_id.has_value()) {
    const bool sha384_realms =
        measure::RmmSupports(options.rmm_version, HashAlgorithm::kSha384);
    bool usable = false;
    for (const SpecId::Algorithm& a : log.spec_id->algorithms) {
      usable |= a.algorithm == TpmAlgorithm::kSha256 ||
                a.algorithm == TpmAlgorithm::kSha512 ||
                (sha384_realms && a.algorithm == TpmAlgorithm::kSha384);
    }
    if (!usable) {
      // K10 (and SHA-1-only agile logs): no realm of this RMM hashes this
      // way.
      return LogError(absl::UnimplementedError(absl::StrCat(
          "replay: the log's Spec ID declares neither SHA-256 nor SHA-512",
          sha384_realms
              ? " nor SHA-384"
              : absl::StrCat(" (SHA-384 realms need RMM 2.0; "
                             "replaying for RMM ",
                             measure::RmmVersionName(options.rmm_version),
                             ")"))));
    }
  }
  const IndexSemantics semantics = options.index_semantics.value_or(
      options.source == LogSource::kVmm ? IndexSemantics::kPcr
                                        : IndexSemantics::kCcMrIndex);
  Pass1 p1;
  BASE_RETURN_IF_ERROR(Configure(log, options, p1));
  BASE_RETURN_IF_ERROR(Synthesize(log, options, p1));

  for (const Event& e : log.events) {
    ReportEntry entry;
    entry.log = log_number;
    entry.event = e.index;
    entry.offset = e.offset;
    entry.index = e.pcr_index;
    entry.type = EventTypeName(e.type);
    absl::Status s = ReplayEvent(e, options, semantics, entry);
    if (entry.reg != Register::kNone && engine_.has_value()) {
      entry.value_after = RegisterHex(entry.reg);
    }
    if (!s.ok()) {
      // Engine errors passed through unchanged still get the event's place.
      if (!absl::StartsWith(s.message(), "replay:")) {
        s = EventError(s.code(), e, s.message());
      } else if (!GetLocation(s).has_value()) {
        s = WithLocation(s, {ErrorClass::kReplay, e.index, e.offset});
      }
      entry.error = std::string(s.message());
      report_.push_back(std::move(entry));
      if (options.fatal) return s;
      continue;
    }
    report_.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

std::string Replayer::RegisterHex(Register r) const {
  if (r == Register::kRim && !rim_known_) return "";
  if (!engine_.has_value() || r == Register::kNone)
    return std::string(128, '0');
  const measure::Measurement& m = r == Register::kRim
                                      ? engine_->rim()
                                      : engine_->rem(static_cast<int>(r) - 1);
  size_t n = measure::HashSize(engine_->hash_algorithm());
  return base::HexOf(absl::MakeConstSpan(m.data(), n));
}

std::string Replayer::FormatReport() const {
  std::string out;
  for (const ReportEntry& r : report_) {
    const char* match = r.match == CatalogueMatch::kVerified     ? "verified"
                        : r.match == CatalogueMatch::kUnverified ? "UNVERIFIED"
                                                                 : "-";
    absl::StrAppendFormat(&out, "%zu:%-3zu @0x%04x idx %-2u %-31s %-4s %-10s",
                          r.log, r.event, r.offset, r.index, r.type,
                          RegisterName(r.reg), match);
    if (!r.action.empty()) absl::StrAppend(&out, " ", r.action);
    if (!r.image.empty()) absl::StrAppend(&out, " [", r.image, "]");
    if (!r.digest.empty()) absl::StrAppend(&out, " ", r.digest);
    if (!r.value_after.empty()) {
      absl::StrAppend(&out, "\n      ", RegisterName(r.reg), " = ",
                      r.value_after);
    }
    if (!r.error.empty()) absl::StrAppend(&out, "\n      ERROR: ", r.error);
    out.push_back('\n');
  }
  for (Register reg : {Register::kRim, Register::kRem0, Register::kRem1,
                       Register::kRem2, Register::kRem3}) {
    absl::StrAppend(&out, RegisterName(reg), ": ",
                    reg == Register::kRim && !rim_known_
                        ? "unknown (no VMM log replayed)"
                        : RegisterHex(reg),
                    "\n");
  }
  return out;
}

}  // namespace realm_measurements::eventlog
