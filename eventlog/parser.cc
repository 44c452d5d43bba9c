#include "eventlog/parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/byte_reader.h"
#include "base/status_macros.h"
#include "eventlog/errors.h"

namespace realm_measurements::eventlog {
namespace {

// TCG_EfiSpecIdEvent.signature, "Spec ID Event03" + NUL (§B.2).
constexpr char kSpecIdSignature[16] = "Spec ID Event03";
// EV_NO_ACTION signatures (§C.2; TCG PFP §9.4.5.3).
constexpr char kVmVersionSignature[16] = "VM VERSION\0\0\0\0\0";
constexpr char kStartupLocalitySignature[16] = "StartupLocality";
// TCG_PCClientPCREvent head: pcr, type, SHA-1 digest, size (§B.2).
constexpr size_t kLegacyHeadSize = 32;
constexpr size_t kSha1Size = 20;
// §B.2: uintnSize 2 means UINTN is 64 bits.
constexpr uint8_t kUintnSize64 = 2;
// §I.2 rule 3.
constexpr uint32_t kMaxSpecIdAlgorithms = 8;
constexpr uint32_t kAllOnes32 = 0xFFFFFFFF;
// §C.2: producers' 112-byte struct; the obsolete documented one is 116.
constexpr size_t kVmVersionProducerSize = 112;
constexpr size_t kVmVersionDocumentedSize = 116;
constexpr uint32_t kMaxVmCpus = 0x10000;
// §C.3 minimum tagged-event data sizes.
constexpr uint32_t kRealmCreateMinSize = 14;
constexpr uint32_t kInitRipasMinSize = 16;
constexpr uint32_t kRecCreateMinSize = 80;
constexpr uint64_t kGranule = 0x1000;
// §I.2 rule 10: s2sz range; > 48 only with LPA2 (RMM 1.0 §A2.2).
constexpr uint8_t kMinS2sz = 17;  // smaller: no usable RTT block (§F.3)
constexpr uint8_t kMaxS2szNoLpa2 = 48;
constexpr uint8_t kMaxS2szLpa2 = 52;
constexpr uint8_t kMaxSveVl = 15;
constexpr uint8_t kMaxPmuCounters = 31;
// RMI hash ids (Appendix 1): 0 SHA-256, 1 SHA-512, 2 SHA-384 (RMM 2.0,
// spec-rmm2 §1 row 4; whether the realm's RMM offers it is Replay's check).
constexpr uint8_t kRmiHashSha384 = 2;

bool IsKnownAlgorithm(uint16_t id) {
  return id == 0x0004 || id == 0x000B || id == 0x000C || id == 0x000D;
}

std::string Hex16(uint32_t v) { return absl::StrFormat("0x%04x", v); }

bool IsPrintable(char c) { return c >= 0x20 && c <= 0x7e; }

// `bytes` = printable ASCII, then only NULs. Returns the printable part.
std::optional<std::string> PrintableThenNuls(absl::Span<const uint8_t> bytes) {
  size_t n = 0;
  while (n < bytes.size() && IsPrintable(static_cast<char>(bytes[n]))) ++n;
  for (size_t i = n; i < bytes.size(); ++i) {
    if (bytes[i] != 0) return std::nullopt;
  }
  return std::string(bytes.begin(), bytes.begin() + n);
}

// A fixed NUL-padded field: printable up to the first NUL (or full).
std::optional<std::string> PaddedField(absl::Span<const uint8_t> bytes) {
  size_t n = 0;
  while (n < bytes.size() && bytes[n] != 0) {
    if (!IsPrintable(static_cast<char>(bytes[n]))) return std::nullopt;
    ++n;
  }
  return std::string(bytes.begin(), bytes.begin() + n);
}

bool AllEqual(absl::Span<const uint8_t> bytes, uint8_t v) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [v](uint8_t b) { return b == v; });
}

// A reader over event `e`'s data inside `log`, so that the offsets its
// messages name count from the start of the file.
ByteReader DataReader(const Event& e, absl::Span<const uint8_t> log,
                      std::string what) {
  ByteReader r(log.first(e.data_offset + e.data.size()), std::move(what));
  (void)r.Seek(e.data_offset, "event data");  // within bounds by construction
  return r;
}

// Context for messages: "event log: event 3 (EV_POST_CODE2) at offset 139: ".
std::string Where(const Event& e) {
  return absl::StrCat("event log: event ", e.index, " (", EventTypeName(e.type),
                      ") at offset ", e.offset, ": ");
}

absl::Status EventError(const Event& e, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(Where(e), message));
}

// Re-labels a payload reader's error with the event's context.
absl::Status Annotate(const Event& e, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(Where(e), s.message()));
}

// --- Spec ID ---------------------------------------------------------------

// The Spec ID header's messages name the entry; it has no event index.
constexpr char kHeaderWhat[] = "event log: Spec ID header (entry at offset 0)";

