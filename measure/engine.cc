#include "measure/engine.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "measure/internal/rmm_structs.h"
#include "measure/internal/rtt.h"

namespace realm_measurements::measure {
namespace {

using internal::DescriptorImage;

// Limits of RmiRealmParams accepted by the host-capability validators
// (spec-core §5.1, Appendix B `test_args`).
constexpr int kMinBreakpoints = 2;
constexpr int kMaxBreakpoints = 64;
constexpr int kMaxPmuCounters = 31;
constexpr int kSveVlStep = 128;  // bits per SVE quadword (VQ)
constexpr int kMaxSveVl = 2048;  // architectural maximum
// RSI_MEASUREMENT_EXTEND: at most 64 value bytes (spec-eventlog §G.1).
constexpr size_t kRemDataSize = 64;
constexpr int kNumRems = 4;

static_assert(internal::kRealmMeasurementWidth == kMeasurementWidth,
              "measurement widths disagree");
static_assert(internal::kRttGranule == kGranuleSize, "granule sizes disagree");

uint64_t AlignDown(uint64_t v) { return v & ~(kGranuleSize - 1); }

}  // namespace

absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(absl::string_view name) {
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "sha384") return HashAlgorithm::kSha384;
  if (name == "sha512") return HashAlgorithm::kSha512;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown hash algorithm `", name,
                   "`: expected sha256, sha384 or sha512"));
}

const char* HashAlgorithmName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSha384:
      return "sha384";
    case HashAlgorithm::kSha512:
      return "sha512";
  }
  return "unknown";
}

size_t HashSize(HashAlgorithm algorithm) {
  return crypto::DigestSize(ToDigestAlgorithm(algorithm));
}

crypto::DigestAlgorithm ToDigestAlgorithm(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha384:
      return crypto::DigestAlgorithm::kSha384;
    case HashAlgorithm::kSha512:
      return crypto::DigestAlgorithm::kSha512;
    case HashAlgorithm::kSha256:
      break;
  }
  return crypto::DigestAlgorithm::kSha256;
}

absl::StatusOr<RmmVersion> ParseRmmVersion(absl::string_view text) {
  if (text == "1.0") return RmmVersion::k1_0;
  if (text == "2.0") return RmmVersion::k2_0;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown RMM version `", text, "`: expected 1.0 or 2.0"));
}

const char* RmmVersionName(RmmVersion version) {
  switch (version) {
    case RmmVersion::k1_0:
      return "1.0";
    case RmmVersion::k2_0:
      return "2.0";
  }
  return "unknown";
}

bool RmmSupports(RmmVersion version, HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
    case HashAlgorithm::kSha512:
      return version == RmmVersion::k1_0 || version == RmmVersion::k2_0;
    case HashAlgorithm::kSha384:
      return version == RmmVersion::k2_0;
  }
  return false;
}

absl::Status CheckRmmSupports(RmmVersion version, HashAlgorithm algorithm) {
  if (RmmSupports(version, algorithm)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "hash algorithm ", HashAlgorithmName(algorithm),
      " is not available in RMM ", RmmVersionName(version),
      " (RMI_HASH_SHA_384 exists from RMM 2.0 on: --rmm-version 2.0)"));
}

