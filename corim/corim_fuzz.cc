// Fuzz target for the CBOR decoder and the CoMID/CoRIM decoders. Checks, on
// every input that decodes:
//  * CBOR: decode(encode(v)) == v, and the encoding is stable;
//  * CoRIM: the decoded model re-encodes, and decoding that gives the same
//    model back (parse(serialize(x)) == x);
//  * CoMID (both profiles): the same round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "corim/cbor.h"
#include "corim/comid.h"
#include "corim/platform_endorsements.h"

namespace rc = realm_measurements::corim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::Span<const uint8_t> in(data, size);
  absl::StatusOr<rc::CborValue> v = rc::DecodeCbor(in);
  if (v.ok()) {
    absl::StatusOr<std::vector<uint8_t>> enc = rc::EncodeCbor(*v);
    if (!enc.ok()) std::abort();  // decoded maps have no duplicate keys
    absl::StatusOr<rc::CborValue> again = rc::DecodeCbor(*enc);
    if (!again.ok() || !(*again == *v)) std::abort();
    rc::DiagnosticOptions options;
    options.expand_embedded = true;
    (void)rc::ToDiagnostic(*v, options);
  }

  absl::StatusOr<rc::DecodedCorim> corim = rc::DecodeCorim(in);
  if (corim.ok()) {
    absl::StatusOr<rc::EncodedObject> enc =
        rc::EncodeCorim(corim->values, corim->profile);
    if (!enc.ok()) std::abort();
    absl::StatusOr<rc::DecodedCorim> again = rc::DecodeCorim(enc->bytes);
    if (!again.ok() || again->profile != corim->profile ||
        !(again->values == corim->values)) {
      std::abort();
    }
    (void)rc::DecodedCorimToJson(*corim);
    (void)rc::EncodeComidJson(corim->values.comids[0], corim->profile);
    (void)rc::EncodeCorimTemplateJson(corim->values, corim->profile);
  }

  // Platform CoRIMs: decode only (no encoder), plus the JSON view.
  absl::StatusOr<rc::PlatformEndorsements> platform =
      rc::DecodePlatformCorim(in);
  if (platform.ok()) (void)rc::PlatformEndorsementsToJson(*platform);

  for (rc::Profile p :
       {rc::Profile::kCcaRealm2025, rc::Profile::kCcaRealmLegacy}) {
    absl::StatusOr<rc::Comid> comid = rc::DecodeComid(in, p);
    if (!comid.ok()) continue;
    absl::StatusOr<rc::EncodedObject> enc = rc::EncodeComid(*comid, p);
    if (!enc.ok()) std::abort();
    absl::StatusOr<rc::Comid> again = rc::DecodeComid(enc->bytes, p);
    if (!again.ok() || !(*again == *comid)) std::abort();
  }
  return 0;
}