// `log` ends where the Spec ID data ends; the data starts at `data_offset`.
// Offsets in messages count from the start of the file.
absl::StatusOr<SpecId> ParseSpecId(absl::Span<const uint8_t> log,
                                   size_t data_offset) {
  ByteReader r(log, kHeaderWhat);
  BASE_RETURN_IF_ERROR(r.Seek(data_offset, "Spec ID data"));
  SpecId id;
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> sig,
                        r.Bytes(16, "signature"));
  if (std::memcmp(sig.data(), kSpecIdSignature, 16) != 0) {
    return r.ErrorAt(data_offset,
                     absl::StrCat("signature is \"",
                                  absl::CHexEscape(absl::string_view(
                                      reinterpret_cast<const char*>(sig.data()),
                                      sig.size())),
                                  "\", expected \"Spec ID Event03\\000\""));
  }
  BASE_ASSIGN_OR_RETURN(id.platform_class, r.U32Le("platformClass"));
  BASE_ASSIGN_OR_RETURN(id.family_version_minor, r.U8("familyVersionMinor"));
  BASE_ASSIGN_OR_RETURN(id.family_version_major, r.U8("familyVersionMajor"));
  BASE_ASSIGN_OR_RETURN(id.spec_errata, r.U8("specErrata"));
  BASE_ASSIGN_OR_RETURN(id.uintn_size, r.U8("uintnSize"));
  if (id.uintn_size != kUintnSize64) {
    return r.ErrorAt(
        r.offset() - 1,
        absl::StrCat("uintnSize is ", id.uintn_size, ", expected 2"));
  }
  size_t n_offset = r.offset();
  BASE_ASSIGN_OR_RETURN(uint32_t n, r.U32Le("numberOfAlgorithms"));
  if (n < 1 || n > kMaxSpecIdAlgorithms) {
    return r.ErrorAt(n_offset,
                     absl::StrCat("numberOfAlgorithms is ", n, ", expected 1..",
                                  kMaxSpecIdAlgorithms));
  }
  for (uint32_t i = 0; i < n; ++i) {
    size_t at = r.offset();
    BASE_ASSIGN_OR_RETURN(uint16_t alg, r.U16Le("algorithmId"));
    BASE_ASSIGN_OR_RETURN(uint16_t size, r.U16Le("digestSize"));
    if (!IsKnownAlgorithm(alg)) {
      return absl::UnimplementedError(absl::StrCat(
          r.what(), ": unsupported digest algorithm ", Hex16(alg),
          " at offset ", at, " (supported: sha1, sha256, sha384, sha512)"));
    }
    TpmAlgorithm a = static_cast<TpmAlgorithm>(alg);
    if (size != NaturalDigestSize(a)) {
      return r.ErrorAt(
          at, absl::StrCat("digestSize of ", TpmAlgorithmName(a), " is ", size,
                           ", expected ", NaturalDigestSize(a)));
    }
    for (const SpecId::Algorithm& seen : id.algorithms) {
      if (seen.algorithm == a) {
        return r.ErrorAt(at, absl::StrCat("algorithm ", TpmAlgorithmName(a),
                                          " listed twice"));
      }
    }
    id.algorithms.push_back({a, size});
  }
  BASE_ASSIGN_OR_RETURN(uint8_t v, r.U8("vendorInfoSize"));
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> vendor,
                        r.Bytes(v, "vendorInfo"));
  id.vendor_info.assign(vendor.begin(), vendor.end());
  if (!r.empty()) {
    return r.Error(absl::StrCat(r.remaining(),
                                " trailing bytes after vendorInfo; expected "
                                "eventDataSize ",
                                r.offset() - data_offset));
  }
  return id;
}

// --- Payloads ---------------------------------------------------------------

absl::Status DecodeBlob2(Event& e, absl::Span<const uint8_t> log) {
  ByteReader r = DataReader(e, log, "BLOB2 data");
  BASE_ASSIGN_OR_RETURN(uint8_t d, r.U8("BlobDescriptionSize"));
  size_t expected = 1 + size_t{d} + 16;
  if (e.data.size() != expected) {
    return EventError(
        e, absl::StrCat("event data is ", e.data.size(),
                        " bytes, expected 1 + ", d, " + 16 = ", expected,
                        " for UEFI_PLATFORM_FIRMWARE_BLOB2"));
  }
  FirmwareBlob2 b;
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> desc,
                        r.Bytes(d, "BlobDescription"));
  std::optional<std::string> text = PrintableThenNuls(desc);
  if (!text.has_value() || text->empty()) {
    return EventError(
        e, absl::StrCat(
               "blob description \"",
               absl::CHexEscape(absl::string_view(
                   reinterpret_cast<const char*>(desc.data()), desc.size())),
               "\" is not printable ASCII (optionally NUL-padded)"));
  }
  b.description.assign(desc.begin(), desc.end());
  BASE_ASSIGN_OR_RETURN(b.base, r.U64Le("BlobBase"));
  BASE_ASSIGN_OR_RETURN(b.length, r.U64Le("BlobLength"));
  e.payload = std::move(b);
  return absl::OkStatus();
}

absl::Status DecodeVmVersion(Event& e, absl::Span<const uint8_t> log) {
  if (e.data.size() != kVmVersionProducerSize &&
      e.data.size() != kVmVersionDocumentedSize) {
    return EventError(
        e, absl::StrCat("VM VERSION data is ", e.data.size(),
                        " bytes, expected ", kVmVersionProducerSize, " (or ",
                        kVmVersionDocumentedSize, ")"));
  }
  ByteReader r = DataReader(e, log, "VM VERSION");
  VmVersion v;
  v.data_size = e.data.size();
  BASE_RETURN_IF_ERROR(r.Skip(16, "signature"));
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> name, r.Bytes(32, "name"));
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> version,
                        r.Bytes(40, "version"));
  std::optional<std::string> n = PaddedField(name);
  std::optional<std::string> ver = PaddedField(version);
  if (!n.has_value() || n->empty()) {
    return EventError(e, "VM VERSION name is empty or not printable ASCII");
  }
  if (!ver.has_value()) {
    return EventError(e, "VM VERSION version is not printable ASCII");
  }
  v.name = *n;
  v.version = *ver;
  // Decision K6: producers' offsets (0x58 ram_size, 0x60 num_cpus).
  BASE_ASSIGN_OR_RETURN(v.ram_size, r.U64Le("ram_size"));
  BASE_ASSIGN_OR_RETURN(v.num_cpus, r.U32Le("num_cpus"));
  if (e.data.size() == kVmVersionProducerSize) {
    BASE_RETURN_IF_ERROR(r.Skip(4, "padding"));
    BASE_ASSIGN_OR_RETURN(v.flags, r.U64Le("flags"));
  }
  if (v.ram_size == 0) return EventError(e, "VM VERSION ram_size is 0");
  if (v.num_cpus < 1 || v.num_cpus > kMaxVmCpus) {
    return EventError(e, absl::StrCat("VM VERSION num_cpus is ", v.num_cpus,
                                      ", expected 1..", kMaxVmCpus));
  }
  e.payload = std::move(v);
  return absl::OkStatus();
}

