// Realm reference values indexed by RIM, for appraisal at fleet scale
// (issue 16 item 4). A set is decoded once (when provisioned or first
// loaded) into compact immutable segments, one per stored part; appraisal
// looks the token's RIM up instead of scanning every value, and the report
// names the deciding candidate and a bounded number of near misses instead
// of one entry per stored value.
//
// Spec: spec-token-corim §4.1 step 5-6 (reference values are fetched by the
// realm's RIM, exact match), §4.5 (the candidate loop, in store order).
#ifndef REALM_MEASUREMENTS_CORIM_REALM_INDEX_H_
#define REALM_MEASUREMENTS_CORIM_REALM_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "corim/appraisal.h"
#include "corim/reference_values.h"
#include "corim/token.h"

namespace realm_measurements::corim {

// Most values one set may hold for one RIM (several triples per RIM are
// allowed, e.g. one per RPV, §3.6); appraisal walks them all (§4.5), so the
// number is bounded when the set is provisioned.
inline constexpr size_t kMaxValuesPerRim = 4096;

// An immutable run of reference values in store order, kept compact (one
// byte arena) and sorted by RIM for lookup.
class RealmIndexSegment {
 public:
  // Validates every value (ValidateRealm) and indexes them.
  // kInvalidArgument naming the value; kResourceExhausted when one RIM has
  // more than kMaxValuesPerRim values or the segment more than 2^32 bytes.
  // `validity`: the window of the CoRIM the values came from (§3.10).
  static absl::StatusOr<std::shared_ptr<const RealmIndexSegment>> Build(
      absl::Span<const RealmReferenceValue> values,
      std::optional<Validity> validity = std::nullopt);

  size_t size() const { return entries_.size(); }
  const std::optional<Validity>& validity() const { return validity_; }
  // Heap bytes held (arena, entries, order).
  size_t memory_bytes() const;
  // The value at `i` (store order within the segment).
  RealmReferenceValue Get(size_t i) const;
  // Positions of the values with this RIM, increasing.
  void Find(absl::Span<const uint8_t> rim, std::vector<uint32_t>* out) const;
  // How many values have this RIM.
  size_t Count(absl::Span<const uint8_t> rim) const;
  // Calls f(rim, count) once per distinct RIM, in RIM order.
  void ForEachRim(
      const std::function<void(absl::Span<const uint8_t>, size_t)>& f) const;

 private:
  struct Entry {
    uint32_t offset;    // into arena_: rim, present rems, rpv, legacy
    uint8_t algorithm;  // RealmHashAlgorithm
    uint8_t present;    // bits 0-3 rem0-3, bit 4 rpv, bit 5 legacy instance
    uint16_t legacy_size;
  };
  absl::Span<const uint8_t> Rim(uint32_t i) const;
  std::pair<const uint32_t*, const uint32_t*> Range(
      absl::Span<const uint8_t> rim) const;

  std::vector<uint8_t> arena_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> by_rim_;  // entry numbers by (RIM, number)
  std::optional<Validity> validity_;
};

// A whole set: segments in store order. Immutable; appending makes a new
// index sharing the old segments.
class RealmIndex {
 public:
  RealmIndex() = default;
  explicit RealmIndex(
      std::vector<std::shared_ptr<const RealmIndexSegment>> segments);

  // This index followed by `more`. kResourceExhausted when a RIM would
  // pass kMaxValuesPerRim.
  absl::StatusOr<std::shared_ptr<const RealmIndex>> With(
      std::shared_ptr<const RealmIndexSegment> more) const;

  size_t size() const { return size_; }
  size_t memory_bytes() const { return memory_bytes_; }
  size_t segment_count() const { return segments_.size(); }
  // The CoRIM validity of segment `k` (< segment_count()).
  const std::optional<Validity>& segment_validity(size_t k) const {
    return segments_[k]->validity();
  }

  // Positions (store order over the whole set) of the values with this RIM.
  // With `time`, only those of segments valid then (ValidAt); the others
  // are counted in `*excluded` when given.
  std::vector<size_t> Lookup(absl::Span<const uint8_t> rim,
                             std::optional<int64_t> time = std::nullopt,
                             size_t* excluded = nullptr) const;
  RealmReferenceValue Get(size_t position) const;
  // Positions of the first `n` values (of segments valid at `time` when
  // given), in store order.
  std::vector<size_t> First(size_t n,
                            std::optional<int64_t> time = std::nullopt) const;

 private:
  std::vector<std::shared_ptr<const RealmIndexSegment>> segments_;
  std::vector<size_t> starts_;  // position of each segment's first value
  size_t size_ = 0;
  size_t memory_bytes_ = 0;
};

// The outcome of AppraiseIndexed.
struct IndexedAppraisal {
  // `candidates` holds the deciding candidate first (when one decided,
  // `matched` is 0), then up to max_near_misses other values with the
  // token's RIM, in store order; when no value has it, the set's first
  // max_near_misses values (a RIM mismatch report; only of segments valid
  // at options.validity's time). CandidateReport::index is
  // the value's position in the whole set.
  AppraisalResult result;
  size_t candidate_count = 0;  // values with the token's RIM
  size_t reference_count = 0;  // values in the set
};

// Most near misses a caller may ask for.
inline constexpr size_t kMaxNearMisses = 16;

// AppraiseCcaToken over the values of `index` that carry the token's RIM
// (the others cannot be candidates, §4.5 step 3), with a bounded report.
// With options.validity, only values of segments valid at its time are
// candidates; the others with the token's RIM are counted in its
// realm_values.
// `options` is taken by value: its validity counts are completed here
// (callers that are done with theirs move them in).
IndexedAppraisal AppraiseIndexed(const CcaToken& token, const RealmIndex& index,
                                 AppraisalOptions options,
                                 size_t max_near_misses);

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_REALM_INDEX_H_
