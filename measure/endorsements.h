// CBOR endorsements straight from the command line (issue 5): the realm's
// measurements become a CoMID and/or an unsigned or signed CoRIM in either
// CCA realm profile, encoded by corim/ (no cocli). Spec: spec-token-corim
// §3.3-§3.7 (structure), §3.12 (signing), §3.13 (media types), §7.3 (what to
// emit: digests at the exact algorithm size, integer algorithm ids, the RPV
// only when it is not all zero, the 2025 environment = class-id only).
#ifndef REALM_MEASUREMENTS_MEASURE_ENDORSEMENTS_H_
#define REALM_MEASUREMENTS_MEASURE_ENDORSEMENTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "corim/comid.h"
#include "corim/reference_values.h"
#include "measure/engine.h"
#include "measure/realm_config.h"

namespace realm_measurements::measure {

// --corim-profile values.
inline constexpr absl::string_view kCorimProfile2025 = "cca-realm-2025";
inline constexpr absl::string_view kCorimProfileLegacy = "cca-realm-legacy";

// PEM files are small; anything larger is not a key or a chain.
inline constexpr uint64_t kMaxPemFileSize = 1 << 20;

// What the CLI options asked for. Paths are already resolved.
struct EndorsementOptions {
  std::optional<std::string> corim_output;  // --corim-output
  std::optional<std::string> comid_output;  // --comid-output
  std::optional<std::string> profile;       // --corim-profile (default 2025)
  std::optional<std::string> sign_key;      // --corim-sign-key (PEM)
  std::optional<std::string> sign_chain;    // --corim-sign-chain (PEM)
  // --corim-tag-id / --corim-id: a UUID (8-4-4-4-12) is encoded as a UUID,
  // anything else as text. Default: a UUID derived from the values, so that
  // the same realm always gets the same ids.
  std::optional<std::string> tag_id;
  std::optional<std::string> corim_id;
  // --corim-entity: creator of the CoMID and the CoRIM; also the signer
  // name (default: the signing certificate's subject).
  std::optional<std::string> entity;
  // --corim-not-before / --corim-not-after: the CoRIM validity window (key
  // 4; RFC 3339 or Unix seconds). Veraison 2026 and our appraisal use a
  // CoRIM only inside it (spec-token-corim §3.10, docs/validity.md).
  std::optional<std::string> not_before;
  std::optional<std::string> not_after;
  // --corim-rems: the REMs the reference values constrain, "all" (default),
  // "none" or indices "0,2"; a verifier does not compare the others (e.g.
  // REMs a firmware extends at boot, which the VMM models do not predict).
  std::optional<std::string> rems;

  // True when any CBOR output is requested.
  bool Requested() const {
    return corim_output.has_value() || comid_output.has_value();
  }
};

// "cca-realm-2025" / "cca-realm-legacy".
absl::StatusOr<corim::Profile> ParseCorimProfile(absl::string_view name);

// --corim-rems: "all", "none" or distinct indices 0-3 separated by commas;
// element i is whether REM i is in the reference values.
absl::StatusOr<std::array<bool, corim::kRemCount>> ParseCorimRems(
    absl::string_view text);

// Checks the option combination before any work is done (a usage error:
// the text names the options). `measuring` is false with --no-measurements.
absl::Status CheckEndorsementOptions(const EndorsementOptions& options,
                                     bool measuring);

// The reference-value model of one realm: RIM and REM0-3 cut to the exact
// digest size of the realm's algorithm, the RPV when it is not all zero.
absl::StatusOr<corim::ReferenceValues> RealmReferenceValues(
    const Measurements& measurements, const Measurement& rpv,
    const EndorsementOptions& options);

// One measured realm of a sweep (issue 8): its measurements and its
// personalization value.
struct MeasuredRealm {
  Measurements measurements;
  Measurement rpv{};
};

// Several realms (the shapes of a sweep, in order) as ONE CoMID holding one
// reference triple per realm, in one CoRIM: a verifier accepts any of them.
// Derived ids cover every realm; with a single realm the result is exactly
// the single-realm overload's. kInvalidArgument when `realms` is empty.
absl::StatusOr<corim::ReferenceValues> RealmReferenceValues(
    absl::Span<const MeasuredRealm> realms, const EndorsementOptions& options);

// One encoded output and where it goes.
struct EndorsementFile {
  std::string path;
  std::string kind;  // "comid", "corim" or "signed-corim"
  corim::EncodedObject object;
};

// Encodes every requested output (and signs the CoRIM when a key is
// given). Nothing is written: a bad key or chain fails before any file
// exists. Errors name the option and the file.
absl::StatusOr<std::vector<EndorsementFile>> BuildEndorsements(
    const EndorsementOptions& options, const Measurements& measurements,
    const Measurement& rpv);
// The same for several realms (RealmReferenceValues above).
absl::StatusOr<std::vector<EndorsementFile>> BuildEndorsements(
    const EndorsementOptions& options, absl::Span<const MeasuredRealm> realms);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_ENDORSEMENTS_H_
