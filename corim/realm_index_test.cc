#include "corim/realm_index.h"

#include <memory>
#include <vector>

#include "base/crypto.h"
#include "corim/appraisal.h"
#include "corim/internal/token_samples.h"
#include "corim/token.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::EcPrivateKey;
using crypto::EcPublicKey;
using internal::Pattern;
using internal::SamplePlatformClaims;
using internal::SampleRealmClaims;

// A value whose RIM is derived from `n` (never the token's).
RealmReferenceValue Other(uint32_t n) {
  RealmReferenceValue v;
  v.rim.assign(32, 0);
  for (int i = 0; i < 4; ++i) v.rim[i] = static_cast<uint8_t>(n >> (8 * i));
  v.rim[31] = 0xee;
  return v;
}

TEST(RealmIndexSegmentTest, RoundTripsEveryFieldAndFindsByRim) {
  std::vector<RealmReferenceValue> values;
  RealmReferenceValue full;
  full.algorithm = RealmHashAlgorithm::kSha384;
  full.rim = Pattern(48, 0x10);
  full.rem[1] = Pattern(48, 0x20);
  full.rem[3] = Pattern(48, 0x30);
  full.rpv = Pattern(64, 0x40);
  full.legacy_instance = Pattern(7, 0x50);
  values.push_back(Other(3));
  values.push_back(full);
  values.push_back(Other(1));
  RealmReferenceValue again = full;
  again.rpv.reset();
  values.push_back(again);
  absl::StatusOr<std::shared_ptr<const RealmIndexSegment>> seg =
      RealmIndexSegment::Build(values);
  ASSERT_TRUE(seg.ok()) << seg.status();
  ASSERT_EQ((*seg)->size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ((*seg)->Get(i), values[i]) << i;
  }
  std::vector<uint32_t> found;
  (*seg)->Find(full.rim, &found);
  EXPECT_EQ(found, (std::vector<uint32_t>{1, 3}));
  found.clear();
  (*seg)->Find(Pattern(48, 0x11), &found);
  EXPECT_TRUE(found.empty());
  // A 32-byte prefix of a 48-byte RIM is another RIM.
  found.clear();
  (*seg)->Find(Pattern(32, 0x10), &found);
  EXPECT_TRUE(found.empty());
}

