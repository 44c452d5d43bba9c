// Fuzzes HostCaps::FromToml and the merges: no crash, no hang, and every
// error stays one line (the CLI prints it after "ERROR ...").
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "measure/host_caps.h"

namespace {

void CheckOneLine(const absl::Status& s) {
  if (!s.ok() && s.message().find('\n') != absl::string_view::npos) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using realm_measurements::measure::HostCaps;
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<HostCaps> caps = HostCaps::FromToml(text, "fuzz.conf");
  CheckOneLine(caps.status());
  if (!caps.ok()) return 0;
  HostCaps merged;
  CheckOneLine(merged.Restrict(*caps));
  CheckOneLine(merged.Update(*caps));
  // Restrict after Update with the same values never changes a value.
  const HostCaps before = merged;
  if (merged.Restrict(*caps).ok() &&
      (merged.num_bps != before.num_bps || merged.sve_vl != before.sve_vl ||
       merged.pmu != before.pmu || merged.ipa_bits != before.ipa_bits)) {
    abort();
  }
  (void)merged.DebugString();
  return 0;
}
