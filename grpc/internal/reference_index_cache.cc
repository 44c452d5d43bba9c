#include "grpc/internal/reference_index_cache.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "corim/cbor.h"
#include "corim/comid.h"

namespace realm_measurements::service::internal {
namespace {

std::vector<corim::RealmReferenceValue> Flatten(
    const corim::ReferenceValues& values) {
  std::vector<corim::RealmReferenceValue> out;
  for (const corim::Comid& c : values.comids) {
    out.insert(out.end(), c.realms.begin(), c.realms.end());
  }
  return out;
}

absl::StatusOr<DecodedPart> DecodePlatformPart(
    std::vector<uint8_t> corim_bytes, const corim::CborValue& cbor,
    const corim::CorimReadOptions& options) {
  absl::StatusOr<corim::PlatformEndorsements> e =
      corim::PlatformCorimFromCbor(cbor, options);
  if (!e.ok()) return e.status();
  DecodedPart p;
  p.profile = e->profile == corim::PlatformEndorsementProfile::kCcaPlatform2025
                  ? kProfilePlatform2025
                  : kProfilePlatformLegacy;
  p.corim = std::move(corim_bytes);
  p.platform =
      std::make_shared<const corim::PlatformEndorsements>(*std::move(e));
  return p;
}

absl::Status WrongKind(absl::string_view name, bool want_platform) {
  return absl::FailedPreconditionError(absl::StrCat(
      "reference-value set '", name, "': expected a ",
      want_platform ? "platform endorsement" : "realm reference-value",
      " set, found a ",
      want_platform ? "realm reference-value" : "platform endorsement",
      " set"));
}

}  // namespace

bool IsPlatformProfile(int profile) {
  return profile == kProfilePlatform2025 || profile == kProfilePlatformLegacy;
}

size_t DecodedPart::size() const {
  if (platform != nullptr) {
    return platform->reference_values.size() + platform->trust_anchors.size();
  }
  return segment != nullptr ? segment->size() : 0;
}

size_t ReferenceIndexCache::Snapshot::size() const {
  if (platform != nullptr) return platform->size();
  return index != nullptr ? index->size() : 0;
}

size_t ReferenceIndexCache::Snapshot::memory_bytes() const {
  if (platform != nullptr) return platform->memory_bytes();
  return index != nullptr ? index->memory_bytes() : 0;
}

absl::StatusOr<DecodedPart> DecodePart(std::vector<uint8_t> corim_bytes,
                                       const corim::CorimReadOptions& options) {
  // One CBOR decode (with the decoder's limits) decides the kind.
  absl::StatusOr<corim::CborValue> cbor =
      corim::DecodeCbor(corim_bytes, "CoRIM", corim::CorimLimits());
  if (!cbor.ok()) return cbor.status();
  if (corim::IsPlatformCorim(*cbor)) {
    return DecodePlatformPart(std::move(corim_bytes), *cbor, options);
  }
  absl::StatusOr<corim::DecodedCorim> d = corim::CorimFromCbor(*cbor, options);
  if (!d.ok()) return d.status();
  absl::StatusOr<std::shared_ptr<const corim::RealmIndexSegment>> seg =
      corim::RealmIndexSegment::Build(Flatten(d->values), d->values.validity);
  if (!seg.ok()) return seg.status();
  DecodedPart p;
  p.profile = d->profile == corim::Profile::kCcaRealmLegacy
                  ? kProfileRealmLegacy
                  : kProfileRealm2025;
  p.corim = std::move(corim_bytes);
  p.segment = *std::move(seg);
  return p;
}

ReferenceIndexCache::ReferenceIndexCache(Store* store, size_t max_bytes)
    : store_(store), max_bytes_(max_bytes) {}

absl::Status ReferenceIndexCache::CheckSize(const Snapshot& s,
                                            absl::string_view name) const {
  if (s.memory_bytes() <= max_bytes_) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "reference-value set '", name, "': its index needs ", s.memory_bytes(),
      " bytes of memory (", s.size(), " values); expected at most ", max_bytes_,
      " (the server's --reference_index_bytes)"));
}

absl::StatusOr<std::shared_ptr<const corim::RealmIndex>>
ReferenceIndexCache::GetRealm(absl::string_view name) {
  absl::StatusOr<Snapshot> s = Get(name);
  if (!s.ok()) return s.status();
  if (s->index == nullptr) return WrongKind(name, false);
  return s->index;
}

absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>>
ReferenceIndexCache::GetPlatform(absl::string_view name) {
  absl::StatusOr<Snapshot> s = Get(name);
  if (!s.ok()) return s.status();
  if (s->platform == nullptr) return WrongKind(name, true);
  return s->platform;
}