void DecodeNoAction(Event& e) {
  if (e.data.size() < 16) {
    e.payload_note = "EV_NO_ACTION data shorter than a 16-byte signature";
    return;
  }
  if (std::memcmp(e.data.data(), kStartupLocalitySignature, 16) == 0) {
    if (e.data.size() != 17) {
      e.payload_note = "StartupLocality event is not 17 bytes";
      return;
    }
    e.payload = StartupLocality{e.data[16]};
    return;
  }
  OtherNoAction o;
  o.signature = PaddedField(absl::MakeSpan(e.data.data(), 16)).value_or("?");
  e.payload = std::move(o);
}

// Bytes after a tag's minimum size: producers pad C structs with zeros;
// anything else is a layout we do not know.
absl::Status CheckZeroPadding(const Event& e, ByteReader& r,
                              absl::string_view tag) {
  if (!AllEqual(r.rest(), 0)) {
    return EventError(e, absl::StrCat(tag, " has ", r.remaining(),
                                      " non-zero bytes after its fields"));
  }
  return absl::OkStatus();
}

absl::Status DecodeRealmCreate(Event& e, ByteReader& r) {
  RealmCreateTag t;
  BASE_ASSIGN_OR_RETURN(t.flags, r.U64Le("flags"));
  BASE_ASSIGN_OR_RETURN(t.s2sz, r.U8("s2sz"));
  BASE_ASSIGN_OR_RETURN(t.sve_vl, r.U8("sve_vl"));
  BASE_ASSIGN_OR_RETURN(t.num_bps, r.U8("num_bps"));
  BASE_ASSIGN_OR_RETURN(t.num_wps, r.U8("num_wps"));
  BASE_ASSIGN_OR_RETURN(t.pmu_num_ctrs, r.U8("pmu_num_ctrs"));
  BASE_ASSIGN_OR_RETURN(t.hash_algo, r.U8("hash_algo"));
  BASE_RETURN_IF_ERROR(CheckZeroPadding(e, r, "REALM_CREATE"));
  constexpr uint64_t kKnown = RealmCreateTag::kFlagLpa2 |
                              RealmCreateTag::kFlagSve |
                              RealmCreateTag::kFlagPmu;
  if (t.flags & ~kKnown) {
    return EventError(e, absl::StrFormat("REALM_CREATE flags 0x%x have "
                                         "unknown bits 0x%x (known: LPA2, "
                                         "SVE, PMU)",
                                         t.flags, t.flags & ~kKnown));
  }
  bool lpa2 = t.flags & RealmCreateTag::kFlagLpa2;
  uint8_t max_s2sz = lpa2 ? kMaxS2szLpa2 : kMaxS2szNoLpa2;
  if (t.s2sz < kMinS2sz || t.s2sz > max_s2sz) {
    return EventError(e, absl::StrCat("REALM_CREATE s2sz is ", t.s2sz,
                                      ", expected ", kMinS2sz, "..", max_s2sz,
                                      lpa2 ? " (LPA2)" : " (no LPA2)"));
  }
  if ((t.flags & RealmCreateTag::kFlagSve) && t.sve_vl > kMaxSveVl) {
    return EventError(e, absl::StrCat("REALM_CREATE sve_vl is ", t.sve_vl,
                                      ", expected 0..", kMaxSveVl));
  }
  if (t.num_bps < 1 || t.num_bps > 63) {
    return EventError(
        e, absl::StrCat("REALM_CREATE num_bps is ", t.num_bps, " (",
                        t.num_bps + 1, " breakpoints), expected 1..63"));
  }
  if (t.num_wps < 1 || t.num_wps > 63) {
    return EventError(
        e, absl::StrCat("REALM_CREATE num_wps is ", t.num_wps, " (",
                        t.num_wps + 1, " watchpoints), expected 1..63"));
  }
  if ((t.flags & RealmCreateTag::kFlagPmu) &&
      t.pmu_num_ctrs > kMaxPmuCounters) {
    return EventError(
        e, absl::StrCat("REALM_CREATE pmu_num_ctrs is ", t.pmu_num_ctrs,
                        ", expected 0..", kMaxPmuCounters));
  }
  if (t.hash_algo > kRmiHashSha384) {
    return EventError(e, absl::StrCat("REALM_CREATE hash_algo is ", t.hash_algo,
                                      ", expected 0 (SHA-256), 1 (SHA-512) or "
                                      "2 (SHA-384)"));
  }
  e.payload = t;
  return absl::OkStatus();
}

