#include "eventlog/internal/log_builder.h"

#include <algorithm>

namespace realm_measurements::eventlog::internal {

void PutU8(Bytes& b, uint8_t v) { b.push_back(v); }
void PutU16(Bytes& b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutStr(Bytes& b, absl::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes SpecIdHeader(const SpecIdFields& f) {
  Bytes data;
  PutStr(data, f.signature);
  PutU32(data, 0);  // platformClass
  PutU8(data, 0);
  PutU8(data, 2);
  PutU8(data, 106);
  PutU8(data, f.uintn_size);
  PutU32(data, f.number_of_algorithms >= 0
                   ? static_cast<uint32_t>(f.number_of_algorithms)
                   : static_cast<uint32_t>(f.algorithms.size()));
  for (const auto& [id, size] : f.algorithms) {
    PutU16(data, id);
    PutU16(data, size);
  }
  if (!f.omit_vendor_info_size) {
    PutU8(data, static_cast<uint8_t>(f.vendor_info.size()));
    data.insert(data.end(), f.vendor_info.begin(), f.vendor_info.end());
    data.insert(data.end(), f.trailing.begin(), f.trailing.end());
  }
  return LegacyEvent(0, 3, Bytes(20, 0), data);
}

Bytes Event2(uint32_t pcr, uint32_t type, const DigestList& digests,
             const Bytes& data) {
  Bytes b;
  PutU32(b, pcr);
  PutU32(b, type);
  PutU32(b, static_cast<uint32_t>(digests.size()));
  for (const auto& [alg, value] : digests) {
    PutU16(b, alg);
    b.insert(b.end(), value.begin(), value.end());
  }
  PutU32(b, static_cast<uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes LegacyEvent(uint32_t pcr, uint32_t type, const Bytes& sha1,
                  const Bytes& data) {
  Bytes b;
  PutU32(b, pcr);
  PutU32(b, type);
  b.insert(b.end(), sha1.begin(), sha1.end());
  PutU32(b, static_cast<uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes Blob2(absl::string_view description, uint64_t base, uint64_t length) {
  Bytes b;
  PutU8(b, static_cast<uint8_t>(description.size()));
  PutStr(b, description);
  PutU64(b, base);
  PutU64(b, length);
  return b;
}

Bytes Tag(uint32_t id, const Bytes& payload) {
  Bytes b;
  PutU32(b, id);
  PutU32(b, static_cast<uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes VmVersionData(absl::string_view name, absl::string_view version,
                    uint64_t ram_size, uint32_t num_cpus) {
  Bytes b;
  PutStr(b, absl::string_view("VM VERSION\0\0\0\0\0\0", 16));
  Bytes n(32, 0), v(40, 0);
  std::copy(name.begin(), name.begin() + std::min<size_t>(name.size(), 32),
            n.begin());
  std::copy(version.begin(),
            version.begin() + std::min<size_t>(version.size(), 40), v.begin());
  b.insert(b.end(), n.begin(), n.end());
  b.insert(b.end(), v.begin(), v.end());
  PutU64(b, ram_size);
  PutU32(b, num_cpus);
  PutU32(b, 0);
  PutU64(b, 0);
  return b;
}

Bytes RealmCreateData(uint64_t flags, uint8_t s2sz, uint8_t sve_vl,
                      uint8_t num_bps, uint8_t num_wps, uint8_t pmu_num_ctrs,
                      uint8_t hash_algo) {
  Bytes p;
  PutU64(p, flags);
  for (uint8_t v : {s2sz, sve_vl, num_bps, num_wps, pmu_num_ctrs, hash_algo}) {
    PutU8(p, v);
  }
  PutU16(p, 0);
  return Tag(1, p);
}

Bytes InitRipasData(uint64_t base, uint64_t size) {
  Bytes p;
  PutU64(p, base);
  PutU64(p, size);
  return Tag(2, p);
}

Bytes RecCreateData(uint64_t flags, uint64_t pc, uint64_t x0) {
  Bytes p;
  PutU64(p, flags);
  PutU64(p, pc);
  PutU64(p, x0);
  for (int i = 0; i < 7; ++i) PutU64(p, 0);
  return Tag(3, p);
}

}  // namespace realm_measurements::eventlog::internal
