// Host capabilities (spec-core §5, §11): what the platform, firmware and
// hypervisor allow; from TOML files (restrict), command-line overrides
// (update) and VMM requirements (restrict).
#ifndef REALM_MEASUREMENTS_MEASURE_HOST_CAPS_H_
#define REALM_MEASUREMENTS_MEASURE_HOST_CAPS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "measure/engine.h"

namespace realm_measurements::measure {

// Host capability files are a handful of flat keys. Documents larger or
// deeper are refused before the TOML parser sees them (toml_limits.h): the
// parser recurses per nesting level.
inline constexpr size_t kMaxHostCapsTomlBytes = 8 << 10;  // 8 KiB
inline constexpr int kMaxHostCapsTomlDepth = 4;

struct HostCaps {
  std::optional<uint8_t> ipa_bits;
  std::optional<uint8_t> num_bps;
  std::optional<uint8_t> num_wps;
  std::optional<uint16_t> sve_vl;
  std::optional<uint8_t> pmu_num_ctrs;
  std::optional<bool> pmu;
  std::optional<bool> lpa2;
  // Parsed and validated, then ignored: the VMM decides (deviations.md).
  std::optional<std::string> hash_algo;
  // The RMM the platform runs (`rmm_version = "1.0" | "2.0"`, spec-rmm2 §2);
  // unset means 1.0. Restrict keeps the older version, Update overrides.
  std::optional<RmmVersion> rmm_version;

  // Parses one TOML file's text; unknown keys and wrong types are errors,
  // and so is a document over kMaxHostCapsTomlBytes or deeper than
  // kMaxHostCapsTomlDepth. `name` is used in messages ("cannot parse
  // <name>: ...").
  static absl::StatusOr<HostCaps> FromToml(absl::string_view text,
                                           absl::string_view name);

  // For each field set in `other`: set it (validated), higher or lower.
  absl::Status Update(const HostCaps& other);
  // For each field set in `other`: validate; set it if unset here or if not
  // greater than the current value (false < true).
  absl::Status Restrict(const HostCaps& other);

  std::string DebugString() const;
};

// Validators with the reference tool's texts, e.g.
// "invalid parameter breakpoints '1'".
// The IPA widths a CCA platform can have: the physical address sizes of
// ID_AA64MMFR0_EL1.PARange (Arm ARM D19.2.64: 0b0000 = 32 bits to
// 0b0110 = 52 bits). TF-RMM refuses a Realm s2sz below 32
// (RMI_FEATURE_MIN_IPA_SIZE) or above the platform's.
enum IpaWidthLimits : int {
  kMinIpaBits = 32,
  kMaxIpaBits = 52,
};

absl::Status ValidateNumBps(int v);
absl::Status ValidateNumWps(int v);
absl::Status ValidateSveVl(int v);
absl::Status ValidatePmuNumCtrs(int v);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_HOST_CAPS_H_