absl::StatusOr<ReferenceIndexCache::Snapshot> ReferenceIndexCache::Get(
    absl::string_view name) {
  if (store_ == nullptr) {
    return absl::FailedPreconditionError("no store");
  }
  absl::StatusOr<int64_t> rev = store_->GetReferenceSetRevision(name);
  if (!rev.ok()) {
    if (absl::IsNotFound(rev.status())) Erase(name);
    return rev.status();
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = sets_.find(name);
    if (it != sets_.end() && it->second.snapshot.revision == *rev) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.snapshot;
    }
  }
  absl::MutexLock load(&load_mu_);
  {
    // Loaded by another call meanwhile?
    absl::MutexLock lock(&mu_);
    auto it = sets_.find(name);
    if (it != sets_.end() && it->second.snapshot.revision >= *rev) {
      return it->second.snapshot;
    }
  }
  return Load(name);
}

absl::StatusOr<ReferenceIndexCache::Snapshot> ReferenceIndexCache::Load(
    absl::string_view name) {
  absl::StatusOr<ReferenceSetRecord> r = store_->GetReferenceSet(name);
  if (!r.ok()) return r.status();
  std::vector<std::shared_ptr<const corim::RealmIndexSegment>> segments;
  std::vector<corim::PlatformEndorsements> platform_parts;
  const bool platform = IsPlatformProfile(r->profile);
  segments.reserve(r->part_count);
  auto add = [&](std::vector<uint8_t> bytes, size_t part) -> absl::Status {
    // Stored before the decoders refused negative validity windows: such a
    // part loads and is never valid (docs/validity.md).
    corim::CorimReadOptions stored;
    stored.keep_negative_validity = true;
    absl::StatusOr<DecodedPart> p = DecodePart(std::move(bytes), stored);
    if (!p.ok()) {
      // Stored data this server cannot read back.
      return absl::DataLossError(absl::StrCat("reference-value set '", name,
                                              "' part ", part, ": ",
                                              p.status().message()));
    }
    if (platform != (p->platform != nullptr)) {
      return absl::DataLossError(
          absl::StrCat("reference-value set '", name, "' part ", part,
                       ": expected a CoRIM of the set's profile ", r->profile,
                       ", found profile ", p->profile));
    }
    if (platform) {
      platform_parts.push_back(*p->platform);
    } else {
      segments.push_back(std::move(p->segment));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = add(std::move(r->corim), 0); !s.ok()) return s;
  for (size_t i = 0; i < r->more_parts.size(); ++i) {
    if (absl::Status s = add(std::move(r->more_parts[i].corim), i + 1);
        !s.ok()) {
      return s;
    }
  }
  Snapshot snap;
  snap.revision = r->revision;
  snap.part_count = r->part_count;
  if (platform) {
    absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>> index =
        corim::PlatformIndex::Build(platform_parts);
    if (!index.ok()) {
      return absl::DataLossError(absl::StrCat("reference-value set '", name,
                                              "': ", index.status().message()));
    }
    snap.platform = *std::move(index);
  } else {
    snap.index = std::make_shared<const corim::RealmIndex>(std::move(segments));
  }
  if (absl::Status s = CheckSize(snap, name); !s.ok()) return s;
  Install(name, snap);
  absl::MutexLock lock(&mu_);
  ++loads_;
  return snap;
}

void ReferenceIndexCache::Install(absl::string_view name, Snapshot s) {
  absl::MutexLock lock(&mu_);
  auto it = sets_.find(name);
  if (it != sets_.end()) {
    bytes_ -= it->second.snapshot.memory_bytes();
    lru_.erase(it->second.lru);
    sets_.erase(it);
  }
  const size_t size = s.memory_bytes();
  // Drop the least recently used sets (calls using them keep their
  // snapshot) until this one fits.
  while (!lru_.empty() && bytes_ + size > max_bytes_) {
    auto victim = sets_.find(lru_.back());
    bytes_ -= victim->second.snapshot.memory_bytes();
    sets_.erase(victim);
    lru_.pop_back();
  }
  lru_.push_front(std::string(name));
  bytes_ += size;
  sets_.emplace(std::string(name), Entry{std::move(s), lru_.begin()});
}

void ReferenceIndexCache::Erase(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = sets_.find(name);
  if (it == sets_.end()) return;
  bytes_ -= it->second.snapshot.memory_bytes();
  lru_.erase(it->second.lru);
  sets_.erase(it);
}

absl::StatusOr<ReferenceSetRecord> ReferenceIndexCache::Provision(
    ReferenceSetRecord record, DecodedPart part, bool replace) {
  if (part.size() > kMaxValuesPerSet) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "reference-value set '", record.name, "': expected at most ",
        kMaxValuesPerSet, " values per set, found ", part.size()));
  }
  Snapshot snap;
  if (part.platform != nullptr) {
    absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>> index =
        corim::PlatformIndex::Build({*part.platform});
    if (!index.ok()) return index.status();
    snap.platform = *std::move(index);
  } else {
    snap.index = std::make_shared<const corim::RealmIndex>(
        std::vector<std::shared_ptr<const corim::RealmIndexSegment>>{
            part.segment});
  }
  if (absl::Status s = CheckSize(snap, record.name); !s.ok()) return s;
  record.profile = part.profile;
  record.realm_count = static_cast<uint32_t>(part.size());
  record.corim = std::move(part.corim);
  absl::StatusOr<ReferenceSetRecord> r =
      store_->PutReferenceSet(std::move(record), replace);
  if (!r.ok()) return r.status();
  snap.revision = r->revision;
  snap.part_count = 1;
  Install(r->name, std::move(snap));
  return r;
}

