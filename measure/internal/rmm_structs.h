// Byte images of the RMM 1.0 structures that reach the RIM (spec-core §3):
// RmiRealmParams and RmiRecParams (0x1000 bytes each) and the DATA / REC /
// RIPAS measurement descriptors (0x100 bytes each). All integers are
// little-endian; every byte not listed is zero. The encoders write into
// caller-owned fixed-size buffers so the engine's hot path never allocates.
#ifndef REALM_MEASUREMENTS_MEASURE_INTERNAL_RMM_STRUCTS_H_
#define REALM_MEASUREMENTS_MEASURE_INTERNAL_RMM_STRUCTS_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace realm_measurements::measure::internal {

// RMM_REALM_MEASUREMENT_WIDTH (spec-core §2.2).
inline constexpr size_t kRealmMeasurementWidth = 64;
using MeasurementBuffer = std::array<uint8_t, kRealmMeasurementWidth>;

// Architectural sizes (spec-core §3, constants table).
inline constexpr size_t kRealmParamsSize = 0x1000;
inline constexpr size_t kRecParamsSize = 0x1000;
inline constexpr size_t kDescriptorSize = 0x100;

using RealmParamsImage = std::array<uint8_t, kRealmParamsSize>;
using RecParamsImage = std::array<uint8_t, kRecParamsSize>;
using DescriptorImage = std::array<uint8_t, kDescriptorSize>;

// RmiRealmFlags (spec-core §3, flag sets).
enum RealmFlag : uint64_t {
  kRealmFlagLpa2 = 1u << 0,
  kRealmFlagSve = 1u << 1,
  kRealmFlagPmu = 1u << 2,
};
// RmiRecCreateFlags.
inline constexpr uint64_t kRecFlagRunnable = 1;
// RmmDataFlags: RMI_MEASURE_CONTENT.
inline constexpr uint64_t kDataFlagMeasure = 1;

// desc_type values of the measurement descriptors (spec-core §3.3-§3.5).
enum class DescriptorType : uint8_t { kData = 0, kRec = 1, kRipas = 2 };

// Field offsets of RmiRealmParams (spec-core §3.1).
enum RealmParamsOffset : size_t {
  kRealmParamsFlags = 0x00,
  kRealmParamsS2sz = 0x08,
  kRealmParamsSveVl = 0x10,
  kRealmParamsNumBps = 0x18,
  kRealmParamsNumWps = 0x20,
  kRealmParamsPmuNumCtrs = 0x28,
  kRealmParamsHashAlgo = 0x30,
};
// Field offsets of RmiRecParams (spec-core §3.2).
enum RecParamsOffset : size_t {
  kRecParamsFlags = 0x000,
  kRecParamsPc = 0x200,
  kRecParamsGprs = 0x300,
};
// Field offsets shared by the descriptors (spec-core §3.3-§3.5).
enum DescriptorOffset : size_t {
  kDescType = 0x00,
  kDescLen = 0x08,
  kDescRim = 0x10,
  kDescDataIpa = 0x50,
  kDescDataFlags = 0x58,
  kDescDataContent = 0x60,
  kDescRecContent = 0x50,
  kDescRipasBase = 0x50,
  kDescRipasTop = 0x58,
};

// The measured fields of RmiRealmParams, already in their encoded form
// (counts minus one, SVE as VQ - 1): the caller validates and converts.
struct RealmParamsFields {
  uint64_t flags = 0;
  uint8_t s2sz = 0;
  uint8_t sve_vl = 0;        // VL/128 - 1, 0 when SVE is off
  uint8_t num_bps = 0;       // count - 1
  uint8_t num_wps = 0;       // count - 1
  uint8_t pmu_num_ctrs = 0;  // 0 when PMU is off
  uint8_t hash_algo = 0;     // RmiHashAlgorithm
};

// Each encoder overwrites all of `*out`.
void EncodeRealmParams(const RealmParamsFields& fields, RealmParamsImage* out);
void EncodeRecParams(uint64_t flags, uint64_t pc,
                     const std::array<uint64_t, 8>& gprs, RecParamsImage* out);
void EncodeDataDescriptor(const MeasurementBuffer& rim, uint64_t ipa,
                          uint64_t flags, const MeasurementBuffer& content,
                          DescriptorImage* out);
void EncodeRecDescriptor(const MeasurementBuffer& rim,
                         const MeasurementBuffer& content,
                         DescriptorImage* out);
void EncodeRipasDescriptor(const MeasurementBuffer& rim, uint64_t base,
                           uint64_t top, DescriptorImage* out);

}  // namespace realm_measurements::measure::internal

#endif  // REALM_MEASUREMENTS_MEASURE_INTERNAL_RMM_STRUCTS_H_
