// cca-token: decode, verify or appraise a CCA attestation token file
// (cli/cca_token.h; main in cca_token_main.cc).
//
//   cca-token decode TOKEN [--strict] [--format json]
//   cca-token verify TOKEN (--cpak KEY | --platform-corim FILE)
//       [--nonce HEX] [--strict] [--format json] [--at TIME]
//   cca-token appraise TOKEN (--cpak KEY | --platform-corim FILE)...
//       (--reference-corim FILE | --rim HEX [--rpv HEX] [--rem0 HEX] ...)...
//       [--nonce HEX] [--strict] [--require-hash-alg]
//       [--separate-integrity-failures] [--format json] [--ear-key PEM]
//       [[--event-log LOG [--event-log-images SUMS]]... [--firmware-log LOG]...
//        --event-catalogue JSON [--rmm-version 1.0|2.0]] [--at TIME]
//   any command with --batch instead of TOKEN: stdin holds one JSON object
//   per line, {"token": PATH, "nonce": HEX?, "at": TIME?} ("at" as --at, per
//   token, e.g. to audit each at its own time); stdout one compact --format
//   json result per line (with "token" and "exit"). appraise --batch
//   --event-catalogue JSON: each line also names its realm's logs,
//   "event_log": PATH and/or "firmware_logs": [PATH...].
//
// KEY: JWK, trust-anchor store JSON (looked up by the token's instance-id),
// PEM SubjectPublicKeyInfo or CBOR COSE_Key. --platform-corim: a CCA
// platform CoRIM (2025 or legacy profile); its reference triples appraise
// the platform firmware (§4.4) and, without --cpak, its CPAK triple for the
// token's implementation-id + instance-id is the platform key. Each --rim
// starts a reference value; --rpv/--remN apply to the latest one. --ear-key
// signs the EAR as an ES256 JWT. --event-log / --firmware-log /
// --event-catalogue: the REM policy of eventlog/rem_policy.h (the realm's
// logs replayed with the token's algorithm; executables 2 when every REM
// event is in the catalogue, 3 naming unknown events, 96 when the logs do
// not replay to the token's RIM/REMs). --at TIME (verify, appraise): CoRIM
// validity windows are checked at TIME instead of now; a CoRIM not valid
// then contributes no triples (Veraison 2026, spec-token-corim §3.10).
// Exit status (documented in --help):
// 0 verified / affirming / decoded; 1 verification failed or not affirming;
// 2 usage error or unusable option input (key, CoRIM, flag value);
// 3 token unreadable or undecodable. --batch exits with the largest code
// of its lines (2 for a malformed line).
#include "cli/cca_token.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "base/file_reading.h"
#include "base/json_limits.h"
#include "base/json_text.h"
#include "corim/appraisal.h"
#include "corim/cbor.h"
#include "corim/comid.h"
#include "corim/cose.h"
#include "corim/platform_endorsements.h"
#include "corim/reference_values.h"
#include "corim/token.h"
#include "corim/token_json.h"
#include "corim/verify.h"
#include "eventlog/parser.h"
#include "eventlog/rem_policy.h"
#include "eventlog/replay.h"
#include "measure/engine.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

// Exit codes (--help lists them).
constexpr int kExitOk = 0;
constexpr int kExitNotOk = 1;     // verification failed / not affirming
constexpr int kExitUsage = 2;     // usage error, unusable option input
constexpr int kExitBadToken = 3;  // token unreadable or undecodable

constexpr char kUsage[] =
    "usage: cca-token verify TOKEN (--cpak KEY | --platform-corim FILE) "
    "[--nonce HEX] [--strict] [--format json] [--at TIME]\n"
    "       cca-token appraise TOKEN (--cpak KEY | --platform-corim FILE)... "
    "(--reference-corim FILE | --rim HEX [--rpv HEX] [--rem0..--rem3 "
    "HEX])... [--nonce HEX] [--strict] [--require-hash-alg] "
    "[--separate-integrity-failures] [--format json] [--ear-key PEM] "
    "[[--event-log LOG] [--firmware-log LOG]... --event-catalogue JSON "
    "[--event-log-images SUMS]... [--rmm-version 1.0|2.0]] [--at TIME]\n"
    "       cca-token decode TOKEN [--strict] [--format json]\n"
    "       cca-token COMMAND --batch OPTIONS...\n";

