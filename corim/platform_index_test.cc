#include "corim/platform_index.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "corim/appraisal.h"
#include "corim/comid.h"
#include "corim/token.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::corim {
namespace {

using test::ReadFileBytes;

PlatformEndorsements Veraison() {
  auto e = DecodePlatformCorim(ReadFileBytes(
      "testdata/vectors/veraison-cca/corim-cca-platform-valid.cbor"));
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : PlatformEndorsements{};
}

// `n` other platforms: implementation-id and instance-id from `seed`.
PlatformEndorsements Others(const PlatformEndorsements& like, int n,
                            uint8_t seed) {
  PlatformEndorsements out;
  out.profile = like.profile;
  for (int i = 0; i < n; ++i) {
    PlatformReferenceValue r = like.reference_values.at(0);
    r.implementation_id.assign(kImplementationIdSize, seed);
    r.implementation_id[0] = static_cast<uint8_t>(i);
    out.reference_values.push_back(r);
    PlatformTrustAnchor a = like.trust_anchors.at(0);
    a.implementation_id = r.implementation_id;
    a.instance_id.assign(kInstanceIdSize, seed);
    a.instance_id[0] = kUeidTypeRand;
    out.trust_anchors.push_back(a);
  }
  return out;
}

struct Flat {
  std::vector<PlatformReferenceValue> references;
  std::vector<PlatformTrustAnchor> anchors;
};
Flat Concat(const std::vector<PlatformEndorsements>& parts) {
  Flat f;
  for (const PlatformEndorsements& p : parts) {
    f.references.insert(f.references.end(), p.reference_values.begin(),
                        p.reference_values.end());
    f.anchors.insert(f.anchors.end(), p.trust_anchors.begin(),
                     p.trust_anchors.end());
  }
  return f;
}

class PlatformIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = DecodeCcaToken(
        ReadFileBytes("testdata/vectors/veraison-cca/cca-good.cbor"));
    ASSERT_TRUE(t.ok()) << t.status();
    token_ = *t;
    auto realm = DecodeCorim(
        ReadFileBytes("testdata/vectors/corim-cca-realm-2025.cbor"));
    ASSERT_TRUE(realm.ok()) << realm.status();
    realms_ = FlattenReferenceValues(realm->values);
  }

  // Appraisal by scanning the concatenated parts (the reference result).
  AppraisalResult Scan(const std::vector<PlatformEndorsements>& parts) {
    Flat f = Concat(parts);
    AppraisalOptions o;
    o.verify.nonce = token_.realm.challenge;
    o.platform_references = &f.references;
    o.trust_anchors = &f.anchors;
    return AppraiseCcaToken(token_, realms_, o);
  }

  AppraisalResult Indexed(const PlatformIndex& index,
                          std::optional<int64_t> time = std::nullopt) {
    AppraisalOptions o;
    o.verify.nonce = token_.realm.challenge;
    if (time) {
      o.validity.emplace();
      o.validity->time = *time;
    }
    PlatformIndex::Lookup l = index.Find(token_.platform.implementation_id,
                                         token_.platform.instance_id, time);
    PlatformIndex::Apply(l, o);
    AppraisalResult r = AppraiseCcaToken(token_, realms_, o);
    PlatformIndex::ToSetPositions(l, r);
    return r;
  }

  static void ExpectSame(const AppraisalResult& a, const AppraisalResult& b) {
    EXPECT_EQ(a.platform.vector, b.platform.vector);
    EXPECT_EQ(a.realm.vector, b.realm.vector);
    EXPECT_EQ(a.platform.problem, b.platform.problem);
    EXPECT_EQ(a.realm.problem, b.realm.problem);
    EXPECT_EQ(a.cpak_source, b.cpak_source);
    EXPECT_EQ(a.first_failure, b.first_failure);
    EXPECT_EQ(a.platform_report.references, b.platform_report.references);
    ASSERT_EQ(a.platform_report.fields.size(), b.platform_report.fields.size());
    for (size_t i = 0; i < a.platform_report.fields.size(); ++i) {
      EXPECT_EQ(a.platform_report.fields[i].outcome,
                b.platform_report.fields[i].outcome);
    }
  }

  CcaToken token_;
  std::vector<RealmReferenceValue> realms_;
};