absl::Status DecodeInitRipas(Event& e, ByteReader& r) {
  InitRipasTag t;
  BASE_ASSIGN_OR_RETURN(t.base, r.U64Le("base"));
  BASE_ASSIGN_OR_RETURN(t.size, r.U64Le("size"));
  BASE_RETURN_IF_ERROR(CheckZeroPadding(e, r, "INIT_RIPAS"));
  if (t.base % kGranule != 0 || t.size % kGranule != 0 || t.size == 0) {
    return EventError(
        e, absl::StrFormat("INIT_RIPAS base 0x%x size 0x%x: expected a "
                           "non-empty 4 KiB aligned range",
                           t.base, t.size));
  }
  if (t.base + t.size < t.base) {
    return EventError(
        e, absl::StrFormat("INIT_RIPAS base 0x%x + size 0x%x overflows", t.base,
                           t.size));
  }
  e.payload = t;
  return absl::OkStatus();
}

absl::Status DecodeRecCreate(Event& e, ByteReader& r) {
  RecCreateTag t;
  BASE_ASSIGN_OR_RETURN(t.flags, r.U64Le("flags"));
  BASE_ASSIGN_OR_RETURN(t.pc, r.U64Le("pc"));
  for (uint64_t& g : t.gprs) {
    BASE_ASSIGN_OR_RETURN(g, r.U64Le("gprs"));
  }
  BASE_RETURN_IF_ERROR(CheckZeroPadding(e, r, "REC_CREATE"));
  if (t.flags & ~RecCreateTag::kFlagRunnable) {
    return EventError(e, absl::StrFormat("REC_CREATE flags 0x%x have unknown "
                                         "bits (known: RUNNABLE)",
                                         t.flags));
  }
  e.payload = t;
  return absl::OkStatus();
}

absl::Status DecodeTag(Event& e, absl::Span<const uint8_t> log) {
  ByteReader r = DataReader(e, log, "tagged event");
  if (e.data.size() < 8) {
    return EventError(e, absl::StrCat("tagged event data is ", e.data.size(),
                                      " bytes, expected at least 8"));
  }
  BASE_ASSIGN_OR_RETURN(uint32_t id, r.U32Le("taggedEventID"));
  BASE_ASSIGN_OR_RETURN(uint32_t s, r.U32Le("taggedEventDataSize"));
  if (s != r.remaining()) {
    return EventError(
        e, absl::StrCat("taggedEventDataSize is ", s, ", but ", r.remaining(),
                        " bytes of tag data follow"));
  }
  auto need = [&](uint32_t min, absl::string_view name) -> absl::Status {
    if (s < min) {
      return EventError(e, absl::StrCat(name, " taggedEventDataSize is ", s,
                                        ", expected at least ", min));
    }
    return absl::OkStatus();
  };
  switch (id) {
    case static_cast<uint32_t>(CcaTag::kRealmCreate):
      BASE_RETURN_IF_ERROR(need(kRealmCreateMinSize, "REALM_CREATE"));
      return DecodeRealmCreate(e, r);
    case static_cast<uint32_t>(CcaTag::kInitRipas):
      BASE_RETURN_IF_ERROR(need(kInitRipasMinSize, "INIT_RIPAS"));
      return DecodeInitRipas(e, r);
    case static_cast<uint32_t>(CcaTag::kRecCreate):
      BASE_RETURN_IF_ERROR(need(kRecCreateMinSize, "REC_CREATE"));
      return DecodeRecCreate(e, r);
    case static_cast<uint32_t>(LinuxTag::kInitrd):
    case static_cast<uint32_t>(LinuxTag::kLoadOptions): {
      std::optional<std::string> text = PrintableThenNuls(r.rest());
      if (!text.has_value()) {
        e.payload_note = "Linux stub tag text is not printable ASCII";
        e.payload = OtherTag{id, s};
        return absl::OkStatus();
      }
      e.payload = LinuxStubTag{id, *text};
      return absl::OkStatus();
    }
    default:
      e.payload = OtherTag{id, s};
      return absl::OkStatus();
  }
}

// Informational payloads: a decoding failure leaves RawPayload plus a note.
void DecodeText(Event& e) {
  std::optional<std::string> text = PrintableThenNuls(e.data);
  if (!text.has_value()) {
    e.payload_note = "event data is not printable ASCII";
    return;
  }
  e.payload = EventText{*text};
}

void DecodeUtf16Text(Event& e) {
  if (e.data.size() % 2 != 0) {
    e.payload_note = "UTF-16 text has an odd length";
    return;
  }
  std::string out;
  bool ended = false;
  for (size_t i = 0; i < e.data.size(); i += 2) {
    uint16_t c = static_cast<uint16_t>(e.data[i] | (e.data[i + 1] << 8));
    if (c == 0) {
      ended = true;
      continue;
    }
    if (ended || c > 0x7e || c < 0x20) {
      e.payload_note = "UTF-16 text is not plain printable ASCII";
      return;
    }
    out.push_back(static_cast<char>(c));
  }
  e.payload = EventText{out};
}

