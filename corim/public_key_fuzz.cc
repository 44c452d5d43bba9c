// libFuzzer target for corim::LoadPublicKey: the key text a gRPC client
// sends with every call (cpak) and the key files of cca-token --cpak: a JWK,
// a trust-anchor store (JSON array, looked up by instance-id), PEM
// SubjectPublicKeyInfo or a CBOR COSE_Key. A key that loads must be a point
// its own SEC1 encoding reloads to, and the cached path must agree with the
// uncached one. Seeds: testdata/corim/public_key_fuzz_corpus (README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/crypto.h"
#include "corim/public_key_cache.h"
#include "corim/verify.h"

namespace crypto = realm_measurements::crypto;
namespace corim = realm_measurements::corim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  // The trust-anchor store seed's first instance-id.
  static const std::vector<uint8_t> kInstance = [] {
    std::vector<uint8_t> id(33, 0x02);
    id[0] = 0x01;
    return id;
  }();
  absl::StatusOr<crypto::EcPublicKey> key =
      corim::LoadPublicKey(text, kInstance);
  corim::PublicKeyCache cache(4);
  for (int round = 0; round < 2; ++round) {  // a miss, then a hit
    absl::StatusOr<corim::PublicKeyCache::Key> cached =
        corim::LoadPublicKey(cache, text, kInstance);
    if (cached.ok() != key.ok()) std::abort();
    if (!key.ok()) continue;
    if ((*cached)->ToSec1().value() != key->ToSec1().value()) std::abort();
  }
  if (!key.ok()) return 0;
  const std::vector<uint8_t> sec1 = key->ToSec1().value();
  absl::StatusOr<crypto::EcPublicKey> again =
      crypto::EcPublicKey::FromSec1(key->curve(), sec1);
  if (!again.ok() || again->ToSec1().value() != sec1) std::abort();
  return 0;
}
