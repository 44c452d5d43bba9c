#include "measure/sweep.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

using Args = std::vector<std::string>;

TEST(ParseSweep, AxisAndShape) {
  absl::StatusOr<SweepAxis> a = ParseSweepAxis("cpus=1,2,4");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->key, "cpus");
  EXPECT_EQ(a->values, (std::vector<std::string>{"1", "2", "4"}));
  absl::StatusOr<SweepParams> s = ParseSweepShape("cpus=2,mem=1G");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(SweepParamsText(*s), "cpus=2 mem=1G");
}

TEST(ParseSweep, Errors) {
  EXPECT_EQ(ParseSweepAxis("cpus").status().message(),
            "sweep: expected KEY=VALUE in --sweep 'cpus', found no '='");
  EXPECT_EQ(ParseSweepAxis("Cpus=1").status().message(),
            "sweep: key 'Cpus' in --sweep must be 1 or more of a-z 0-9 _ - "
            "(lower case)");
  EXPECT_EQ(ParseSweepAxis("cpus=1,,2").status().message(),
            "sweep: empty value for key 'cpus'");
  EXPECT_EQ(ParseSweepAxis("=1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSweepShape("a=1,a=2").status().message(),
            "sweep: key 'a' appears twice in --sweep-shape 'a=1,a=2'");
  EXPECT_FALSE(ParseSweepAxis(absl::StrCat("k=", std::string(5000, 'x'))).ok());
}

TEST(ExpandSweep, CrossProductFirstAxisSlowest) {
  std::vector<SweepAxis> axes = {{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}};
  absl::StatusOr<std::vector<SweepShape>> s =
      ExpandSweep(axes, {}, Args{"-c", "{a}", "--name={b}-{a}", "{notkey"});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 6u);
  EXPECT_EQ((*s)[0].vmm_args, (Args{"-c", "1", "--name=x-1", "{notkey"}));
  EXPECT_EQ((*s)[2].vmm_args, (Args{"-c", "1", "--name=z-1", "{notkey"}));
  EXPECT_EQ((*s)[3].vmm_args, (Args{"-c", "2", "--name=x-2", "{notkey"}));
  EXPECT_EQ(SweepParamsText((*s)[5].params), "a=2 b=z");
}

TEST(ExpandSweep, Errors) {
  std::vector<SweepAxis> axes = {{"a", {"1"}}};
  EXPECT_EQ(ExpandSweep(axes, {}, Args{"-c", "1"}).status().message(),
            "sweep: key 'a' is not used: no VMM argument contains {a}");
  EXPECT_EQ(ExpandSweep(axes, {}, Args{"{a}", "{b}"}).status().message(),
            "sweep: placeholder {b} has no value in the sweep");
  std::vector<SweepParams> shapes = {{{"a", "1"}}, {{"b", "2"}}};
  EXPECT_FALSE(ExpandSweep({}, shapes, Args{"{a}"}).ok());
  EXPECT_EQ(ExpandSweep(axes, shapes, Args{"{a}"}).status().message(),
            "sweep: --sweep and --sweep-shape can not be combined");
  std::vector<SweepAxis> twice = {{"a", {"1"}}, {"a", {"2"}}};
  EXPECT_FALSE(ExpandSweep(twice, {}, Args{"{a}"}).ok());
  // 17^3 = 4913 > kMaxSweepShapes.
  std::vector<std::string> v17;
  for (int i = 0; i < 17; ++i) v17.push_back(absl::StrCat(i));
  std::vector<SweepAxis> big = {{"a", v17}, {"b", v17}, {"c", v17}};
  EXPECT_EQ(ExpandSweep(big, {}, Args{"{a}{b}{c}"}).status().message(),
            absl::StrCat("sweep: more than ", kMaxSweepShapes,
                         " shapes in the cross product"));
}

}  // namespace
}  // namespace realm_measurements::measure