// --help: the usage, then what each option does.
constexpr char kHelp[] =
    "Decodes an Arm CCA attestation token (tag 399 or CMW tag 907),\n"
    "verifies it and appraises it against realm and platform reference\n"
    "values, printing each check.\n"
    "\n"
    "Options:\n"
    "  --cpak KEY              platform key: JWK, PEM SubjectPublicKeyInfo,\n"
    "                          COSE_Key or a Veraison trust-anchor JSON "
    "(looked\n"
    "                          up by the token's instance-id)\n"
    "  --platform-corim FILE   CCA platform CoRIM (2025 or legacy profile,\n"
    "                          repeatable): without --cpak its CPAK for the\n"
    "                          token's implementation-id + instance-id is the\n"
    "                          platform key; appraise also checks the "
    "platform\n"
    "                          firmware (lifecycle, config, sw-components)\n"
    "  --at TIME                check CoRIM validity windows at this time\n"
    "                          (RFC 3339 or Unix seconds; default now): as\n"
    "                          Veraison 2026, the triples of a CoRIM whose\n"
    "                          validity does not contain it are not used\n"
    "                          (a note on stderr names the file)\n"
    "  --nonce HEX             the verifier's challenge (freshness check;\n"
    "                          skipped without it)\n"
    "  --strict                lint checks L1-L11 fail the verification;\n"
    "                          indefinite lengths, untagged COSE_Sign1 and\n"
    "                          unknown collection keys are refused\n"
    "  --format json           the report as JSON (default text)\n"
    "  --reference-corim FILE  reference values from a CoRIM (repeatable)\n"
    "  --rim HEX               starts an inline reference value; --rpv HEX "
    "and\n"
    "                          --rem0..--rem3 HEX apply to the latest one\n"
    "  --require-hash-alg      the hash algorithm must match as well\n"
    "  --separate-integrity-failures\n"
    "                          a failed check marks only its own token 99\n"
    "                          (rust-ccatoken); default: both submods 99\n"
    "                          (Veraison 2026)\n"
    "  --ear-key PEM           sign the EAR as an ES256 JWT with this EC key\n"
    "  --event-log LOG         REM policy: the realm's VMM event log (its RIM\n"
    "                          must replay to the token's); --firmware-log "
    "LOG\n"
    "                          (repeatable) its CC event logs (EDK2 CCEL)\n"
    "  --event-catalogue JSON  REM policy allow-list: [{\"digest\": HEX,\n"
    "                          \"description\": TEXT, \"rem\": 0-3?}]; every\n"
    "                          REM event in it -> executables 2, else 3\n"
    "                          naming each unknown event; logs that do not\n"
    "                          replay to the token's RIM/REMs -> 96\n"
    "  --event-log-images SUMS sha256sum-style file of the images a VMM log\n"
    "                          measured (repeatable)\n"
    "  --rmm-version 1.0|2.0   the RMM the realm ran on, for the replay\n"
    "                          (default 1.0)\n"
    "  --batch                 instead of TOKEN: stdin holds one\n"
    "                          {\"token\": PATH, \"nonce\": HEX?, \"at\": "
    "TIME?}\n"
    "                          per line (at most 64 KiB; \"at\" as --at);\n"
    "                          stdout one JSON result per line\n"
    "                          with \"token\" and \"exit\". With\n"
    "                          --event-catalogue each line also names its\n"
    "                          realm's logs: \"event_log\": PATH and/or\n"
    "                          \"firmware_logs\": [PATH...] (at most 16)\n"
    "  -h, --help              print this help\n"
    "\n"
    "Exit status: 0 verified / affirming / decoded; 1 verification failed\n"
    "or not affirming; 2 usage error or unusable option input (key, CoRIM,\n"
    "flag value); 3 token unreadable or undecodable; --batch: the largest\n"
    "code of its lines (2 for a malformed line).\n";

// The directory relative paths resolve against during one run
// (RunCcaToken's `working_dir`); empty: the current directory.
thread_local std::string working_dir;

std::string Resolve(const std::string& path) {
  if (working_dir.empty() || path.empty() || path.front() == '/') return path;
  return absl::StrCat(working_dir, "/", path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  // Tokens, keys and CoRIMs are small: at most 16 MiB, checked before
  // reading, and only regular files (a device or FIFO was read until
  // memory ran out).
  return measure::ReadSmallRegularFile(Resolve(path), 16 << 20);
}

absl::StatusOr<std::vector<uint8_t>> ParseHex(absl::string_view flag,
                                              absl::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": expected an even number of hex digits, found ", hex.size()));
  }
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": expected hex digits, found '", std::string(1, c), "'"));
    }
  }
  std::string bytes = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

absl::StatusOr<RealmHashAlgorithm> AlgorithmForSize(size_t n) {
  if (n == 32) return RealmHashAlgorithm::kSha256;
  if (n == 48) return RealmHashAlgorithm::kSha384;
  if (n == 64) return RealmHashAlgorithm::kSha512;
  return absl::InvalidArgumentError(
      absl::StrCat("--rim: expected 32, 48 or 64 bytes, found ", n));
}

