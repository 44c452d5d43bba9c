// libFuzzer target for gen-run-vmm's config parser (TOML through toml++ after
// the size and nesting checks of measure/toml_limits.h): any text gives a
// config or an error, never a crash, and a config names its file.
// Seed: testdata/gen_run_vmm/gen-run-vmm.toml.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/gen-run-vmm/gen_run_vmm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = "/fuzz/gen-run-vmm.toml";
  absl::StatusOr<realm_measurements::gen_run_vmm::Config> c =
      realm_measurements::gen_run_vmm::ParseConfig(
          absl::string_view(reinterpret_cast<const char*>(data), size), path);
  if (c.ok() && c->path != path) std::abort();
  return 0;
}
