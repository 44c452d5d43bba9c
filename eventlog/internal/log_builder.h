// Test/bench helper: assembles TCG event logs byte by byte (little-endian
// fields as in spec-eventlog §B-§C). Test-only; no validation on purpose, so
// malformed logs can be built too.
#ifndef REALM_MEASUREMENTS_EVENTLOG_INTERNAL_LOG_BUILDER_H_
#define REALM_MEASUREMENTS_EVENTLOG_INTERNAL_LOG_BUILDER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace realm_measurements::eventlog::internal {

using Bytes = std::vector<uint8_t>;

void PutU8(Bytes& b, uint8_t v);
void PutU16(Bytes& b, uint16_t v);
void PutU32(Bytes& b, uint32_t v);
void PutU64(Bytes& b, uint64_t v);
void PutStr(Bytes& b, absl::string_view s);
Bytes Concat(std::initializer_list<Bytes> parts);

struct SpecIdFields {
  std::vector<std::pair<uint16_t, uint16_t>> algorithms = {{0x000B, 32}};
  std::string signature = std::string("Spec ID Event03\0", 16);
  uint8_t uintn_size = 2;
  Bytes vendor_info;
  // Overrides numberOfAlgorithms when >= 0.
  int64_t number_of_algorithms = -1;
  // Appended after vendorInfo.
  Bytes trailing;
  // Drops the vendorInfoSize byte (and everything after).
  bool omit_vendor_info_size = false;
};

// The header entry (TCG_PCClientPCREvent carrying a TCG_EfiSpecIdEvent).
Bytes SpecIdHeader(const SpecIdFields& f = {});

using DigestList = std::vector<std::pair<uint16_t, Bytes>>;
// One TCG_PCR_EVENT2 entry.
Bytes Event2(uint32_t pcr, uint32_t type, const DigestList& digests,
             const Bytes& data);
// One legacy TCG_PCClientPCREvent entry.
Bytes LegacyEvent(uint32_t pcr, uint32_t type, const Bytes& sha1,
                  const Bytes& data);

Bytes Blob2(absl::string_view description, uint64_t base, uint64_t length);
Bytes Tag(uint32_t id, const Bytes& payload);
// 112-byte producers' VM VERSION.
Bytes VmVersionData(absl::string_view name, absl::string_view version,
                    uint64_t ram_size, uint32_t num_cpus);
// REALM_CREATE tag (S = 16, two zero pad bytes).
Bytes RealmCreateData(uint64_t flags, uint8_t s2sz, uint8_t sve_vl,
                      uint8_t num_bps, uint8_t num_wps, uint8_t pmu_num_ctrs,
                      uint8_t hash_algo);
Bytes InitRipasData(uint64_t base, uint64_t size);
Bytes RecCreateData(uint64_t flags, uint64_t pc, uint64_t x0);

}  // namespace realm_measurements::eventlog::internal

#endif  // REALM_MEASUREMENTS_EVENTLOG_INTERNAL_LOG_BUILDER_H_
