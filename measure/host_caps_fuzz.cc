// Fuzzes HostCaps::FromToml and the merges: no crash, no hang, and every
// error stays one line (the CLI prints it after "ERROR ..."). The seeds in
// testdata/host_caps/fuzz_corpus reach the size and nesting limits that
// keep deep documents away from toml++ (issue 14).
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
  // Only documents within the size limit reach the parser (issue 14).
  if (size > realm_measurements::measure::kMaxHostCapsTomlBytes) abort();
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
