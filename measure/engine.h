// The RMM measurement engine: RIM and REM chains, fed one RMM operation at a
// time (spec-core §4, spec-eventlog §F-§G), for RMM 1.0 or RMM 2.0 realms
// (spec-rmm2 §1). It never sees whole files:
// measured data granules arrive as (IPA, content digest), the digests being
// computed elsewhere (another thread, a cache; see granule_hasher.h).
#ifndef REALM_MEASUREMENTS_MEASURE_ENGINE_H_
#define REALM_MEASUREMENTS_MEASURE_ENGINE_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"

namespace realm_measurements::measure {

// RMI hash algorithm identifiers (RmiHashAlgorithm; the `hash_algo` byte of
// RmiRealmParams, spec-core §2.3). RMI_HASH_SHA_384 = 2 exists only in RMM
// 2.0 (TF-RMM 787b3558, spec-rmm2 §1 row 4).
enum class HashAlgorithm : uint8_t {
  kSha256 = 0,
  kSha512 = 1,
  kSha384 = 2,
};

// "sha256" / "sha384" / "sha512" (the VMM argument spelling). Whether the
// realm's RMM version offers the algorithm is checked by RealmCreate.
absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(absl::string_view name);
const char* HashAlgorithmName(HashAlgorithm algorithm);
// 32, 48 or 64: the significant bytes of a measurement.
size_t HashSize(HashAlgorithm algorithm);
crypto::DigestAlgorithm ToDigestAlgorithm(HashAlgorithm algorithm);

// RMM_REALM_MEASUREMENT_WIDTH: every measurement is held in 64 bytes,
// SHA-256 values zero-extended.
inline constexpr size_t kMeasurementWidth = 64;
using Measurement = std::array<uint8_t, kMeasurementWidth>;

inline constexpr uint64_t kGranuleSize = 0x1000;

// The RMM (RMI ABI) version a realm runs on (spec-rmm2 §1). It is a
// parameter of each realm, never process state.
//  - 1.0: TF-RMM rmm-spec-v1.0-rel0; RMI_RTT_INIT_RIPAS extends the RIM;
//    SHA-256 and SHA-512.
//  - 2.0: TF-RMM main 9a7f8ef; INIT_RIPAS does not extend the RIM (bdb07f46),
//    DATA is populated by RMI_RTT_DATA_MAP_INIT with the same descriptor,
//    SHA-384 is added (787b3558).
enum class RmmVersion : uint8_t { k1_0, k2_0 };

// "1.0" / "2.0".
absl::StatusOr<RmmVersion> ParseRmmVersion(absl::string_view text);
const char* RmmVersionName(RmmVersion version);
// Whether `version` offers `algorithm` (SHA-384 needs 2.0).
bool RmmSupports(RmmVersion version, HashAlgorithm algorithm);
// kInvalidArgument naming the algorithm and the RMM version when the version
// does not offer it, e.g. "hash algorithm sha384 is not available in RMM 1.0
// (RMI_HASH_SHA_384 exists from RMM 2.0 on: --rmm-version 2.0)".
absl::Status CheckRmmSupports(RmmVersion version, HashAlgorithm algorithm);

// The resolved inputs of RMI_REALM_CREATE that reach the RIM (spec-core §3.1).
// Counts are real counts; the engine writes count - 1 as RMM does.
struct RealmCreateParams {
  // Not part of RmiRealmParams: selects the measurement semantics.
  RmmVersion rmm_version = RmmVersion::k1_0;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  uint8_t ipa_bits = 0;
  uint8_t num_bps = 0;  // 2..64
  uint8_t num_wps = 0;  // 2..64
  uint16_t sve_vl =
      0;  // bits; 0 = SVE off; else multiple of 128 in [128, 2048]
  bool pmu = false;
  uint8_t pmu_num_ctrs = 0;  // only measured when pmu
  bool lpa2 = false;
};

// The measured part of RmiRecParams (spec-core §3.2).
struct RecParams {
  uint64_t flags = 1;  // RUNNABLE
  uint64_t pc = 0;
  std::array<uint64_t, 8> gprs = {};
};

// How REMs are extended. kTfRmm is what real RMMs do and our default
// (docs/deviations.md); kReferenceTool reproduces the Rust tool's bug for
// comparisons only.
enum class RemFormula { kTfRmm, kReferenceTool };

class Engine {
 public:
  // RMI_REALM_CREATE. Validates the parameters (IPA width the RTT model can
  // handle, counts, SVE length, an algorithm the RMM version offers) and
  // starts the RIM. The measured image is the same under RMM 1.0 and 2.0
  // (spec-rmm2 §1 row 3).
  static absl::StatusOr<Engine> RealmCreate(const RealmCreateParams& params);

