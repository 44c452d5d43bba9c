// Replays parsed event logs into the RMM measurement engine (spec-eventlog
// §D-§G) and reports, event by event, what each did to the RIM and REMs.
//
// Decisions of spec-eventlog §K (docs/deviations.md):
//  - K1 REMs extended by the TF-RMM formula (REF formula selectable);
//  - K2 the LPA2 flag reaches the realm flags;
//  - K3 the index field is a PCR (VMM logs) or a CC MR index (firmware CC
//    event logs), selectable;
//  - K4 truncation is the parser's (ParseOptions::allow_truncation);
//  - K5 blob descriptions compared exactly, optional trailing-NUL stripping;
//  - K6 the producers' VM VERSION layout (parser);
//  - K7 every event on a REM extends it with the logged digest of the realm's
//    algorithm and is reported verified (digest in the catalogue) or
//    unverified;
//  - K8 population granularity 4 KiB by default, 64 KiB selectable;
//  - K9 a synthesised DTB must hash to the logged digest;
//  - K10 SHA-384 logs / realms: rejected for RMM 1.0 realms, replayed for
//    RMM 2.0 ones (ReplayOptions::rmm_version, spec-rmm2 §2);
//  - K11 a VMM log may be followed by a firmware log on the same realm,
//    which must not contain REALM_CREATE.
// Replay checks meaning (order, catalogue, realm limits); Parse() has
// already checked the layout.
#ifndef REALM_MEASUREMENTS_EVENTLOG_REPLAY_H_
#define REALM_MEASUREMENTS_EVENTLOG_REPLAY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eventlog/parser.h"
#include "measure/engine.h"

namespace realm_measurements::eventlog {

// Decision K3: how the event's index field is read (§D).
enum class IndexSemantics {
  kPcr,        // §D.1: 0 RIM, 1/7 REM0, 2-6 REM1, 8-15 REM2, >= 16 REM3
  kCcMrIndex,  // §D.2: 0 RIM, 1..4 REM0..3, anything else an error
};

// Where a log comes from (K3 default semantics, K11 rules).
enum class LogSource {
  kVmm,       // QEMU / kvmtool TCG log: creates the realm, PCR semantics
  kFirmware,  // CC event log (EDK2 CCEL): REMs only, MR-index semantics
};

// The REALM_CREATE parameters a tag records (§C.3: counts - 1, SVE VL in
// 128-bit units - 1, RmiHashAlgorithm); LPA2 from the flags (K2).
measure::RealmCreateParams RealmCreateParamsOf(const RealmCreateTag& tag,
                                               measure::RmmVersion rmm_version);

// The TPM_ALG_ID of a realm's hash algorithm (the log bank its digests are
// in).
TpmAlgorithm RealmTpmAlgorithm(measure::HashAlgorithm algorithm);

enum class Register { kNone = -1, kRim = 0, kRem0, kRem1, kRem2, kRem3 };
const char* RegisterName(Register r);  // "RIM", "REM0", ..., "-"

// The register an event index denotes, or kInvalidArgument.
absl::StatusOr<Register> MapIndex(uint32_t index, IndexSemantics semantics);

// Known-good images keyed by lower-case hex digest (§E.2). Not thread-safe
// for writes; reads are const.
class ImageCatalogue {
 public:
  struct Image {
    std::string name;
    std::shared_ptr<const std::vector<uint8_t>> content;
  };

  // Default cap on one image file.
  static constexpr size_t kDefaultMaxImageSize = size_t{1} << 30;

  // Indexes `content` under its SHA-256, SHA-384 and SHA-512.
  absl::Status AddImage(std::string name, std::vector<uint8_t> content);

  // Reads a `sha256sum`/`sha512sum`-style file ("HEX  name" or "HEX *name"
  // per line; names relative to the file's directory unless absolute) and the
  // images it names. SHA-256/384/512 lines are checked against the file
  // content; SHA-1 lines (legacy logs) are taken as written, since no SHA-1
  // is available through base/crypto.h. Errors name the file and line.
  absl::Status AddChecksumFile(const std::string& path,
                               size_t max_image_size = kDefaultMaxImageSize);

  // The image with this digest (lower-case hex), or nullptr. The pointer is
  // valid until the catalogue is changed or destroyed.
  const Image* Find(absl::string_view hex) const;
  size_t size() const { return by_digest_.size(); }

