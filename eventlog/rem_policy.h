// REM policy from the realm's event log(s) (spec-token-corim §9 item 3):
// instead of golden REMs, a verifier replays the log(s) the realm presents
// with the token's hash algorithm and accepts the REMs when
//  - the replayed RIM equals the token's RIM (when a VMM log is given) and
//    the token's RIM is a known reference (the caller's appraisal says so),
//  - the replayed REM0-REM3 equal the token's REMs, and
//  - every REM extension's digest is in an allow-list catalogue.
// Outcome (AR4SI executables, spec-token-corim §4.6): 2 approved runtime;
// 3 approved boot when some events are not in the catalogue (each named);
// 96 contraindicated when the log does not replay to the token's values or
// is rejected; no change when the RIM is not a known reference.
//
// CheckRemPolicy() works on plain data (ReplayedValues, TokenValues), so
// appraisal code need not depend on the replay; ReplayForPolicy() produces
// ReplayedValues from log bytes.
#ifndef REALM_MEASUREMENTS_EVENTLOG_REM_POLICY_H_
#define REALM_MEASUREMENTS_EVENTLOG_REM_POLICY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "corim/appraisal.h"
#include "corim/token.h"
#include "eventlog/replay.h"
#include "measure/engine.h"

namespace realm_measurements::eventlog {

// The allow-list of event digests a verifier operator writes: a JSON array
// of entries
//   [{"digest": "sha256:3d6772b4...", "description": "GRUB 2.12 action"},
//    {"digest": "df3f6198...", "description": "separator", "rem": 3}]
// "digest": hex of a SHA-256, SHA-384 or SHA-512 digest (64, 96 or 128
// digits, any case), optionally prefixed "sha256:", "sha384:" or "sha512:"
// (which must agree with the length). "description": what the event is
// (required, shown in reports). "rem" (optional, 0-3): the digest is
// approved only when it extends that REM. No other keys. At most 4 MiB and
// 100,000 entries; one digest may appear several times (e.g. per REM).
class EventDigestCatalogue {
 public:
  struct Entry {
    std::string description;
    std::optional<int> rem;  // unset: any REM
  };
  static constexpr size_t kMaxBytes = size_t{4} << 20;
  static constexpr size_t kMaxEntries = 100000;

  // Errors name the entry (0-based) and the field.
  static absl::StatusOr<EventDigestCatalogue> FromJson(absl::string_view text);

  // The entry approving `digest_hex` (lower case) for REM `rem`, or nullptr.
  const Entry* Find(absl::string_view digest_hex, int rem) const;
  size_t size() const { return entries_; }

