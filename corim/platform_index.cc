#include "corim/platform_index.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace realm_measurements::corim {
namespace {

// Rough per-entry overhead of a map node and its shared_ptr control block.
constexpr size_t kNodeBytes = 96;

std::string Key(absl::Span<const uint8_t> a) {
  return std::string(a.begin(), a.end());
}

std::string Key(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  std::string k(a.begin(), a.end());
  k.append(b.begin(), b.end());
  return k;
}

size_t BytesOf(const std::optional<std::string>& s) {
  return s ? s->capacity() : 0;
}

size_t BytesOf(const PlatformReferenceValue& r) {
  size_t n = sizeof(r) + r.implementation_id.capacity() + BytesOf(r.vendor) +
             BytesOf(r.model) + BytesOf(r.config_label) + sizeof(size_t);
  if (r.config) n += r.config->capacity();
  if (r.config_mask) n += r.config_mask->capacity();
  for (const PlatformComponentReference& c : r.components) {
    n += sizeof(c) + BytesOf(c.type) + BytesOf(c.version) +
         c.algorithm.capacity() + c.measurement.capacity() +
         c.signer_id.capacity();
  }
  return n;
}

size_t BytesOf(const PlatformTrustAnchor& a) {
  return sizeof(a) + a.implementation_id.capacity() + a.instance_id.capacity() +
         a.public_key_pem.capacity();
}

// Copy-on-write for Add: the entry of `key`, copied from `shared` (which
// may be shared with the index this one was made from) into `changed` the
// first time a part adds to it; a new key adds its map node to `memory`.
template <typename T>
T& Writable(
    const std::map<std::string, std::shared_ptr<const T>, std::less<>>& shared,
    std::map<std::string, std::shared_ptr<T>, std::less<>>& changed,
    std::string key, size_t& memory) {
  auto it = changed.find(key);
  if (it == changed.end()) {
    auto copy = std::make_shared<T>();
    if (auto old = shared.find(key); old != shared.end()) {
      *copy = *old->second;
    } else {
      memory += kNodeBytes + key.capacity();
    }
    it = changed.emplace(std::move(key), std::move(copy)).first;
  }
  return *it->second;
}

// Installs the entries Writable() changed.
template <typename T>
void Publish(
    std::map<std::string, std::shared_ptr<T>, std::less<>>& changed,
    std::map<std::string, std::shared_ptr<const T>, std::less<>>& shared) {
  for (auto& [key, value] : changed) shared[key] = std::move(value);
}

const std::vector<PlatformTrustAnchor>& NoAnchor() {
  static const auto* const kNone = new std::vector<PlatformTrustAnchor>();
  return *kNone;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PlatformIndex>> PlatformIndex::Build(
    absl::Span<const PlatformEndorsements> parts) {
  auto index = std::shared_ptr<PlatformIndex>(new PlatformIndex());
  for (const PlatformEndorsements& p : parts) {
    if (absl::Status s = index->Add(p); !s.ok()) return s;
  }
  return std::shared_ptr<const PlatformIndex>(std::move(index));
}

absl::StatusOr<std::shared_ptr<const PlatformIndex>> PlatformIndex::With(
    const PlatformEndorsements& part) const {
  auto index = std::shared_ptr<PlatformIndex>(new PlatformIndex(*this));
  if (absl::Status s = index->Add(part); !s.ok()) return s;
  return std::shared_ptr<const PlatformIndex>(std::move(index));
}

absl::Status PlatformIndex::Add(const PlatformEndorsements& part) {
  if (has_profile_ && part.profile != profile_) {
    return absl::InvalidArgumentError(
        absl::StrCat("platform endorsements: expected the profile \"",
                     PlatformProfileId(profile_), "\" of the set, found \"",
                     PlatformProfileId(part.profile), "\""));
  }
  profile_ = part.profile;
  has_profile_ = true;
  const size_t part_number = part_validity_.size();
  part_validity_.push_back(part.validity);
  std::map<std::string, std::shared_ptr<Group>, std::less<>> groups;
  for (const PlatformReferenceValue& r : part.reference_values) {
    Group& g =
        Writable(groups_, groups, Key(r.implementation_id), memory_bytes_);
    g.references.push_back(r);
    g.positions.push_back(reference_count_++);
    g.parts.push_back(part_number);
    memory_bytes_ += BytesOf(r) + sizeof(size_t);
  }
  Publish(groups, groups_);
  std::map<std::string, std::shared_ptr<Anchors>, std::less<>> anchors;
  for (const PlatformTrustAnchor& a : part.trust_anchors) {
    Anchors& list =
        Writable(anchors_, anchors, Key(a.implementation_id, a.instance_id),
                 memory_bytes_);
    Anchor entry;
    entry.one.push_back(a);
    entry.position = trust_anchor_count_++;
    entry.part = part_number;
    list.push_back(std::move(entry));
    memory_bytes_ += sizeof(Anchor) + BytesOf(a);
  }
  Publish(anchors, anchors_);
  return absl::OkStatus();
}

PlatformIndex::Lookup PlatformIndex::Find(
    absl::Span<const uint8_t> implementation_id,
    absl::Span<const uint8_t> instance_id, std::optional<int64_t> time) const {
  auto valid = [&](size_t part) {
    return !time || ValidAt(part_validity_[part], *time);
  };
  static const auto* const kNoReferences =
      new std::vector<PlatformReferenceValue>();
  static const auto* const kNoPositions = new std::vector<size_t>();
  Lookup out;
  out.references = kNoReferences;
  out.reference_positions = kNoPositions;
  out.trust_anchors = &NoAnchor();
  if (auto g = groups_.find(Key(implementation_id)); g != groups_.end()) {
    const Group& group = *g->second;
    out.references = &group.references;
    out.reference_positions = &group.positions;
    for (size_t part : group.parts) out.excluded_references += !valid(part);
    if (out.excluded_references > 0) {
      // Rare (a set holding expired parts): a copy of the valid ones.
      auto kept = std::make_shared<Group>();
      for (size_t i = 0; i < group.references.size(); ++i) {
        if (!valid(group.parts[i])) continue;
        kept->references.push_back(group.references[i]);
        kept->positions.push_back(group.positions[i]);
        kept->parts.push_back(group.parts[i]);
      }
      out.references = &kept->references;
      out.reference_positions = &kept->positions;
      out.owned = std::move(kept);
    }
  }
  if (auto a = anchors_.find(Key(implementation_id, instance_id));
      a != anchors_.end()) {
    for (const Anchor& candidate : *a->second) {
      if (!valid(candidate.part)) {
        ++out.excluded_trust_anchors;
        continue;
      }
      out.trust_anchors = &candidate.one;
      out.trust_anchor_position = candidate.position;
      out.excluded_trust_anchors = 0;  // only counted when none is valid
      break;
    }
  }
  return out;
}

void PlatformIndex::Apply(const Lookup& lookup, AppraisalOptions& options) {
  options.platform_references = lookup.references;
  options.trust_anchors = lookup.trust_anchors;
  if (options.validity) {
    options.validity->platform_references += lookup.excluded_references;
    options.validity->trust_anchors += lookup.excluded_trust_anchors;
  }
}

void PlatformIndex::ToSetPositions(const Lookup& lookup,
                                   AppraisalResult& result) {
  for (size_t& i : result.platform_report.references) {
    if (i < lookup.reference_positions->size()) {
      i = (*lookup.reference_positions)[i];
    }
  }
  if (lookup.trust_anchors->empty()) return;
  // The lookup passed one anchor, so appraisal called it "trust anchor 0".
  const std::string local = "trust anchor 0";
  const std::string global =
      absl::StrCat("trust anchor ", lookup.trust_anchor_position);
  if (result.cpak_source == local) result.cpak_source = global;
  const std::string local_problem = local + ": ";
  const std::string global_problem = global + ": ";
  auto fix = [&](std::string& s) {
    s = absl::StrReplaceAll(s, {{local_problem, global_problem}});
  };
  fix(result.first_failure);
  if (result.platform.problem) fix(*result.platform.problem);
  if (result.realm.problem) fix(*result.realm.problem);
}

}  // namespace realm_measurements::corim
