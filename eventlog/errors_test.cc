#include "eventlog/errors.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace realm_measurements::eventlog {
namespace {

TEST(ErrorLocation, RoundTripsEveryField) {
  absl::Status s = WithLocation(absl::InvalidArgumentError("bad"),
                                {ErrorClass::kTruncated, 7, 0x133});
  EXPECT_EQ(s.message(), "bad");
  std::optional<ErrorLocation> l = GetLocation(s);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->error_class, ErrorClass::kTruncated);
  EXPECT_EQ(l->event, 7u);
  EXPECT_EQ(l->entry_offset, 0x133u);
}

TEST(ErrorLocation, UnsetFieldsStayUnset) {
  absl::Status s = WithLocation(absl::InvalidArgumentError("x"),
                                {ErrorClass::kLimit, {}, {}});
  std::optional<ErrorLocation> l = GetLocation(s);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->error_class, ErrorClass::kLimit);
  EXPECT_FALSE(l->event.has_value());
  EXPECT_FALSE(l->entry_offset.has_value());
  // The header has an offset but no event index.
  l = GetLocation(WithLocation(absl::InvalidArgumentError("x"),
                               {ErrorClass::kMalformed, {}, 0}));
  ASSERT_TRUE(l.has_value());
  EXPECT_FALSE(l->event.has_value());
  EXPECT_EQ(l->entry_offset, 0u);
}

TEST(ErrorLocation, ReplacesAnEarlierLocationAndIgnoresOk) {
  absl::Status s = WithLocation(absl::InvalidArgumentError("x"),
                                {ErrorClass::kMalformed, 1, 2});
  s = WithLocation(s, {ErrorClass::kReplay, 3, 4});
  EXPECT_EQ(GetLocation(s)->error_class, ErrorClass::kReplay);
  EXPECT_EQ(GetLocation(s)->event, 3u);
  EXPECT_TRUE(WithLocation(absl::OkStatus(), {}).ok());
  EXPECT_FALSE(GetLocation(absl::InvalidArgumentError("plain")).has_value());
}

TEST(ErrorLocation, ClassNames) {
  EXPECT_STREQ(ErrorClassName(ErrorClass::kIo), "io");
  EXPECT_STREQ(ErrorClassName(ErrorClass::kUnsupported), "unsupported");
  EXPECT_STREQ(ErrorClassName(ErrorClass::kCatalogue), "catalogue");
}

}  // namespace
}  // namespace realm_measurements::eventlog
