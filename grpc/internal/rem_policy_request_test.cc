#include "grpc/internal/rem_policy_request.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace realm_measurements::service::internal {
namespace {

constexpr char kCatalogue[] =
    "[{\"digest\": "
    "\"df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119\", "
    "\"description\": \"separator\"}]";

TEST(ParseRemPolicyRequest, NoneWithoutTheFields) {
  v1::AppraiseTokenRequest req;
  absl::StatusOr<std::optional<RemPolicyRequest>> r =
      ParseRemPolicyRequest(req);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(ParseRemPolicyRequest, ReadsLogsCatalogueImagesAndVersion) {
  v1::AppraiseTokenRequest req;
  req.add_event_logs()->set_data("vmm");
  v1::RealmEventLog* fw = req.add_event_logs();
  fw->set_data("fw");
  fw->set_source(v1::LOG_SOURCE_FIRMWARE);
  req.set_event_catalogue(kCatalogue);
  req.add_event_log_images()->set_sha256(std::string(32, 'a'));
  req.set_event_log_rmm_version(v1::RMM_VERSION_2_0);
  absl::StatusOr<std::optional<RemPolicyRequest>> r =
      ParseRemPolicyRequest(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  const RemPolicyRequest& p = **r;
  ASSERT_EQ(p.logs.size(), 2u);
  EXPECT_EQ(p.logs[0].source, eventlog::LogSource::kVmm);
  EXPECT_EQ(p.logs[1].source, eventlog::LogSource::kFirmware);
  EXPECT_EQ(std::string(p.logs[1].bytes.begin(), p.logs[1].bytes.end()), "fw");
  EXPECT_EQ(p.catalogue.size(), 1u);
  EXPECT_EQ(p.rmm_version, measure::RmmVersion::k2_0);
  EXPECT_EQ(p.image_sha256s, std::vector<std::string>{std::string(32, 'a')});
}

TEST(ParseRemPolicyRequest, RefusesWhatCannotBeUsed) {
  auto error = [](const v1::AppraiseTokenRequest& req) {
    absl::StatusOr<std::optional<RemPolicyRequest>> r =
        ParseRemPolicyRequest(req);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  v1::AppraiseTokenRequest only_catalogue;
  only_catalogue.set_event_catalogue(kCatalogue);
  EXPECT_EQ(error(only_catalogue),
            "event_logs: expected event_logs and event_catalogue together");
  v1::AppraiseTokenRequest many;
  many.set_event_catalogue(kCatalogue);
  for (int i = 0; i < kMaxRemPolicyLogs + 1; ++i) {
    v1::RealmEventLog* l = many.add_event_logs();
    l->set_source(v1::LOG_SOURCE_FIRMWARE);
  }
  EXPECT_EQ(error(many), "event_logs: expected at most 8, found 9");
  v1::AppraiseTokenRequest short_digest;
  short_digest.set_event_catalogue(kCatalogue);
  short_digest.add_event_logs();
  short_digest.add_event_log_images()->set_sha256("abc");
  EXPECT_EQ(error(short_digest),
            "event_log_images[0].sha256: expected 32 bytes, found 3");
  v1::AppraiseTokenRequest bad_catalogue;
  bad_catalogue.add_event_logs();
  bad_catalogue.set_event_catalogue("{}");
  EXPECT_TRUE(absl::StartsWith(error(bad_catalogue),
                               "event_catalogue: event digest catalogue: "));
}

TEST(RemPolicyToProto, CopiesEveryField) {
  eventlog::RemPolicyResult r;
  r.outcome = eventlog::RemPolicyOutcome::kUnknownEvents;
  r.applies = true;
  r.executables = 3;
  r.problem = "p";
  r.unknown_events.push_back({1, 2, 65, 3, "EV_SEPARATOR", "sep", "ab"});
  r.replayed_rim = std::vector<uint8_t>{1, 2};
  r.replayed_rems = {std::vector<uint8_t>{3}, std::vector<uint8_t>{4},
                     std::vector<uint8_t>{5}, std::vector<uint8_t>{6}};
  v1::RemPolicyReport out;
  ToProto(r, &out);
  EXPECT_EQ(out.outcome(), "unknown-events");
  EXPECT_TRUE(out.applies());
  EXPECT_EQ(out.executables(), 3);
  EXPECT_EQ(out.problem(), "p");
  ASSERT_EQ(out.unknown_events_size(), 1);
  EXPECT_EQ(out.unknown_events(0).log(), 1u);
  EXPECT_EQ(out.unknown_events(0).event(), 2u);
  EXPECT_EQ(out.unknown_events(0).offset(), 65u);
  EXPECT_EQ(out.unknown_events(0).rem(), 3u);
  EXPECT_EQ(out.unknown_events(0).type(), "EV_SEPARATOR");
  EXPECT_EQ(out.unknown_events(0).description(), "sep");
  EXPECT_EQ(out.unknown_events(0).digest(), "ab");
  EXPECT_EQ(out.replayed_rim(), std::string("\x01\x02", 2));
  ASSERT_EQ(out.replayed_rems_size(), 4);
  EXPECT_EQ(out.replayed_rems(3), "\x06");
}

}  // namespace
}  // namespace realm_measurements::service::internal