struct Args {
  std::string command, token_path, cpak_path, format = "text", ear_key_path;
  std::optional<std::vector<uint8_t>> nonce;
  bool strict = false, require_hash_alg = false, separate = false,
       batch = false;
  std::vector<std::string> corims, platform_corims;
  std::vector<RealmReferenceValue> inline_refs;
  // REM policy (eventlog/rem_policy.h).
  std::string event_log_path, event_catalogue_path;
  std::vector<std::string> firmware_log_paths, event_image_sums;
  measure::RmmVersion rmm_version = measure::RmmVersion::k1_0;
  // --at: the time CoRIM validity is checked at (default: now).
  std::optional<int64_t> at;
};

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv) {
  const size_t argc = argv.size();
  Args a;
  if (argc < 2) return absl::InvalidArgumentError("missing command");
  a.command = argv[1];
  if (a.command != "verify" && a.command != "appraise" &&
      a.command != "decode") {
    return absl::InvalidArgumentError(
        absl::StrCat("command: expected decode, verify or appraise, found \"",
                     a.command, "\""));
  }
  size_t i = 2;
  if (i < argc && argv[i] == "--batch") {
    a.batch = true;
    a.format = "json";
    ++i;
  } else if (i < argc && !absl::StartsWith(argv[i], "--")) {
    a.token_path = argv[i++];
  } else {
    return absl::InvalidArgumentError(
        "TOKEN: expected a token file or --batch, found none");
  }
  for (; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": expected a value, found none"));
      }
      return std::string(argv[++i]);
    };
    if (flag == "--strict") {
      a.strict = true;
    } else if (flag == "--require-hash-alg") {
      a.require_hash_alg = true;
    } else if (flag == "--separate-integrity-failures") {
      a.separate = true;
    } else if (flag == "--event-log" || flag == "--firmware-log" ||
               flag == "--event-catalogue" || flag == "--event-log-images" ||
               flag == "--rmm-version") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (flag == "--event-log") {
        if (!a.event_log_path.empty()) {
          return absl::InvalidArgumentError(
              "--event-log: expected one VMM log, found two");
        }
        a.event_log_path = *v;
      } else if (flag == "--firmware-log") {
        a.firmware_log_paths.push_back(*v);
      } else if (flag == "--event-catalogue") {
        a.event_catalogue_path = *v;
      } else if (flag == "--event-log-images") {
        a.event_image_sums.push_back(*v);
      } else {
        absl::StatusOr<measure::RmmVersion> r = measure::ParseRmmVersion(*v);
        if (!r.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--rmm-version: expected 1.0 or 2.0, found \"",
                           absl::CHexEscape(*v), "\""));
        }
        a.rmm_version = *r;
      }
    } else if (flag == "--at") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> t = ParseTimeText(*v, "--at");
      if (!t.ok()) return t.status();
      a.at = *t;
    } else if (flag == "--cpak" || flag == "--format" || flag == "--nonce" ||
               flag == "--ear-key" || flag == "--reference-corim" ||
               flag == "--platform-corim" || flag == "--rim" ||
               flag == "--rpv" || absl::StartsWith(flag, "--rem")) {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (flag == "--cpak") {
        a.cpak_path = *v;
      } else if (flag == "--format") {
        if (*v != "json" && *v != "text") {
          return absl::InvalidArgumentError(absl::StrCat(
              "--format: expected json or text, found \"", *v, "\""));
        }
        if (a.batch && *v != "json") {
          return absl::InvalidArgumentError(
              "--format: expected json with --batch, found text");
        }
        a.format = *v;
      } else if (flag == "--nonce") {
        auto n = ParseHex(flag, *v);
        if (!n.ok()) return n.status();
        a.nonce = *n;
      } else if (flag == "--ear-key") {
        a.ear_key_path = *v;
      } else if (flag == "--reference-corim") {
        a.corims.push_back(*v);
      } else if (flag == "--platform-corim") {
        a.platform_corims.push_back(*v);
      } else if (flag == "--rim") {
        auto rim = ParseHex(flag, *v);
        if (!rim.ok()) return rim.status();
        auto alg = AlgorithmForSize(rim->size());
        if (!alg.ok()) return alg.status();
        RealmReferenceValue ref;
        ref.algorithm = *alg;
        ref.rim = *rim;
        a.inline_refs.push_back(std::move(ref));
      } else {
        if (a.inline_refs.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(flag, ": expected after a --rim, found first"));
        }
        auto bytes = ParseHex(flag, *v);
        if (!bytes.ok()) return bytes.status();
        RealmReferenceValue& ref = a.inline_refs.back();
        if (flag == "--rpv") {
          ref.rpv = *bytes;
        } else if (flag.size() == 6 && flag[5] >= '0' && flag[5] <= '3') {
          ref.rem[flag[5] - '0'] = *bytes;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown flag \"", flag, "\""));
        }
        if (absl::Status s = ValidateRealm(ref); !s.ok()) return s;
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown argument \"", flag, "\""));
    }
  }
  if (a.command != "decode" && a.cpak_path.empty() &&
      a.platform_corims.empty()) {
    return absl::InvalidArgumentError(
        "--cpak: expected a key file (or --platform-corim with trust "
        "anchors), found none");
  }
  const bool event_logs =
      !a.event_log_path.empty() || !a.firmware_log_paths.empty();
  if (event_logs || !a.event_catalogue_path.empty() ||
      !a.event_image_sums.empty()) {
    if (a.command != "appraise") {
      return absl::InvalidArgumentError(
          "--event-log/--firmware-log/--event-catalogue: expected with "
          "appraise");
    }
    if (a.batch && event_logs) {
      // Each realm has its own logs.
      return absl::InvalidArgumentError(
          "--event-log/--firmware-log: expected in each --batch line "
          "(\"event_log\", \"firmware_logs\"), found on the command line");
    }
    if ((!a.batch && !event_logs) || a.event_catalogue_path.empty()) {
      return absl::InvalidArgumentError(
          "REM policy: expected an event log (--event-log or --firmware-log) "
          "and --event-catalogue together");
    }
  }
  if (a.at && a.command == "decode") {
    return absl::InvalidArgumentError(
        "--at: expected with verify or appraise (decode uses no CoRIM)");
  }
  if (a.command == "appraise" && a.corims.empty() && a.inline_refs.empty()) {
    return absl::InvalidArgumentError(
        "appraise: expected --reference-corim or --rim, found neither");
  }
  return a;
}