absl::StatusOr<Engine> Engine::RealmCreate(const RealmCreateParams& params) {
  const auto fail = [](auto&&... parts) {
    return absl::InvalidArgumentError(
        absl::StrCat("realm parameters: ", parts...));
  };
  const uint8_t algo = static_cast<uint8_t>(params.hash_algorithm);
  if (params.rmm_version != RmmVersion::k1_0 &&
      params.rmm_version != RmmVersion::k2_0) {
    return fail("RMM version ", static_cast<int>(params.rmm_version),
                " is not supported: expected 1.0 or 2.0");
  }
  if (params.hash_algorithm != HashAlgorithm::kSha256 &&
      params.hash_algorithm != HashAlgorithm::kSha384 &&
      params.hash_algorithm != HashAlgorithm::kSha512) {
    return fail("hash algorithm ", algo,
                " is not supported: expected 0 (sha256), 1 (sha512) or 2 "
                "(sha384)");
  }
  if (absl::Status s =
          CheckRmmSupports(params.rmm_version, params.hash_algorithm);
      !s.ok()) {
    return fail(s.message());
  }
  if (params.ipa_bits < internal::kMinUsableIpaBits ||
      params.ipa_bits > internal::kMaxModelIpaBits) {
    return fail("ipa_bits ", params.ipa_bits,
                " is outside the supported range ", internal::kMinUsableIpaBits,
                "..", internal::kMaxModelIpaBits);
  }
  if (params.num_bps < kMinBreakpoints || params.num_bps > kMaxBreakpoints) {
    return fail("num_bps ", params.num_bps, " is outside the supported range ",
                kMinBreakpoints, "..", kMaxBreakpoints);
  }
  if (params.num_wps < kMinBreakpoints || params.num_wps > kMaxBreakpoints) {
    return fail("num_wps ", params.num_wps, " is outside the supported range ",
                kMinBreakpoints, "..", kMaxBreakpoints);
  }
  if (params.sve_vl != 0 &&
      (params.sve_vl % kSveVlStep != 0 || params.sve_vl > kMaxSveVl)) {
    return fail("sve_vl ", params.sve_vl, ": expected 0 or a multiple of ",
                kSveVlStep, " in ", kSveVlStep, "..", kMaxSveVl);
  }
  if (params.pmu_num_ctrs > kMaxPmuCounters) {
    return fail("pmu_num_ctrs ", params.pmu_num_ctrs,
                " is outside the supported range 0..", kMaxPmuCounters);
  }
  absl::StatusOr<uint64_t> block_sizes =
      internal::TranslationBlockSizes(params.ipa_bits);
  if (!block_sizes.ok()) return block_sizes.status();

  // spec-core §4.2 steps 3-7.
  internal::RealmParamsFields fields;
  if (params.sve_vl > 0) {
    fields.flags |= internal::kRealmFlagSve;
    fields.sve_vl = static_cast<uint8_t>(params.sve_vl / kSveVlStep - 1);
  }
  if (params.lpa2) fields.flags |= internal::kRealmFlagLpa2;
  if (params.pmu) {
    fields.flags |= internal::kRealmFlagPmu;
    fields.pmu_num_ctrs = params.pmu_num_ctrs;
  }
  fields.s2sz = params.ipa_bits;
  fields.num_bps = static_cast<uint8_t>(params.num_bps - 1);
  fields.num_wps = static_cast<uint8_t>(params.num_wps - 1);
  fields.hash_algo = algo;

  Engine engine;
  engine.params_ = params;
  engine.block_sizes_ = *block_sizes;
  engine.created_ = true;
  // The 4 KiB image is built once per realm; heap keeps the stack small.
  auto image = std::make_unique<internal::RealmParamsImage>();
  internal::EncodeRealmParams(fields, image.get());
  absl::Status s = engine.HashInto(*image, &engine.rim_);
  if (!s.ok()) return s;
  return engine;
}

absl::Status Engine::HashInto(absl::Span<const uint8_t> data,
                              Measurement* out) const {
  if (!created_) {
    return absl::FailedPreconditionError("engine: no realm was created");
  }
  const size_t n = HashSize(params_.hash_algorithm);
  // The RIM chain is one small hash per granule: the one-shot skips the EVP
  // per-call overhead (issue 8).
  absl::Status s = crypto::HashSmall(ToDigestAlgorithm(params_.hash_algorithm),
                                     data, absl::MakeSpan(out->data(), n));
  if (!s.ok()) return s;
  std::memset(out->data() + n, 0, out->size() - n);
  return absl::OkStatus();
}

Measurement Engine::Hash(absl::Span<const uint8_t> data) const {
  Measurement m = {};
  // A failure is an internal library error; the zero value then never
  // matches a reference value.
  if (!HashInto(data, &m).ok()) m.fill(0);
  return m;
}

absl::Status Engine::CheckGranule(uint64_t ipa, absl::string_view what) const {
  if (ipa % kGranuleSize != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": IPA 0x", absl::Hex(ipa), " is not 4 KiB aligned"));
  }
  // RMM accepts DATA and RIPAS only in the protected half of the IPA space.
  const uint64_t par_top = uint64_t{1} << (params_.ipa_bits - 1);
  if (ipa >= par_top) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": IPA 0x", absl::Hex(ipa),
        " is outside the protected IPA space [0, 0x", absl::Hex(par_top),
        ") of a ", params_.ipa_bits, "-bit realm"));
  }
  return absl::OkStatus();
}

