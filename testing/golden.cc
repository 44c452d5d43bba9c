#include "testing/golden.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/files.h"

namespace realm_measurements::test {

GoldenCase LoadGoldenCase(absl::string_view id, absl::string_view file) {
  const nlohmann::json corpus = nlohmann::json::parse(
      ReadFileText(absl::StrCat("testdata/golden/", file)));
  for (const nlohmann::json& c : corpus["cases"]) {
    if (c["id"] != std::string(id)) continue;
    GoldenCase g;
    g.id = std::string(id);
    g.argv = c["argv"].get<std::vector<std::string>>();
    g.expected_stdout = c["expected_stdout"].get<std::string>();
    EXPECT_TRUE(absl::StartsWith(g.expected_stdout, "RIM: "))
        << id << ": " << g.expected_stdout;
    g.rim = g.expected_stdout.substr(5, 128);
    g.dtb_size = c.value("expected_dtb_size", size_t{0});
    g.dtb_sha256 = c.value("expected_dtb_sha256", "");
    return g;
  }
  ADD_FAILURE() << "no golden case " << id << " in " << file;
  return {};
}

}  // namespace realm_measurements::test