// One --reference-corim / --platform-corim file: its triples and its
// validity window.
struct CorimFile {
  std::string path;
  std::optional<Validity> validity;
  std::vector<RealmReferenceValue> refs;
  std::vector<PlatformReferenceValue> platform_refs;
  std::vector<PlatformTrustAnchor> trust_anchors;
};

// Inputs shared by every token of a run (read once, also in --batch).
struct Loaded {
  std::string cpak_text;  // empty: the platform CoRIMs' trust anchors
  std::vector<RealmReferenceValue> inline_refs;  // --rim: no validity
  std::vector<CorimFile> realm_corims, platform_corims;
  std::optional<crypto::EcPrivateKey> ear_key;
  // REM policy inputs.
  std::vector<eventlog::PolicyLog> event_logs;
  std::optional<eventlog::EventDigestCatalogue> event_catalogue;
  eventlog::ImageCatalogue event_images;
};

// A realm's logs for the REM policy: its VMM log (`vmm_log`, optional)
// first, then its firmware logs.
absl::Status ReadPolicyLogs(const std::string& vmm_log,
                            const std::vector<std::string>& firmware_logs,
                            std::vector<eventlog::PolicyLog>* out) {
  auto read = [out](const std::string& path,
                    eventlog::LogSource source) -> absl::Status {
    // Bounded by what the parser accepts (§I.2: 1 MiB), not by ReadFile's
    // 16 MiB: a --batch line names up to 17 logs.
    absl::StatusOr<std::string> data = measure::ReadSmallRegularFile(
        Resolve(path), eventlog::ParseOptions{}.max_log_size);
    if (!data.ok()) return data.status();
    out->push_back({std::vector<uint8_t>(data->begin(), data->end()), source});
    return absl::OkStatus();
  };
  if (!vmm_log.empty()) {
    if (absl::Status s = read(vmm_log, eventlog::LogSource::kVmm); !s.ok()) {
      return s;
    }
  }
  for (const std::string& path : firmware_logs) {
    if (absl::Status s = read(path, eventlog::LogSource::kFirmware); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Loaded> LoadInputs(const Args& args) {
  Loaded l;
  if (!args.cpak_path.empty()) {
    absl::StatusOr<std::string> t = ReadFile(args.cpak_path);
    if (!t.ok()) return t.status();
    // An empty text would read as "no CPAK given" further on.
    if (t->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          args.cpak_path,
          ": expected a PEM, JWK, trust-anchor store or COSE_Key, found an "
          "empty file"));
    }
    l.cpak_text = *t;
  }
  l.inline_refs = args.inline_refs;
  for (const std::string& path : args.corims) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) return data.status();
    absl::StatusOr<DecodedCorim> corim = DecodeCorim(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(data->data()), data->size()));
    if (!corim.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", corim.status().message()));
    }
    l.realm_corims.push_back({path,
                              corim->values.validity,
                              FlattenReferenceValues(corim->values),
                              {},
                              {}});
  }
  for (const std::string& path : args.platform_corims) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) return data.status();
    absl::StatusOr<PlatformEndorsements> e =
        DecodePlatformCorim(absl::Span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(data->data()), data->size()));
    if (!e.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", e.status().message()));
    }
    l.platform_corims.push_back({path,
                                 e->validity,
                                 {},
                                 std::move(e->reference_values),
                                 std::move(e->trust_anchors)});
  }
  if (absl::Status s = ReadPolicyLogs(args.event_log_path,
                                      args.firmware_log_paths, &l.event_logs);
      !s.ok()) {
    return s;
  }
  if (!args.event_catalogue_path.empty()) {
    absl::StatusOr<std::string> text = ReadFile(args.event_catalogue_path);
    if (!text.ok()) return text.status();
    absl::StatusOr<eventlog::EventDigestCatalogue> c =
        eventlog::EventDigestCatalogue::FromJson(*text);
    if (!c.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(args.event_catalogue_path, ": ", c.status().message()));
    }
    l.event_catalogue = *std::move(c);
  }
  for (const std::string& sums : args.event_image_sums) {
    if (absl::Status s = l.event_images.AddChecksumFile(sums); !s.ok()) {
      return s;
    }
  }
  if (!args.ear_key_path.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(args.ear_key_path);
    if (!pem.ok()) return pem.status();
    absl::StatusOr<crypto::EcPrivateKey> key =
        crypto::EcPrivateKey::FromPem(*pem);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(args.ear_key_path, ": ", key.status().message()));
    }
    l.ear_key = *std::move(key);
  }
  return l;
}

