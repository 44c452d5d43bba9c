// libFuzzer target for the CoMID endorsements template (--endorsements-
// template, a user's file; measure/comid_json.h). A template that fills
// must give JSON, and that output used as the template must fill to itself
// (the measurements overwrite what the template held). Seeds: the golden
// corpus's generated templates (testdata/golden/gen_inputs.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "measure/comid_json.h"
#include "measure/engine.h"
#include "measure/realm_config.h"
#include "nlohmann/json.hpp"

namespace m = realm_measurements::measure;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  m::Measurements measurements;
  measurements.hash_algorithm = m::HashAlgorithm::kSha256;
  for (size_t i = 0; i < measurements.rim.size(); ++i) {
    measurements.rim[i] = static_cast<uint8_t>(i < 32 ? i + 1 : 0);
  }
  m::Measurement rpv{};
  rpv[0] = 0xaa;
  absl::StatusOr<std::string> out =
      m::FillComidJson(text, "fuzz.json", measurements, rpv);
  if (!out.ok()) return 0;
  if (nlohmann::json::parse(*out, nullptr, false).is_discarded()) std::abort();
  absl::StatusOr<std::string> again =
      m::FillComidJson(*out, "fuzz.json", measurements, rpv);
  if (!again.ok() || *again != *out) std::abort();
  return 0;
}
