// What a VMM model produces: the Realm's layout and the RMM operations to
// replay, independent of any VMM. Data flows one way:
//   argv/config -> VMM model -> RealmConfig -> engine -> outputs.
// The replay order is fixed (spec-core §6.4, spec-vmm §1.3).
#ifndef REALM_MEASUREMENTS_MEASURE_REALM_CONFIG_H_
#define REALM_MEASUREMENTS_MEASURE_REALM_CONFIG_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/cancellation.h"
#include "measure/engine.h"
#include "measure/host_caps.h"
#include "measure/payload.h"

namespace realm_measurements::measure {

struct Blob {
  std::string name;  // "kernel", "initrd", "firmware", "dtb", ...
  uint64_t guest_start = 0;
  // Space the VMM reserves for it (Linux image_size); placement only,
  // never measured. 0 = the content size.
  uint64_t load_size = 0;
  Payload payload;
  // Set by a VMM model for firmware that lives in a flash device rather than
  // in RAM (QEMU -bios, loaded below kFlashLimit): Validate() then accepts
  // it outside the RAM ranges as long as it ends at or below kFlashLimit.
  bool in_flash = false;
};

// QEMU virt: the two 64 MiB flash banks end at 0x08000000 (spec-vmm §6.7).
inline constexpr uint64_t kFlashLimit = 0x08000000;

struct MemoryRange {
  uint64_t base = 0;
  uint64_t size = 0;
};

class RealmConfig {
 public:
  // Host capabilities after config files and command-line overrides; VMM
  // models restrict them further (HostCaps::Restrict*).
  explicit RealmConfig(HostCaps caps) : caps_(std::move(caps)) {}

  HostCaps& caps() { return caps_; }
  const HostCaps& caps() const { return caps_; }

  // The RMM version of the realm: host caps `rmm_version`, default 1.0
  // (spec-rmm2 §2).
  RmmVersion rmm_version() const {
    return caps_.rmm_version.value_or(RmmVersion::k1_0);
  }

  // The algorithm comes from the VMM model, never from host caps.
  void set_hash_algorithm(HashAlgorithm a) { hash_algorithm_ = a; }
  std::optional<HashAlgorithm> hash_algorithm() const {
    return hash_algorithm_;
  }

  // Realm Personalization Value, 64 bytes, zero-padded (not measured).
  absl::Status SetPersonalizationValue(absl::Span<const uint8_t> rpv);
  // From standard base64 (QEMU / cloud-hypervisor spelling).
  absl::Status SetPersonalizationValueBase64(absl::string_view b64);
  const Measurement& personalization_value() const { return rpv_; }

  // "invalid VM configuration: duplicate RAM range at <decimal>".
  absl::Status AddRam(uint64_t base, uint64_t size);
  // "invalid VM configuration: duplicate blob at <decimal>".
  absl::Status AddRimBlob(Blob blob);
  void AddRimUnmeasured(uint64_t base, uint64_t size);
  void AddRemBlob(int index, Blob blob);
  // "invalid VM configuration: only one REC is supported".
  absl::Status AddRec(const RecParams& rec);

  // The DTB the VMM must load (written by --output-dtb); also a RIM blob.
  void set_dtb(std::vector<uint8_t> dtb) { dtb_ = std::move(dtb); }
  const std::optional<std::vector<uint8_t>>& dtb() const { return dtb_; }
  void set_dtb_address(uint64_t a) { dtb_address_ = a; }
  // add_dtb (spec-vmm §2.3): `dtb` becomes the DTB the VMM must load and a
  // RIM blob named "dtb" at `address`. Errors are AddRimBlob's.
  absl::Status AddDtb(uint64_t address, std::vector<uint8_t> dtb);
  std::optional<uint64_t> dtb_address() const { return dtb_address_; }

  // The IPA width the VMM's memory map needs (kvmtool: deviations C2; QEMU:
  // 41 for the default map; cloud-hypervisor: 48). Validate() rejects a host
  // capability restricted below it. Models restrict caps() separately.
  void RequireIpaBits(uint8_t bits) { required_ipa_bits_ = bits; }
  std::optional<uint8_t> required_ipa_bits() const {
    return required_ipa_bits_;
  }

