#include "measure/rim_search.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/cancellation.h"
#include "measure/chain_batch.h"
#include "measure/sweep_runner.h"

namespace realm_measurements::measure {
namespace {

// What makes two tries the same realm: the effective parameters and the
// RMM version (the model may lower a change back, e.g. SVE on a VMM
// without it).
std::string RealmKey(const MeasureResult& r) {
  const RealmCreateParams& q = r.parameters;
  return absl::StrCat(q.ipa_bits, "/", q.num_bps, "/", q.num_wps, "/", q.sve_vl,
                      "/", q.pmu, "/", q.pmu_num_ctrs, "/", q.lpa2, "/",
                      RmmVersionName(r.measurements->rmm_version));
}

// The parameter a single change sets (the PMU with or without its
// counters is one).
int ParameterOf(const HostCaps& c) {
  if (c.ipa_bits.has_value()) return 0;
  if (c.num_bps.has_value()) return 1;
  if (c.num_wps.has_value()) return 2;
  if (c.sve_vl.has_value()) return 3;
  if (c.pmu.has_value() || c.pmu_num_ctrs.has_value()) return 4;
  if (c.lpa2.has_value()) return 5;
  return 6;  // rmm_version
}

}  // namespace

std::vector<RimSearchCandidate> RimSearchPairs(
    const std::vector<RimSearchCandidate>& singles) {
  std::vector<RimSearchCandidate> out;
  for (size_t i = 0; i < singles.size(); ++i) {
    for (size_t j = i + 1; j < singles.size(); ++j) {
      if (ParameterOf(singles[i].change) == ParameterOf(singles[j].change)) {
        continue;
      }
      HostCaps both = singles[i].change;
      if (!both.Update(singles[j].change).ok()) continue;
      out.push_back(
          {absl::StrCat(singles[i].option, " ", singles[j].option), both});
    }
  }
  return out;
}

std::optional<std::vector<uint8_t>> SignificantRim(
    absl::Span<const uint8_t> rim, HashAlgorithm algorithm) {
  const size_t n = HashSize(algorithm);
  if (rim.size() == 64 && n < 64 &&
      std::all_of(rim.begin() + n, rim.end(),
                  [](uint8_t b) { return b == 0; })) {
    rim = rim.first(n);
  }
  if (rim.size() != n) return std::nullopt;
  return std::vector<uint8_t>(rim.begin(), rim.end());
}

std::vector<RimSearchCandidate> RimSearchCandidates(const RealmCreateParams& p,
                                                    RmmVersion rmm) {
  std::vector<RimSearchCandidate> out;
  auto add = [&](std::string option, auto set) {
    RimSearchCandidate c{std::move(option), HostCaps()};
    set(c.change);
    out.push_back(std::move(c));
  };
  for (int v = kMinIpaBits; v <= kMaxIpaBits; ++v) {
    if (v == p.ipa_bits) continue;
    add(absl::StrCat("--ipa-bits ", v),
        [v](HostCaps& h) { h.ipa_bits = static_cast<uint8_t>(v); });
  }
  for (int v = 0; v <= 64; ++v) {
    if (v != p.num_bps && ValidateNumBps(v).ok()) {
      add(absl::StrCat("--num-bps ", v),
          [v](HostCaps& h) { h.num_bps = static_cast<uint8_t>(v); });
    }
    if (v != p.num_wps && ValidateNumWps(v).ok()) {
      add(absl::StrCat("--num-wps ", v),
          [v](HostCaps& h) { h.num_wps = static_cast<uint8_t>(v); });
    }
  }
  for (int v = 0; v <= 2048; v += 128) {
    if (v == p.sve_vl || !ValidateSveVl(v).ok()) continue;
    add(absl::StrCat("--sve-vl ", v),
        [v](HostCaps& h) { h.sve_vl = static_cast<uint16_t>(v); });
  }
  if (p.pmu) add("--pmu false", [](HostCaps& h) { h.pmu = false; });
  for (int v = 0; v <= 31; ++v) {
    if ((p.pmu && v == p.pmu_num_ctrs) || !ValidatePmuNumCtrs(v).ok()) {
      continue;
    }
    add(absl::StrCat("--pmu true --pmu-num-ctrs ", v), [v](HostCaps& h) {
      h.pmu = true;
      h.pmu_num_ctrs = static_cast<uint8_t>(v);
    });
  }
  const bool lpa2 = !p.lpa2;
  add(absl::StrCat("--lpa2 ", lpa2 ? "true" : "false"),
      [lpa2](HostCaps& h) { h.lpa2 = lpa2; });
  const RmmVersion other =
      rmm == RmmVersion::k1_0 ? RmmVersion::k2_0 : RmmVersion::k1_0;
  add(absl::StrCat("--rmm-version ", RmmVersionName(other)),
      [other](HostCaps& h) { h.rmm_version = other; });
  return out;
}

absl::StatusOr<RimSearchResult> SearchRim(const MeasureRequest& request,
                                          const MeasureResult& base,
                                          absl::Span<const uint8_t> target,
                                          const RimSearchOptions& options) {
  const Measurements& m = *base.measurements;
  const size_t n = HashSize(m.hash_algorithm);
  RimSearchResult out;
  out.algorithm = m.hash_algorithm;
  out.rmm_version = m.rmm_version;
  out.computed.assign(m.rim.begin(), m.rim.begin() + n);
  const std::optional<std::vector<uint8_t>> want =
      SignificantRim(target, m.hash_algorithm);
  out.target =
      want.value_or(std::vector<uint8_t>(target.begin(), target.end()));
  if (!want.has_value()) {
    out.verdict = RimSearchResult::Verdict::kOtherAlgorithm;
    return out;
  }
  if (*want == out.computed) {
    out.verdict = RimSearchResult::Verdict::kSame;
    return out;
  }
  std::set<std::string> seen = {RealmKey(base)};
  // Measures each candidate (like the shapes of a sweep), then counts the
  // realms not seen before and collects the matches.
  auto search = [&](const std::vector<RimSearchCandidate>& candidates,
                    size_t* tried, size_t* refused) -> absl::Status {
    struct Tried {
      std::string key;
      bool match = false;
    };
    // Slot 0 stands for `base`, measured by the caller.
    std::vector<std::optional<Tried>> results(candidates.size() + 1);
    RunRemainingShapes(candidates.size() + 1, options.threads, m.hash_algorithm,
                       [&](size_t i, ChainBatch* batch) {
                         if (!PollCancel(request.options.cancel).ok())
                           return false;
                         MeasureRequest r = request;
                         // A value Update refuses leaves the try unmeasured
                         // (refused).
                         if (!r.overrides.Update(candidates[i - 1].change).ok())
                           return true;
                         // A try needs its RIM only: no layout digests, no
                         // front-end hooks (they ran for the first run).
                         r.options.chain_batch = batch;
                         r.options.on_hashed = nullptr;
                         r.layout_digests = false;
                         r.progress = nullptr;
                         r.on_warnings = nullptr;
                         r.debug = nullptr;
                         r.after_build = nullptr;
                         r.beside = nullptr;
                         absl::StatusOr<MeasureResult> got = Measure(r);
                         if (got.ok() && got->measurements.has_value()) {
                           results[i] = Tried{
                               RealmKey(*got),
                               std::equal(want->begin(), want->end(),
                                          got->measurements->rim.begin())};
                         }
                         return true;
                       });
    if (absl::Status s = PollCancel(request.options.cancel); !s.ok()) return s;
    for (size_t i = 0; i < candidates.size(); ++i) {
      const std::optional<Tried>& got = results[i + 1];
      if (!got.has_value()) {
        ++*refused;
        continue;
      }
      if (!seen.insert(got->key).second) continue;
      ++*tried;
      if (got->match) out.matches.push_back(candidates[i]);
    }
    return absl::OkStatus();
  };
  const std::vector<RimSearchCandidate> singles =
      RimSearchCandidates(base.parameters, m.rmm_version);
  if (absl::Status s = search(singles, &out.tried, &out.refused); !s.ok()) {
    return s;
  }
  if (out.matches.empty() && options.pairs) {
    if (absl::Status s = search(RimSearchPairs(singles), &out.tried_pairs,
                                &out.refused_pairs);
        !s.ok()) {
      return s;
    }
    out.tried += out.tried_pairs;
    out.refused += out.refused_pairs;
  }
  out.verdict = out.matches.empty() ? RimSearchResult::Verdict::kNone
                                    : RimSearchResult::Verdict::kFound;
  return out;
}

}  // namespace realm_measurements::measure
