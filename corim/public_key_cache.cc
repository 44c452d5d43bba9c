#include "corim/public_key_cache.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace realm_measurements::corim {
namespace {

absl::StatusOr<internal::DigestKey> KeyOf(absl::string_view parser,
                                          absl::Span<const uint8_t> context,
                                          absl::Span<const uint8_t> bytes) {
  if (parser.size() > 255 || context.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key cache: parser name and context: expected at "
                     "most 255 bytes each, found ",
                     parser.size(), " and ", context.size()));
  }
  BASE_ASSIGN_OR_RETURN(
      crypto::Digest d,
      crypto::Digest::Create(crypto::DigestAlgorithm::kSha256));
  // Lengths first, so no two splits of the same concatenation hash alike.
  const uint8_t head[2] = {static_cast<uint8_t>(parser.size()),
                           static_cast<uint8_t>(context.size())};
  BASE_RETURN_IF_ERROR(d.Update(head));
  BASE_RETURN_IF_ERROR(d.Update(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(parser.data()), parser.size())));
  BASE_RETURN_IF_ERROR(d.Update(context));
  BASE_RETURN_IF_ERROR(d.Update(bytes));
  internal::DigestKey key;
  BASE_RETURN_IF_ERROR(d.Finish(absl::MakeSpan(key)));
  return key;
}

}  // namespace

absl::StatusOr<PublicKeyCache::Key> PublicKeyCache::Get(
    absl::string_view parser, absl::Span<const uint8_t> context,
    absl::Span<const uint8_t> bytes,
    absl::FunctionRef<absl::StatusOr<crypto::EcPublicKey>()> parse) {
  absl::StatusOr<internal::DigestKey> k = KeyOf(parser, context, bytes);
  // Without a key (over-long names, a library failure) parse uncached.
  if (k.ok()) {
    if (std::optional<Key> hit = keys_.Find(*k)) return *std::move(hit);
  }
  absl::StatusOr<crypto::EcPublicKey> parsed = parse();
  if (!parsed.ok()) return parsed.status();
  auto key = std::make_shared<const crypto::EcPublicKey>(*std::move(parsed));
  if (k.ok()) keys_.Insert(*k, key);
  return key;
}

}  // namespace realm_measurements::corim
