#include "corim/platform_token_cache.h"

#include <utility>
#include <vector>

#include "base/status_macros.h"

namespace realm_measurements::corim {

absl::StatusOr<PlatformTokenCache::Key> PlatformTokenCache::KeyFor(
    const CoseSign1& platform, const crypto::EcPublicKey& cpak) {
  BASE_ASSIGN_OR_RETURN(
      crypto::Digest d,
      crypto::Digest::Create(crypto::DigestAlgorithm::kSha256));
  BASE_ASSIGN_OR_RETURN(std::vector<uint8_t> point, cpak.ToSec1());
  // Sig_structure is self-delimiting CBOR; the signature and point lengths
  // go first so no two (signature, point) splits hash alike.
  const uint8_t lengths[2] = {static_cast<uint8_t>(platform.signature.size()),
                              static_cast<uint8_t>(point.size())};
  if (platform.signature.size() > 255) {
    return absl::InvalidArgumentError(
        "platform token: signature longer than 255 bytes");
  }
  BASE_RETURN_IF_ERROR(d.Update(lengths));
  BASE_RETURN_IF_ERROR(
      d.Update(SigStructure(platform.protected_bytes, {}, platform.payload)));
  BASE_RETURN_IF_ERROR(d.Update(platform.signature));
  BASE_RETURN_IF_ERROR(d.Update(point));
  Key key;
  BASE_RETURN_IF_ERROR(d.Finish(absl::MakeSpan(key)));
  return key;
}

}  // namespace realm_measurements::corim