TEST(RealmIndexSegmentTest, RefusesInvalidValuesAndTooManyPerRim) {
  RealmReferenceValue bad = Other(1);
  bad.rim.resize(31);
  absl::StatusOr<std::shared_ptr<const RealmIndexSegment>> seg =
      RealmIndexSegment::Build({Other(0), bad});
  EXPECT_EQ(seg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(seg.status().message().find("value 1: "), std::string::npos)
      << seg.status();

  std::vector<RealmReferenceValue> same(kMaxValuesPerRim + 1, Other(9));
  seg = RealmIndexSegment::Build(same);
  EXPECT_EQ(seg.status().code(), absl::StatusCode::kResourceExhausted);
  same.pop_back();
  seg = RealmIndexSegment::Build(same);
  ASSERT_TRUE(seg.ok()) << seg.status();
  // Across segments of one set, too.
  RealmIndex index({*seg});
  auto more = RealmIndexSegment::Build({Other(9)});
  ASSERT_TRUE(more.ok());
  auto grown = index.With(*more);
  EXPECT_EQ(grown.status().code(), absl::StatusCode::kResourceExhausted)
      << grown.status();
  auto unrelated = RealmIndexSegment::Build({Other(10)});
  ASSERT_TRUE(unrelated.ok());
  EXPECT_TRUE(index.With(*unrelated).ok());
}

TEST(RealmIndexTest, PositionsSpanSegmentsInStoreOrder) {
  std::vector<std::shared_ptr<const RealmIndexSegment>> segs;
  for (uint32_t k = 0; k < 3; ++k) {
    std::vector<RealmReferenceValue> v;
    for (uint32_t i = 0; i < 100; ++i) v.push_back(Other(k * 100 + i));
    v.push_back(Other(7));  // one repeated RIM in every segment
    segs.push_back(*RealmIndexSegment::Build(v));
  }
  RealmIndex index(segs);
  EXPECT_EQ(index.size(), 303u);
  EXPECT_EQ(index.Lookup(Other(7).rim),
            (std::vector<size_t>{7, 100, 201, 302}));
  EXPECT_EQ(index.Lookup(Other(250).rim), (std::vector<size_t>{252}));
  EXPECT_EQ(index.Get(252), Other(250));
  EXPECT_TRUE(index.Lookup(Other(999).rim).empty());
  EXPECT_GT(index.memory_bytes(), 303u * 32);
}

// A segment's CoRIM validity decides whether a lookup at a time sees it;
// without a time every segment is seen.
TEST(RealmIndexTest, LookupAtATimeSkipsSegmentsOutsideTheirValidity) {
  const std::vector<RealmReferenceValue> v = {Other(1), Other(7), Other(7)};
  RealmIndex index(
      {*RealmIndexSegment::Build(v, Validity{1000, 2000}),
       *RealmIndexSegment::Build(v),
       *RealmIndexSegment::Build(v, Validity{std::nullopt, 3000})});
  EXPECT_EQ(index.Lookup(Other(7).rim),
            (std::vector<size_t>{1, 2, 4, 5, 7, 8}));
  size_t excluded = 0;
  EXPECT_EQ(index.Lookup(Other(7).rim, 1500, &excluded),
            (std::vector<size_t>{1, 2, 4, 5, 7, 8}));
  EXPECT_EQ(excluded, 0u);
  EXPECT_EQ(index.Lookup(Other(7).rim, 2500, &excluded),
            (std::vector<size_t>{4, 5, 7, 8}));
  EXPECT_EQ(excluded, 2u);
  excluded = 0;
  EXPECT_EQ(index.Lookup(Other(7).rim, 999, &excluded),
            (std::vector<size_t>{4, 5, 7, 8}));
  EXPECT_EQ(excluded, 2u);
  excluded = 0;
  EXPECT_EQ(index.Lookup(Other(7).rim, 3001, &excluded),
            (std::vector<size_t>{4, 5}));
  EXPECT_EQ(excluded, 4u);
  EXPECT_EQ(index.First(2), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(index.First(4, 2500), (std::vector<size_t>{3, 4, 5, 6}));
  EXPECT_EQ(index.First(9, 3001), (std::vector<size_t>{3, 4, 5}));
  // Only values with the RIM asked for are counted.
  excluded = 0;
  EXPECT_EQ(index.Lookup(Other(1).rim, 3001, &excluded),
            (std::vector<size_t>{3}));
  EXPECT_EQ(excluded, 2u);
}

class IndexedAppraisalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cpak_ =
        std::make_unique<EcPrivateKey>(*EcPrivateKey::Generate(Curve::kP256));
    rak_ =
        std::make_unique<EcPrivateKey>(*EcPrivateKey::Generate(Curve::kP384));
    cpak_pub_ = std::make_unique<EcPublicKey>(*cpak_->PublicKey());
    claims_ = SampleRealmClaims(RealmProfile::kV2, "sha-256");
    auto bytes = SignCcaToken(TopLevelForm::kCmwCollection,
                              SamplePlatformClaims(), claims_, *cpak_, *rak_);
    ASSERT_TRUE(bytes.ok());
    token_ = *DecodeCcaToken(*bytes);
  }
  RealmReferenceValue Full() const {
    RealmReferenceValue r;
    r.rim = claims_.initial_measurement;
    for (int i = 0; i < kRemCount; ++i)
      r.rem[i] = claims_.extensible_measurements[i];
    r.rpv = claims_.personalization_value;
    return r;
  }
  AppraisalOptions Options() const {
    AppraisalOptions o;
    o.verify.cpak = cpak_pub_.get();
    return o;
  }
  std::unique_ptr<EcPrivateKey> cpak_, rak_;
  std::unique_ptr<EcPublicKey> cpak_pub_;
  RealmClaims claims_;
  CcaToken token_;
};