// The triples of the CoRIM files valid at one time (spec-token-corim §3.10:
// Veraison 2026 uses a CoRIM only inside its validity window), and those
// left out, to count per token.
struct Selection {
  int64_t time = 0;
  std::vector<RealmReferenceValue> refs;  // inline values first
  std::vector<PlatformReferenceValue> platform_refs;
  std::vector<PlatformTrustAnchor> trust_anchors;
  std::vector<RealmReferenceValue> invalid_refs;
  std::vector<PlatformReferenceValue> invalid_platform_refs;
  std::vector<PlatformTrustAnchor> invalid_trust_anchors;
};

// The selection at `time`; each file outside its window is noted on
// stderr.
Selection Select(const Loaded& in, int64_t time, std::ostream& err) {
  Selection s;
  s.time = time;
  s.refs = in.inline_refs;
  auto append = [](auto& into, const auto& from) {
    into.insert(into.end(), from.begin(), from.end());
  };
  for (const std::vector<CorimFile>* files :
       {&in.realm_corims, &in.platform_corims}) {
    for (const CorimFile& f : *files) {
      const bool valid = ValidAt(f.validity, time);
      if (!valid) {
        err << "cca-token: note: " << f.path << ": CoRIM validity ("
            << ValidityToText(*f.validity) << ") does not contain "
            << EpochToRfc3339(time)
            << "; its triples are not used (--at TIME appraises at "
               "another time)\n";
      }
      append(valid ? s.refs : s.invalid_refs, f.refs);
      append(valid ? s.platform_refs : s.invalid_platform_refs,
             f.platform_refs);
      append(valid ? s.trust_anchors : s.invalid_trust_anchors,
             f.trust_anchors);
    }
  }
  return s;
}

// What CoRIM validity left out that concerns `token` (the counts of
// ValidityCheck).
ValidityCheck CountInvalid(const Selection& in, const CcaToken& token) {
  ValidityCheck v;
  v.time = in.time;
  for (const RealmReferenceValue& r : in.invalid_refs) {
    v.realm_values += r.rim == token.realm.initial_measurement;
  }
  for (const PlatformReferenceValue& r : in.invalid_platform_refs) {
    v.platform_references +=
        r.implementation_id == token.platform.implementation_id;
  }
  if (FindPlatformTrustAnchor(in.trust_anchors,
                              token.platform.implementation_id,
                              token.platform.instance_id) == nullptr) {
    for (const PlatformTrustAnchor& a : in.invalid_trust_anchors) {
      v.trust_anchors +=
          a.implementation_id == token.platform.implementation_id &&
          a.instance_id == token.platform.instance_id;
    }
  }
  return v;
}

struct Outcome {
  int exit = kExitOk;
  std::string text;  // --format text output, or the JSON document
  nlohmann::json json;
};