 private:
  absl::flat_hash_map<std::string, std::vector<Entry>> by_digest_;
  size_t entries_ = 0;
};

// One REM extension found by the replay.
struct RemEvent {
  size_t log = 0;           // position of the log (0-based, replay order)
  size_t event = 0;         // event index in that log
  size_t offset = 0;        // where its entry starts in that log
  int rem = 0;              // 0..3
  std::string type;         // EventTypeName
  std::string description;  // from the payload (blob description, action
                            // text, variable name), else the type
  std::string digest;       // lower-case hex of the digest extended
};

// What a replay of the realm's logs produced (plain data).
struct ReplayedValues {
  measure::HashAlgorithm hash_algorithm = measure::HashAlgorithm::kSha256;
  std::optional<std::vector<uint8_t>> rim;   // unset: no VMM log replayed
  std::array<std::vector<uint8_t>, 4> rems;  // HashSize bytes each
  std::vector<RemEvent> rem_events;          // in replay order
};

// The token's realm claims the policy compares with.
struct TokenValues {
  std::vector<uint8_t> rim;
  std::vector<std::vector<uint8_t>> rems;  // claim 44239, normally 4
  // The appraisal found a reference value for the token's RIM (and RPV).
  bool rim_is_known_reference = false;
};

enum class RemPolicyOutcome {
  kApprovedRuntime,   // executables 2
  kUnknownEvents,     // executables 3: some digests not in the catalogue
  kRimNotReplayed,    // 96: the VMM log replays to another RIM
  kRemsNotReplayed,   // 96: the logs replay to other REMs
  kLogRejected,       // 96: a log does not parse or replay
  kUnknownReference,  // not applied: the token's RIM is not a reference
};
// "approved-runtime", "unknown-events", "rim-not-replayed",
// "rems-not-replayed", "log-rejected", "unknown-reference".
const char* RemPolicyOutcomeName(RemPolicyOutcome outcome);

struct RemPolicyResult {
  RemPolicyOutcome outcome = RemPolicyOutcome::kUnknownReference;
  // Whether the caller sets the realm's executables claim to `executables`.
  bool applies = false;
  int executables = 0;  // AR4SI value (§4.6) when `applies`
  // One line for every outcome but kApprovedRuntime (for the EAR's
  // policy claims), e.g. "REM2: replayed 3f26..., token 0000...".
  std::string problem;
  std::vector<RemEvent> unknown_events;
  std::vector<RemEvent> approved_events;
  std::optional<std::vector<uint8_t>> replayed_rim;
  std::array<std::vector<uint8_t>, 4> replayed_rems;
};

RemPolicyResult CheckRemPolicy(const ReplayedValues& replayed,
                               const TokenValues& token,
                               const EventDigestCatalogue& catalogue);

// {"outcome", "applies", "executables", "problem", "hash-algorithm",
//  "replayed-rim" (hex or null), "replayed-rems" [hex x4],
//  "unknown-events" / "approved-events": [{"log", "event", "offset", "rem",
//  "type", "description", "digest"}]} as compact JSON.
std::string RemPolicyToJson(const RemPolicyResult& result,
                            measure::HashAlgorithm algorithm);
// One line with the outcome, then one line per unknown event.
std::string RemPolicyToText(const RemPolicyResult& result);

// The result for logs that could not be parsed or replayed (`error` names
// the log, event and offset): executables 96 when the RIM is a known
// reference (the evidence contradicts itself), not applied otherwise.
RemPolicyResult RejectedLogPolicy(const absl::Status& error,
                                  const TokenValues& token);

// One of the realm's logs, in replay order: at most one VMM log, first.
struct PolicyLog {
  std::vector<uint8_t> bytes;
  LogSource source = LogSource::kFirmware;
  std::optional<IndexSemantics> index;  // K3 default when unset
};

// Parses and replays `logs` on one realm of `algorithm` (the token's) and
// `rmm_version`. A VMM log's REALM_CREATE must use `algorithm`; firmware
// logs without one start REMs at zero and leave the RIM unknown. `images`
// resolve a VMM log's measured images (may be empty for firmware logs).
// Errors are the parser's and the replayer's, prefixed "event log N: ".
absl::StatusOr<ReplayedValues> ReplayForPolicy(absl::Span<const PolicyLog> logs,
                                               measure::HashAlgorithm algorithm,
                                               measure::RmmVersion rmm_version,
                                               const ImageCatalogue& images);

// The whole policy for one appraised token: the token's algorithm from its
// claim 44236 spelling, ReplayForPolicy(), then CheckRemPolicy(), or
// RejectedLogPolicy() when the algorithm or a log is refused. `algorithm`
// receives the algorithm used (SHA-256 when the claim is unusable).
RemPolicyResult EvaluateRemPolicy(absl::Span<const PolicyLog> logs,
                                  absl::string_view token_hash_algorithm,
                                  const TokenValues& token,
                                  measure::RmmVersion rmm_version,
                                  const ImageCatalogue& images,
                                  const EventDigestCatalogue& catalogue,
                                  measure::HashAlgorithm* algorithm = nullptr);

// The policy on an appraisal of a verified token, for `cca-token appraise`
// and the gRPC AppraiseToken: the token's claims 44236/44238/44239, its RIM
// a known reference when the appraisal matched a candidate. When the policy
// applies it sets the realm submod's executables claim, problem and policy id
// ("policy:ARM_CCA/rem-event-log").
RemPolicyResult ApplyRemPolicy(absl::Span<const PolicyLog> logs,
                               const corim::CcaToken& token,
                               measure::RmmVersion rmm_version,
                               const ImageCatalogue& images,
                               const EventDigestCatalogue& catalogue,
                               corim::AppraisalResult& result,
                               measure::HashAlgorithm* algorithm = nullptr);

// Token claim 44236 spelling ("sha-256", "sha-384", "sha-512") to the
// realm's algorithm; kInvalidArgument otherwise.
absl::StatusOr<measure::HashAlgorithm> TokenHashAlgorithm(
    absl::string_view claim);

}  // namespace realm_measurements::eventlog

#endif  // REALM_MEASUREMENTS_EVENTLOG_REM_POLICY_H_
