// Compares the steps a VMM event log records (spec-eventlog §C) with the
// realm computed for a configuration, to tell an operator whose RIM does not
// match which step diverged (product workflow 3, `realm-measurements
// --compare-log`). Steps are compared in order: REALM_CREATE parameters,
// INIT_RIPAS ranges, measured DATA (address, length, digest), REC_CREATE,
// unmeasured DATA, then REM extensions. VM VERSION is shown, and its RAM
// size compared. ExpectedRealmOf gives the computed side from the realm the
// VMM model built (the CLI's --compare-log, gRPC ComputeMeasurements
// compare_log).
#ifndef REALM_MEASUREMENTS_EVENTLOG_COMPARE_H_
#define REALM_MEASUREMENTS_EVENTLOG_COMPARE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/cancellation.h"
#include "eventlog/parser.h"
#include "measure/engine.h"
#include "measure/realm_config.h"

namespace realm_measurements::eventlog {

// The realm the configuration gives, step by step.
struct ExpectedRealm {
  struct Range {
    uint64_t base = 0;
    uint64_t size = 0;
  };
  struct Blob {
    std::string name;    // "kernel", "dtb", ...
    std::string source;  // the file (or "DTB") it came from, for hints
    uint64_t ipa = 0;
    uint64_t size = 0;
    std::vector<uint8_t> digest;  // of the content, the realm's algorithm
  };
  measure::RealmCreateParams params;
  std::vector<Range> ram;       // one INIT_RIPAS each, in order
  std::vector<Blob> rim_blobs;  // measured DATA, by address
  std::optional<measure::RecParams> rec;
  std::vector<Range> unmeasured;                // unmeasured DATA, by address
  std::vector<std::pair<int, Blob>> rem_blobs;  // REM index, image
};

// The steps of a built (validated) realm: RAM ranges, images by address
// with their digest in the realm's algorithm (each image is read once more,
// polling `cancel` between 1 MiB chunks), the REC, unmeasured ranges, REM
// images. `params` is left for the caller (the resolved REALM_CREATE
// parameters of the measurement). kFailedPrecondition when the realm has no
// hash algorithm yet.
absl::StatusOr<ExpectedRealm> ExpectedRealmOf(
    const measure::RealmConfig& config,
    const measure::CancelCheck& cancel = nullptr);
// ExpectedRealmOf as a measure::MeasureRequest::beside hook: fills `*out`
// while the realm is measured (the CLI's --compare-log, gRPC compare_log).
std::function<absl::Status(const measure::RealmConfig&,
                           const measure::CancelCheck&)>
ExpectedRealmBeside(ExpectedRealm* out);

struct StepComparison {
  std::string step;             // "REALM_CREATE", "INIT_RIPAS", "DATA dtb", ...
  std::string expected;         // the computed step ("" when the log has more)
  std::string logged;           // the logged step ("" when the log has fewer)
  std::optional<size_t> event;  // the log event, when there is one
  std::optional<size_t> offset;  // its entry offset
  bool same = true;
  // What differs, one item per field: "s2sz: computed 33, logged 40".
  std::vector<std::string> differences;
  // Which input decides the step ("" when the step is the same).
  std::string hint;
};

struct LogComparison {
  std::string vmm;        // VM VERSION "QEMU 9.1.0", or ""
  std::string algorithm;  // the log's digest algorithm, "sha512"
  std::vector<StepComparison> steps;
  // Index into `steps` of the first that differs.
  std::optional<size_t> first_difference;
};

// Compares `log` (a parsed VMM log, PCR index semantics) with `expected`.
// kInvalidArgument when the log has no REALM_CREATE, or its digests lack
// the realm's algorithm (the comparison needs both to be about the same
// kind of realm); every other difference is a step of the result.
absl::StatusOr<LogComparison> CompareWithLog(const EventLog& log,
                                             const ExpectedRealm& expected);

// One line per step ("  3  event 3 @0x0153  DATA firmware  same"), each
// difference indented below its step, then "log: N steps, all the same" or
// "first difference: step K (...)" with the hint.
std::string ComparisonToText(const LogComparison& comparison);

}  // namespace realm_measurements::eventlog

#endif  // REALM_MEASUREMENTS_EVENTLOG_COMPARE_H_
