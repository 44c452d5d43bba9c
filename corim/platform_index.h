// Platform endorsements indexed for appraisal at fleet scale (issue 16): a
// stored platform set (reference triples and CPAK triples of many platform
// implementations and instances, spec-token-corim §3.14) is decoded once and
// grouped by implementation-id (reference values, §4.4) and by
// implementation-id + instance-id (CPAKs, §4.2), so one appraisal looks its
// platform up instead of scanning every triple.
//
// Positions reported to users are positions in the whole set: reference
// triples and trust anchors are each numbered from 0 across all parts, in
// store order (what a scan of the concatenated CoRIMs would report).
#ifndef REALM_MEASUREMENTS_CORIM_PLATFORM_INDEX_H_
#define REALM_MEASUREMENTS_CORIM_PLATFORM_INDEX_H_

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "corim/appraisal.h"
#include "corim/platform_endorsements.h"

namespace realm_measurements::corim {

class PlatformIndex {
 public:
  // Indexes the endorsements of every part in order. kInvalidArgument when
  // the parts mix the 2025 and the legacy profile.
  static absl::StatusOr<std::shared_ptr<const PlatformIndex>> Build(
      absl::Span<const PlatformEndorsements> parts);
  // This index plus one more part (the original stays valid and unchanged).
  absl::StatusOr<std::shared_ptr<const PlatformIndex>> With(
      const PlatformEndorsements& part) const;

  // What appraisal needs for one token: the reference triples of its
  // implementation-id and the CPAK triple of its implementation-id +
  // instance-id (an empty list when there is none: the §4.1 step 3 result).
  // Pointers stay valid while the index lives.
  //
  // With `time`, only the triples of parts whose CoRIM validity contains it
  // (ValidAt, spec-token-corim §3.10): the CPAK is the first such triple of
  // the pair. Left out are counted: the implementation-id's reference
  // triples, and the pair's CPAK triples when none of them is valid.
  struct Lookup {
    const std::vector<PlatformReferenceValue>* references = nullptr;
    const std::vector<size_t>* reference_positions = nullptr;
    const std::vector<PlatformTrustAnchor>* trust_anchors = nullptr;
    size_t trust_anchor_position = 0;
    size_t excluded_references = 0;
    size_t excluded_trust_anchors = 0;
    std::shared_ptr<const void> owned;  // a filtered group, when one was made
  };
  Lookup Find(absl::Span<const uint8_t> implementation_id,
              absl::Span<const uint8_t> instance_id,
              std::optional<int64_t> time = std::nullopt) const;

  // Points `options` at the lookup's references and trust anchor, and adds
  // its exclusions to options.validity when that is set.
  static void Apply(const Lookup& lookup, AppraisalOptions& options);
  // Rewrites what appraisal reported relative to the lookup (the reference
  // indexes of the platform report, "trust anchor <i>" in cpak_source and in
  // a trust-anchor problem) as positions in the whole set.
  static void ToSetPositions(const Lookup& lookup, AppraisalResult& result);

  PlatformEndorsementProfile profile() const { return profile_; }
  // The CoRIM validity of each part, in the order they were added.
  const std::vector<std::optional<Validity>>& part_validity() const {
    return part_validity_;
  }
  size_t reference_count() const { return reference_count_; }
  size_t trust_anchor_count() const { return trust_anchor_count_; }
  // Reference triples plus trust anchors.
  size_t size() const { return reference_count_ + trust_anchor_count_; }
  // Heap bytes held (estimate: values, keys and map nodes).
  size_t memory_bytes() const { return memory_bytes_; }

 private:
  struct Group {
    std::vector<PlatformReferenceValue> references;
    std::vector<size_t> positions;
    std::vector<size_t> parts;  // the part each reference came from
  };
  // Every CPAK triple of one implementation-id + instance-id, in store
  // order (the first one valid at the time asked wins).
  struct Anchor {
    std::vector<PlatformTrustAnchor> one;  // exactly one
    size_t position = 0;
    size_t part = 0;
  };
  using Anchors = std::vector<Anchor>;
  absl::Status Add(const PlatformEndorsements& part);

  PlatformEndorsementProfile profile_ =
      PlatformEndorsementProfile::kCcaPlatform2025;
  bool has_profile_ = false;
  // Keyed by implementation-id bytes; groups are shared between an index and
  // the ones built from it With() more parts, and copied only when changed.
  std::map<std::string, std::shared_ptr<const Group>, std::less<>> groups_;
  // Keyed by implementation-id || instance-id.
  std::map<std::string, std::shared_ptr<const Anchors>, std::less<>> anchors_;
  // The CoRIM validity of each part, in the order they were added.
  std::vector<std::optional<Validity>> part_validity_;
  size_t reference_count_ = 0;
  size_t trust_anchor_count_ = 0;
  size_t memory_bytes_ = 0;
};

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_PLATFORM_INDEX_H_
