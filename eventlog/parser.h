// TCG event-log decoding (spec-eventlog §B-§C, §I). Parse() checks the byte
// layout of a crypto-agile (TCG_PCR_EVENT2) or legacy SHA-1 log and decodes
// the payloads of the events the replay acts on, plus the EDK2 / Linux
// EFI-stub events of §C.4/§H for display. It does not interpret the log:
// which register an event extends and whether its image is known is replay's
// business (eventlog/replay.h).
//
// Every length is checked against what remains of the input before anything
// is allocated; event count, event size and total size are capped.
#ifndef REALM_MEASUREMENTS_EVENTLOG_PARSER_H_
#define REALM_MEASUREMENTS_EVENTLOG_PARSER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eventlog/errors.h"

namespace realm_measurements::eventlog {

// Event types, TCG PC Client Platform Firmware Profile §10.4.1 (the subset
// listed in spec-eventlog §B.7). Any 32-bit value can appear in a log.
enum class EventType : uint32_t {
  kPrebootCert = 0x00000000,  // REF and we: end of log
  kPostCode = 0x00000001,
  kNoAction = 0x00000003,
  kSeparator = 0x00000004,
  kAction = 0x00000005,
  kEventTag = 0x00000006,
  kSCrtmContents = 0x00000007,
  kSCrtmVersion = 0x00000008,
  kCpuMicrocode = 0x00000009,
  kPlatformConfigFlags = 0x0000000A,
  kTableOfDevices = 0x0000000B,
  kCompactHash = 0x0000000C,
  kIpl = 0x0000000D,
  kIplPartitionData = 0x0000000E,
  kNonhostCode = 0x0000000F,
  kNonhostConfig = 0x00000010,
  kNonhostInfo = 0x00000011,
  kOmitBootDeviceEvents = 0x00000012,
  kPostCode2 = 0x00000013,
  kEfiVariableDriverConfig = 0x80000001,
  kEfiVariableBoot = 0x80000002,
  kEfiBootServicesApplication = 0x80000003,
  kEfiBootServicesDriver = 0x80000004,
  kEfiRuntimeServicesDriver = 0x80000005,
  kEfiGptEvent = 0x80000006,
  kEfiAction = 0x80000007,
  kEfiPlatformFirmwareBlob = 0x80000008,
  kEfiHandoffTables = 0x80000009,
  kEfiPlatformFirmwareBlob2 = 0x8000000A,
  kEfiHandoffTables2 = 0x8000000B,
  kEfiVariableBoot2 = 0x8000000C,
  kEfiGptEvent2 = 0x8000000D,
  kEfiHcrtmEvent = 0x80000010,
  kEfiVariableAuthority = 0x800000E0,
  kEfiSpdmFirmwareBlob = 0x800000E1,
  kEfiSpdmFirmwareConfig = 0x800000E2,
};

// "EV_POST_CODE2", or "EV_UNKNOWN_0x12345678".
std::string EventTypeName(uint32_t type);

// TPM_ALG_ID values the log may use (TCG Algorithm Registry; §B.4).
enum class TpmAlgorithm : uint16_t {
  kSha1 = 0x0004,
  kSha256 = 0x000B,
  kSha384 = 0x000C,
  kSha512 = 0x000D,
};
// "sha1", "sha256", "sha384", "sha512".
const char* TpmAlgorithmName(TpmAlgorithm algorithm);
// 20, 32, 48, 64.
size_t NaturalDigestSize(TpmAlgorithm algorithm);

// Tagged-event ids (TCG_PCClientTaggedEvent.taggedEventID).
// CCA tags: spec-eventlog §C.3 / Appendix 1.
enum class CcaTag : uint32_t {
  kRealmCreate = 1,
  kInitRipas = 2,
  kRecCreate = 3,
};
// Linux EFI stub tags: spec-eventlog §C.4.
enum class LinuxTag : uint32_t {
  kInitrd = 0x8F3B22EC,
  kLoadOptions = 0x8F3B22ED,
};

// TCG_EfiSpecIdEvent (§B.2).
struct SpecId {
  struct Algorithm {
    TpmAlgorithm algorithm = TpmAlgorithm::kSha256;
    uint16_t digest_size = 0;
  };
  uint32_t platform_class = 0;
  uint8_t family_version_minor = 0;
  uint8_t family_version_major = 0;
  uint8_t spec_errata = 0;
  uint8_t uintn_size = 0;
  std::vector<Algorithm> algorithms;
  std::vector<uint8_t> vendor_info;
};

struct Digest {
  TpmAlgorithm algorithm = TpmAlgorithm::kSha256;
  std::vector<uint8_t> value;
  std::string Hex() const;  // lower case
};

// --- Typed payloads -------------------------------------------------------

// Not decoded: a type nothing acts on, or an informational EFI payload that
// did not decode (Event::payload_note says why).
struct RawPayload {};

// UEFI_PLATFORM_FIRMWARE_BLOB2 (§C.1), for EV_POST_CODE2 and
// EV_EFI_PLATFORM_FIRMWARE_BLOB2. `description` holds the logged bytes
// exactly, including any trailing NULs (decision K5 is replay's).
struct FirmwareBlob2 {
  std::string description;
  uint64_t base = 0;
  uint64_t length = 0;
};

// UEFI_PLATFORM_FIRMWARE_BLOB (EV_EFI_PLATFORM_FIRMWARE_BLOB, EDK2).
struct FirmwareBlob {
  uint64_t base = 0;
  uint64_t length = 0;
};

// EV_NO_ACTION "VM VERSION" (§C.2), producers' layout (decision K6): name and
// version up to their first NUL.
struct VmVersion {
  std::string name;
  std::string version;
  uint64_t ram_size = 0;
  uint32_t num_cpus = 0;
  uint64_t flags = 0;    // 0 unless the 112-byte layout carries it
  size_t data_size = 0;  // 112 (producers) or 116 (obsolete documented)
};

// EV_NO_ACTION "StartupLocality" (TCG PFP §9.4.5.3).
struct StartupLocality {
  uint8_t locality = 0;
};

// Any other EV_NO_ACTION signature (e.g. "SP800-155 Event"): kept as is.
struct OtherNoAction {
  std::string signature;  // first 16 bytes, up to the first NUL
};

// Tag 1 REALM_CREATE (§C.3), raw RMM encodings as logged.
struct RealmCreateTag {
  // Realm flags (§C.3 / Appendix 1).
  static constexpr uint64_t kFlagLpa2 = 1u << 0;
  static constexpr uint64_t kFlagSve = 1u << 1;
  static constexpr uint64_t kFlagPmu = 1u << 2;
  uint64_t flags = 0;
  uint8_t s2sz = 0;
  uint8_t sve_vl = 0;   // VL = (sve_vl + 1) * 128 bits
  uint8_t num_bps = 0;  // count - 1
  uint8_t num_wps = 0;  // count - 1
  uint8_t pmu_num_ctrs = 0;
  uint8_t hash_algo = 0;  // 0 SHA-256, 1 SHA-512, 2 SHA-384 (RMM 2.0)
};

// Tag 2 INIT_RIPAS (§C.3).
struct InitRipasTag {
  uint64_t base = 0;
  uint64_t size = 0;
};

// Tag 3 REC_CREATE (§C.3).
struct RecCreateTag {
  static constexpr uint64_t kFlagRunnable = 1u << 0;
  uint64_t flags = 0;
  uint64_t pc = 0;
  std::array<uint64_t, 8> gprs = {};
};

// Linux EFI stub tag (§C.4): "Linux initrd" / "LOADED_IMAGE::LoadOptions".
struct LinuxStubTag {
  uint32_t id = 0;
  std::string text;  // without the terminating NUL
};

// Any other tagged event: id and size only.
struct OtherTag {
  uint32_t id = 0;
  uint32_t size = 0;
};

// EV_SEPARATOR.
struct Separator {
  uint32_t value = 0;  // 0 or 0xFFFFFFFF (error separator)
};

// Printable text: EV_EFI_ACTION, EV_ACTION, EV_POST_CODE, EV_IPL,
// EV_NONHOST_CONFIG ("Kvmtool FDT."), EV_EFI_HCRTM_EVENT; EV_S_CRTM_VERSION
// (UTF-16LE, shown when it is plain ASCII).
struct EventText {
  std::string text;
};

// UEFI_VARIABLE_DATA (EV_EFI_VARIABLE_*).
struct UefiVariable {
  std::array<uint8_t, 16> vendor_guid = {};
  std::string name;  // ASCII view of the UTF-16 name ('?' for others)
  uint64_t data_size = 0;
};

// UEFI_IMAGE_LOAD_EVENT (EV_EFI_BOOT_SERVICES_APPLICATION and friends).
struct UefiImageLoad {
  uint64_t location = 0;
  uint64_t length = 0;
  uint64_t link_time_address = 0;
  uint64_t device_path_size = 0;
};

using Payload = std::variant<RawPayload, FirmwareBlob2, FirmwareBlob, VmVersion,
                             StartupLocality, OtherNoAction, RealmCreateTag,
                             InitRipasTag, RecCreateTag, LinuxStubTag, OtherTag,
                             Separator, EventText, UefiVariable, UefiImageLoad>;

struct Event {
  size_t index = 0;   // 0-based, in log order (the Spec ID header excluded)
  size_t offset = 0;  // of the entry in the log
  size_t size = 0;    // of the whole entry
  size_t data_offset = 0;  // of the event data in the log
  uint32_t pcr_index = 0;
  uint32_t type = 0;  // an EventType value, or any other
  std::vector<Digest> digests;
  std::vector<uint8_t> data;
  Payload payload;
  // Why an informational payload was left undecoded ("" otherwise).
  std::string payload_note;