absl::StatusOr<ReferenceSetRecord> ReferenceIndexCache::Append(
    absl::string_view name, DecodedPart part, std::string signer) {
  absl::StatusOr<Snapshot> base = Get(name);
  if (!base.ok()) return base.status();
  if (IsPlatformProfile(part.profile) != (base->platform != nullptr)) {
    return WrongKind(name, IsPlatformProfile(part.profile));
  }
  if (base->platform != nullptr &&
      base->platform->profile() != part.platform->profile) {
    const int stored =
        base->platform->profile() ==
                corim::PlatformEndorsementProfile::kCcaPlatform2025
            ? kProfilePlatform2025
            : kProfilePlatformLegacy;
    return AppendProfileMismatch(name, stored, part.profile);
  }
  if (base->size() + part.size() > kMaxValuesPerSet) {
    return AppendOverLimit(name, base->size(), part.size(), kMaxValuesPerSet);
  }
  Snapshot grown;
  if (base->platform != nullptr) {
    absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>> g =
        base->platform->With(*part.platform);
    if (!g.ok()) return g.status();
    grown.platform = *std::move(g);
  } else {
    absl::StatusOr<std::shared_ptr<const corim::RealmIndex>> g =
        base->index->With(part.segment);
    if (!g.ok()) return g.status();
    grown.index = *std::move(g);
  }
  if (absl::Status s = CheckSize(grown, name); !s.ok()) return s;
  ReferenceSetPart p;
  p.realm_count = static_cast<uint32_t>(part.size());
  p.corim = std::move(part.corim);
  p.signer = std::move(signer);
  absl::StatusOr<ReferenceSetRecord> r = store_->AppendReferenceSetPart(
      name, part.profile, std::move(p), kMaxValuesPerSet);
  if (!r.ok()) return r.status();
  if (r->previous_revision == base->revision &&
      r->part_count == base->part_count + 1) {
    grown.revision = r->revision;
    grown.part_count = r->part_count;
    Install(name, std::move(grown));
  } else {
    // Another change came in between: the next use reloads.
    Erase(name);
  }
  return r;
}

absl::Status ReferenceIndexCache::Delete(absl::string_view name) {
  absl::Status s = store_->DeleteReferenceSet(name);
  Erase(name);
  return s;
}

absl::Status ReferenceIndexCache::LoadAll() {
  if (store_ == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<ReferenceSetRecord>> all =
      store_->ListReferenceSets();
  if (!all.ok()) return all.status();
  absl::Status first;
  for (const ReferenceSetRecord& r : *all) {
    absl::StatusOr<Snapshot> s = Get(r.name);
    if (!s.ok() && !absl::IsNotFound(s.status()) && first.ok()) {
      first = s.status();
    }
  }
  return first;
}

std::vector<std::optional<corim::Validity>>
ReferenceIndexCache::Snapshot::PartValidity() const {
  if (platform != nullptr) return platform->part_validity();
  std::vector<std::optional<corim::Validity>> out;
  if (index != nullptr) {
    for (size_t k = 0; k < index->segment_count(); ++k) {
      out.push_back(index->segment_validity(k));
    }
  }
  return out;
}

void ReferenceIndexCache::ValidityStats::Add(
    const std::optional<corim::Validity>& part, int64_t now) {
  if (!part) return;
  ++parts_with_validity;
  if (!corim::ValidAt(part, now)) {
    ++parts_outside_validity;
  } else if (!earliest_not_after || part->not_after < *earliest_not_after) {
    earliest_not_after = part->not_after;
  }
}

ReferenceIndexCache::ValidityStats ReferenceIndexCache::validity_stats(
    int64_t now) const {
  ValidityStats out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, e] : sets_) {
    for (const auto& v : e.snapshot.PartValidity()) out.Add(v, now);
  }
  return out;
}

std::optional<ReferenceIndexCache::Snapshot> ReferenceIndexCache::Peek(
    absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = sets_.find(name);
  if (it == sets_.end()) return std::nullopt;
  return it->second.snapshot;
}

ReferenceIndexCache::Stats ReferenceIndexCache::stats() const {
  absl::MutexLock lock(&mu_);
  Stats s;
  s.sets = sets_.size();
  for (const auto& [name, e] : sets_) s.values += e.snapshot.size();
  s.bytes = bytes_;
  s.loads = loads_;
  return s;
}

}  // namespace realm_measurements::service::internal