  // Warnings for the user (printed as "WARN <text>"): those of the VMM
  // model, then those the realm's parameters call for (a PMU realm under
  // RMM 2.0, which TF-RMM refuses as of 2026-07: spec-rmm2 §1 row 5).
  void Warn(std::string text) { warnings_.push_back(std::move(text)); }
  std::vector<std::string> warnings() const;

  const std::map<uint64_t, uint64_t>& ram() const { return ram_; }
  const std::map<uint64_t, Blob>& rim_blobs() const { return rim_blobs_; }
  const std::vector<MemoryRange>& rim_unmeasured() const { return unmeasured_; }
  const std::vector<std::pair<int, Blob>>& rem_blobs() const {
    return rem_blobs_;
  }
  const std::optional<RecParams>& rec() const { return rec_; }

  // Rejects layouts a real VMM would refuse (docs/deviations.md): blobs
  // outside RAM or overlapping, IPA width too small for the memory map,
  // empty RAM; and an algorithm the RMM version lacks (SHA-384 under 1.0).
  absl::Status Validate() const;

  // REALM_CREATE parameters from caps + hash algorithm;
  // "<name> is not known" for missing ones (spec-core §4.2 order).
  absl::StatusOr<RealmCreateParams> ResolveParams() const;

 private:
  HostCaps caps_;
  std::optional<HashAlgorithm> hash_algorithm_;
  Measurement rpv_ = {};
  std::map<uint64_t, uint64_t> ram_;
  std::map<uint64_t, Blob> rim_blobs_;
  std::vector<MemoryRange> unmeasured_;
  std::vector<std::pair<int, Blob>> rem_blobs_;
  std::optional<RecParams> rec_;
  std::optional<std::vector<uint8_t>> dtb_;
  std::optional<uint64_t> dtb_address_;
  std::vector<std::string> warnings_;
  std::optional<uint8_t> required_ipa_bits_;
};

struct Measurements {
  RmmVersion rmm_version = RmmVersion::k1_0;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  Measurement rim = {};
  std::array<Measurement, 4> rem = {};
};

class GranuleHasher;  // granule_hasher.h
class DigestCache;    // digest_cache.h
class ChainBatch;     // chain_batch.h

// How ComputeMeasurements gets granule digests (issue 8) and when it stops
// early. All optional and not owned; results never depend on them.
struct MeasureOptions {
  // Parallel hashing pool; nullptr = a temporary one with default threads.
  GranuleHasher* hasher = nullptr;
  // Reuse of granule digests across calls (VM shapes, server requests).
  DigestCache* cache = nullptr;
  // Called on the calling thread with the number of payload bytes just
  // hashed (granules of RIM blobs, chunks of REM blobs; cache hits are not
  // hashed), e.g. for a progress display. May be empty.
  std::function<void(uint64_t bytes)> on_hashed;
  // Polled at the start of every blob and every 256 granules (1 MiB) of it;
  // a non-OK result stops the computation and is returned unchanged (the
  // server stops work whose call was cancelled or ran out of time).
  CancelCheck cancel;
  // The sweep's lockstep chains (chain_batch.h); nullptr: each blob's chain
  // runs on its own. Used for blobs whose digests the cache holds.
  ChainBatch* chain_batch = nullptr;
};

// Replays the configuration through the engine in the fixed order:
// REALM_CREATE, INIT_RIPAS per RAM range (measured under RMM 1.0 only),
// measured DATA per RIM blob
// (ascending address), REC, unmeasured DATA, REM blobs (TF-RMM chaining).
absl::StatusOr<Measurements> ComputeMeasurements(const RealmConfig& config);
absl::StatusOr<Measurements> ComputeMeasurements(const RealmConfig& config,
                                                 const MeasureOptions& options);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_REALM_CONFIG_H_