absl::Status TryDecodeVariable(Event& e, absl::Span<const uint8_t> log) {
  // UEFI_VARIABLE_DATA (TCG PFP §10.2.3).
  ByteReader r = DataReader(e, log, "UEFI_VARIABLE_DATA");
  UefiVariable v;
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> guid,
                        r.Bytes(16, "VariableName GUID"));
  std::copy(guid.begin(), guid.end(), v.vendor_guid.begin());
  BASE_ASSIGN_OR_RETURN(uint64_t name_len, r.U64Le("UnicodeNameLength"));
  BASE_ASSIGN_OR_RETURN(v.data_size, r.U64Le("VariableDataLength"));
  if (name_len > r.remaining() / 2) {
    return r.Truncated("UnicodeName", r.remaining() + 1);
  }
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> name,
                        r.Bytes(name_len * 2, "UnicodeName"));
  for (size_t i = 0; i < name.size(); i += 2) {
    uint16_t c = static_cast<uint16_t>(name[i] | (name[i + 1] << 8));
    v.name.push_back(c >= 0x20 && c <= 0x7e ? static_cast<char>(c) : '?');
  }
  if (v.data_size != r.remaining()) {
    return r.Error(absl::StrCat("VariableDataLength is ", v.data_size, ", ",
                                r.remaining(), " bytes follow"));
  }
  e.payload = std::move(v);
  return absl::OkStatus();
}

absl::Status TryDecodeImageLoad(Event& e, absl::Span<const uint8_t> log) {
  // UEFI_IMAGE_LOAD_EVENT (TCG PFP §10.2.4).
  ByteReader r = DataReader(e, log, "UEFI_IMAGE_LOAD_EVENT");
  UefiImageLoad i;
  BASE_ASSIGN_OR_RETURN(i.location, r.U64Le("ImageLocationInMemory"));
  BASE_ASSIGN_OR_RETURN(i.length, r.U64Le("ImageLengthInMemory"));
  BASE_ASSIGN_OR_RETURN(i.link_time_address, r.U64Le("ImageLinkTimeAddress"));
  BASE_ASSIGN_OR_RETURN(i.device_path_size, r.U64Le("LengthOfDevicePath"));
  if (i.device_path_size != r.remaining()) {
    return r.Error(absl::StrCat("LengthOfDevicePath is ", i.device_path_size,
                                ", ", r.remaining(), " bytes follow"));
  }
  e.payload = i;
  return absl::OkStatus();
}

void Informational(Event& e, absl::Status s) {
  if (!s.ok()) e.payload_note = std::string(s.message());
}