TEST_F(PlatformIndexTest, LooksUpTheTokensPlatformAmongManyAsAScanWould) {
  PlatformEndorsements v = Veraison();
  ASSERT_FALSE(v.reference_values.empty());
  ASSERT_FALSE(v.trust_anchors.empty());
  // The token's platform last, behind 500 others, in a later part.
  std::vector<PlatformEndorsements> parts = {Others(v, 300, 0x11),
                                             Others(v, 200, 0x22), v};
  auto index = PlatformIndex::Build(parts);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->reference_count(), 500 + v.reference_values.size());
  EXPECT_EQ((*index)->trust_anchor_count(), 500 + v.trust_anchors.size());
  EXPECT_GT((*index)->memory_bytes(), 0u);

  AppraisalResult scan = Scan(parts);
  ASSERT_TRUE(scan.affirms()) << AppraisalToText(scan);
  EXPECT_EQ(scan.cpak_source, "trust anchor 500");
  AppraisalResult indexed = Indexed(**index);
  ExpectSame(indexed, scan);
  ASSERT_FALSE(indexed.platform_report.references.empty());
  EXPECT_EQ(indexed.platform_report.references[0], 500u);
}

TEST_F(PlatformIndexTest, WithAddsAPartAndLeavesTheOriginalAlone) {
  PlatformEndorsements v = Veraison();
  std::vector<PlatformEndorsements> first = {Others(v, 10, 0x33)};
  auto index = PlatformIndex::Build(first);
  ASSERT_TRUE(index.ok()) << index.status();
  // Without the token's platform: the §4.1 step 3 result, as a scan gives.
  AppraisalResult unknown = Indexed(**index);
  ExpectSame(unknown, Scan(first));
  EXPECT_TRUE(
      absl::StrContains(unknown.first_failure, "no trust anchor for evidence"))
      << unknown.first_failure;
  EXPECT_EQ(unknown.platform.vector.hardware, kTrustCryptoFailed);

  auto grown = (*index)->With(v);
  ASSERT_TRUE(grown.ok()) << grown.status();
  std::vector<PlatformEndorsements> both = {first[0], v};
  AppraisalResult known = Indexed(**grown);
  ExpectSame(known, Scan(both));
  EXPECT_TRUE(known.affirms()) << AppraisalToText(known);
  EXPECT_EQ(known.cpak_source, "trust anchor 10");
  // The original index did not change.
  EXPECT_EQ((*index)->size(), 20u);
  ExpectSame(Indexed(**index), unknown);
}

TEST_F(PlatformIndexTest, AnUnparsableAnchorIsNamedByItsSetPosition) {
  PlatformEndorsements v = Veraison();
  for (PlatformTrustAnchor& a : v.trust_anchors) a.public_key_pem = "junk";
  std::vector<PlatformEndorsements> parts = {Others(v, 7, 0x44), v};
  auto index = PlatformIndex::Build(parts);
  ASSERT_TRUE(index.ok()) << index.status();
  AppraisalResult r = Indexed(**index);
  ExpectSame(r, Scan(parts));
  EXPECT_TRUE(
      absl::StartsWith(r.first_failure, "trust anchor: trust anchor 7: "))
      << r.first_failure;
}

TEST_F(PlatformIndexTest, TheFirstAnchorOfAnInstanceWins) {
  PlatformEndorsements v = Veraison();
  PlatformEndorsements bad = v;
  bad.reference_values.clear();
  for (PlatformTrustAnchor& a : bad.trust_anchors) a.public_key_pem = "junk";
  // A good anchor first, a broken duplicate after: the good one is used.
  std::vector<PlatformEndorsements> parts = {v, bad};
  auto index = PlatformIndex::Build(parts);
  ASSERT_TRUE(index.ok()) << index.status();
  AppraisalResult r = Indexed(**index);
  ExpectSame(r, Scan(parts));
  EXPECT_TRUE(r.affirms()) << AppraisalToText(r);
}

