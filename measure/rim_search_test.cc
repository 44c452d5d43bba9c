#include "measure/rim_search.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "measure/digest_cache.h"
#include "measure/granule_hasher.h"
#include "measure/vmm/vmm.h"
#include "testing/vectors.h"

namespace realm_measurements::measure {
namespace {

std::vector<uint8_t> Bytes(absl::string_view hex) {
  const std::string b = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(b.begin(), b.end());
}

// The A.3 #4 command line with --num-wps 4 instead of 6: one setting off.
MeasureRequest OneShort(DigestCache* cache) {
  MeasureRequest r;
  r.overrides.num_bps = 6;
  r.overrides.num_wps = 4;
  r.vmm_name = "kvmtool";
  r.model = ModelOf(VmmKind::kKvmtool);
  r.vmm_args = absl::StrSplit("--realm -c 1 -m 512M", ' ');
  r.options.cache = cache;
  return r;
}

TEST(SearchRim, FindsTheOneSettingThatGivesTheSpecVector) {
  DigestCache cache;
  GranuleHasher hasher;
  MeasureRequest request = OneShort(&cache);
  request.options.hasher = &hasher;
  absl::StatusOr<MeasureResult> base = Measure(request);
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_EQ(base->parameters.num_wps, 4);
  for (int threads : {1, 3}) {
    absl::StatusOr<RimSearchResult> r =
        SearchRim(request, *base, Bytes(test::kSpecCoreA3No4Rim), {threads});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->verdict, RimSearchResult::Verdict::kFound);
    ASSERT_EQ(r->matches.size(), 1u);
    EXPECT_EQ(r->matches[0].option, "--num-wps 6");
    EXPECT_EQ(r->matches[0].change.num_wps, 6);
    EXPECT_FALSE(r->matches[0].change.num_bps.has_value());
    EXPECT_EQ(
        absl::BytesToHexString(absl::string_view(
            reinterpret_cast<const char*>(r->target.data()), r->target.size())),
        test::kSpecCoreA3No4Rim);
    EXPECT_EQ(r->algorithm, HashAlgorithm::kSha256);
    EXPECT_GT(r->tried, 100u);
    // The request's own override stays under every try: --num-bps 6 is
    // not a candidate, other values of it are.
    EXPECT_EQ(request.overrides.num_bps, 6);
  }
}

TEST(SearchRim, TheWhole64ByteBufferIsReadAsTheSignificantBytes) {
  DigestCache cache;
  MeasureRequest request = OneShort(&cache);
  request.overrides.num_wps = 6;
  absl::StatusOr<MeasureResult> base = Measure(request);
  ASSERT_TRUE(base.ok()) << base.status();
  std::vector<uint8_t> buffer = Bytes(test::kSpecCoreA3No4Rim);
  buffer.resize(64, 0);
  absl::StatusOr<RimSearchResult> r = SearchRim(request, *base, buffer, {1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->verdict, RimSearchResult::Verdict::kSame);
  EXPECT_EQ(r->tried, 0u);
  EXPECT_EQ(r->target, Bytes(test::kSpecCoreA3No4Rim));
  EXPECT_EQ(r->computed, Bytes(test::kSpecCoreA3No4Rim));
  // A non-zero tail is another algorithm's RIM, as is a 48-byte one.
  buffer[40] = 1;
  r = SearchRim(request, *base, buffer, {1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->verdict, RimSearchResult::Verdict::kOtherAlgorithm);
  EXPECT_EQ(r->target.size(), 64u);
  r = SearchRim(request, *base, std::vector<uint8_t>(48, 7), {1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->verdict, RimSearchResult::Verdict::kOtherAlgorithm);
}

TEST(SearchRim, NoSingleChangeIsNone) {
  DigestCache cache;
  MeasureRequest request = OneShort(&cache);
  absl::StatusOr<MeasureResult> base = Measure(request);
  ASSERT_TRUE(base.ok()) << base.status();
  // Two settings away (num_wps and num_bps): no single change.
  MeasureRequest two = request;
  two.overrides.num_wps = 6;
  two.overrides.num_bps = 4;
  absl::StatusOr<MeasureResult> far = Measure(two);
  ASSERT_TRUE(far.ok()) << far.status();
  const size_t n = HashSize(far->measurements->hash_algorithm);
  const auto target = absl::MakeConstSpan(far->measurements->rim).first(n);
  absl::StatusOr<RimSearchResult> r = SearchRim(request, *base, target, {2});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->verdict, RimSearchResult::Verdict::kNone);
  for (const RimSearchCandidate& c : r->matches) ADD_FAILURE() << c.option;
  EXPECT_EQ(r->tried_pairs, 0u);

  // Pairs find both changes, and only them.
  r = SearchRim(request, *base, target, {2, /*pairs=*/true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->verdict, RimSearchResult::Verdict::kFound);
  ASSERT_EQ(r->matches.size(), 1u);
  EXPECT_EQ(r->matches[0].option, "--num-bps 4 --num-wps 6");
  EXPECT_EQ(r->matches[0].change.num_bps, 4);
  EXPECT_EQ(r->matches[0].change.num_wps, 6);
  EXPECT_GT(r->tried_pairs, 1000u);
  EXPECT_LE(r->tried_pairs, r->tried);
}

TEST(SearchRim, PairsAreNotTriedWhenOneChangeExplains) {
  DigestCache cache;
  MeasureRequest request = OneShort(&cache);
  absl::StatusOr<MeasureResult> base = Measure(request);
  ASSERT_TRUE(base.ok()) << base.status();
  absl::StatusOr<RimSearchResult> r = SearchRim(
      request, *base, Bytes(test::kSpecCoreA3No4Rim), {2, /*pairs=*/true});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->matches.size(), 1u);
  EXPECT_EQ(r->matches[0].option, "--num-wps 6");
  EXPECT_EQ(r->tried_pairs, 0u);
}

TEST(RimSearchPairs, TwoDifferentParametersEachOnce) {
  RealmCreateParams p;
  p.ipa_bits = 40;
  p.num_bps = 2;
  p.num_wps = 2;
  p.pmu = true;
  p.pmu_num_ctrs = 6;
  const std::vector<RimSearchCandidate> singles =
      RimSearchCandidates(p, RmmVersion::k1_0);
  const std::vector<RimSearchCandidate> pairs = RimSearchPairs(singles);
  // Per parameter, how many single changes; pairs multiply across them.
  std::map<std::string, size_t> per;
  for (const RimSearchCandidate& c : singles) {
    ++per[c.option.substr(0, c.option.find(' '))];
  }
  size_t all = singles.size(), same = 0;
  for (const auto& [name, k] : per) same += k * (k - 1) / 2;
  EXPECT_EQ(pairs.size(), all * (all - 1) / 2 - same);
  std::set<std::string> seen;
  for (const RimSearchCandidate& c : pairs) {
    EXPECT_TRUE(seen.insert(c.option).second) << c.option;
    // Never two values of one parameter (the PMU and its counters are one).
    size_t pmu = 0;
    for (size_t at = c.option.find("--pmu "); at != std::string::npos;
         at = c.option.find("--pmu ", at + 1)) {
      ++pmu;
    }
    EXPECT_LE(pmu, 1u) << c.option;
  }
}

TEST(SearchRim, ACancelledSearchIsAnError) {
  DigestCache cache;
  MeasureRequest request = OneShort(&cache);
  absl::StatusOr<MeasureResult> base = Measure(request);
  ASSERT_TRUE(base.ok()) << base.status();
  request.options.cancel = [] {
    return absl::DeadlineExceededError("deadline passed");
  };
  absl::StatusOr<RimSearchResult> r =
      SearchRim(request, *base, Bytes(test::kSpecCoreA3No4Rim), {2});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(RimSearchCandidates, EachChangesOneSettingToAnotherValidValue) {
  RealmCreateParams p;
  p.ipa_bits = 40;
  p.num_bps = 2;
  p.num_wps = 2;
  p.sve_vl = 0;
  p.pmu = true;
  p.pmu_num_ctrs = 6;
  p.lpa2 = false;
  const std::vector<RimSearchCandidate> c =
      RimSearchCandidates(p, RmmVersion::k1_0);
  int ipa = 0, pmu_off = 0, rmm = 0, lpa2 = 0;
  for (const RimSearchCandidate& x : c) {
    const HostCaps& h = x.change;
    const int set = h.ipa_bits.has_value() + h.num_bps.has_value() +
                    h.num_wps.has_value() + h.sve_vl.has_value() +
                    (h.pmu.has_value() && !h.pmu_num_ctrs.has_value()) +
                    h.pmu_num_ctrs.has_value() + h.lpa2.has_value() +
                    h.rmm_version.has_value();
    EXPECT_EQ(set, 1) << x.option;
    if (h.ipa_bits.has_value()) {
      ++ipa;
      EXPECT_NE(*h.ipa_bits, 40);
      EXPECT_GE(*h.ipa_bits, kMinIpaBits);
      EXPECT_LE(*h.ipa_bits, kMaxIpaBits);
    }
    if (h.num_bps.has_value()) {
      EXPECT_NE(*h.num_bps, 2);
      EXPECT_TRUE(ValidateNumBps(*h.num_bps).ok());
    }
    if (h.sve_vl.has_value()) EXPECT_TRUE(ValidateSveVl(*h.sve_vl).ok());
    if (h.pmu_num_ctrs.has_value()) {
      EXPECT_EQ(h.pmu, true);
      EXPECT_NE(*h.pmu_num_ctrs, 6);
    }
    if (h.pmu == false) ++pmu_off;
    if (h.lpa2.has_value()) {
      ++lpa2;
      EXPECT_EQ(x.option, "--lpa2 true");
    }
    if (h.rmm_version.has_value()) {
      ++rmm;
      EXPECT_EQ(*h.rmm_version, RmmVersion::k2_0);
      EXPECT_EQ(x.option, "--rmm-version 2.0");
    }
  }
  EXPECT_EQ(ipa, kMaxIpaBits - kMinIpaBits);  // all but the realm's own
  EXPECT_EQ(pmu_off, 1);
  EXPECT_EQ(lpa2, 1);
  EXPECT_EQ(rmm, 1);
}

}  // namespace
}  // namespace realm_measurements::measure
