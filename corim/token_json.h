// A decoded CCA token as JSON or text for machines and people
// (`cca-token decode`): every claim of both tokens in wire order (unknown
// keys included), the envelope facts, the parsed RAK and the binder.
// Spec: spec-token-corim §1.2-§1.7, §9 item 4.
//
// JSON shape: {"form": "cmw-collection-907" | "eat-collection-399",
//   "unknown-collection-keys": [..],
//   "platform"|"realm": {"envelope": {"content-format"? , "alg",
//     "protected" (hex), "unprotected", "payload-size", "signature" (hex)},
//     "claims": [{"key": int|text, "name": Veraison JSON name | ours |
//     null, "value": ..}]},
//   "rak": {"encoding": "raw-sec1" | "cose-key", "curve", "sec1"} (or
//     "error"),
//   "binder": {"algorithm", "platform-challenge", "computed", "match"}}.
// Byte strings are lower-case hex; maps keep wire order; tags are
// {"tag": N, "value": ..}.
#ifndef REALM_MEASUREMENTS_CORIM_TOKEN_JSON_H_
#define REALM_MEASUREMENTS_CORIM_TOKEN_JSON_H_

#include <string>

#include "corim/token.h"

namespace realm_measurements::corim {

// `options` must be those the token was decoded with (the claim maps are
// re-read from the payloads to keep wire order).
std::string TokenToJson(const CcaToken& token,
                        const TokenDecodeOptions& options = {});
std::string TokenToText(const CcaToken& token,
                        const TokenDecodeOptions& options = {});

}  // namespace realm_measurements::corim

#endif  // REALM_MEASUREMENTS_CORIM_TOKEN_JSON_H_