  // RMI_RTT_INIT_RIPAS over [base, top). RMM 1.0: one RIPAS descriptor per
  // RTT block of the KVM model (spec-core §4.3-§4.4). RMM 2.0: the same
  // parameter checks, but the RIM is not extended (spec-rmm2 §1 row 1).
  absl::Status InitRipas(uint64_t base, uint64_t top);
  // Whether InitRipas extends the RIM (RMM 1.0 only).
  bool MeasuresRipas() const { return params_.rmm_version == RmmVersion::k1_0; }

  // One RMI_DATA_CREATE (RMM 1.0) or RMI_RTT_DATA_MAP_INIT (RMM 2.0, same
  // descriptor: spec-rmm2 §1 row 2) with RMI_MEASURE_CONTENT of the granule
  // at `ipa` (4 KiB aligned), given H(granule content) as a 64-byte buffer
  // (HashSize() significant bytes, the rest zero).
  absl::Status DataCreateMeasured(uint64_t ipa, const Measurement& content);
  // OK when DataCreateMeasured would accept each of the `count` granules
  // from `first_ipa` on (aligned, protected, no wrap past the address space
  // end); otherwise the error of the first it would refuse.
  absl::Status CheckDataGranules(uint64_t first_ipa, uint64_t count) const;
  // One DataCreateMeasured on each of several engines (the realms of a
  // sweep, each at its own point of its own chain). The chains are
  // independent, so their descriptors are hashed several at a time
  // (crypto::HashEach), which one chain on its own can not be. Same RIMs as
  // one call after another. `content` points at HashSize() bytes. Every
  // engine must use the hash algorithm of the first, appear once, and
  // accept its granule: otherwise that error, before any engine changes.
  struct DataStep {
    Engine* engine;
    uint64_t ipa;
    const uint8_t* content;
  };
  static absl::Status DataCreateMeasuredEach(absl::Span<const DataStep> steps);
  // One RMI_DATA_CREATE with RMI_NO_MEASURE_CONTENT.
  absl::Status DataCreateUnmeasured(uint64_t ipa);
  // Unmeasured DATA_CREATE for every granule of
  // [align_down(addr), align_up(addr + size)).
  absl::Status DataCreateUnmeasuredRange(uint64_t addr, uint64_t size);

  // RMI_REC_CREATE of a runnable REC.
  absl::Status RecCreate(const RecParams& rec);

  // RSI_MEASUREMENT_EXTEND of REM[index] (0..3) with `value` (<= 64 bytes):
  // REM := H(REM[0:L] || value), L = HashSize() (32, 48 or 64).
  absl::Status ExtendRem(int index, absl::Span<const uint8_t> value,
                         RemFormula formula = RemFormula::kTfRmm);

  // H(data) as a 64-byte buffer (zero-extended for SHA-256 and SHA-384).
  Measurement Hash(absl::Span<const uint8_t> data) const;

  HashAlgorithm hash_algorithm() const { return params_.hash_algorithm; }
  RmmVersion rmm_version() const { return params_.rmm_version; }
  const RealmCreateParams& params() const { return params_; }
  const Measurement& rim() const { return rim_; }
  const Measurement& rem(int index) const { return rem_[index]; }
  // RTT block sizes usable for INIT_RIPAS (bit mask of sizes).
  uint64_t block_sizes() const { return block_sizes_; }

 private:
  Engine() = default;
  // Copies the RIM of a chain computed once to the realms that started it
  // from the same RIM.
  friend class ChainBatch;
  // H(data) into `out`, zero-extended (crypto::HashSmall: no allocation,
  // no EVP context).
  absl::Status HashInto(absl::Span<const uint8_t> data, Measurement* out) const;
  // Only checks, no state change: `ipa` is a granule inside the protected
  // IPA space.
  absl::Status CheckGranule(uint64_t ipa, absl::string_view what) const;
  RealmCreateParams params_;
  uint64_t block_sizes_ = 0;
  Measurement rim_ = {};
  std::array<Measurement, 4> rem_ = {};
  // Set by RealmCreate. An Engine is not safe for concurrent use (copies
  // are independent).
  bool created_ = false;
};

// Lower-case hex of all 64 bytes (128 characters).
std::string ToHex(const Measurement& m);
// Standard base64 with padding of all 64 bytes (88 characters).
std::string ToBase64(const Measurement& m);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_ENGINE_H_