 private:
  absl::Status AddKey(std::string hex, const Image& image);
  absl::flat_hash_map<std::string, Image> by_digest_;
};

// What the DTB synthesiser learns from the log (§E.5).
struct DtbRequest {
  std::string vmm_name;     // VM VERSION name ("QEMU", "kvmtool")
  std::string vmm_version;  // VM VERSION version
  uint32_t num_cpus = 0;
  uint64_t ram_size = 0;
  std::optional<std::pair<uint64_t, uint64_t>> initrd;  // base, length
  std::optional<std::pair<uint64_t, uint64_t>> log;     // base, length
  bool pmu = false;
  std::optional<RealmCreateTag> realm;
};

// Builds the DTB a VMM would have generated for `request`
// (eventlog/dtb_synthesis.h wires the QEMU and kvmtool models). Called
// between the passes when a RIM "DTB" event's digests are not in the
// catalogue and the log has a VM VERSION (§E.5); the result is checked
// against the logged digest before use (K9).
using DtbSynthesizer =
    std::function<absl::StatusOr<std::vector<uint8_t>>(const DtbRequest&)>;

struct ReplayOptions {
  LogSource source = LogSource::kVmm;
  // The RMM the realm ran on (spec-rmm2 §2). Under 2.0, INIT_RIPAS events
  // are reported but do not extend the RIM, DATA events are reported as
  // RTT_DATA_MAP_INIT, and SHA-384 realms (TCG_ALG_SHA384 banks) replay.
  // A later log on the same realm (K11) must name the same version.
  measure::RmmVersion rmm_version = measure::RmmVersion::k1_0;
  // K3: unset means kPcr for kVmm, kCcMrIndex for kFirmware.
  std::optional<IndexSemantics> index_semantics;
  // K1.
  measure::RemFormula rem_formula = measure::RemFormula::kTfRmm;
  // K8: the host page size the VMM populated images with (4 KiB or 64 KiB).
  uint64_t population_granule = 0x1000;
  // K5: compare blob descriptions after dropping trailing NULs.
  bool strip_description_nuls = false;
  // false: a per-event error is recorded in the report and the event skipped
  // (the resulting values are then not meaningful; REF's default mode).
  bool fatal = true;
  // §I.2 rule 12 / resource limit: granules one event may populate.
  uint64_t max_granules_per_event = uint64_t{1} << 20;
  // K9; may be empty.
  DtbSynthesizer dtb_synthesizer;
  // The realm's hash algorithm, known from elsewhere (the attestation token,
  // the operator). Lets a firmware log be replayed on its own, without the
  // VMM log that created the realm: REMs start at zero and the RIM stays
  // unknown (Replayer::rim_known()). With a VMM log, its REALM_CREATE must
  // name this algorithm. SHA-384 needs rmm_version 2.0 (K10).
  std::optional<measure::HashAlgorithm> realm_hash_algorithm;
};

enum class CatalogueMatch {
  kNotApplicable,  // no digest involved (tags, unmeasured data)
  kVerified,       // the digest used is in the catalogue
  kUnverified,     // REM extended with a digest the catalogue lacks (K7)
};

// One line of the replay report.
struct ReportEntry {
  size_t log = 0;  // which Replay() call (0-based)
  size_t event = 0;
  size_t offset = 0;
  uint32_t index = 0;  // the logged pcrIndex / MR index
  std::string type;    // EventTypeName
  Register reg = Register::kNone;
  // "REALM_CREATE", "DATA measured, 3 granules" (RMM 2.0:
  // "RTT_DATA_MAP_INIT measured, 3 granules"), "INIT_RIPAS [a, b)" (RMM 2.0:
  // "... not measured (RMM 2.0)"), ...
  std::string action;
  std::string digest;  // "sha256:<hex>" of the digest used, or ""
  CatalogueMatch match = CatalogueMatch::kNotApplicable;
  std::string image;        // catalogue name of the matched image
  std::string value_after;  // hex of the register afterwards ("" if none)
  std::string error;        // non-fatal mode: why the event was skipped
};

// Holds one realm's measurement state across one or more logs (K11).
class Replayer {
 public:
  // `catalogue` must outlive the Replayer.
  explicit Replayer(const ImageCatalogue* catalogue) : catalogue_(catalogue) {}

  // Replays `log`. Checks, besides the per-event primitives of the engine:
  //  - the log's algorithms include SHA-256 or SHA-512, or SHA-384 for an
  //    RMM 2.0 realm (K10);
  //  - exactly one REALM_CREATE in the first VMM log, none later (K11,
  //    §I.2 rule 11), before any other RIM-affecting event;
  //  - RIM events come from the VMM log only; MR indices <= 4 (K3);
  //  - measured images are found in the catalogue with the logged length;
  //  - populated ranges stay within the realm's IPA space and the granule
  //    cap;
  //  - REM events carry a digest of the realm's algorithm (§I.2 rule 13).
  // Errors name the event index, offset and type and carry an ErrorLocation
  // (eventlog/errors.h; class kReplay, or kUnsupported for a log or realm
  // this replay cannot handle, without an event when the log as a whole is
  // refused). In fatal mode the state keeps what was done before the
  // failing event.
  absl::Status Replay(const EventLog& log, const ReplayOptions& options = {});

  // nullptr until a REALM_CREATE was replayed.
  const measure::Engine* engine() const {
    return engine_.has_value() ? &*engine_ : nullptr;
  }
  const std::vector<ReportEntry>& report() const { return report_; }

  // RIM or REMn as hex of the significant bytes (32, 48 or 64); 128 zeros
  // before REALM_CREATE. The RIM is "" when it is unknown (below).
  std::string RegisterHex(Register r) const;
  // False when the realm was started from ReplayOptions::realm_hash_algorithm
  // (a firmware log on its own): no VMM log measured the RIM.
  bool rim_known() const { return rim_known_; }

  // The report as aligned text, one event per line, then the registers.
  std::string FormatReport() const;

 private:
  struct Pass1;
  absl::Status Configure(const EventLog& log, const ReplayOptions& options,
                         Pass1& out);
  absl::Status Synthesize(const EventLog& log, const ReplayOptions& options,
                          const Pass1& p1);
  absl::Status ReplayEvent(const Event& e, const ReplayOptions& options,
                           IndexSemantics semantics, ReportEntry& entry);
  absl::Status ReplayImage(const Event& e, const FirmwareBlob2& blob,
                           const ReplayOptions& options, ReportEntry& entry);
  absl::Status ExtendRem(const Event& e, Register reg,
                         const ReplayOptions& options, ReportEntry& entry);
  const ImageCatalogue::Image* FindImage(const Event& e,
                                         const Digest** used) const;

  const ImageCatalogue* catalogue_;
  // DTBs synthesised and verified (K9), by lower-case hex digest.
  absl::flat_hash_map<std::string, ImageCatalogue::Image> synthesised_;
  std::optional<measure::Engine> engine_;
  std::vector<ReportEntry> report_;
  size_t logs_ = 0;
  bool rim_known_ = true;
};

}  // namespace realm_measurements::eventlog

#endif  // REALM_MEASUREMENTS_EVENTLOG_REPLAY_H_