// One token: decode, verify or appraise. `nonce` overrides --nonce.
// `logs`: the realm's event logs for the REM policy (none: no policy).
Outcome ProcessToken(const Args& args, const Loaded& in,
                     const Selection& corims, const std::string& path,
                     const std::optional<std::vector<uint8_t>>& nonce,
                     const std::vector<eventlog::PolicyLog>& logs) {
  Outcome o;
  auto error = [&](int code, absl::string_view message) {
    o.exit = code;
    o.json = {{"error", std::string(message)}};
    o.text = std::string(message);
    return o;
  };
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return error(kExitBadToken, bytes.status().message());
  TokenDecodeOptions decode_options;
  decode_options.strict = args.strict;
  absl::StatusOr<CcaToken> token = DecodeCcaToken(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()),
                                bytes->size()),
      decode_options);
  if (!token.ok()) {
    return error(kExitBadToken,
                 absl::StrCat(path, ": ", token.status().message()));
  }
  if (args.command == "decode") {
    const std::string json = TokenToJson(*token, decode_options);
    o.json = nlohmann::json::parse(json);
    o.text = args.format == "json" ? base::JsonText(o.json, 2) + "\n"
                                   : TokenToText(*token, decode_options);
    return o;
  }
  std::optional<crypto::EcPublicKey> cpak;
  if (!in.cpak_text.empty()) {
    absl::StatusOr<crypto::EcPublicKey> k =
        LoadPublicKey(in.cpak_text, token->platform.instance_id);
    if (!k.ok()) {
      return error(kExitUsage,
                   absl::StrCat(args.cpak_path, ": ", k.status().message()));
    }
    cpak = *std::move(k);
  }
  AppraisalOptions options;
  options.verify.cpak = cpak ? &*cpak : nullptr;
  options.verify.nonce = nonce;
  options.verify.strict = args.strict;
  options.require_hash_algorithm_match = args.require_hash_alg;
  options.integrity_failures = args.separate
                                   ? IntegrityFailureMode::kSeparate
                                   : IntegrityFailureMode::kVeraison2026;
  if (!args.platform_corims.empty()) {
    options.trust_anchors = &corims.trust_anchors;
    if (args.command == "appraise") {
      options.platform_references = &corims.platform_refs;
    }
  }
  options.validity = CountInvalid(corims, *token);
  if (args.command == "verify") {
    // The CPAK lookup of the appraisal, without reference values.
    AppraisalResult r = AppraiseCcaToken(*token, {}, options);
    const bool no_anchor = cpak == std::nullopt && r.cpak_source.empty();
    o.exit = r.verification.ok() && !no_anchor ? kExitOk : kExitNotOk;
    o.json = nlohmann::json::parse(VerificationReportToJson(r.verification));
    if (!r.cpak_source.empty()) o.json["cpak-source"] = r.cpak_source;
    if (no_anchor) o.json["first-failure"] = r.first_failure;
    o.text = args.format == "json"
                 ? base::JsonText(o.json, 2) + "\n"
                 : VerificationReportToText(r.verification) +
                       (no_anchor ? r.first_failure + "\n" : "");
    return o;
  }
  AppraisalResult result = AppraiseCcaToken(*token, corims.refs, options);
  std::optional<eventlog::RemPolicyResult> rem_policy;
  measure::HashAlgorithm rem_algorithm = measure::HashAlgorithm::kSha256;
  if (!logs.empty() && result.verification.ok()) {
    rem_policy = eventlog::ApplyRemPolicy(logs, *token, args.rmm_version,
                                          in.event_images, *in.event_catalogue,
                                          result, &rem_algorithm);
  }
  EarOptions ear;
  ear.issued_at = static_cast<int64_t>(std::time(nullptr));
  ear.nonce = nonce;
  std::optional<std::string> jwt;
  if (in.ear_key) {
    absl::StatusOr<std::string> signed_jwt =
        SignEarJwt(EarToJson(*token, result, ear), *in.ear_key);
    if (!signed_jwt.ok())
      return error(kExitUsage, signed_jwt.status().message());
    jwt = *signed_jwt;
  }
  o.json = nlohmann::json::parse(AppraisalToJson(*token, result, ear));
  if (jwt) o.json["ear-jwt"] = *jwt;
  if (rem_policy) {
    o.json["rem-policy"] = nlohmann::json::parse(
        eventlog::RemPolicyToJson(*rem_policy, rem_algorithm));
  }
  if (args.format == "json") {
    o.text = base::JsonText(o.json, 2) + "\n";
  } else {
    o.text = AppraisalToText(result);
    if (rem_policy) {
      absl::StrAppend(&o.text, eventlog::RemPolicyToText(*rem_policy));
    }
    if (jwt) absl::StrAppend(&o.text, "EAR JWT: ", *jwt, "\n");
  }
  o.exit = result.affirms() ? kExitOk : kExitNotOk;
  return o;
}

