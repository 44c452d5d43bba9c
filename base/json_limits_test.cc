#include "base/json_limits.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::measure {
namespace {

// Depths by hand: one per open array or object.
int Depth(absl::string_view doc) {
  for (int d = 0; d < 64; ++d) {
    if (CheckJsonLimits(doc, JsonLimits{1 << 20, d}).ok()) return d;
  }
  return -1;
}

TEST(JsonLimits, DepthOfEachConstruct) {
  const std::pair<const char*, int> cases[] = {
      {"1", 0},
      {"\"[[[{{\"", 0},
      {"\"\\\"[[\"", 0},  // escaped quote inside the string
      {"[]", 1},
      {"{\"a\": [1, {\"b\": []}]}", 4},
      {"[[], [], [[]]]", 3},
      {"{\"k\\\\\": [\"]]]\"]}", 2},  // escaped backslash ends the escape
  };
  for (const auto& [doc, depth] : cases) {
    SCOPED_TRACE(doc);
    EXPECT_EQ(Depth(doc), depth);
    EXPECT_FALSE(nlohmann::json::parse(doc, nullptr, false).is_discarded());
  }
}

TEST(JsonLimits, Messages) {
  EXPECT_EQ(CheckJsonLimits(std::string(11, ' '), JsonLimits{10, 1}).message(),
            "document is 11 bytes, more than the limit of 10 bytes");
  EXPECT_TRUE(CheckJsonLimits(std::string(10, ' '), JsonLimits{10, 1}).ok());
  EXPECT_EQ(CheckJsonLimits("[[[1]]]", JsonLimits{64, 2}).message(),
            "nesting deeper than 2 levels at byte 2");
}

TEST(JsonLimits, DeepDocumentIsRefusedBeforeTheParserCouldCrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  absl::Status s = CheckJsonLimits(deep, JsonLimits{1 << 20, 64});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "nesting deeper than 64 levels at byte 64");
}

}  // namespace
}  // namespace realm_measurements::measure