absl::Status Engine::InitRipas(uint64_t base, uint64_t top) {
  // spec-core §4.4 step 1, with the tool's message.
  if (top <= base || base % kGranuleSize != 0 || top % kGranuleSize != 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid parameter RIPAS(",
                                                   absl::Hex(base), ", ",
                                                   absl::Hex(top), ")"));
  }
  const uint64_t par_top = uint64_t{1} << (params_.ipa_bits - 1);
  if (top > par_top) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid parameter RIPAS(", absl::Hex(base), ", ", absl::Hex(top),
        "): top exceeds the protected IPA space [0, 0x", absl::Hex(par_top),
        ") of a ", params_.ipa_bits, "-bit realm"));
  }
  if (block_sizes_ == 0) {
    return absl::FailedPreconditionError("block sizes is not known");
  }
  // RMM 2.0 validates and applies RIPAS but no longer measures it (TF-RMM
  // bdb07f46 deletes measurement_init_ripas_measure).
  if (!MeasuresRipas()) return absl::OkStatus();
  Measurement rim = rim_;
  DescriptorImage desc;
  absl::Status s = internal::SplitRipas(
      base, top, block_sizes_, [&](uint64_t block_base, uint64_t block_top) {
        internal::EncodeRipasDescriptor(rim, block_base, block_top, &desc);
        return HashInto(desc, &rim);
      });
  if (!s.ok()) return s;
  rim_ = rim;
  return absl::OkStatus();
}

absl::Status Engine::DataCreateMeasured(uint64_t ipa,
                                        const Measurement& content) {
  absl::Status s = CheckGranule(ipa, "DATA_CREATE");
  if (!s.ok()) return s;
  // SHA-256/384 content digests are zero-extended; other bytes would be hashed
  // into the descriptor and silently change the RIM.
  const size_t n = HashSize(params_.hash_algorithm);
  for (size_t i = n; i < content.size(); ++i) {
    if (content[i] != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("DATA_CREATE at IPA 0x", absl::Hex(ipa),
                       ": content digest byte ", i, " is not zero for a ",
                       HashAlgorithmName(params_.hash_algorithm), " realm"));
    }
  }
  DescriptorImage desc;
  internal::EncodeDataDescriptor(rim_, ipa, internal::kDataFlagMeasure, content,
                                 &desc);
  return HashInto(desc, &rim_);
}

absl::Status Engine::CheckDataGranules(uint64_t first_ipa,
                                       uint64_t count) const {
  if (count == 0) return absl::OkStatus();
  if (absl::Status s = CheckGranule(first_ipa, "DATA_CREATE"); !s.ok()) {
    return s;
  }
  // The last granule: below the protected top (so no wrap either), which
  // covers every granule in between.
  const uint64_t span = count - 1;
  if (span > (UINT64_MAX - first_ipa) / kGranuleSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DATA_CREATE: ", count, " granules from IPA 0x", absl::Hex(first_ipa),
        " pass the end of the address space"));
  }
  return CheckGranule(first_ipa + span * kGranuleSize, "DATA_CREATE");
}