// One line of at most `max` bytes into `line` (without the newline); the
// rest of a longer line is read and dropped, and `too_long` set. False at
// the end of input.
bool ReadBoundedLine(std::istream& in, size_t max, std::string& line,
                     bool& too_long) {
  line.clear();
  too_long = false;
  char c;
  bool any = false;
  while (in.get(c)) {
    any = true;
    if (c == '\n') return true;
    if (line.size() < max) {
      line.push_back(c);
    } else {
      too_long = true;
    }
  }
  return any;
}

// Most firmware logs one --batch line may name (a realm has one CC event
// log per firmware stage; --firmware-log is bounded by argv).
constexpr size_t kMaxBatchFirmwareLogs = 16;

// The "event_log" and "firmware_logs" of a --batch line: {VMM log path or
// "", firmware log paths}. With --event-catalogue every line names at least
// one log (as appraise TOKEN needs one); without it, none.
absl::StatusOr<std::pair<std::string, std::vector<std::string>>> BatchLogPaths(
    const nlohmann::json& req, bool catalogue) {
  std::pair<std::string, std::vector<std::string>> paths;
  // What a value is, for the errors: its JSON type ("string", "number",
  // ...), or "an empty string".
  auto kind = [](const nlohmann::json& v) {
    return v.is_string() && v.get_ref<const std::string&>().empty()
               ? std::string("an empty string")
               : std::string(v.type_name());
  };
  auto is_path = [](const nlohmann::json& v) {
    return v.is_string() && !v.get_ref<const std::string&>().empty();
  };
  if (req.contains("event_log")) {
    const nlohmann::json& v = req["event_log"];
    if (!is_path(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("event_log: expected a file path, found ", kind(v)));
    }
    paths.first = v.get<std::string>();
  }
  if (req.contains("firmware_logs")) {
    const nlohmann::json& f = req["firmware_logs"];
    const std::string expected =
        absl::StrCat("firmware_logs: expected an array of at most ",
                     kMaxBatchFirmwareLogs, " file paths, found ");
    if (!f.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(expected, kind(f)));
    }
    if (f.size() > kMaxBatchFirmwareLogs) {
      return absl::InvalidArgumentError(
          absl::StrCat(expected, f.size(), " values"));
    }
    for (size_t i = 0; i < f.size(); ++i) {
      if (!is_path(f[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat(expected, kind(f[i]), " at index ", i));
      }
      paths.second.push_back(f[i].get<std::string>());
    }
  }
  const bool any = !paths.first.empty() || !paths.second.empty();
  if (any && !catalogue) {
    return absl::InvalidArgumentError(
        "event_log/firmware_logs: expected --event-catalogue for the REM "
        "policy, found none");
  }
  if (!any && catalogue) {
    return absl::InvalidArgumentError(
        "REM policy: expected an event log (\"event_log\" or "
        "\"firmware_logs\") with --event-catalogue, found none");
  }
  return paths;
}

// --batch: one JSON object per stdin line; one compact JSON per line out.
// A --batch line's "at": RFC 3339 text, or Unix seconds as text or a JSON
// integer.
absl::StatusOr<int64_t> BatchTime(const nlohmann::json& at) {
  if (at.is_number_unsigned() && at.get<uint64_t>() <= kMaxRfc3339Seconds) {
    return static_cast<int64_t>(at.get<uint64_t>());
  }
  if (at.is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("at: expected Unix seconds from 0 to ", kMaxRfc3339Seconds,
                     " (9999-12-31T23:59:59Z), found ", at.dump()));
  }
  if (at.is_string()) return ParseTimeText(at.get<std::string>(), "at");
  return absl::InvalidArgumentError(absl::StrCat(
      "at: expected an RFC 3339 time or Unix seconds, found ", at.type_name()));
}

