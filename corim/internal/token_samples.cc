#include "corim/internal/token_samples.h"

#include <string>

namespace realm_measurements::corim::internal {

std::vector<uint8_t> Pattern(size_t n, uint8_t first) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

PlatformClaims SamplePlatformClaims() {
  PlatformClaims p;
  p.profile = PlatformProfile::kV1;
  p.profile_text = std::string(kPlatformProfile2023);
  p.implementation_id = std::vector<uint8_t>(32, 0x00);
  p.instance_id = std::vector<uint8_t>(33, 0x02);
  p.instance_id[0] = 0x01;
  p.config = {0xcf, 0xcf, 0xcf, 0xcf};
  p.lifecycle = 0x3000;
  SwComponent c;
  c.type = "RMM";
  c.measurement = Pattern(32, 0x40);
  c.version = "1.0.0";
  c.signer_id = Pattern(32, 0x80);
  c.hash_algorithm = "sha-256";
  p.sw_components.push_back(c);
  p.service_indicator =
      "https://veraison.example/.well-known/veraison/verification";
  p.hash_algorithm = "sha-256";
  return p;
}

RealmClaims SampleRealmClaims(RealmProfile profile, absl::string_view hash) {
  const size_t size = hash == "sha-512" ? 64 : hash == "sha-384" ? 48 : 32;
  RealmClaims r;
  r.profile = profile;
  if (profile == RealmProfile::kV1)
    r.profile_text = std::string(kRealmProfile2023);
  if (profile == RealmProfile::kV2)
    r.profile_text = std::string(kRealmProfile2024);
  r.challenge = Pattern(64, 0x10);
  r.personalization_value = Pattern(64, 0x20);
  r.hash_algorithm = std::string(hash);
  r.public_key_hash_algorithm = "sha-256";
  r.initial_measurement = Pattern(size, 0xa0);
  for (uint8_t i = 0; i < 4; ++i) {
    r.extensible_measurements.push_back(Pattern(size, 0xb0 + 0x10 * i));
  }
  if (profile == RealmProfile::kV2) {
    r.instance_id = Pattern(33, 0x01);
    r.mec_policy = uint64_t{1};
    r.mec_policy_key = kRealmMecPolicy;
  }
  return r;
}

}  // namespace realm_measurements::corim::internal
