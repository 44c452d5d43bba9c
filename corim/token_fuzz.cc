// libFuzzer target for the CCA token decoder and everything that reads a
// decoded token without a trusted key: lints, RAK extraction, realm
// signature check, the verification report, the EAR evidence rendering and
// the `decode` JSON/text views. The appraisal documents (written member by
// member, base::JsonWriter) must always be JSON nlohmann accepts, also with
// CoRIM validity counts at extreme times.
// Seeds: the five public token vectors (testdata/vectors).
#include <cstddef>
#include <cstdint>
#include <limits>

#include "absl/types/span.h"
#include "corim/appraisal.h"
#include "corim/token.h"
#include "corim/token_json.h"
#include "corim/verify.h"
#include "nlohmann/json.hpp"

using realm_measurements::corim::AppraisalResult;
using realm_measurements::corim::CcaToken;
using realm_measurements::corim::TokenDecodeOptions;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> input(data, size);
  for (bool strict : {false, true}) {
    TokenDecodeOptions options;
    options.strict = strict;
    absl::StatusOr<CcaToken> token =
        realm_measurements::corim::DecodeCcaToken(input, options);
    if (!token.ok()) continue;
    realm_measurements::corim::VerifyOptions verify;
    verify.strict = true;
    verify.nonce = std::vector<uint8_t>(token->realm.challenge.begin(),
                                        token->realm.challenge.end());
    AppraisalResult result;
    result.verification =
        realm_measurements::corim::VerifyCcaToken(*token, verify);
    (void)realm_measurements::corim::VerificationReportToJson(
        result.verification);
    (void)realm_measurements::corim::VerificationReportToText(
        result.verification);
    // CoRIM validity counts and times, extremes included, in the documents.
    realm_measurements::corim::ValidityCheck checked;
    checked.time = size % 3 == 0   ? std::numeric_limits<int64_t>::max()
                   : size % 3 == 1 ? std::numeric_limits<int64_t>::min()
                                   : static_cast<int64_t>(size) * 86399;
    checked.realm_values = size;
    checked.trust_anchors = size % 2;
    result.validity = checked;
    (void)realm_measurements::corim::NoTrustAnchorProblem(*token, checked);
    (void)realm_measurements::corim::AppraisalToText(result);
    realm_measurements::corim::EarOptions ear;
    ear.nonce = token->realm.challenge;
    const realm_measurements::corim::AppraisalDocuments docs =
        realm_measurements::corim::AppraisalToDocuments(*token, result, ear);
    for (const std::string* doc :
         {&docs.ear_json, &docs.verification_json, &docs.report_json}) {
      if (nlohmann::json::parse(*doc, nullptr, false).is_discarded()) {
        __builtin_trap();
      }
    }
    (void)realm_measurements::corim::TokenToJson(*token, options);
    (void)realm_measurements::corim::TokenToText(*token, options);
    // Re-encoding decoded claims must not fail on anything we accepted.
    (void)realm_measurements::corim::EncodeRealmClaims(token->realm);
    (void)realm_measurements::corim::EncodePlatformClaims(token->platform);
  }
  return 0;
}