absl::Status DecodePayload(Event& e, absl::Span<const uint8_t> log) {
  switch (static_cast<EventType>(e.type)) {
    case EventType::kPostCode2:
    case EventType::kEfiPlatformFirmwareBlob2:
      return DecodeBlob2(e, log);
    case EventType::kNoAction:
      if (e.data.size() >= 16 &&
          std::memcmp(e.data.data(), kVmVersionSignature, 16) == 0) {
        return DecodeVmVersion(e, log);
      }
      DecodeNoAction(e);
      return absl::OkStatus();
    case EventType::kEventTag:
      return DecodeTag(e, log);
    case EventType::kSeparator:
      if (e.data.size() == 4) {
        e.payload = Separator{static_cast<uint32_t>(
            e.data[0] | (e.data[1] << 8) | (e.data[2] << 16) |
            (uint32_t{e.data[3]} << 24))};
      } else {
        e.payload_note = "separator data is not 4 bytes";
      }
      return absl::OkStatus();
    case EventType::kPostCode:
    case EventType::kAction:
    case EventType::kIpl:
    case EventType::kNonhostConfig:
    case EventType::kEfiAction:
    case EventType::kEfiHcrtmEvent:
      DecodeText(e);
      return absl::OkStatus();
    case EventType::kSCrtmVersion:
      DecodeUtf16Text(e);
      return absl::OkStatus();
    case EventType::kEfiVariableDriverConfig:
    case EventType::kEfiVariableBoot:
    case EventType::kEfiVariableBoot2:
    case EventType::kEfiVariableAuthority:
      Informational(e, TryDecodeVariable(e, log));
      return absl::OkStatus();
    case EventType::kEfiBootServicesApplication:
    case EventType::kEfiBootServicesDriver:
    case EventType::kEfiRuntimeServicesDriver:
      Informational(e, TryDecodeImageLoad(e, log));
      return absl::OkStatus();
    case EventType::kEfiPlatformFirmwareBlob:
      if (e.data.size() == 16) {
        ByteReader r = DataReader(e, log, "UEFI_PLATFORM_FIRMWARE_BLOB");
        FirmwareBlob b;
        b.base = *r.U64Le("BlobBase");
        b.length = *r.U64Le("BlobLength");
        e.payload = b;
      } else {
        e.payload_note = "UEFI_PLATFORM_FIRMWARE_BLOB data is not 16 bytes";
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

// --- Entries ----------------------------------------------------------------

enum class EntryResult { kEvent, kZeroTerminator, kFfTail };

constexpr absl::string_view kLogWhat = "event log: ";

// "event log: <x>" -> "<x>" (ByteReader messages carry the reader's name).
absl::string_view WithoutLogPrefix(absl::string_view m) {
  absl::ConsumePrefix(&m, kLogWhat);
  return m;
}

class LogParser {
 public:
  LogParser(absl::Span<const uint8_t> log, const ParseOptions& options)
      : bytes_(log), r_(log, "event log"), options_(options) {}

  absl::StatusOr<EventLog> Run();

 private:
  // A read of the entry: failure means the input ended inside it.
  template <typename T>
  absl::StatusOr<T> Note(absl::StatusOr<T> v) {
    if (!v.ok()) truncated_ = true;
    return v;
  }
  // `n` bytes of the current entry; the field is named only when they are
  // missing (no string building per event).
  absl::StatusOr<absl::Span<const uint8_t>> Take(size_t n,
                                                 absl::string_view what) {
    if (n > r_.remaining()) {
      truncated_ = true;
      return r_.Truncated(what, n);
    }
    return r_.Bytes(n, what);
  }
  absl::Status Note(absl::Status s) {
    if (!s.ok()) truncated_ = true;
    return s;
  }

  absl::StatusOr<EntryResult> Entry(Event& e);
  absl::Status DigestList(Event& e);
  absl::Status EventData(Event& e);
  // End markers shorter than a whole entry head.
  std::optional<LogEnd> ShortTail() const;
  // An error inside event `e`'s entry: "event log: event N (TYPE) at offset
  // O: <what went wrong>", with its location attached.
  absl::Status EntryError(const Event& e, const absl::Status& s,
                          ErrorClass c) const;
  // The same for the Spec ID header (no event index, entry at offset 0).
  static absl::Status HeaderError(const absl::Status& s, ErrorClass c);

  absl::Span<const uint8_t> bytes_;
  ByteReader r_;
  const ParseOptions& options_;
  EventLog log_;
  bool truncated_ = false;
  bool over_limit_ = false;
  bool have_type_ = false;
};

absl::Status LogParser::EntryError(const Event& e, const absl::Status& s,
                                   ErrorClass c) const {
  std::string where =
      have_type_ ? absl::StrCat("event ", e.index, " (", EventTypeName(e.type),
                                ") at offset ", e.offset)
                 : absl::StrCat("event ", e.index, " at offset ", e.offset);
  return WithLocation(
      absl::Status(s.code(), absl::StrCat(kLogWhat, where, ": ",
                                          WithoutLogPrefix(s.message()))),
      {c, e.index, e.offset});
}

absl::Status LogParser::HeaderError(const absl::Status& s, ErrorClass c) {
  absl::string_view m = WithoutLogPrefix(s.message());
  std::string message = absl::StartsWith(m, "Spec ID header")
                            ? absl::StrCat(kLogWhat, m)
                            : absl::StrCat(kHeaderWhat, ": ", m);
  return WithLocation(absl::Status(s.code(), message),
                      {c, std::nullopt, size_t{0}});
}

absl::Status LogParser::EventData(Event& e) {
  size_t at = r_.offset();
  BASE_ASSIGN_OR_RETURN(uint32_t size, Note(r_.U32Le("eventSize")));
  if (size > options_.max_event_data_size) {
    over_limit_ = true;
    return r_.ErrorAt(at,
                      absl::StrCat("eventSize ", size, " exceeds the limit of ",
                                   options_.max_event_data_size, " bytes"));
  }
  e.data_offset = r_.offset();
  BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> data, Take(size, "data"));
  e.data.assign(data.begin(), data.end());
  return absl::OkStatus();
}

absl::Status LogParser::DigestList(Event& e) {
  const std::vector<SpecId::Algorithm>& algs = log_.spec_id->algorithms;
  size_t at = r_.offset();
  BASE_ASSIGN_OR_RETURN(uint32_t count, Note(r_.U32Le("digests.count")));
  if (e.type == static_cast<uint32_t>(EventType::kNoAction) &&
      count == algs.size()) {
    // §B.4 item 1: EV_NO_ACTION digests are placeholders (producers write
    // algorithm 0 and zeros); skip them unread.
    size_t skip = 0;
    for (const SpecId::Algorithm& a : algs) skip += 2 + a.digest_size;
    return Take(skip, "digests").status();
  }
  if (count > algs.size()) {
    return r_.ErrorAt(
        at, absl::StrCat("digests.count is ", count, ", expected at most the ",
                         algs.size(), " algorithms of the Spec ID"));
  }
  e.digests.reserve(count);  // <= 8, checked above
  for (uint32_t i = 0; i < count; ++i) {
    size_t alg_at = r_.offset();
    BASE_ASSIGN_OR_RETURN(uint16_t id, Note(r_.U16Le("hashAlg")));
    if (!IsKnownAlgorithm(id)) {
      return absl::UnimplementedError(absl::StrCat(
          "unsupported digest algorithm ", Hex16(id), " at offset ", alg_at));
    }
    TpmAlgorithm a = static_cast<TpmAlgorithm>(id);
    auto declared = std::find_if(
        algs.begin(), algs.end(),
        [a](const SpecId::Algorithm& x) { return x.algorithm == a; });
    if (declared == algs.end()) {
      return r_.ErrorAt(alg_at,
                        absl::StrCat("digest algorithm ", TpmAlgorithmName(a),
                                     " is not declared in the Spec ID"));
    }
    if (e.FindDigest(a) != nullptr) {
      return r_.ErrorAt(alg_at,
                        absl::StrCat("two ", TpmAlgorithmName(a), " digests"));
    }
    BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> value,
                          Take(declared->digest_size, "digest"));
    e.digests.push_back(Digest{a, {value.begin(), value.end()}});
  }
  return absl::OkStatus();
}

absl::StatusOr<EntryResult> LogParser::Entry(Event& e) {
  e.offset = r_.offset();
  absl::Span<const uint8_t> head =
      r_.rest().first(std::min<size_t>(r_.remaining(), 8));
  if (head.size() == 8 && AllEqual(head, 0xFF)) return EntryResult::kFfTail;
  BASE_ASSIGN_OR_RETURN(e.pcr_index, Note(r_.U32Le("pcrIndex")));
  BASE_ASSIGN_OR_RETURN(e.type, Note(r_.U32Le("eventType")));
  have_type_ = true;
  if (e.type == static_cast<uint32_t>(EventType::kPrebootCert)) {
    return EntryResult::kZeroTerminator;  // §B.6: type 0 ends the log
  }
  if (e.type == kAllOnes32) return EntryResult::kFfTail;
  if (log_.format == LogFormat::kCryptoAgile) {
    BASE_RETURN_IF_ERROR(DigestList(e));
  } else {
    BASE_ASSIGN_OR_RETURN(absl::Span<const uint8_t> sha1,
                          Take(kSha1Size, "digest"));
    e.digests.push_back(
        Digest{TpmAlgorithm::kSha1, {sha1.begin(), sha1.end()}});
  }
  BASE_RETURN_IF_ERROR(EventData(e));
  e.size = r_.offset() - e.offset;
  return EntryResult::kEvent;
}

std::optional<LogEnd> LogParser::ShortTail() const {
  // Fewer bytes than an entry head, all 0xFF: the rest of an EDK2 log area
  // (no entry starts with pcrIndex 0xFFFFFFFF). A short run of zeros stays a
  // truncation: it is also how a cut-off entry with pcrIndex 0 looks.
  if (r_.remaining() >= 8) return std::nullopt;
  if (AllEqual(r_.rest(), 0xFF)) return LogEnd::kFfTail;
  return std::nullopt;
}

absl::StatusOr<EventLog> LogParser::Run() {
  if (r_.size() > options_.max_log_size) {
    return WithLocation(
        absl::InvalidArgumentError(absl::StrCat("event log: ", r_.size(),
                                                " bytes exceed the limit of ",
                                                options_.max_log_size)),
        {ErrorClass::kLimit, std::nullopt, std::nullopt});
  }
  if (r_.empty()) return log_;

  auto truncation = [&](const absl::Status& s) -> absl::StatusOr<EventLog> {
    if (!options_.allow_truncation) return s;
    log_.end = LogEnd::kTruncated;
    log_.truncation = std::string(s.message());
    return std::move(log_);
  };

  // The first entry: a Spec ID (crypto-agile) or a legacy event (§B.3).
  if (r_.remaining() >= 8 && AllEqual(r_.rest().first(8), 0xFF)) {
    log_.end = LogEnd::kFfTail;  // an EDK2 log area with nothing in it
    return std::move(log_);
  }
  if (r_.remaining() >= 8) {
    absl::Span<const uint8_t> t = r_.rest().subspan(4, 4);
    if (t[0] == 3 && t[1] == 0 && t[2] == 0 && t[3] == 0) {
      log_.format = LogFormat::kCryptoAgile;
    } else {
      log_.format = LogFormat::kLegacySha1;
    }
  } else {
    log_.format = LogFormat::kEmpty;
    log_.end_offset = 0;
    return truncation(
        WithLocation(r_.Truncated("first entry", kLegacyHeadSize),
                     {ErrorClass::kTruncated, std::nullopt, size_t{0}}));
  }
  if (log_.format == LogFormat::kCryptoAgile) {
    // pcrIndex and eventType were peeked above; the SHA-1 digest field is
    // unused (§B.2).
    absl::Status s = r_.Skip(8, "pcrIndex/eventType");
    if (s.ok()) s = r_.Skip(kSha1Size, "digest");
    absl::StatusOr<uint32_t> n = s.ok() ? r_.U32Le("eventDataSize") : s;
    if (!n.ok()) {
      log_.format = LogFormat::kEmpty;
      return truncation(HeaderError(n.status(), ErrorClass::kTruncated));
    }
    if (*n > options_.max_event_data_size) {
      return HeaderError(
          r_.ErrorAt(
              r_.offset() - 4,
              absl::StrCat("eventDataSize ", *n, " exceeds the limit of ",
                           options_.max_event_data_size, " bytes")),
          ErrorClass::kLimit);
    }
    const size_t data_offset = r_.offset();
    absl::StatusOr<absl::Span<const uint8_t>> data =
        r_.Bytes(*n, "Spec ID event data");
    if (!data.ok()) {
      log_.format = LogFormat::kEmpty;
      return truncation(HeaderError(data.status(), ErrorClass::kTruncated));
    }
    absl::StatusOr<SpecId> id =
        ParseSpecId(bytes_.first(data_offset + *n), data_offset);
    if (!id.ok()) {
      return HeaderError(id.status(),
                         id.status().code() == absl::StatusCode::kUnimplemented
                             ? ErrorClass::kUnsupported
                             : ErrorClass::kMalformed);
    }
    log_.spec_id = *std::move(id);
  }

  // A guess from typical entry sizes (~64 bytes), capped, saves the vector
  // from regrowing; the real bound is max_events.
  constexpr size_t kTypicalEntry = 64, kMaxReserve = 4096;
  log_.events.reserve(std::min(
      {r_.remaining() / kTypicalEntry, kMaxReserve, options_.max_events}));
  while (true) {
    log_.end_offset = r_.offset();
    if (r_.empty()) {
      log_.end = LogEnd::kEndOfData;
      return std::move(log_);
    }
    if (std::optional<LogEnd> tail = ShortTail(); tail.has_value()) {
      log_.end = *tail;
      return std::move(log_);
    }
    Event e;
    e.index = log_.events.size();
    e.offset = r_.offset();
    truncated_ = false;
    over_limit_ = false;
    have_type_ = false;
    if (log_.events.size() >= options_.max_events) {
      return EntryError(e,
                        absl::InvalidArgumentError(absl::StrCat(
                            "more than ", options_.max_events, " events")),
                        ErrorClass::kLimit);
    }
    absl::StatusOr<EntryResult> res = Entry(e);
    if (!res.ok()) {
      if (truncated_) {
        log_.end_offset = e.offset;
        return truncation(EntryError(e, res.status(), ErrorClass::kTruncated));
      }
      return EntryError(
          e, res.status(),
          over_limit_ ? ErrorClass::kLimit
          : res.status().code() == absl::StatusCode::kUnimplemented
              ? ErrorClass::kUnsupported
              : ErrorClass::kMalformed);
    }
    if (*res == EntryResult::kZeroTerminator) {
      log_.end = LogEnd::kZeroTerminator;
      return std::move(log_);
    }
    if (*res == EntryResult::kFfTail) {
      log_.end = LogEnd::kFfTail;
      return std::move(log_);
    }
    absl::Status payload = DecodePayload(e, bytes_);
    if (!payload.ok()) {
      // Payload reader messages lack the event context; add it once.
      if (!absl::StartsWith(payload.message(), "event log:")) {
        payload = Annotate(e, payload);
      }
      return WithLocation(payload, {ErrorClass::kMalformed, e.index, e.offset});
    }
    log_.events.push_back(std::move(e));
  }
}
}  // namespace

