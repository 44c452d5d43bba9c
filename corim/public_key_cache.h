// File: corim/public_key_cache.h
//
// Parsed public keys remembered by the bytes they were parsed from (issue
// 18): a verifier handed the same key bytes again and again (the CPAK text
// sent with every AppraiseToken call, a trust anchor's PEM, the RAK that
// every realm token of a platform boot carries) parses each once. The
// entry is SHA-256 over a parser name, a context (e.g. the instance-id a
// trust-anchor store is searched for) and the bytes, so a hit returns what
// that parser returned for those bytes; errors are not cached (the next
// call reports them again).
//
// Least-recently-used eviction at `capacity` keys. Thread-safe; keys handed
// out stay valid after eviction. The parsers that use it are in
// corim/verify.h (LoadPublicKey, VerifyOptions::key_cache) and
// corim/appraisal.h (AppraisalOptions::key_cache).
#ifndef REALM_MEASUREMENTS_CORIM_PUBLIC_KEY_CACHE_H_
#define REALM_MEASUREMENTS_CORIM_PUBLIC_KEY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/crypto.h"
#include "corim/internal/lru_map.h"

namespace realm_measurements::corim {

class PublicKeyCache {
 public:
  using Key = std::shared_ptr<const crypto::EcPublicKey>;
  using Stats = internal::LruStats;

  // `capacity` 0 parses every time.
  explicit PublicKeyCache(size_t capacity) : keys_(capacity) {}

  // The key `parse` makes of `bytes`, parsed on the first call for this
  // (`parser`, `context`, `bytes`) and remembered when it succeeds.
  // `parser` names the parse function (at most 255 bytes), `context` any
  // other input it depends on (at most 255 bytes).
  absl::StatusOr<Key> Get(
      absl::string_view parser, absl::Span<const uint8_t> context,
      absl::Span<const uint8_t> bytes,
      absl::FunctionRef<absl::StatusOr<crypto::EcPublicKey>()> parse);

  size_t capacity() const { return keys_.capacity(); }
  Stats stats() const { return keys_.stats(); }

 private:
  internal::LruMap<Key> keys_;
};

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_PUBLIC_KEY_CACHE_H_
