// The one measurement flow (issue 13), used by every front end: the CLI
// (cli/), its sweeps, the gRPC service's Compute and Sweep handlers, and
// gen-run-vmm (through the CLI):
//
//   host-caps documents restrict -> overrides update -> VMM model ->
//   RealmConfig -> Validate -> ComputeMeasurements -> MeasureResult
//
// Front ends turn their input (argv, a proto) into a MeasureRequest and the
// MeasureResult (or the failed stage) into their output (text, JSON, files,
// a proto). Nothing here prints or writes files.
#ifndef REALM_MEASUREMENTS_MEASURE_MEASURE_H_
#define REALM_MEASUREMENTS_MEASURE_MEASURE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "measure/engine.h"
#include "measure/host_caps.h"
#include "measure/realm_config.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {

// The VMM models a request can name.
enum class VmmKind { kQemu, kKvmtool, kCloudHv };

// BuildQemu, BuildKvmtool, BuildCloudHv.
VmmModel ModelOf(VmmKind kind);

// The VMM behaviour a model reproduces, with the doc that describes it, for
// outputs to say what their values assume (CLI --format json "model", gRPC
// ComputeMeasurementsResponse.vmm_behaviour).
absl::string_view ModelBehaviour(VmmKind kind);

// The CLI's VMM command names: "kvmtool", "qemu", "cloud-hv".
std::optional<VmmKind> VmmKindNamed(absl::string_view name);

// One host-capabilities TOML document (host_caps.h). With `path` set the
// document is read from that file (at most kMaxHostCapsTomlBytes) and
// `text` is ignored; `name` names it in errors (the CLI: the path; the
// server: "host_caps_toml[i]").
struct HostCapsDocument {
  std::string name;
  std::optional<std::string> path;
  std::string text;
};

// Payload hashing progress (the CLI's --progress). Called on the calling
// thread: Start once with the payload bytes to hash, Add as they are
// hashed, Finish when the computation ended (successfully or not).
class MeasureProgress {
 public:
  virtual ~MeasureProgress() = default;
  virtual void Start(uint64_t total_bytes) = 0;
  virtual void Add(uint64_t bytes) = 0;
  virtual void Finish() = 0;
};

struct MeasureRequest {
  // Applied in order, each only lowering what the ones before allow
  // (HostCaps::Restrict, spec-core §5.3).
  std::vector<HostCapsDocument> host_caps;
  // Then these set the values they name (HostCaps::Update): the CLI's
  // --ipa-bits ... --rmm-version, the server's overrides and rmm_version.
  HostCaps overrides;
  // The CLI's --hash-algo value ("sha256", "sha384", "sha512"): it never
  // chooses the algorithm (deviations.md); a warning says so when the VMM
  // arguments select another one.
  std::optional<std::string> hash_algo_option;

  // The VMM: `model` runs on `vmm_args`; without a model the request fails
  // with "the <vmm_name> model is not implemented yet".
  std::string vmm_name;
  VmmModel model = nullptr;
  std::vector<std::string> vmm_args;
  // Payload and DTB (or DTB template) files; `inputs.cancel` is set from
  // `options.cancel` when empty.
  VmmInputs inputs;

  // Stop after the realm is built and validated: no measurements, no
  // layout digests (the CLI's --no-measurements).
  bool no_measurements = false;
  // Fill MeasureLayout::Blob::sha256 (reads every payload once more).
  bool layout_digests = false;
  // Hashing pool, digest cache (shared by the shapes of a sweep and by the
  // server's requests), cancellation. `options.on_hashed` is set by
  // Measure when `progress` is given.
  MeasureOptions options;
  MeasureProgress* progress = nullptr;