std::string EventTypeName(uint32_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::kPrebootCert:
      return "EV_PREBOOT_CERT";
    case EventType::kPostCode:
      return "EV_POST_CODE";
    case EventType::kNoAction:
      return "EV_NO_ACTION";
    case EventType::kSeparator:
      return "EV_SEPARATOR";
    case EventType::kAction:
      return "EV_ACTION";
    case EventType::kEventTag:
      return "EV_EVENT_TAG";
    case EventType::kSCrtmContents:
      return "EV_S_CRTM_CONTENTS";
    case EventType::kSCrtmVersion:
      return "EV_S_CRTM_VERSION";
    case EventType::kCpuMicrocode:
      return "EV_CPU_MICROCODE";
    case EventType::kPlatformConfigFlags:
      return "EV_PLATFORM_CONFIG_FLAGS";
    case EventType::kTableOfDevices:
      return "EV_TABLE_OF_DEVICES";
    case EventType::kCompactHash:
      return "EV_COMPACT_HASH";
    case EventType::kIpl:
      return "EV_IPL";
    case EventType::kIplPartitionData:
      return "EV_IPL_PARTITION_DATA";
    case EventType::kNonhostCode:
      return "EV_NONHOST_CODE";
    case EventType::kNonhostConfig:
      return "EV_NONHOST_CONFIG";
    case EventType::kNonhostInfo:
      return "EV_NONHOST_INFO";
    case EventType::kOmitBootDeviceEvents:
      return "EV_OMIT_BOOT_DEVICE_EVENTS";
    case EventType::kPostCode2:
      return "EV_POST_CODE2";
    case EventType::kEfiVariableDriverConfig:
      return "EV_EFI_VARIABLE_DRIVER_CONFIG";
    case EventType::kEfiVariableBoot:
      return "EV_EFI_VARIABLE_BOOT";
    case EventType::kEfiBootServicesApplication:
      return "EV_EFI_BOOT_SERVICES_APPLICATION";
    case EventType::kEfiBootServicesDriver:
      return "EV_EFI_BOOT_SERVICES_DRIVER";
    case EventType::kEfiRuntimeServicesDriver:
      return "EV_EFI_RUNTIME_SERVICES_DRIVER";
    case EventType::kEfiGptEvent:
      return "EV_EFI_GPT_EVENT";
    case EventType::kEfiAction:
      return "EV_EFI_ACTION";
    case EventType::kEfiPlatformFirmwareBlob:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
    case EventType::kEfiHandoffTables:
      return "EV_EFI_HANDOFF_TABLES";
    case EventType::kEfiPlatformFirmwareBlob2:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    case EventType::kEfiHandoffTables2:
      return "EV_EFI_HANDOFF_TABLES2";
    case EventType::kEfiVariableBoot2:
      return "EV_EFI_VARIABLE_BOOT2";
    case EventType::kEfiGptEvent2:
      return "EV_EFI_GPT_EVENT2";
    case EventType::kEfiHcrtmEvent:
      return "EV_EFI_HCRTM_EVENT";
    case EventType::kEfiVariableAuthority:
      return "EV_EFI_VARIABLE_AUTHORITY";
    case EventType::kEfiSpdmFirmwareBlob:
      return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case EventType::kEfiSpdmFirmwareConfig:
      return "EV_EFI_SPDM_FIRMWARE_CONFIG";
  }
  return absl::StrFormat("EV_UNKNOWN_0x%08x", type);
}

const char* TpmAlgorithmName(TpmAlgorithm algorithm) {
  switch (algorithm) {
    case TpmAlgorithm::kSha1:
      return "sha1";
    case TpmAlgorithm::kSha256:
      return "sha256";
    case TpmAlgorithm::kSha384:
      return "sha384";
    case TpmAlgorithm::kSha512:
      return "sha512";
  }
  return "unknown";
}

size_t NaturalDigestSize(TpmAlgorithm algorithm) {
  switch (algorithm) {
    case TpmAlgorithm::kSha1:
      return 20;
    case TpmAlgorithm::kSha256:
      return 32;
    case TpmAlgorithm::kSha384:
      return 48;
    case TpmAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

std::string Digest::Hex() const {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(value.data()), value.size()));
}

const Digest* Event::FindDigest(TpmAlgorithm algorithm) const {
  for (const Digest& d : digests) {
    if (d.algorithm == algorithm) return &d;
  }
  return nullptr;
}

absl::StatusOr<EventLog> Parse(absl::Span<const uint8_t> log,
                               const ParseOptions& options) {
  return LogParser(log, options).Run();
}

}  // namespace realm_measurements::eventlog
