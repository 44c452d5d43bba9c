#include "corim/internal/expected_found.h"

#include "gtest/gtest.h"

namespace realm_measurements::corim::internal {
namespace {

TEST(ExpectedFoundTest, InvalidArgumentWithWhereExpectedFound) {
  absl::Status s = ExpectedFound("corim.tags[0]", "a map", "an array");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "corim.tags[0]: expected a map, found an array");
}

}  // namespace
}  // namespace realm_measurements::corim::internal
