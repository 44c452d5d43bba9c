// Decoded, indexed reference-value sets kept in memory (issue 16 item 4).
//
// A stored set is decoded and indexed (corim/realm_index.h) once: when it is
// provisioned through this server, or when a call first needs it (at start
// for every stored set, and again after another replica changed it). Each
// set's index is an immutable snapshot shared by the calls using it
// (shared_ptr, swapped under a short lock). Whether a cached snapshot is
// current is one small store read per use (Store::GetReferenceSetRevision):
// every replica sees every other's changes at once.
//
// Platform endorsement sets (CCA platform CoRIMs, spec-token-corim §3.14)
// live in the same store and cache, indexed by corim/platform_index.h.
//
// Memory is bounded by `max_bytes` (sum of the cached indexes; least
// recently used sets are dropped and reloaded when needed); a set whose
// index alone would pass it is refused when provisioned.
#ifndef REALM_MEASUREMENTS_GRPC_INTERNAL_REFERENCE_INDEX_CACHE_H_
#define REALM_MEASUREMENTS_GRPC_INTERNAL_REFERENCE_INDEX_CACHE_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "corim/platform_endorsements.h"
#include "corim/platform_index.h"
#include "corim/realm_index.h"
#include "grpc/store.h"

namespace realm_measurements::service::internal {

// Defaults of the server flags.
inline constexpr size_t kDefaultReferenceIndexBytes = size_t{1} << 30;
inline constexpr uint32_t kMaxValuesPerSet = 1000000;

// v1::CorimProfile numbers (proto/realm_measurements/v1/service.proto).
enum CorimProfileNumber : int {
  kProfileRealm2025 = 1,       // CORIM_PROFILE_CCA_REALM_2025
  kProfileRealmLegacy = 2,     // CORIM_PROFILE_CCA_REALM_LEGACY
  kProfilePlatform2025 = 3,    // CORIM_PROFILE_CCA_PLATFORM_2025
  kProfilePlatformLegacy = 4,  // CORIM_PROFILE_CCA_PLATFORM_LEGACY
};
bool IsPlatformProfile(int profile);

// One decoded CoRIM ready for a set: its profile (v1::CorimProfile number),
// its values (realm values as an index segment, or platform endorsements),
// and the unsigned CoRIM bytes to store.
struct DecodedPart {
  int profile = 0;
  std::vector<uint8_t> corim;
  std::shared_ptr<const corim::RealmIndexSegment> segment;      // realm
  std::shared_ptr<const corim::PlatformEndorsements> platform;  // platform
  // Realm values, or platform reference triples plus CPAK triples.
  size_t size() const;
};
// Decodes an unsigned CoRIM of either kind (the profile, key 3, decides)
// and indexes its values (errors as DecodeCorim / DecodePlatformCorim and
// RealmIndexSegment::Build). Stored parts are read with
// `keep_negative_validity`; new ones strictly.
absl::StatusOr<DecodedPart> DecodePart(
    std::vector<uint8_t> corim, const corim::CorimReadOptions& options = {});

class ReferenceIndexCache {
 public:
  // `store` is not owned and may be null (then Get fails).
  ReferenceIndexCache(Store* store, size_t max_bytes);

  struct Snapshot {
    int64_t revision = 0;
    uint32_t part_count = 0;
    std::shared_ptr<const corim::RealmIndex> index;        // realm sets
    std::shared_ptr<const corim::PlatformIndex> platform;  // platform sets
    size_t size() const;
    size_t memory_bytes() const;
    // The CoRIM validity of each part (its windows, in part order).
    std::vector<std::optional<corim::Validity>> PartValidity() const;
  };

  // The current index of a stored set (kNotFound for an unknown name,
  // kDataLoss when a stored part no longer decodes, kResourceExhausted when
  // its index exceeds max_bytes).
  absl::StatusOr<Snapshot> Get(absl::string_view name);
  // The set's snapshot if it is in memory, without a store read or a load.
  std::optional<Snapshot> Peek(absl::string_view name) const;
  // Get() of a realm set / a platform set: kFailedPrecondition naming the
  // set when it is of the other kind.
  absl::StatusOr<std::shared_ptr<const corim::RealmIndex>> GetRealm(
      absl::string_view name);
  absl::StatusOr<std::shared_ptr<const corim::PlatformIndex>> GetPlatform(
      absl::string_view name);

  // Puts (or replaces) a set and installs its index.
  absl::StatusOr<ReferenceSetRecord> Provision(ReferenceSetRecord record,
                                               DecodedPart part, bool replace);
  // Appends a part: the set's values and the new ones must stay within
  // kMaxValuesPerSet, kMaxValuesPerRim and max_bytes.
  absl::StatusOr<ReferenceSetRecord> Append(absl::string_view name,
                                            DecodedPart part,
                                            std::string signer);
  absl::Status Delete(absl::string_view name);

  // Loads every stored set (server start). Sets that fail to load are
  // reported by the first error; the others are loaded.
  absl::Status LoadAll();

  struct Stats {
    size_t sets = 0;
    size_t values = 0;
    size_t bytes = 0;
    uint64_t loads = 0;  // sets decoded from the store
  };
  Stats stats() const;

  // CoRIM validity of the stored parts of the sets in memory, at `now`
  // (docs/validity.md): how many carry a window, how many are outside
  // theirs, and the earliest not-after among those still inside.
  struct ValidityStats {
    size_t parts_with_validity = 0;
    size_t parts_outside_validity = 0;
    std::optional<int64_t> earliest_not_after;
    void Add(const std::optional<corim::Validity>& part, int64_t now);
  };
  ValidityStats validity_stats(int64_t now) const;
  size_t max_bytes() const { return max_bytes_; }

 private:
  absl::StatusOr<Snapshot> Load(absl::string_view name);
  absl::Status CheckSize(const Snapshot& s, absl::string_view name) const;
  void Install(absl::string_view name, Snapshot s);
  void Erase(absl::string_view name);

  Store* const store_;
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  struct Entry {
    Snapshot snapshot;
    std::list<std::string>::iterator lru;
  };
  std::map<std::string, Entry, std::less<>> sets_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
  // One load at a time (bounds the transient memory of decoding).
  absl::Mutex load_mu_;
};

}  // namespace realm_measurements::service::internal

#endif  // REALM_MEASUREMENTS_GRPC_INTERNAL_REFERENCE_INDEX_CACHE_H_