int RunBatch(const Args& args, const Loaded& in, std::istream& input,
             std::ostream& output, std::ostream& err) {
  int worst = kExitOk;
  const int64_t run_time =
      args.at.value_or(static_cast<int64_t>(std::time(nullptr)));
  std::optional<Selection> corims;  // at the time of the previous line
  std::string line;
  size_t number = 0;
  // A line longer than this is refused rather than buffered further.
  constexpr size_t kMaxLine = 64 * 1024;
  constexpr int kMaxLineDepth = 2;  // the object, an "at" or nonce value
  bool too_long = false;
  while (ReadBoundedLine(input, kMaxLine, line, too_long)) {
    ++number;
    if (line.empty() && !too_long) continue;
    nlohmann::json out;
    int code = kExitOk;
    // A line is one flat object: deeper nesting is refused before the parser
    // (and its recursion) sees it.
    const absl::Status limits =
        too_long ? absl::OkStatus()
                 : measure::CheckJsonLimits(line, {kMaxLine, kMaxLineDepth});
    nlohmann::json req = too_long || !limits.ok()
                             ? nlohmann::json()
                             : nlohmann::json::parse(line, nullptr, false);
    std::string problem;
    if (!req.is_object() || !req.contains("token") ||
        !req["token"].is_string()) {
      problem = absl::StrCat(
          "line ", number,
          ": expected {\"token\": PATH, \"nonce\": HEX?} (one JSON object of "
          "at most ",
          kMaxLine, " bytes), found ",
          too_long       ? "a longer line"
          : !limits.ok() ? std::string(limits.message())
                         : "something else");
    }
    std::optional<std::vector<uint8_t>> nonce = args.nonce;
    if (problem.empty() && req.contains("nonce")) {
      if (!req["nonce"].is_string()) {
        problem = absl::StrCat("line ", number,
                               ": nonce: expected a hex string, found ",
                               req["nonce"].type_name());
      } else {
        absl::StatusOr<std::vector<uint8_t>> n =
            ParseHex("nonce", req["nonce"].get<std::string>());
        if (!n.ok()) {
          problem = absl::StrCat("line ", number, ": ", n.status().message());
        } else {
          nonce = *n;
        }
      }
    }
    int64_t time = run_time;
    if (problem.empty() && req.contains("at")) {
      absl::StatusOr<int64_t> t = BatchTime(req["at"]);
      if (args.command == "decode") {
        problem = absl::StrCat("line ", number,
                               ": at: expected with verify or appraise "
                               "(decode uses no CoRIM)");
      } else if (!t.ok()) {
        problem = absl::StrCat("line ", number, ": ", t.status().message());
      } else {
        time = *t;
      }
    }
    // REM policy: this realm's logs (with the run's --event-catalogue).
    std::vector<eventlog::PolicyLog> logs;
    if (problem.empty()) {
      absl::StatusOr<std::pair<std::string, std::vector<std::string>>> paths =
          BatchLogPaths(req, in.event_catalogue.has_value());
      absl::Status read =
          paths.ok() ? ReadPolicyLogs(paths->first, paths->second, &logs)
                     : paths.status();
      if (!read.ok()) {
        problem = absl::StrCat("line ", number, ": ", read.message());
      }
    }
    if (!problem.empty()) {
      code = kExitUsage;
      out = {{"line", number}, {"error", problem}};
    } else {
      if (args.command != "decode" && (!corims || corims->time != time)) {
        corims = Select(in, time, err);
      }
      Outcome o = ProcessToken(args, in, corims ? *corims : Selection{},
                               req["token"].get<std::string>(), nonce, logs);
      code = o.exit;
      out = std::move(o.json);
      out["token"] = req["token"];
    }
    out["exit"] = code;
    worst = std::max(worst, code);
    output << base::JsonText(out, -1) << "\n";
  }
  return worst;
}

int Run(const std::vector<std::string>& argv, std::istream& input,
        std::ostream& output, std::ostream& err) {
  const size_t argc = argv.size();
  // --help anywhere (e.g. `cca-token verify --help`) wins over every
  // other argument check.
  for (size_t i = 1; i < argc; ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h" || (i == 1 && argc == 2 && a == "help")) {
      output << kUsage << "\n" << kHelp;
      return kExitOk;
    }
  }
  absl::StatusOr<Args> args = ParseArgs(argv);
  if (!args.ok()) {
    err << "cca-token: " << args.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  absl::StatusOr<Loaded> in = LoadInputs(*args);
  if (!in.ok()) {
    err << "cca-token: " << in.status().message() << "\n";
    return kExitUsage;
  }
  if (args->batch) return RunBatch(*args, *in, input, output, err);
  const Selection corims =
      args->command == "decode"
          ? Selection{}
          : Select(*in,
                   args->at.value_or(static_cast<int64_t>(std::time(nullptr))),
                   err);
  Outcome o = ProcessToken(*args, *in, corims, args->token_path, args->nonce,
                           in->event_logs);
  if (o.json.contains("error") && o.json.size() == 1) {
    err << "cca-token: " << o.text << "\n";
  } else {
    output << o.text;
  }
  return o.exit;
}

}  // namespace
}  // namespace realm_measurements::corim

namespace realm_measurements::cli {

int RunCcaToken(const std::vector<std::string>& args, std::istream& in,
                std::ostream& out, std::ostream& err,
                const std::string& working_dir) {
  std::vector<std::string> argv = {"cca-token"};
  argv.insert(argv.end(), args.begin(), args.end());
  corim::working_dir = working_dir;
  const int rc = corim::Run(argv, in, out, err);
  corim::working_dir.clear();
  return rc;
}

}  // namespace realm_measurements::cli
