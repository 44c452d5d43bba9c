#include "measure/internal/rmm_structs.h"

#include <cstring>

namespace realm_measurements::measure::internal {
namespace {

// Explicit little-endian stores (spec-core §2.1), independent of host order.
void PutLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

template <size_t N>
void PutMeasurement(std::array<uint8_t, N>* out, size_t offset,
                    const MeasurementBuffer& m) {
  static_assert(N >= kRealmMeasurementWidth, "buffer too small");
  std::memcpy(out->data() + offset, m.data(), m.size());
}

void DescriptorHeader(DescriptorType type, const MeasurementBuffer& rim,
                      DescriptorImage* out) {
  out->fill(0);
  (*out)[kDescType] = static_cast<uint8_t>(type);
  PutLe64(out->data() + kDescLen, kDescriptorSize);
  PutMeasurement(out, kDescRim, rim);
}

}  // namespace

void EncodeRealmParams(const RealmParamsFields& fields, RealmParamsImage* out) {
  out->fill(0);
  PutLe64(out->data() + kRealmParamsFlags, fields.flags);
  // TF-RMM holds these in 32-bit fields of 8-byte slots; values < 256 give
  // the same bytes as the tool's u8 fields (spec-core §3.5 note).
  (*out)[kRealmParamsS2sz] = fields.s2sz;
  (*out)[kRealmParamsSveVl] = fields.sve_vl;
  (*out)[kRealmParamsNumBps] = fields.num_bps;
  (*out)[kRealmParamsNumWps] = fields.num_wps;
  (*out)[kRealmParamsPmuNumCtrs] = fields.pmu_num_ctrs;
  (*out)[kRealmParamsHashAlgo] = fields.hash_algo;
}

void EncodeRecParams(uint64_t flags, uint64_t pc,
                     const std::array<uint64_t, 8>& gprs, RecParamsImage* out) {
  out->fill(0);
  PutLe64(out->data() + kRecParamsFlags, flags);
  PutLe64(out->data() + kRecParamsPc, pc);
  for (size_t i = 0; i < gprs.size(); ++i) {
    PutLe64(out->data() + kRecParamsGprs + 8 * i, gprs[i]);
  }
}

void EncodeDataDescriptor(const MeasurementBuffer& rim, uint64_t ipa,
                          uint64_t flags, const MeasurementBuffer& content,
                          DescriptorImage* out) {
  DescriptorHeader(DescriptorType::kData, rim, out);
  PutLe64(out->data() + kDescDataIpa, ipa);
  PutLe64(out->data() + kDescDataFlags, flags);
  PutMeasurement(out, kDescDataContent, content);
}

void EncodeRecDescriptor(const MeasurementBuffer& rim,
                         const MeasurementBuffer& content,
                         DescriptorImage* out) {
  DescriptorHeader(DescriptorType::kRec, rim, out);
  PutMeasurement(out, kDescRecContent, content);
}

void EncodeRipasDescriptor(const MeasurementBuffer& rim, uint64_t base,
                           uint64_t top, DescriptorImage* out) {
  DescriptorHeader(DescriptorType::kRipas, rim, out);
  PutLe64(out->data() + kDescRipasBase, base);
  PutLe64(out->data() + kDescRipasTop, top);
}

}  // namespace realm_measurements::measure::internal