TEST_F(PlatformIndexTest, RefusesMixedProfiles) {
  PlatformEndorsements v = Veraison();
  PlatformEndorsements legacy = v;
  legacy.profile = v.profile == PlatformEndorsementProfile::kCcaPlatform2025
                       ? PlatformEndorsementProfile::kCcaPlatformLegacy
                       : PlatformEndorsementProfile::kCcaPlatform2025;
  auto index = PlatformIndex::Build({v, legacy});
  ASSERT_FALSE(index.ok());
  EXPECT_TRUE(absl::StrContains(index.status().message(), "profile"))
      << index.status();
}

// CoRIM validity: a part whose window does not contain the time is left
// out (its anchors and reference triples); the appraisal equals a scan of
// the valid parts, with positions still numbered across the whole set.
TEST_F(PlatformIndexTest, PartsOutsideTheirValidityAreLeftOut) {
  PlatformEndorsements v = Veraison();
  ASSERT_EQ(v.trust_anchors.size(), 1u);
  ASSERT_EQ(v.reference_values.size(), 1u);
  PlatformEndorsements expired = v;
  expired.validity = Validity{1000, 2000};
  PlatformEndorsements current = v;
  current.validity = Validity{std::nullopt, 5000};
  PlatformEndorsements others = Others(v, 5, 0x55);
  auto index = PlatformIndex::Build({expired, others, current});
  ASSERT_TRUE(index.ok()) << index.status();

  // Both valid: the first anchor (the expired part's) wins, both triples.
  AppraisalResult early = Indexed(**index, 1500);
  ExpectSame(early, Indexed(**index));
  EXPECT_EQ(early.cpak_source, "trust anchor 0");
  EXPECT_EQ(early.platform_report.references, (std::vector<size_t>{0, 6}));

  // Later: only `current`; the outcome of a scan of the valid parts.
  AppraisalResult later = Indexed(**index, 3000);
  AppraisalResult scan = Scan({others, current});
  EXPECT_EQ(later.platform.vector, scan.platform.vector);
  EXPECT_EQ(later.realm.vector, scan.realm.vector);
  EXPECT_TRUE(later.affirms()) << AppraisalToText(later);
  EXPECT_EQ(later.cpak_source, "trust anchor 6");
  EXPECT_EQ(later.platform_report.references, (std::vector<size_t>{6}));
  ASSERT_TRUE(later.validity.has_value());
  EXPECT_EQ(later.validity->platform_references, 1u);
  EXPECT_EQ(later.validity->trust_anchors, 0u);  // one valid anchor remains
  EXPECT_EQ(later.validity->time, 3000);

  // After both windows: no anchor, and the problem says why.
  AppraisalResult none = Indexed(**index, 5001);
  EXPECT_EQ(none.platform.vector.hardware, kTrustCryptoFailed);
  EXPECT_EQ(none.validity->trust_anchors, 2u);
  EXPECT_EQ(none.validity->platform_references, 2u);
  EXPECT_TRUE(absl::StrContains(
      none.first_failure,
      "; 2 outside their CoRIM validity at 1970-01-01T01:23:21Z)"))
      << none.first_failure;
  EXPECT_EQ(none.platform.problem, none.realm.problem);

  // Reference triples expired, the anchor still valid: the platform problem
  // names the triples left out.
  PlatformEndorsements anchors_only = v;
  anchors_only.reference_values.clear();
  auto split = PlatformIndex::Build({expired, anchors_only});
  ASSERT_TRUE(split.ok()) << split.status();
  AppraisalResult refs_gone = Indexed(**split, 3000);
  EXPECT_EQ(refs_gone.cpak_source, "trust anchor 1");
  EXPECT_TRUE(refs_gone.platform_report.references.empty());
  EXPECT_EQ(refs_gone.platform.problem,
            "1 platform reference triple(s) of this implementation-id not "
            "used: outside their CoRIM validity at 1970-01-01T00:50:00Z");
}

}  // namespace
}  // namespace realm_measurements::corim