  // Hooks for what a front end does between the steps. Each may be empty.
  // A non-OK status from a hook ends the flow and is returned unchanged.
  //
  // With the effective host capabilities' DebugString(), before the model.
  std::function<void(absl::string_view)> debug;
  // Before the VMM model runs, with the inputs it will get: the server
  // resolves its stored payloads into `inputs` and waits for admission.
  std::function<absl::Status(VmmInputs& inputs)> before_build;
  // With the warnings once the model ran and the realm was validated,
  // also when either failed (the CLI prints them before the error).
  std::function<void(const std::vector<std::string>&)> on_warnings;
  // With the built and validated realm, before any payload is hashed (the
  // CLI checks its outputs and endorsement inputs there).
  std::function<absl::Status(const RealmConfig&)> after_build;
  // Work beside the measurement, on its own thread, once `after_build`
  // passed: `--compare-log` hashes every image once more in the realm's
  // algorithm there, so the pass overlaps the measurement instead of
  // preceding it. Its `cancel` turns non-OK when the measurement fails or
  // `options.cancel` does; it is joined on every return path, and a
  // non-OK status it returns is the result (stage kMeasure) when the
  // measurement itself succeeded.
  std::function<absl::Status(const RealmConfig&, const CancelCheck& cancel)>
      beside;
};

// Where the realm's parts are (the CLI's --format json "layout", the
// server's Layout message).
struct MeasureLayout {
  struct Range {
    uint64_t base = 0;
    uint64_t size = 0;
  };
  struct Blob {
    std::string name;    // "kernel", "dtb", ... or "unmeasured"
    std::string source;  // the payload's name (its path); empty: unmeasured
    uint64_t ipa = 0;
    uint64_t size = 0;
    uint64_t load_size = 0;  // 0: the content size
    bool measured = true;
    int rem = -1;  // -1: measured into the RIM; 0..3: extends REMn
    // SHA-256 of the content (MeasureRequest::layout_digests).
    std::optional<std::array<uint8_t, 32>> sha256;
  };
  struct Rec {
    uint64_t pc = 0;
    std::vector<uint64_t> gprs;
  };
  std::vector<Range> ram;
  // RIM blobs by address, then REM blobs in order, then unmeasured ranges.
  std::vector<Blob> blobs;
  std::optional<Rec> rec;
  std::optional<uint64_t> dtb_address;
};

struct MeasureResult {
  // The host capabilities after documents and overrides (before the model
  // lowered them).
  HostCaps host_caps;
  // The DTB the VMM must load, when the model made one.
  std::optional<std::vector<uint8_t>> dtb;
  // The model's and the realm's, then the ignored --hash-algo / config
  // hash_algo ones.
  std::vector<std::string> warnings;
  // Unset with MeasureRequest::no_measurements.
  std::optional<Measurements> measurements;
  RealmCreateParams parameters;  // the effective REALM_CREATE parameters
  Measurement personalization_value = {};
  MeasureLayout layout;
};

// The step of the flow a Measure error comes from, carried as a status
// payload (hook errors carry none).
enum class MeasureStage {
  kHostCaps,   // reading or parsing a host-caps document
  kRestrict,   // a document conflicts with the ones before it
  kOverrides,  // HostCaps::Update with the overrides
  kBuild,      // no model, the VMM model, or RealmConfig::Validate
  kMeasure,    // ComputeMeasurements
  kReport,     // parameters, layout sizes and digests
};

struct MeasureFailure {
  MeasureStage stage;
  std::string document;  // kHostCaps/kRestrict: the document's name
};

// The stage of a status Measure returned; nullopt for OK statuses and
// errors of the hooks.
std::optional<MeasureFailure> MeasureFailureOf(const absl::Status& status);

// Runs the flow. Errors are the failing step's own (its message unchanged;
// MeasureFailureOf names the step) or a hook's.
absl::StatusOr<MeasureResult> Measure(const MeasureRequest& request);

// The payload bytes ComputeMeasurements hashes for `config` (payloads that
// cannot be sized are left out; they fail later with their own error).
uint64_t PayloadBytes(const RealmConfig& config);

// A small text file (a host-caps document, an endorsements template), read
// through Payload; larger than `limit` is an error
// "file <path> error: <n> bytes, more than the limit of <limit> bytes".
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          uint64_t limit);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_MEASURE_H_