  // The digest of `algorithm`, or nullptr.
  const Digest* FindDigest(TpmAlgorithm algorithm) const;
};

enum class LogFormat {
  kEmpty,        // no bytes at all
  kCryptoAgile,  // Spec ID header + TCG_PCR_EVENT2 entries
  kLegacySha1,   // TCG_PCClientPCREvent entries only
};

// How the log ended (§B.6, §I.2 rule 6).
enum class LogEnd {
  kEndOfData,       // input ended exactly at an entry boundary
  kZeroTerminator,  // an entry of type 0 (zero padding)
  kFfTail,          // an entry starting with 0xFFFFFFFF 0xFFFFFFFF (EDK2)
  kTruncated,       // input ended inside an entry (lenient mode only)
};

struct EventLog {
  LogFormat format = LogFormat::kEmpty;
  std::optional<SpecId> spec_id;  // crypto-agile only
  std::vector<Event> events;
  LogEnd end = LogEnd::kEndOfData;
  size_t end_offset = 0;   // where the terminator / tail / truncation starts
  std::string truncation;  // the truncation message when kTruncated
};

struct ParseOptions {
  // Decision K4: a log that ends inside an entry is an error unless this is
  // set; then the partial entry is dropped (REF behaviour).
  bool allow_truncation = false;
  // §I.2 resource limits.
  size_t max_log_size = size_t{1} << 20;
  size_t max_events = 65536;
  size_t max_event_data_size = size_t{1} << 20;
};

// Parse() decodes `log` (only the byte layout and payload ranges, see the top
// of this file). Errors are kInvalidArgument for malformed or truncated input
// and kUnimplemented for valid but unsupported algorithms, each one line
// naming the event index and the offset where its entry starts ("event log:
// event 3 (EV_POST_CODE2) at offset 139: ..."; the Spec ID header is "Spec ID
// header (entry at offset 0)"), then the field and its offset. Every offset
// counts from the start of `log`. Each error carries an ErrorLocation
// (eventlog/errors.h). Checks:
//  - Spec ID: exact signature, uintnSize 2, 1..8 algorithms of natural size,
//    no duplicates, exact size;
//  - digests: count <= declared algorithms (EV_NO_ACTION: equal, skipped),
//    each declared, once per event;
//  - sizes against remaining input and the caps of `options`;
//  - CCA payloads (BLOB2, VM VERSION, tags 1-3) exact sizes and the field
//    ranges of §I.2 rules 8-10.
// The result owns copies of everything it needs; `log` may go away.
absl::StatusOr<EventLog> Parse(absl::Span<const uint8_t> log,
                               const ParseOptions& options = {});

}  // namespace realm_measurements::eventlog

#endif  // REALM_MEASUREMENTS_EVENTLOG_PARSER_H_