absl::Status Engine::DataCreateMeasuredEach(absl::Span<const DataStep> steps) {
  if (steps.empty()) return absl::OkStatus();
  const HashAlgorithm algorithm = steps[0].engine->params_.hash_algorithm;
  for (size_t k = 0; k < steps.size(); ++k) {
    const Engine& e = *steps[k].engine;
    if (!e.created_) {
      return absl::FailedPreconditionError("engine: no realm was created");
    }
    if (e.params_.hash_algorithm != algorithm) {
      return absl::InvalidArgumentError(
          absl::StrCat("DATA_CREATE of several realms: expected ",
                       HashAlgorithmName(algorithm), " realms, found ",
                       HashAlgorithmName(e.params_.hash_algorithm)));
    }
    for (size_t j = 0; j < k; ++j) {
      if (steps[j].engine == steps[k].engine) {
        return absl::InvalidArgumentError(
            "DATA_CREATE of several realms: a realm appears twice");
      }
    }
    if (absl::Status s = e.CheckGranule(steps[k].ipa, "DATA_CREATE"); !s.ok()) {
      return s;
    }
  }
  const size_t n = HashSize(algorithm);
  const crypto::DigestAlgorithm digest = ToDigestAlgorithm(algorithm);
  // Descriptors side by side (only the RIM and the granule differ), in
  // groups of at most kGroup realms.
  constexpr size_t kGroup = 8;
  static_assert(sizeof(DescriptorImage) == internal::kDescriptorSize);
  std::array<DescriptorImage, kGroup> descs;
  std::array<Measurement, kGroup> rims;
  for (size_t begin = 0; begin < steps.size(); begin += kGroup) {
    const size_t count = std::min(kGroup, steps.size() - begin);
    for (size_t k = 0; k < count; ++k) {
      const DataStep& step = steps[begin + k];
      Measurement content = {};
      std::memcpy(content.data(), step.content, n);
      internal::EncodeDataDescriptor(step.engine->rim_, step.ipa,
                                     internal::kDataFlagMeasure, content,
                                     &descs[k]);
    }
    absl::Status s = crypto::HashEach(digest, descs[0].data(), count,
                                      internal::kDescriptorSize, rims[0].data(),
                                      kMeasurementWidth);
    if (!s.ok()) return s;
    for (size_t k = 0; k < count; ++k) {
      std::memcpy(steps[begin + k].engine->rim_.data(), rims[k].data(), n);
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::DataCreateUnmeasured(uint64_t ipa) {
  absl::Status s = CheckGranule(ipa, "DATA_CREATE (unmeasured)");
  if (!s.ok()) return s;
  static constexpr Measurement kZero = {};
  DescriptorImage desc;
  internal::EncodeDataDescriptor(rim_, ipa, 0, kZero, &desc);
  return HashInto(desc, &rim_);
}

absl::Status Engine::DataCreateUnmeasuredRange(uint64_t addr, uint64_t size) {
  const uint64_t first = AlignDown(addr);
  // align_up(addr + size) must not wrap (spec-core §0 arithmetic).
  if (size > UINT64_MAX - addr ||
      addr + size > UINT64_MAX - (kGranuleSize - 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unmeasured range at 0x", absl::Hex(addr), " of size 0x",
                     absl::Hex(size), " wraps around the address space"));
  }
  const uint64_t end = AlignDown(addr + size + kGranuleSize - 1);
  if (end == first) return absl::OkStatus();
  // Check the last granule first so a bad range changes nothing.
  absl::Status s = CheckGranule(end - kGranuleSize, "DATA_CREATE (unmeasured)");
  if (!s.ok()) return s;
  Measurement rim = rim_;
  static constexpr Measurement kZero = {};
  DescriptorImage desc;
  for (uint64_t ipa = first; ipa < end; ipa += kGranuleSize) {
    internal::EncodeDataDescriptor(rim, ipa, 0, kZero, &desc);
    s = HashInto(desc, &rim);
    if (!s.ok()) return s;
  }
  rim_ = rim;
  return absl::OkStatus();
}

absl::Status Engine::RecCreate(const RecParams& rec) {
  // TF-RMM measures only runnable RECs (spec-core §4.7).
  if (rec.flags != internal::kRecFlagRunnable) {
    return absl::InvalidArgumentError(
        absl::StrCat("REC_CREATE: flags 0x", absl::Hex(rec.flags),
                     ": only a runnable REC (flags 0x1) is measured"));
  }
  auto image = std::make_unique<internal::RecParamsImage>();
  internal::EncodeRecParams(rec.flags, rec.pc, rec.gprs, image.get());
  Measurement content;
  absl::Status s = HashInto(*image, &content);
  if (!s.ok()) return s;
  DescriptorImage desc;
  internal::EncodeRecDescriptor(rim_, content, &desc);
  return HashInto(desc, &rim_);
}

absl::Status Engine::ExtendRem(int index, absl::Span<const uint8_t> value,
                               RemFormula formula) {
  // spec-core §4.8 steps 1-2, with the tool's messages.
  if (index < 0 || index >= kNumRems) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid parameter REM ", index));
  }
  if (value.size() > kRemDataSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid parameter REM measurement value size ",
                     value.size(), " > REM_DATA_SIZE"));
  }
  Measurement& rem = rem_[index];
  switch (formula) {
    case RemFormula::kTfRmm: {
      // REM := H(REM_old[0:L] || value) (deviations.md C1), at most 128
      // bytes: one-shot on the stack like every other engine hash, so a
      // measurement never initialises the EVP layer (~3 ms of OpenSSL 3
      // provider setup per CLI process, issue 18).
      const size_t n = HashSize(params_.hash_algorithm);
      std::array<uint8_t, kMeasurementWidth + kRemDataSize> input;
      std::memcpy(input.data(), rem.data(), n);
      if (!value.empty()) {
        std::memcpy(input.data() + n, value.data(), value.size());
      }
      Measurement out;
      absl::Status s =
          HashInto(absl::MakeConstSpan(input.data(), n + value.size()), &out);
      if (!s.ok()) return s;
      rem = out;
      return absl::OkStatus();
    }
    case RemFormula::kReferenceTool: {
      // REM := H(pad64(value)): the Rust tool drops the old value.
      Measurement padded = {};
      if (!value.empty())
        std::memcpy(padded.data(), value.data(), value.size());
      return HashInto(padded, &rem);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown REM formula ", static_cast<int>(formula)));
}

std::string ToHex(const Measurement& m) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(m.data()), m.size()));
}

std::string ToBase64(const Measurement& m) {
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(m.data()), m.size()));
}

}  // namespace realm_measurements::measure