// The indexed appraisal decides exactly as the full §4.5 scan, and its
// report is bounded whatever the set's size.
TEST_F(IndexedAppraisalTest, SameOutcomeAsTheFullScanBoundedReport) {
  RealmReferenceValue bad_rpv = Full();
  bad_rpv.rpv = Pattern(64, 0x99);
  RealmReferenceValue bad_rem = Full();
  bad_rem.rem[2] = Pattern(32, 0x77);
  const std::vector<std::vector<RealmReferenceValue>> cases = {
      {},
      {Full()},
      {bad_rpv},
      {bad_rpv, bad_rpv, Full()},
      {bad_rem, Full()},
      {bad_rpv, bad_rem},
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    std::vector<RealmReferenceValue> all;
    for (uint32_t i = 0; i < 2000; ++i) all.push_back(Other(i));
    std::vector<size_t> where;
    for (const RealmReferenceValue& v : cases[c]) {
      where.push_back(all.size());
      all.push_back(v);
      for (uint32_t i = 0; i < 10; ++i) all.push_back(Other(5000 + i));
    }
    const AppraisalResult scan = AppraiseCcaToken(token_, all, Options());
    // Two segments, split in the middle.
    const size_t half = all.size() / 2;
    RealmIndex index(
        {*RealmIndexSegment::Build(absl::MakeConstSpan(all).subspan(0, half)),
         *RealmIndexSegment::Build(absl::MakeConstSpan(all).subspan(half))});
    for (size_t near : {size_t{0}, size_t{1}, kMaxNearMisses}) {
      IndexedAppraisal ix = AppraiseIndexed(token_, index, Options(), near);
      EXPECT_EQ(ix.result.realm.vector, scan.realm.vector) << c;
      EXPECT_EQ(ix.result.platform.vector, scan.platform.vector) << c;
      EXPECT_EQ(ix.reference_count, all.size());
      EXPECT_EQ(ix.candidate_count, cases[c].size()) << c;
      EXPECT_EQ(ix.result.matched.has_value(), scan.matched.has_value()) << c;
      const size_t deciding = scan.realm.vector.executables == 33 ? 0 : 1;
      // No value with the token's RIM: the set's first values instead.
      EXPECT_EQ(
          ix.result.candidates.size(),
          cases[c].empty() ? near : std::min(cases[c].size(), deciding + near))
          << c << " near " << near;
      if (scan.matched) {
        EXPECT_EQ(*ix.result.matched, 0u);
        EXPECT_EQ(ix.result.candidates[0].index,
                  scan.candidates[*scan.matched].index)
            << c;
        EXPECT_EQ(ix.result.candidates[0].fields.size(),
                  scan.candidates[*scan.matched].fields.size());
      }
      for (size_t k = 0; k < ix.result.candidates.size(); ++k) {
        const CandidateReport& r = ix.result.candidates[k];
        // Positions in the whole set: values with the token's RIM, or the
        // first ones when there are none.
        if (cases[c].empty()) {
          EXPECT_EQ(r.index, k);
        } else {
          EXPECT_NE(std::find(where.begin(), where.end(), r.index), where.end())
              << c << " index " << r.index;
        }
        EXPECT_EQ(r.executables, scan.candidates[r.index].executables);
      }
    }
  }
}

// A matching value in an expired segment is no candidate; the result says
// why nothing matched, and a valid segment still decides.
TEST_F(IndexedAppraisalTest, ValuesOutsideTheirValidityAreNotCandidates) {
  const std::vector<RealmReferenceValue> mine = {Other(1), Full()};
  RealmIndex expired_only({*RealmIndexSegment::Build(mine, Validity{10, 20})});
  AppraisalOptions o = Options();
  o.validity.emplace();
  o.validity->time = 86400;  // 1970-01-02
  IndexedAppraisal ix = AppraiseIndexed(token_, expired_only, o, 4);
  EXPECT_EQ(ix.candidate_count, 0u);
  // No near misses either: the set's first values are all expired.
  EXPECT_TRUE(ix.result.candidates.empty());
  EXPECT_EQ(ix.result.realm.vector.executables, kTrustUnrecognizedRuntime);
  ASSERT_TRUE(ix.result.validity.has_value());
  EXPECT_EQ(ix.result.validity->realm_values, 1u);
  EXPECT_EQ(ix.result.realm.problem,
            "1 reference value(s) with this RIM not used: outside their CoRIM "
            "validity at 1970-01-02T00:00:00Z");
  // The same set without the time check: the value decides.
  EXPECT_EQ(AppraiseIndexed(token_, expired_only, Options(), 4)
                .result.realm.vector.executables,
            kTrustAffirming);
  // Inside the window, or with a valid segment beside it: affirmed, and no
  // problem even though one copy was left out.
  o.validity->time = 15;
  EXPECT_EQ(AppraiseIndexed(token_, expired_only, o, 4)
                .result.realm.vector.executables,
            kTrustAffirming);
  o.validity->time = 86400;
  RealmIndex both({*RealmIndexSegment::Build(mine, Validity{10, 20}),
                   *RealmIndexSegment::Build(mine)});
  IndexedAppraisal b = AppraiseIndexed(token_, both, o, 4);
  EXPECT_EQ(b.result.realm.vector.executables, kTrustAffirming);
  EXPECT_EQ(b.result.candidates.at(0).index, 3u);
  EXPECT_EQ(b.result.validity->realm_values, 1u);
  EXPECT_FALSE(b.result.realm.problem.has_value());
}

}  // namespace
}  // namespace realm_measurements::corim
