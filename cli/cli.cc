#include "cli/cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/crypto.h"
#include "base/file_reading.h"
#include "base/hex.h"
#include "base/json_text.h"
#include "corim/token.h"
#include "eventlog/compare.h"
#include "eventlog/parser.h"
#include "measure/chain_batch.h"
#include "measure/comid_json.h"
#include "measure/digest_cache.h"
#include "measure/endorsements.h"
#include "measure/engine.h"
#include "measure/granule_hasher.h"
#include "measure/host_caps.h"
#include "measure/measure.h"
#include "measure/realm_config.h"
#include "measure/rim_search.h"
#include "measure/sweep.h"
#include "measure/sweep_runner.h"
#include "measure/vmm/vmm.h"
#include "measure/vmm/vmm_help.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::cli {
namespace {

using measure::BuildEndorsements;
using measure::ChainBatch;
using measure::CheckEndorsementOptions;
using measure::CheckInputPaths;
using measure::CheckOutputPaths;
using measure::DigestCache;
using measure::EndorsementFile;
using measure::EndorsementOptions;
using measure::ExpandSweep;
using measure::FillComidJson;
using measure::GranuleHasher;
using measure::GranuleHasherOptions;
using measure::HashAlgorithm;
using measure::HashAlgorithmName;
using measure::HashSize;
using measure::HostCaps;
using measure::IsUsageError;
using measure::kGranuleSize;
using measure::kMaxComidTemplateSize;
using measure::kMaxIpaBits;
using measure::kMinIpaBits;
using measure::Measure;
using measure::MeasuredRealm;
using measure::MeasureFailure;
using measure::MeasureFailureOf;
using measure::MeasureLayout;
using measure::Measurement;
using measure::Measurements;
using measure::MeasureOptions;
using measure::MeasureProgress;
using measure::MeasureRequest;
using measure::MeasureResult;
using measure::MeasureStage;
using measure::NamedPath;
using measure::OutputSet;
using measure::ParseHashAlgorithm;
using measure::ParseRmmVersion;
using measure::ParseSweepAxis;
using measure::ParseSweepShape;
using measure::ReadSmallFile;
using measure::RealmConfig;
using measure::RealmCreateParams;
using measure::RimSearchResult;
using measure::RmmVersion;
using measure::RmmVersionName;
using measure::SweepAxis;
using measure::SweepParams;
using measure::SweepParamsText;
using measure::SweepShape;
using measure::ToBase64;
using measure::ToHex;
using measure::UsageError;
using measure::VmmArgsAskForHelp;
using measure::VmmHelpText;
using measure::VmmModel;

using OJson = nlohmann::ordered_json;

constexpr char kUsageLine[] =
    "Usage: realm-measurements [OPTIONS] <COMMAND> [VMM ARGS]...";

// Top-level stage prefixes (spec-core §13).
constexpr char kStageArgs[] = "Invalid arguments";
constexpr char kStageBuild[] = "Cannot build parameters";
constexpr char kStageMeasure[] = "Failed to compute measurements";

enum class Kind { kFlag, kCount, kValue, kRepeated };

struct OptSpec {
  const char* long_name;
  char short_name;  // 0: none
  Kind kind;
  const char* value_name;  // clap's <VALUE_NAME>
};

// The reference's global options (spec-core §10.2) plus --format.
constexpr OptSpec kOptions[] = {
    {"verbose", 'v', Kind::kCount, nullptr},
    {"output-dtb", 0, Kind::kValue, "OUTPUT_DTB"},
    {"dtb-template", 0, Kind::kValue, "DTB_TEMPLATE"},
    {"no-measurements", 0, Kind::kFlag, nullptr},
    {"print-b64", 0, Kind::kFlag, nullptr},
    {"kernel", 'k', Kind::kValue, "KERNEL"},
    {"initrd", 'i', Kind::kValue, "INITRD"},
    {"firmware", 'f', Kind::kValue, "FIRMWARE"},
    {"dtb", 0, Kind::kValue, "DTB"},
    {"config", 'c', Kind::kRepeated, "CONFIG"},
    {"endorsements-template", 0, Kind::kValue, "ENDORSEMENTS_TEMPLATE"},
    {"endorsements-output", 0, Kind::kValue, "ENDORSEMENTS_OUTPUT"},
    {"corim-output", 0, Kind::kValue, "CORIM_OUTPUT"},
    {"comid-output", 0, Kind::kValue, "COMID_OUTPUT"},
    {"corim-profile", 0, Kind::kValue, "CORIM_PROFILE"},
    {"corim-sign-key", 0, Kind::kValue, "KEY_PEM"},
    {"corim-sign-chain", 0, Kind::kValue, "CHAIN_PEM"},
    {"corim-tag-id", 0, Kind::kValue, "TAG_ID"},
    {"corim-id", 0, Kind::kValue, "CORIM_ID"},
    {"corim-entity", 0, Kind::kValue, "NAME"},
    {"corim-not-before", 0, Kind::kValue, "TIME"},
    {"corim-not-after", 0, Kind::kValue, "TIME"},
    {"corim-rems", 0, Kind::kValue, "LIST"},
    {"ipa-bits", 0, Kind::kValue, "IPA_BITS"},
    {"num-bps", 0, Kind::kValue, "NUM_BPS"},
    {"num-wps", 0, Kind::kValue, "NUM_WPS"},
    {"sve-vl", 0, Kind::kValue, "SVE_VL"},
    {"pmu-num-ctrs", 0, Kind::kValue, "PMU_NUM_CTRS"},
    {"pmu", 0, Kind::kValue, "PMU"},
    {"lpa2", 0, Kind::kValue, "LPA2"},
    {"hash-algo", 0, Kind::kValue, "HASH_ALGO"},
    {"rmm-version", 0, Kind::kValue, "RMM_VERSION"},
    {"format", 0, Kind::kValue, "FORMAT"},
    {"compare-log", 0, Kind::kValue, "LOG"},
    {"find-rim", 0, Kind::kValue, "RIM"},
    {"find-rim-pairs", 0, Kind::kFlag, nullptr},
    {"sweep", 0, Kind::kRepeated, "KEY=V1,V2,..."},
    {"sweep-shape", 0, Kind::kRepeated, "KEY=V,KEY=V,..."},
    {"threads", 0, Kind::kValue, "THREADS"},
    {"progress", 0, Kind::kFlag, nullptr},
    {"help", 'h', Kind::kFlag, nullptr},
    {"version", 'V', Kind::kFlag, nullptr},
};

struct ParsedArgs {
  int verbose = 0;
  std::map<std::string, std::string> values;  // long name -> value
  std::vector<std::string> configs;
  std::vector<SweepAxis> sweep_axes;
  std::vector<SweepParams> sweep_shapes;
  int threads = 0;  // 0: one per core
  bool no_measurements = false;
  bool print_b64 = false;
  bool progress = false;
  bool find_rim_pairs = false;
  bool help = false;
  bool version = false;
  bool json = false;
  std::optional<std::string> hash_algo;
  HostCaps cli_caps;
  std::string command;  // empty: none given
  std::vector<std::string> vmm_args;
};

std::string Display(const OptSpec& o) {
  std::string s = absl::StrCat("--", o.long_name);
  if (o.value_name != nullptr) absl::StrAppend(&s, " <", o.value_name, ">");
  return s;
}

absl::Status InvalidValue(const OptSpec& o, absl::string_view v,
                          absl::string_view why) {
  return UsageError(
      absl::StrCat("invalid value '", v, "' for '", Display(o), "': ", why));
}

// clap's integer parser: decimal, an optional '+', range-checked.
template <typename T>
absl::StatusOr<T> ParseUnsigned(const OptSpec& o, absl::string_view v) {
  absl::string_view digits = v;
  if (absl::StartsWith(digits, "+")) digits.remove_prefix(1);
  if (v.empty())
    return InvalidValue(o, v, "cannot parse integer from empty string");
  bool negative = absl::StartsWith(digits, "-");
  absl::string_view body = negative ? digits.substr(1) : digits;
  if (body.empty()) return InvalidValue(o, v, "invalid digit found in string");
  for (char c : body) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return InvalidValue(o, v, "invalid digit found in string");
    }
  }
  const uint64_t max = std::numeric_limits<T>::max();
  uint64_t n = 0;
  bool overflow = false;
  for (char c : body) {
    if (n > (UINT64_MAX - 9) / 10) {
      overflow = true;
      break;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (negative || overflow || n > max) {
    return InvalidValue(o, v, absl::StrCat(v, " is not in 0..=", max));
  }
  return static_cast<T>(n);
}

absl::StatusOr<bool> ParseBool(const OptSpec& o, absl::string_view v) {
  if (v == "true") return true;
  if (v == "false") return false;
  return InvalidValue(o, v, "possible values: true, false");
}

// Applies one option occurrence.
absl::Status Apply(const OptSpec& o, std::optional<std::string> value,
                   ParsedArgs& a) {
  const std::string name = o.long_name;
  switch (o.kind) {
    case Kind::kCount:
      ++a.verbose;
      return absl::OkStatus();
    case Kind::kFlag:
      if (name == "no-measurements") a.no_measurements = true;
      if (name == "print-b64") a.print_b64 = true;
      if (name == "progress") a.progress = true;
      if (name == "find-rim-pairs") a.find_rim_pairs = true;
      if (name == "help") a.help = true;
      if (name == "version") a.version = true;
      return absl::OkStatus();
    case Kind::kRepeated:
      if (name == "sweep") {
        absl::StatusOr<SweepAxis> axis = ParseSweepAxis(*value);
        if (!axis.ok()) return InvalidValue(o, *value, axis.status().message());
        a.sweep_axes.push_back(*std::move(axis));
      } else if (name == "sweep-shape") {
        absl::StatusOr<SweepParams> shape = ParseSweepShape(*value);
        if (!shape.ok()) {
          return InvalidValue(o, *value, shape.status().message());
        }
        a.sweep_shapes.push_back(*std::move(shape));
      } else {
        a.configs.push_back(*value);
      }
      return absl::OkStatus();
    case Kind::kValue:
      break;
  }
  if (a.values.count(name) != 0) {
    return UsageError(absl::StrCat("the argument '", Display(o),
                                   "' cannot be used multiple times"));
  }
  const std::string& v = *value;
  if (name == "ipa-bits") {
    absl::StatusOr<uint8_t> n = ParseUnsigned<uint8_t>(o, v);
    if (!n.ok()) return n.status();
    if (*n < kMinIpaBits || *n > kMaxIpaBits) {
      return InvalidValue(
          o, v,
          absl::StrCat(v, " is not in ", kMinIpaBits, "..=", kMaxIpaBits,
                       " (the IPA widths an Arm CCA platform can have, "
                       "ID_AA64MMFR0_EL1.PARange)"));
    }
    a.cli_caps.ipa_bits = *n;
  } else if (name == "num-bps") {
    absl::StatusOr<uint8_t> n = ParseUnsigned<uint8_t>(o, v);
    if (!n.ok()) return n.status();
    a.cli_caps.num_bps = *n;
  } else if (name == "num-wps") {
    absl::StatusOr<uint8_t> n = ParseUnsigned<uint8_t>(o, v);
    if (!n.ok()) return n.status();
    a.cli_caps.num_wps = *n;
  } else if (name == "sve-vl") {
    absl::StatusOr<uint16_t> n = ParseUnsigned<uint16_t>(o, v);
    if (!n.ok()) return n.status();
    a.cli_caps.sve_vl = *n;
  } else if (name == "pmu-num-ctrs") {
    absl::StatusOr<uint8_t> n = ParseUnsigned<uint8_t>(o, v);
    if (!n.ok()) return n.status();
    a.cli_caps.pmu_num_ctrs = *n;
  } else if (name == "pmu") {
    absl::StatusOr<bool> b = ParseBool(o, v);
    if (!b.ok()) return b.status();
    a.cli_caps.pmu = *b;
  } else if (name == "lpa2") {
    absl::StatusOr<bool> b = ParseBool(o, v);
    if (!b.ok()) return b.status();
    a.cli_caps.lpa2 = *b;
  } else if (name == "hash-algo") {
    absl::StatusOr<HashAlgorithm> h = ParseHashAlgorithm(v);
    if (!h.ok()) {
      return InvalidValue(o, v,
                          absl::StrCat("unknown hash algorithm `", v, "`"));
    }
    a.hash_algo = v;
  } else if (name == "rmm-version") {
    absl::StatusOr<RmmVersion> r = ParseRmmVersion(v);
    if (!r.ok()) return InvalidValue(o, v, "possible values: 1.0, 2.0");
    a.cli_caps.rmm_version = *r;
  } else if (name == "format") {
    if (v != "text" && v != "json") {
      return InvalidValue(o, v, "possible values: text, json");
    }
    a.json = v == "json";
  } else if (name == "threads") {
    absl::StatusOr<uint8_t> n = ParseUnsigned<uint8_t>(o, v);
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > 64) return InvalidValue(o, v, "expected 1..64");
    a.threads = *n;
  }
  a.values[name] = v;
  return absl::OkStatus();
}

const OptSpec* FindLong(absl::string_view name) {
  for (const OptSpec& o : kOptions) {
    if (name == o.long_name) return &o;
  }
  return nullptr;
}

const OptSpec* FindShort(char c) {
  for (const OptSpec& o : kOptions) {
    if (o.short_name == c) return &o;
  }
  return nullptr;
}

bool TakesValue(const OptSpec& o) {
  return o.kind == Kind::kValue || o.kind == Kind::kRepeated;
}

// A following token that starts with '-' is an option, not a value (clap
// without allow_hyphen_values); "-" alone is a value.
bool LooksLikeOption(const std::string& s) {
  return s.size() > 1 && s[0] == '-';
}

absl::Status MissingValue(const OptSpec& o) {
  return UsageError(absl::StrCat("a value is required for '", Display(o),
                                 "' but none was supplied"));
}

absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args) {
  ParsedArgs a;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (absl::StartsWith(arg, "--") && arg.size() > 2) {
      absl::string_view body = absl::string_view(arg).substr(2);
      std::optional<std::string> inline_value;
      size_t eq = body.find('=');
      if (eq != absl::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      const OptSpec* o = FindLong(body);
      if (o == nullptr) {
        return UsageError(absl::StrCat(
            "unexpected argument '",
            inline_value ? absl::StrCat("--", body) : arg, "' found"));
      }
      std::optional<std::string> value;
      if (TakesValue(*o)) {
        if (inline_value) {
          value = inline_value;
        } else if (i + 1 < args.size() && !LooksLikeOption(args[i + 1])) {
          value = args[++i];
        } else {
          return MissingValue(*o);
        }
      } else if (inline_value) {
        return UsageError(absl::StrCat("unexpected value '", *inline_value,
                                       "' for '--", o->long_name,
                                       "' found; no more were expected"));
      }
      absl::Status s = Apply(*o, value, a);
      if (!s.ok()) return s;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-') {
      // A cluster of short options: -vvv, -kFILE, -k=FILE, -vk FILE.
      for (size_t k = 1; k < arg.size(); ++k) {
        const OptSpec* o = FindShort(arg[k]);
        if (o == nullptr) {
          return UsageError(absl::StrCat("unexpected argument '-",
                                         arg.substr(k, 1), "' found"));
        }
        if (!TakesValue(*o)) {
          absl::Status s = Apply(*o, std::nullopt, a);
          if (!s.ok()) return s;
          continue;
        }
        std::string rest = arg.substr(k + 1);
        std::optional<std::string> value;
        if (!rest.empty()) {
          value = rest[0] == '=' ? rest.substr(1) : rest;
        } else if (i + 1 < args.size() && !LooksLikeOption(args[i + 1])) {
          value = args[++i];
        } else {
          return MissingValue(*o);
        }
        absl::Status s = Apply(*o, value, a);
        if (!s.ok()) return s;
        break;
      }
      continue;
    }
    // The first positional argument names the command.
    if (arg != "help") {
      bool known = false;
      for (const char* n : kVmmNames) known |= arg == n;
      if (!known) {
        return UsageError(absl::StrCat("unrecognized subcommand '", arg, "'"));
      }
    }
    a.command = arg;
    a.vmm_args.assign(args.begin() + i + 1, args.end());
    break;
  }
  return a;
}

std::string Resolve(const CliEnvironment& env, const std::string& path) {
  if (!env.working_dir.has_value() || path.empty() || path[0] == '/') {
    return path;
  }
  return absl::StrCat(*env.working_dir, "/", path);
}

// The CBOR CoMID/CoRIM options (measure/endorsements.h); file paths resolve
// like every other path, identifiers are taken as given.
EndorsementOptions EndorsementOptionsFrom(const ParsedArgs& a,
                                          const CliEnvironment& env) {
  auto get = [&](const char* name, bool is_path) -> std::optional<std::string> {
    auto it = a.values.find(name);
    if (it == a.values.end()) return std::nullopt;
    return is_path ? Resolve(env, it->second) : it->second;
  };
  EndorsementOptions e;
  e.corim_output = get("corim-output", true);
  e.comid_output = get("comid-output", true);
  e.profile = get("corim-profile", false);
  e.sign_key = get("corim-sign-key", true);
  e.sign_chain = get("corim-sign-chain", true);
  e.tag_id = get("corim-tag-id", false);
  e.corim_id = get("corim-id", false);
  e.entity = get("corim-entity", false);
  e.not_before = get("corim-not-before", false);
  e.not_after = get("corim-not-after", false);
  e.rems = get("corim-rems", false);
  return e;
}

// An output that could not be written: which option, which path, why
// (the OS error text of WriteFileAtomically without its "file X error: ").
absl::Status OutputError(absl::string_view option, const std::string& path,
                         const absl::Status& s) {
  absl::string_view why = s.message();
  const std::string prefix = absl::StrCat("file ", path, " error: ");
  if (absl::StartsWith(why, prefix)) why.remove_prefix(prefix.size());
  return absl::Status(s.code(), absl::StrCat("cannot write output ", option,
                                             " ", path, ": ", why));
}

// A failed commit (OutputSet::Commit: "file <path> error: ...") as
// OutputError, naming the option of that path.
absl::Status NameOutput(const absl::Status& s,
                        const std::vector<NamedPath>& outputs) {
  for (const NamedPath& o : outputs) {
    if (absl::StartsWith(s.message(),
                         absl::StrCat("file ", o.path, " error: "))) {
      return OutputError(o.option, o.path, s);
    }
  }
  return s;
}

// Payload hashing progress on stderr (issue 19): at most two lines a
// second while hashing, then one summary line. Without `always_summary`
// (a terminal, not --progress) a run too short for a progress line prints
// nothing.
class ProgressReporter : public MeasureProgress {
 public:
  ProgressReporter(std::ostream& err, bool always_summary)
      : err_(err), always_summary_(always_summary) {}

  void Start(uint64_t total) override {
    total_ = total;
    start_ = last_ = Clock::now();
  }

  void Add(uint64_t bytes) override {
    done_ += bytes;
    // Looking at the clock every 64 calls (256 KiB of granules) keeps the
    // cost negligible next to the hashing.
    if (++calls_ % 64 != 0) return;
    const Clock::time_point now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    Print(now, /*final=*/false);
  }

  void Finish() override {
    if (done_ > 0 && (always_summary_ || printed_)) {
      Print(Clock::now(), /*final=*/true);
    }
  }

 private:
  using Clock = std::chrono::steady_clock;

  static std::string MiB(uint64_t bytes) {
    return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }

  void Print(Clock::time_point now, bool final) {
    const double seconds =
        std::max(1e-6, std::chrono::duration<double>(now - start_).count());
    const std::string rate = absl::StrFormat(
        "%.1f MiB/s", static_cast<double>(done_) / (1 << 20) / seconds);
    if (final) {
      err_ << "progress: hashed " << MiB(done_) << " in "
           << absl::StrFormat("%.2f s", seconds) << " (" << rate << ")\n";
    } else {
      err_ << "progress: hashed " << MiB(done_) << " of " << MiB(total_)
           << absl::StrFormat(" (%.0f%%)",
                              total_ == 0 ? 100.0 : 100.0 * done_ / total_)
           << ", " << rate << "\n";
    }
    err_.flush();
    printed_ = true;
  }

  std::ostream& err_;
  const bool always_summary_;
  uint64_t total_ = 0;
  bool printed_ = false;
  Clock::time_point start_;
  Clock::time_point last_;
  uint64_t done_ = 0;
  uint64_t calls_ = 0;
};

std::string Hex64(uint64_t v) { return absl::StrFormat("0x%x", v); }

// The RIPAS ranges INIT_RIPAS covers (spec-core §6.4), for the report.
void AddRange(OJson& list, uint64_t base, uint64_t top) {
  OJson r = OJson::object();
  r["base"] = Hex64(base);
  r["top"] = Hex64(top);
  list.push_back(std::move(r));
}

// Which behaviour the values assume (landscape: a value is never produced
// without saying so): this tool's version and the VMM as it is modelled.
OJson ModelJson(const std::string& vmm) {
  OJson model = OJson::object();
  model["tool"] = kVersionLine;
  model["vmm"] = vmm;
  if (std::optional<measure::VmmKind> kind = measure::VmmKindNamed(vmm)) {
    model["vmm_behaviour"] = std::string(measure::ModelBehaviour(*kind));
  }
  return model;
}

// --format json (needs MeasureRequest::layout_digests).
std::string JsonReport(const std::string& vmm, const MeasureResult& result) {
  const Measurements& m = *result.measurements;
  OJson doc = OJson::object();
  doc["model"] = ModelJson(vmm);
  doc["rmm_version"] = RmmVersionName(m.rmm_version);
  doc["hash_algorithm"] = HashAlgorithmName(m.hash_algorithm);
  // Bytes of each 64-byte value that the algorithm fills; the rest is zero.
  doc["significant_length"] = HashSize(m.hash_algorithm);
  OJson ms = OJson::object();
  ms["rim"] = ToHex(m.rim);
  for (int i = 0; i < 4; ++i) ms[absl::StrCat("rem", i)] = ToHex(m.rem[i]);
  doc["measurements"] = std::move(ms);

  const RealmCreateParams& p = result.parameters;
  OJson params = OJson::object();
  params["ipa_bits"] = p.ipa_bits;
  params["num_bps"] = p.num_bps;
  params["num_wps"] = p.num_wps;
  params["sve_vl"] = p.sve_vl;
  params["pmu"] = p.pmu;
  params["pmu_num_ctrs"] = p.pmu_num_ctrs;
  params["lpa2"] = p.lpa2;
  doc["realm_parameters"] = std::move(params);
  doc["personalization_value"] = ToHex(result.personalization_value);

  const MeasureLayout& l = result.layout;
  OJson layout = OJson::object();
  OJson ram = OJson::array(), ripas = OJson::array();
  for (const MeasureLayout::Range& r : l.ram) {
    OJson j = OJson::object();
    j["base"] = Hex64(r.base);
    j["size"] = r.size;
    ram.push_back(std::move(j));
    const uint64_t b = r.base & ~(kGranuleSize - 1);
    AddRange(ripas, b,
             (b + r.size - 1 + kGranuleSize - 1) & ~(kGranuleSize - 1));
  }
  layout["ram"] = std::move(ram);
  layout["ripas"] = std::move(ripas);
  OJson blobs = OJson::array();
  for (const MeasureLayout::Blob& b : l.blobs) {
    OJson j = OJson::object();
    j["name"] = b.name;
    if (b.measured) j["source"] = b.source;
    j["ipa"] = Hex64(b.ipa);
    j["size"] = b.size;
    if (b.load_size != 0) j["load_size"] = b.load_size;
    j["measured"] = b.measured;
    j["into"] = b.rem < 0 ? std::string("rim") : absl::StrCat("rem", b.rem);
    if (b.sha256.has_value()) {
      std::string hex;
      for (uint8_t c : *b.sha256) absl::StrAppendFormat(&hex, "%02x", c);
      j["sha256"] = hex;
    }
    blobs.push_back(std::move(j));
  }
  layout["blobs"] = std::move(blobs);
  if (l.rec.has_value()) {
    OJson rec = OJson::object();
    rec["pc"] = Hex64(l.rec->pc);
    OJson gprs = OJson::array();
    for (uint64_t g : l.rec->gprs) gprs.push_back(Hex64(g));
    rec["gprs"] = std::move(gprs);
    layout["rec"] = std::move(rec);
  } else {
    layout["rec"] = nullptr;
  }
  if (result.dtb.has_value()) {
    OJson dtb = OJson::object();
    dtb["address"] = l.dtb_address.has_value() ? OJson(Hex64(*l.dtb_address))
                                               : OJson(nullptr);
    dtb["size"] = result.dtb->size();
    layout["dtb"] = std::move(dtb);
  } else {
    layout["dtb"] = nullptr;
  }
  doc["layout"] = std::move(layout);
  OJson w = OJson::array();
  for (const std::string& s : result.warnings) w.push_back(s);
  doc["warnings"] = std::move(w);
  return base::JsonText(doc, 2) + "\n";
}

// --find-rim: a value of hex digits only is the RIM itself; anything else
// names a CCA attestation token file.
bool IsHexText(absl::string_view text) {
  return !text.empty() && base::IsHexDigits(text);
}

// The files the command line names (issue 14): what is read and what is
// written, for the checks made before any work.
struct CommandLineFiles {
  std::vector<NamedPath> inputs;
  std::vector<NamedPath> outputs;
};

CommandLineFiles FilesOf(const ParsedArgs& a, const CliEnvironment& env) {
  CommandLineFiles f;
  for (const char* name :
       {"kernel", "initrd", "firmware", "dtb", "dtb-template",
        "endorsements-template", "corim-sign-key", "corim-sign-chain",
        "compare-log"}) {
    auto it = a.values.find(name);
    if (it != a.values.end()) {
      f.inputs.push_back({absl::StrCat("--", name), Resolve(env, it->second)});
    }
  }
  // --find-rim names a token file unless it is hex.
  if (auto it = a.values.find("find-rim");
      it != a.values.end() && !it->second.empty() && !IsHexText(it->second)) {
    f.inputs.push_back({"--find-rim", Resolve(env, it->second)});
  }
  for (const std::string& c : a.configs) {
    f.inputs.push_back({"--config", Resolve(env, c)});
  }
  for (const char* name :
       {"output-dtb", "corim-output", "comid-output", "endorsements-output"}) {
    auto it = a.values.find(name);
    if (it != a.values.end()) {
      f.outputs.push_back({absl::StrCat("--", name), Resolve(env, it->second)});
    }
  }
  return f;
}

// One line per message: a multi-line third-party error (a TOML parse error)
// keeps its lines, as the reference prints them.
void PrintError(std::ostream& err, absl::string_view stage,
                const absl::Status& s) {
  err << "ERROR " << stage << ": " << s.message() << "\n";
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "error: " << message << "\n\n"
      << kUsageLine << "\n\n"
      << "For more information, try '--help'.\n";
  return 2;
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view data) {
  OutputSet one;
  one.Add(path, std::string(data));
  return one.Commit();
}

std::string HelpText() {
  return R"(Generate Realm measurements corresponding to a given VM configuration and
environment. Can also generate the DTB to be provided to the VMM.

Usage: realm-measurements [OPTIONS] <COMMAND> [VMM ARGS]...

Computes the Arm CCA Realm Initial Measurement (RIM) and the four Realm
Extensible Measurements (REM0-REM3) that an RMM 1.0 (or, with --rmm-version
2.0, an RMM 2.0) reports for a Realm started by the given VMM command line.
Global options come first; everything after the command is that VMM's own
command line, passed on as is.

Commands:
  qemu      Model QEMU's virt machine; the arguments are QEMU's
  kvmtool   Model kvmtool (lkvm run); the arguments are kvmtool's
  cloud-hv  Model cloud-hypervisor; the arguments are cloud-hypervisor's
  help      Print this message

  realm-measurements <COMMAND> --help lists the arguments that VMM model
  supports, ignores and rejects, with its defaults.

Options:
  -v, --verbose
          Display more information (use multiple times to increase verbosity)
      --output-dtb <OUTPUT_DTB>
          Output file for the generated DTB. Written atomically, with the
          other outputs, once the whole run succeeded
      --dtb-template <DTB_TEMPLATE>
          Input DTB template. Before measurement, the DTB is patched to be
          compatible with the given VMM parameters. This is experimental. It is
          unlikely that the DTB resulting from patching matches exactly that
          generated by the VMM
      --no-measurements
          Do not generate Realm measurements (only validate parameters and
          generate DTB)
      --print-b64
          Display measurement encoded in base64, instead of raw hex
  -k, --kernel <KERNEL>
          Kernel image (used only if the VMM arguments load a kernel)
  -i, --initrd <INITRD>
          Initrd image (used only if the VMM arguments load an initrd)
  -f, --firmware <FIRMWARE>
          Firmware image (used only if the VMM arguments load firmware)
      --dtb <DTB>
          Input DTB. The DTB is measured as-is, not modified. It is therefore
          only valid for one set of VMM parameters. Changes to the VMM
          parameters are likely to affect the DTB
  -c, --config <CONFIG>
          Config file. Can be specified multiple times to provide overlays.
          For example: -c hardware.conf -c firmware.conf -c hypervisor.conf
          Each file can only lower the values set by the files before it
          (at most 8 KiB and 4 levels deep each)
      --endorsements-template <ENDORSEMENTS_TEMPLATE>
          Input file containing CoMID endorsements in JSON
      --endorsements-output <ENDORSEMENTS_OUTPUT>
          Output file containing CoMID endorsements in JSON (written
          atomically; the measurement lines are then not printed)
      --corim-output <CORIM_OUTPUT>
          Write the realm's reference values as a CBOR CoRIM (unsigned, or
          signed with --corim-sign-key). Digests have the exact size of the
          realm's hash algorithm; REM0-REM3 are included; the RPV only when
          it is not all zero. The measurement lines are still printed
      --comid-output <COMID_OUTPUT>
          Write the same reference values as a bare CBOR CoMID (the input of
          `cocli corim create`; never signed)
      --corim-profile <CORIM_PROFILE>
          CoMID/CoRIM profile [possible values: cca-realm-2025 (default,
          "tag:arm.com,2025:cca_realm#1.0.0", Veraison 2026),
          cca-realm-legacy ("http://arm.com/cca/realm/1", Veraison 2024-25)]
      --corim-sign-key <KEY_PEM>
          Sign the CoRIM (COSE_Sign1, ES256/ES384/ES512 by the key's curve)
          with this EC private key (PEM, PKCS#8 or SEC1). Needs
          --corim-sign-chain
      --corim-sign-chain <CHAIN_PEM>
          The signer's certificates (PEM, leaf first, then intermediates),
          carried in the x5chain header; the leaf must hold the key
      --corim-tag-id <TAG_ID>
          CoMID tag id: a UUID is encoded as a UUID, anything else as text
          (default: a UUID derived from the profile, RIM and RPV)
      --corim-id <CORIM_ID>
          CoRIM id, same rules (default: derived like the tag id)
      --corim-entity <NAME>
          Creator entity of the CoMID (tag-creator, creator) and the CoRIM
          (manifest-creator); also the signer name (default: the signing
          certificate's subject)
      --corim-not-before <TIME>
      --corim-not-after <TIME>
          The CoRIM's validity window (RFC 3339, e.g. 2027-01-01T00:00:00Z,
          or Unix seconds; not-before is optional). Verifiers (Veraison
          2026, cca-token, the gRPC service) use the CoRIM only inside it.
          Default: no validity (valid forever)
      --corim-rems <LIST>
          The REMs the CoRIM/CoMID constrains: all (default), none, or
          indices such as 0,2. A verifier does not compare the others; use
          it for REMs the firmware extends at boot, which are not modelled
          (kvmtool --firmware), and take those from the event log

          All outputs are encoded (and signed) before any is written; each
          file is written atomically. -v prints each file's media type on
          stderr; --format json lists them under "endorsements" (kind, path,
          size, media_type)

          Every output (--output-dtb, CoRIM, CoMID, endorsements JSON) is
          written only when the whole run succeeded, and only to a new file
          or over a regular file that is none of the inputs (a symbolic
          link, device, FIFO or directory is refused before any work).
          Inputs must be regular files
      --format <FORMAT>
          Output format on stdout: "text" (default) prints the five lines
          RIM:, REM0: .. REM3:; "json" prints one JSON document with the
          measurements (hex), the RMM version, the hash algorithm and its
          significant length in bytes (32, 48 or 64), the effective Realm
          parameters, the personalization value, the layout (RAM and RIPAS
          ranges; each blob with name, IPA, size, where it is measured and
          the sha256 of its content; the REC's pc and x0-x7; the DTB address
          and size) and the warnings
      --compare-log <LOG>
          Compare the computed realm step by step with the TCG event log
          its VMM wrote (QEMU rme-guest measurement-log=on, kvmtool), to
          find why a Realm's RIM differs from the computed one. Steps: VM
          VERSION (RAM size), REALM_CREATE (each parameter), INIT_RIPAS
          ranges, measured DATA (address, length, digest of the realm's
          algorithm), REC_CREATE (pc, x0-x7), unmeasured DATA, REM
          extensions. The report comes first on stdout, one line per step,
          then a line "first difference: step N ..." naming the input that
          decides that step (or "all N steps are the same as computed",
          naming the RMM version, which the log does not record),
          then the measurement lines; with --format json it is the
          document's "log_comparison" member. Exit status 3 when a step
          differs. The log must carry digests of the realm's hash
          algorithm; at most 1 MiB. Not with a sweep
      --find-rim <RIM>
          Without an event log: find what turns the computed RIM into RIM,
          the one a token carries (hex: 64, 96 or 128 digits, or the
          64-byte buffer as printed), or a CCA attestation token file
          (a value that is not all hex; its realm RIM is used, its
          signatures are not checked, and a personalization value other
          than the command line's is named). Alone, it tries every other
          value of each host capability (--ipa-bits, --num-bps, --num-wps,
          --sve-vl, --pmu, --pmu-num-ctrs, --lpa2) and the other
          --rmm-version, one at a time on top of the command line's
          options, and prints "match:
          <options>" for each that gives RIM. With --sweep/--sweep-shape it
          measures the shapes instead and prints "match: shape i/n: KEY=V
          ..." for each shape whose RIM it is. Payload digests are computed
          once. --format json: one document with "result" (found, same,
          none or algorithm), "matches" and (without a sweep) "changes",
          each match as the realm parameters it sets. Exit status 3 when
          nothing matches. Not with output files or --compare-log
      --find-rim-pairs
          With --find-rim (no sweep): when no single change gives RIM, also
          try every two changes of different settings at once (about 10,000
          realms instead of 175; each costs one RIM chain over the payload)
      --sweep <KEY=V1,V2,...>
          Measure many VM shapes in one run (repeatable). Each KEY is a
          placeholder written {KEY} in the VMM arguments; the shapes are the
          cross product of all --sweep values (first option slowest). Keys
          are a-z 0-9 _ -; values are non-empty and contain no comma
      --sweep-shape <KEY=V,KEY=V,...>
          One explicit shape (repeatable): the shapes are the list given, in
          order. Not combinable with --sweep. With either option the text
          output is one block per shape, "# shape <i>/<n>: KEY=V ..." and
          then exactly what the single run of that shape prints, blocks
          separated by an empty line; --format json prints {"shapes": [{
          "shape", "parameters", "vmm_args", "result"}]}, "result" being
          the single-run JSON document. Granule digests of the payloads are
          computed once and reused by every shape; after the first shape,
          shapes run concurrently and their RIM chains are hashed several
          at a time (-v prints how many). --corim-output and
          --comid-output write ONE CoRIM/CoMID holding a reference triple
          per shape, in shape order (written only when every shape
          measured); --output-dtb and --endorsements-output are refused
          with a sweep. Example:
            realm-measurements -c configs/fvp.conf --sweep cpus=1,2,4 \
              --sweep mem=512M,1G -k Image \
              kvmtool --realm -c {cpus} -m {mem} -k Image
      --threads <THREADS>
          Threads hashing payload granules, 1-64 (default: one per core).
          Results do not depend on it
      --progress
          Report the progress of payload hashing on stderr (bytes hashed,
          total and rate; at most two lines a second, then a summary line).
          On by default when stderr is a terminal; never in a sweep
  -h, --help
          Print help
  -V, --version
          Print version ("cca-realm-measurements 0.1.0", the reference
          tool's version line, kept for compatibility)

Host capabilities:
      --ipa-bits <IPA_BITS>
          Number of IPA bits (32-52, the widths a CCA platform can have)
      --num-bps <NUM_BPS>
          Maximum number of breakpoints (2-64)
      --num-wps <NUM_WPS>
          Maximum number of watchpoints (2-64)
      --sve-vl <SVE_VL>
          Maximum SVE vector length (bits, a multiple of 128 in 128-2048, 0
          disables)
      --pmu-num-ctrs <PMU_NUM_CTRS>
          Maximum number of PMU counters (0-31)
      --pmu <PMU>
          PMU is supported [possible values: true, false]
      --lpa2 <LPA2>
          LPA2 is supported [possible values: true, false]
      --hash-algo <HASH_ALGO>
          Hash algorithm [possible values: sha256, sha384, sha512]. Accepted
          for compatibility and ignored: the VMM arguments choose the
          algorithm (a warning is printed when they disagree)
      --rmm-version <RMM_VERSION>
          RMM version the platform runs [possible values: 1.0 (default),
          2.0]; config key rmm_version = "1.0" | "2.0". Under 2.0
          RMI_RTT_INIT_RIPAS is not measured and SHA-384 realms exist (the
          VMM's own option selects sha384: kvmtool --measurement-algo,
          QEMU rme-guest measurement-algorithm=, cloud-hv --platform
          measurement_algo=); sha384 under 1.0 is an error. A PMU realm
          under 2.0 gets a warning: TF-RMM 2.0 (as of 2026-07) refuses it

  Numbers are decimal. Config files are applied first (each one can only
  lower a value), then these options set the values they name, then the VMM
  model lowers them to what the VM needs.

Output:
  On success stdout holds exactly five lines, "RIM: <m>" and "REM0: <m>" to
  "REM3: <m>", each <m> all 64 bytes of the measurement buffer as 128
  lower-case hex digits (SHA-256 values end in 32 zero bytes, SHA-384 ones
  in 16), or base64 (88 characters) with --print-b64. REMs follow TF-RMM's
  extension (REM = H(REM[0:L] || value)), not the reference tool's.

Exit status:
  0  success
  1  an error, printed on stderr as one line "ERROR <stage>: <cause>", the
     stage being "Invalid arguments", "Cannot build parameters" or "Failed
     to compute measurements"
  2  a command-line syntax error ("error: ..." and a usage line)
  3  --compare-log: a step of the log differs from the computed one (the
     report and the measurements are on stdout); --find-rim: nothing tried
     gives the RIM

Environment:
  BUILD_WORKING_DIRECTORY  relative paths resolve against it (bazel run)
  REALM_MEASUREMENTS_MULTI_BUFFER=0
                           hash granules one at a time through the crypto
                           library instead of 4 (SHA-256, x86 SHA-NI) or 8
                           (SHA-384/512, AVX-512) at once; same results

Example:
  realm-measurements --num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M
)";
}

namespace {

// The measurement request of a command line: config files restrict, CLI
// options update (§5.3), then the VMM model and the payload files.
MeasureRequest RequestOf(const ParsedArgs& a,
                         const std::vector<std::string>& vmm_args,
                         const CliEnvironment& env,
                         const MeasureOptions& measure) {
  MeasureRequest request;
  for (const std::string& c : a.configs) {
    const std::string path = Resolve(env, c);
    request.host_caps.push_back({path, path, ""});
  }
  request.overrides = a.cli_caps;
  request.hash_algo_option = a.hash_algo;
  request.vmm_name = a.command;
  if (auto it = env.models.find(a.command); it != env.models.end()) {
    request.model = it->second;
  }
  request.vmm_args = vmm_args;
  auto value = [&](const char* name) -> std::optional<std::string> {
    auto it = a.values.find(name);
    if (it == a.values.end()) return std::nullopt;
    return Resolve(env, it->second);
  };
  request.inputs.kernel = value("kernel");
  request.inputs.initrd = value("initrd");
  request.inputs.firmware = value("firmware");
  request.inputs.dtb = value("dtb");
  request.inputs.dtb_template = value("dtb-template");
  request.no_measurements = a.no_measurements;
  request.options = measure;
  return request;
}

// --compare-log: a VMM event log, as `eventlog` reads it (at most 1 MiB,
// a regular file).
absl::StatusOr<eventlog::EventLog> ReadEventLog(const std::string& path) {
  eventlog::ParseOptions options;
  absl::StatusOr<std::string> bytes =
      measure::ReadSmallRegularFile(path, options.max_log_size);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat("--compare-log: ", bytes.status().message()));
  }
  absl::StatusOr<eventlog::EventLog> log = eventlog::Parse(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes->data()),
                          bytes->size()),
      options);
  if (!log.ok()) {
    return absl::Status(
        log.status().code(),
        absl::StrCat("--compare-log ", path, ": ", log.status().message()));
  }
  return log;
}

// The comparison as JSON: the steps with what was computed and logged.
OJson ComparisonJson(const eventlog::LogComparison& c) {
  OJson j = OJson::object();
  j["vmm"] = c.vmm;
  j["algorithm"] = c.algorithm;
  j["same"] = !c.first_difference.has_value();
  j["first_difference"] = c.first_difference.has_value()
                              ? OJson(*c.first_difference + 1)
                              : OJson(nullptr);
  OJson steps = OJson::array();
  for (const eventlog::StepComparison& s : c.steps) {
    OJson e = OJson::object();
    e["step"] = s.step;
    e["same"] = s.same;
    e["computed"] = s.expected.empty() ? OJson(nullptr) : OJson(s.expected);
    e["logged"] = s.logged.empty() ? OJson(nullptr) : OJson(s.logged);
    e["event"] = s.event.has_value() ? OJson(*s.event) : OJson(nullptr);
    e["offset"] = s.offset.has_value() ? OJson(*s.offset) : OJson(nullptr);
    OJson d = OJson::array();
    for (const std::string& t : s.differences) d.push_back(t);
    e["differences"] = std::move(d);
    if (!s.same) e["decided_by"] = s.hint;
    steps.push_back(std::move(e));
  }
  j["steps"] = std::move(steps);
  return j;
}

// One VM shape: argv -> MeasureRequest, Measure (measure/measure.h), then
// the printed measurements and the output files. In a sweep, `collected`
// receives the measurements and the CBOR outputs are left to the sweep (one
// CoRIM for all shapes). --compare-log adds its report (exit status 3 when
// a step differs).
int RunShape(const ParsedArgs& a, const std::vector<std::string>& vmm_args,
             const CliEnvironment& env, const MeasureOptions& measure,
             std::ostream& out, std::ostream& err,
             MeasuredRealm* collected = nullptr,
             bool check_endorsements = true) {
  auto value = [&](const char* name) -> std::optional<std::string> {
    auto it = a.values.find(name);
    if (it == a.values.end()) return std::nullopt;
    return Resolve(env, it->second);
  };
  auto debug = [&](absl::string_view text) {
    if (a.verbose >= 1) err << "DEBUG " << text << "\n";
  };

  // check_args (spec-core §10.3 step 3).
  if (a.values.count("dtb") && a.values.count("dtb-template")) {
    err << "ERROR " << kStageArgs
        << ": either --dtb or --dtb-template can be set but not both\n";
    return 1;
  }
  // CBOR CoMID/CoRIM outputs (measure/endorsements.h); option errors are
  // reported before any work.
  const EndorsementOptions endorse = EndorsementOptionsFrom(a, env);
  if (absl::Status s = CheckEndorsementOptions(endorse, !a.no_measurements);
      !s.ok()) {
    return Usage(err, s.message());
  }

  // --compare-log: the VMM event log, read and parsed before any work.
  std::optional<eventlog::EventLog> compare_log;
  eventlog::ExpectedRealm expected;
  if (std::optional<std::string> path = value("compare-log")) {
    if (a.no_measurements) {
      return Usage(err,
                   "--compare-log needs the measurements: not with "
                   "--no-measurements");
    }
    absl::StatusOr<eventlog::EventLog> log = ReadEventLog(*path);
    if (!log.ok()) {
      PrintError(err, kStageArgs, log.status());
      return 1;
    }
    compare_log = *std::move(log);
  }

  MeasureRequest request = RequestOf(a, vmm_args, env, measure);
  request.layout_digests = a.json;
  request.debug = debug;
  request.on_warnings = [&](const std::vector<std::string>& warnings) {
    for (const std::string& w : warnings) err << "WARN " << w << "\n";
  };

  // Every output of the run is staged here and committed together at the
  // end, once everything succeeded (issue 14).
  OutputSet outputs;
  const std::vector<NamedPath> files_of_run = FilesOf(a, env).outputs;
  auto commit = [&](absl::string_view stage) {
    if (env.staged_outputs != nullptr) {
      for (const OutputSet::File& f : outputs.files()) {
        env.staged_outputs->Add(f.path, f.data, f.mode);
      }
      return true;
    }
    absl::Status s = outputs.Commit();
    if (!s.ok()) PrintError(err, stage, NameOutput(s, files_of_run));
    return s.ok();
  };

  // Between the build and the hashing: the DTB output, then the endorsement
  // inputs (template, key, chain, profile), checked before any payload is
  // hashed by encoding them once with zero measurements.
  std::optional<std::string> endorsements = value("endorsements-output");
  std::optional<std::string> tmpl_text;
  std::string tmpl_name;
  const char* hook_stage = nullptr;  // the stage of an after_build error
  request.after_build = [&](const RealmConfig& config) -> absl::Status {
    if (std::optional<std::string> path = value("output-dtb")) {
      if (!config.dtb().has_value()) {
        hook_stage = kStageBuild;
        return absl::FailedPreconditionError(
            absl::StrCat("--output-dtb given but the ", a.command,
                         " model produced no DTB"));
      }
      const std::vector<uint8_t>& dtb = *config.dtb();
      outputs.Add(*path, std::string(dtb.begin(), dtb.end()));
    }
    if (a.no_measurements) return absl::OkStatus();
    hook_stage = kStageMeasure;
    if (endorsements) {
      if (std::optional<std::string> tmpl = value("endorsements-template")) {
        tmpl_name = *tmpl;
        absl::StatusOr<std::string> text =
            ReadSmallFile(*tmpl, kMaxComidTemplateSize);
        if (!text.ok()) return text.status();
        tmpl_text = std::move(*text);
      }
    }
    if (check_endorsements) {
      Measurements zero;
      if (config.hash_algorithm().has_value()) {
        zero.hash_algorithm = *config.hash_algorithm();
      }
      if (endorsements) {
        absl::StatusOr<std::string> json =
            FillComidJson(tmpl_text, tmpl_name, zero, Measurement{});
        if (!json.ok()) return json.status();
      }
      if (endorse.corim_output || endorse.comid_output) {
        absl::StatusOr<std::vector<EndorsementFile>> files =
            BuildEndorsements(endorse, zero, Measurement{});
        if (!files.ok()) return files.status();
      }
    }
    hook_stage = nullptr;
    return absl::OkStatus();
  };

  // --compare-log: the computed side, each image hashed once more in the
  // realm's algorithm, beside the measurement.
  if (compare_log.has_value()) {
    request.beside = eventlog::ExpectedRealmBeside(&expected);
  }

  // Progress only for a single run: a sweep's shapes print into buffers.
  std::optional<ProgressReporter> progress;
  if (collected == nullptr && (a.progress || env.stderr_is_terminal)) {
    progress.emplace(err, a.progress);
    request.progress = &*progress;
  }

  absl::StatusOr<MeasureResult> result = Measure(request);
  if (!result.ok()) {
    const absl::Status& s = result.status();
    if (hook_stage != nullptr) {
      PrintError(err, hook_stage, s);
      return 1;
    }
    std::optional<MeasureFailure> failure = MeasureFailureOf(s);
    if (failure.has_value() && failure->stage == MeasureStage::kBuild &&
        IsUsageError(s)) {
      return Usage(err, s.message());
    }
    const bool measuring =
        failure.has_value() && (failure->stage == MeasureStage::kMeasure ||
                                failure->stage == MeasureStage::kReport);
    PrintError(err, measuring ? kStageMeasure : kStageBuild, s);
    return 1;
  }
  if (a.no_measurements) return commit(kStageBuild) ? 0 : 1;
  const Measurements& m = *result->measurements;
  debug(absl::StrCat("RIM: ", ToHex(m.rim)));

  // Every CBOR output is encoded (and signed) before the first is written.
  absl::StatusOr<std::vector<EndorsementFile>> cbor_files =
      std::vector<EndorsementFile>();
  if (collected != nullptr) {
    *collected = MeasuredRealm{m, result->personalization_value};
  } else {
    cbor_files = BuildEndorsements(endorse, m, result->personalization_value);
  }
  if (!cbor_files.ok()) {
    PrintError(err, kStageMeasure, cbor_files.status());
    return 1;
  }
  for (const EndorsementFile& f : *cbor_files) {
    outputs.Add(f.path,
                std::string(f.object.bytes.begin(), f.object.bytes.end()));
  }
  if (endorsements) {
    absl::StatusOr<std::string> json =
        FillComidJson(tmpl_text, tmpl_name, m, result->personalization_value);
    if (!json.ok()) {
      PrintError(err, kStageMeasure, json.status());
      return 1;
    }
    outputs.Add(*endorsements, *std::move(json));
  }
  std::string report;
  if (a.json) report = JsonReport(a.command, *result);
  std::optional<eventlog::LogComparison> comparison;
  if (compare_log.has_value()) {
    expected.params = result->parameters;
    absl::StatusOr<eventlog::LogComparison> c =
        eventlog::CompareWithLog(*compare_log, expected);
    if (!c.ok()) {
      PrintError(
          err, kStageMeasure,
          absl::Status(c.status().code(),
                       absl::StrCat("--compare-log ", *value("compare-log"),
                                    ": ", c.status().message())));
      return 1;
    }
    comparison = *std::move(c);
  }
  // --compare-log: 3 when a step differs (after everything else was done).
  const int status =
      comparison.has_value() && comparison->first_difference.has_value() ? 3
                                                                         : 0;
  // Everything succeeded: commit the outputs, then print.
  if (!commit(kStageMeasure)) return 1;
  for (const EndorsementFile& f : *cbor_files) {
    debug(absl::StrCat("wrote ", f.kind, " ", f.path, " (",
                       f.object.bytes.size(), " bytes), media type ",
                       f.object.media_type));
  }
  if (a.json) {
    // Members after the report: the media types to submit the CBOR outputs
    // with (issue 5), the log comparison (one re-parse for both).
    if (!cbor_files->empty() || comparison.has_value()) {
      OJson doc = OJson::parse(report, nullptr, /*allow_exceptions=*/false);
      if (doc.is_object()) {
        if (!cbor_files->empty()) {
          OJson list = OJson::array();
          for (const EndorsementFile& f : *cbor_files) {
            OJson e = OJson::object();
            e["kind"] = f.kind;
            e["path"] = f.path;
            e["size"] = f.object.bytes.size();
            e["media_type"] = f.object.media_type;
            list.push_back(std::move(e));
          }
          doc["endorsements"] = std::move(list);
        }
        if (comparison.has_value()) {
          doc["log_comparison"] = ComparisonJson(*comparison);
        }
        report = base::JsonText(doc, 2) + "\n";
      }
    }
    out << report;
    return status;
  }
  if (comparison.has_value()) out << eventlog::ComparisonToText(*comparison);
  if (endorsements) return status;
  auto enc = [&](const Measurement& v) {
    return a.print_b64 ? ToBase64(v) : ToHex(v);
  };
  out << "RIM: " << enc(m.rim) << "\n";
  for (int i = 0; i < 4; ++i)
    out << "REM" << i << ": " << enc(m.rem[i]) << "\n";
  out.flush();
  return status;
}

// A CCA token is a few KiB; this bounds what --find-rim reads.
constexpr uint64_t kMaxFindRimTokenBytes = 1 << 20;

// What --find-rim searches for.
struct FindRimInput {
  std::vector<uint8_t> rim;
  // The token's personalization value (claim 44235), when a token was given.
  std::optional<std::vector<uint8_t>> rpv;
};

// --find-rim VALUE: the RIM a token carries, as hex (the significant bytes,
// 64, 96 or 128 digits, or the whole 64-byte buffer the CLI prints), or the
// realm RIM (claim 44238) of a CCA attestation token file. The token's
// signatures are not checked: this is diagnosis, not appraisal. Bad hex is
// a usage error; an unreadable or undecodable file is not.
absl::StatusOr<FindRimInput> FindRimTarget(absl::string_view value,
                                           const CliEnvironment& env) {
  if (value.empty() || IsHexText(value)) {
    if (value.size() != 64 && value.size() != 96 && value.size() != 128) {
      return UsageError(absl::StrCat(
          "invalid value '", value.substr(0, 140),
          "' for '--find-rim <RIM>': expected 64, 96 or 128 hex digits (the "
          "token's RIM) or a CCA attestation token file"));
    }
    const std::string bytes = absl::HexStringToBytes(value);
    return FindRimInput{std::vector<uint8_t>(bytes.begin(), bytes.end()),
                        std::nullopt};
  }
  const std::string path = Resolve(env, std::string(value));
  absl::StatusOr<std::string> bytes =
      measure::ReadSmallRegularFile(path, kMaxFindRimTokenBytes);
  if (!bytes.ok()) {
    // A mistyped RIM ("0x...") reads as a missing file: say both.
    return absl::Status(
        bytes.status().code(),
        absl::StrCat("--find-rim: ", bytes.status().message(),
                     absl::IsNotFound(bytes.status())
                         ? " (the value is not a RIM either: expected 64, 96 "
                           "or 128 hex digits, or a CCA token file)"
                         : ""));
  }
  absl::StatusOr<corim::CcaToken> token =
      corim::DecodeCcaToken(absl::MakeConstSpan(
          reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
  if (!token.ok()) {
    return absl::Status(
        token.status().code(),
        absl::StrCat("--find-rim ", path, ": ", token.status().message()));
  }
  const std::vector<uint8_t>& rim = token->realm.initial_measurement;
  if (rim.size() != 32 && rim.size() != 48 && rim.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--find-rim ", path,
        ": CCA token: realm initial measurement (claim 44238): expected 32, "
        "48 or 64 bytes, found ",
        rim.size()));
  }
  return FindRimInput{rim, token->realm.personalization_value};
}

// A FindRimTarget error as the CLI reports it: exit status 2 for bad hex,
// 1 for a bad token file.
int FindRimTargetError(std::ostream& err, const absl::Status& s) {
  if (IsUsageError(s)) return Usage(err, s.message());
  PrintError(err, kStageArgs, s);
  return 1;
}

std::string HexBytes(absl::Span<const uint8_t> v) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

// --find-rim with a sweep: the shapes whose RIM is the token's (exit status
// 3 when none is), as text or JSON.
int FindRimInSweep(const ParsedArgs& a, const std::vector<SweepShape>& shapes,
                   const std::vector<MeasuredRealm>& realms,
                   const std::vector<uint8_t>& target, std::ostream& out) {
  const HashAlgorithm algorithm = realms[0].measurements.hash_algorithm;
  const std::optional<std::vector<uint8_t>> want =
      measure::SignificantRim(target, algorithm);
  std::vector<size_t> matches;
  for (size_t i = 0; want.has_value() && i < realms.size(); ++i) {
    const Measurement& rim = realms[i].measurements.rim;
    if (std::equal(want->begin(), want->end(), rim.begin())) {
      matches.push_back(i);
    }
  }
  const char* result = !want.has_value() ? "algorithm"
                       : matches.empty() ? "none"
                                         : "found";
  if (a.json) {
    OJson doc = OJson::object();
    doc["model"] = ModelJson(a.command);
    doc["hash_algorithm"] = HashAlgorithmName(algorithm);
    doc["token_rim"] = HexBytes(target);
    doc["result"] = result;
    OJson list = OJson::array();
    for (size_t i : matches) {
      OJson m = OJson::object();
      m["shape"] = i + 1;
      OJson params = OJson::object();
      for (const auto& [k, v] : shapes[i].params) params[k] = v;
      m["parameters"] = std::move(params);
      m["vmm_args"] = shapes[i].vmm_args;
      list.push_back(std::move(m));
    }
    doc["matches"] = std::move(list);
    doc["tried"] = shapes.size();
    out << base::JsonText(doc, 2) << "\n";
  } else {
    out << "token RIM: " << HexBytes(target) << "\n";
    if (!want.has_value()) {
      out << "the token's RIM has " << target.size()
          << " significant bytes; the shapes are "
          << HashAlgorithmName(algorithm) << " realms (" << HashSize(algorithm)
          << "): check the VMM's measurement algorithm option\n";
    }
    for (size_t i : matches) {
      out << "match: shape " << i + 1 << "/" << shapes.size() << ": "
          << SweepParamsText(shapes[i].params) << "\n";
    }
    if (want.has_value()) {
      out << "tried " << shapes.size() << " shapes";
      if (matches.empty()) {
        out << "; none gives the token's RIM (without --sweep, --find-rim "
               "tries the host capabilities)";
      }
      out << "\n";
    }
  }
  out.flush();
  return matches.empty() ? 3 : 0;
}

// A sweep: each shape runs the single-shape flow into a buffer, so every
// entry is exactly what an individual run prints. Granule digests are
// shared through one cache and one pool.
int RunSweep(const ParsedArgs& a, const CliEnvironment& env,
             const MeasureOptions& measure, std::ostream& out,
             std::ostream& err) {
  // One DTB or one JSON template per run can not hold several shapes; the
  // CBOR outputs can (one CoMID with a reference triple per shape).
  if (a.values.count("output-dtb") || a.values.count("endorsements-output") ||
      a.values.count("compare-log")) {
    return Usage(err,
                 "--sweep/--sweep-shape can not be combined with --output-dtb, "
                 "--endorsements-output or --compare-log");
  }
  // --find-rim with a sweep: which shape gives the token's RIM.
  std::optional<std::vector<uint8_t>> find_rim;
  if (auto it = a.values.find("find-rim"); it != a.values.end()) {
    if (a.no_measurements || a.values.count("corim-output") ||
        a.values.count("comid-output")) {
      return Usage(err,
                   "--find-rim can not be combined with --no-measurements, "
                   "--corim-output or --comid-output");
    }
    absl::StatusOr<FindRimInput> rim = FindRimTarget(it->second, env);
    if (!rim.ok()) return FindRimTargetError(err, rim.status());
    find_rim = std::move(rim->rim);
  }
  absl::StatusOr<std::vector<SweepShape>> shapes =
      ExpandSweep(a.sweep_axes, a.sweep_shapes, a.vmm_args);
  if (!shapes.ok()) return Usage(err, shapes.status().message());
  // Shapes are independent: the first runs alone and fills the digest
  // cache, then the others run concurrently, their RIM chains in lockstep
  // (measure/sweep_runner.h). Output is buffered per shape and printed in
  // order.
  const size_t n = shapes->size();
  std::vector<std::string> outs(n), errs(n);
  std::vector<int> rcs(n, 0);
  std::vector<MeasuredRealm> realms(n);
  auto run_one = [&](size_t i, const MeasureOptions& options) {
    std::ostringstream o, e;
    // The endorsement inputs are checked once, with the first shape.
    rcs[i] = RunShape(a, (*shapes)[i].vmm_args, env, options, o, e, &realms[i],
                      /*check_endorsements=*/i == 0);
    outs[i] = o.str();
    errs[i] = e.str();
  };
  run_one(0, measure);
  if (rcs[0] == 0 && n > 1) {
    const ChainBatch::Stats st = measure::RunRemainingShapes(
        n, measure.hasher != nullptr ? measure.hasher->threads() : 1,
        realms[0].measurements.hash_algorithm,
        [&](size_t i, ChainBatch* batch) {
          MeasureOptions options = measure;
          options.chain_batch = batch;
          run_one(i, options);
          return rcs[i] == 0;
        });
    if (a.verbose >= 1) {
      err << "DEBUG sweep: " << st.distinct << " RIM chains over cached "
          << "payloads (" << st.granules << " granules) in " << st.steps
          << " multi-buffer steps, " << st.requests - st.distinct
          << " shared by shapes with the same start\n";
    }
  }
  // The per-shape errors first, in order; then, when every shape measured,
  // the one CoRIM/CoMID for all of them (encoded and signed before the
  // first file is written, as for a single run).
  for (size_t i = 0; i < n; ++i) {
    err << errs[i];
    if (rcs[i] != 0) {
      err << "ERROR sweep: shape " << i + 1 << "/" << n << " ("
          << SweepParamsText((*shapes)[i].params) << ") failed\n";
      return rcs[i];
    }
  }
  if (find_rim.has_value())
    return FindRimInSweep(a, *shapes, realms, *find_rim, out);
  std::vector<EndorsementFile> cbor_files;
  if (!a.no_measurements &&
      (a.values.count("corim-output") || a.values.count("comid-output"))) {
    const EndorsementOptions endorse = EndorsementOptionsFrom(a, env);
    absl::StatusOr<std::vector<EndorsementFile>> files =
        BuildEndorsements(endorse, realms);
    if (!files.ok()) {
      PrintError(err, kStageMeasure, files.status());
      return 1;
    }
    OutputSet outputs;
    for (const EndorsementFile& f : *files) {
      outputs.Add(f.path,
                  std::string(f.object.bytes.begin(), f.object.bytes.end()));
    }
    if (env.staged_outputs != nullptr) {
      for (const OutputSet::File& f : outputs.files()) {
        env.staged_outputs->Add(f.path, f.data, f.mode);
      }
    } else if (absl::Status s = outputs.Commit(); !s.ok()) {
      PrintError(err, kStageMeasure, NameOutput(s, FilesOf(a, env).outputs));
      return 1;
    }
    for (const EndorsementFile& f : *files) {
      if (a.verbose >= 1) {
        err << "DEBUG wrote " << f.kind << " " << f.path << " ("
            << f.object.bytes.size() << " bytes, " << n
            << " reference values), media type " << f.object.media_type << "\n";
      }
    }
    cbor_files = *std::move(files);
  }
  OJson docs = OJson::array();
  for (size_t i = 0; i < shapes->size(); ++i) {
    const SweepShape& shape = (*shapes)[i];
    std::istringstream one(outs[i]);
    if (a.json) {
      OJson entry = OJson::object();
      entry["shape"] = i + 1;
      OJson params = OJson::object();
      for (const auto& [k, v] : shape.params) params[k] = v;
      entry["parameters"] = std::move(params);
      entry["vmm_args"] = shape.vmm_args;
      entry["result"] = a.no_measurements
                            ? OJson(nullptr)
                            : OJson::parse(one.str(), nullptr, false);
      docs.push_back(std::move(entry));
    } else {
      out << "# shape " << i + 1 << "/" << shapes->size() << ": "
          << SweepParamsText(shape.params) << "\n"
          << one.str();
      if (i + 1 < shapes->size()) out << "\n";
    }
  }
  if (a.json) {
    OJson doc = OJson::object();
    doc["shapes"] = std::move(docs);
    if (!cbor_files.empty()) {
      OJson list = OJson::array();
      for (const EndorsementFile& f : cbor_files) {
        OJson e = OJson::object();
        e["kind"] = f.kind;
        e["path"] = f.path;
        e["size"] = f.object.bytes.size();
        e["media_type"] = f.object.media_type;
        e["reference_values"] = n;
        list.push_back(std::move(e));
      }
      doc["endorsements"] = std::move(list);
    }
    out << base::JsonText(doc, 2) << "\n";
  }
  out.flush();
  return 0;
}

// --find-rim RIM: which single change of a host capability or of the RMM
// version turns the computed RIM into the token's (the parameters a log
// would show, when no event log is at hand). Payload digests are computed
// once and shared by every try (DigestCache in `measure`).
int RunFindRim(const ParsedArgs& a, const CliEnvironment& env,
               const MeasureOptions& measure, std::ostream& out,
               std::ostream& err) {
  for (const char* o : {"output-dtb", "endorsements-output", "corim-output",
                        "comid-output", "compare-log"}) {
    if (a.values.count(o)) {
      return Usage(err, absl::StrCat("--find-rim can not be combined with --",
                                     o, " (it measures many realms)"));
    }
  }
  if (a.no_measurements) {
    return Usage(err, "--find-rim can not be combined with --no-measurements");
  }
  absl::StatusOr<FindRimInput> target =
      FindRimTarget(a.values.at("find-rim"), env);
  if (!target.ok()) return FindRimTargetError(err, target.status());

  MeasureRequest request = RequestOf(a, a.vmm_args, env, measure);
  request.on_warnings = [&](const std::vector<std::string>& warnings) {
    for (const std::string& w : warnings) err << "WARN " << w << "\n";
  };
  absl::StatusOr<MeasureResult> base = Measure(request);
  if (!base.ok()) {
    std::optional<MeasureFailure> failure = MeasureFailureOf(base.status());
    const bool measuring =
        failure.has_value() && (failure->stage == MeasureStage::kMeasure ||
                                failure->stage == MeasureStage::kReport);
    PrintError(err, measuring ? kStageMeasure : kStageBuild, base.status());
    return 1;
  }
  absl::StatusOr<RimSearchResult> search = measure::SearchRim(
      request, *base, target->rim,
      {measure.hasher != nullptr ? measure.hasher->threads() : 1,
       a.find_rim_pairs});
  if (!search.ok()) {
    PrintError(err, kStageMeasure, search.status());
    return 1;
  }
  using Verdict = RimSearchResult::Verdict;
  const RimSearchResult& r = *search;
  const int status =
      r.verdict == Verdict::kFound || r.verdict == Verdict::kSame ? 0 : 3;
  const std::string computed = HexBytes(r.computed);
  const std::string want = HexBytes(r.target);
  // A token also carries the personalization value, which a verifier
  // compares as well: a different one is worth saying even when the RIM
  // is explained.
  const std::string computed_rpv = HexBytes(base->personalization_value);
  const std::optional<std::string> token_rpv =
      target->rpv.has_value() ? std::optional(HexBytes(*target->rpv))
                              : std::nullopt;

  const char* verdict = "none";
  switch (r.verdict) {
    case Verdict::kOtherAlgorithm:
      verdict = "algorithm";
      break;
    case Verdict::kSame:
      verdict = "same";
      break;
    case Verdict::kFound:
      verdict = "found";
      break;
    case Verdict::kNone:
      break;
  }
  if (a.json) {
    OJson doc = OJson::object();
    doc["model"] = ModelJson(a.command);
    doc["hash_algorithm"] = HashAlgorithmName(r.algorithm);
    doc["rmm_version"] = RmmVersionName(r.rmm_version);
    doc["computed_rim"] = computed;
    doc["token_rim"] = want;
    doc["result"] = verdict;
    // Each match as its option text and, for programs, as the realm
    // parameters it sets (the names of "realm_parameters").
    OJson list = OJson::array(), changes = OJson::array();
    for (const measure::RimSearchCandidate& c : r.matches) {
      list.push_back(c.option);
      const HostCaps& h = c.change;
      OJson change = OJson::object();
      if (h.ipa_bits.has_value()) change["ipa_bits"] = *h.ipa_bits;
      if (h.num_bps.has_value()) change["num_bps"] = *h.num_bps;
      if (h.num_wps.has_value()) change["num_wps"] = *h.num_wps;
      if (h.sve_vl.has_value()) change["sve_vl"] = *h.sve_vl;
      if (h.pmu.has_value()) change["pmu"] = *h.pmu;
      if (h.pmu_num_ctrs.has_value()) change["pmu_num_ctrs"] = *h.pmu_num_ctrs;
      if (h.lpa2.has_value()) change["lpa2"] = *h.lpa2;
      if (h.rmm_version.has_value())
        change["rmm_version"] = RmmVersionName(*h.rmm_version);
      changes.push_back(std::move(change));
    }
    doc["matches"] = std::move(list);
    doc["changes"] = std::move(changes);
    doc["tried"] = r.tried;
    doc["refused"] = r.refused;
    doc["tried_pairs"] = r.tried_pairs;
    if (token_rpv.has_value()) {
      doc["token_rpv"] = *token_rpv;
      doc["computed_rpv"] = computed_rpv;
    }
    out << base::JsonText(doc, 2) << "\n";
    return status;
  }
  out << "computed RIM: " << computed << " (" << HashAlgorithmName(r.algorithm)
      << ", RMM " << RmmVersionName(r.rmm_version) << ")\n"
      << "token RIM:    " << want << "\n";
  if (token_rpv.has_value() && *token_rpv != computed_rpv) {
    out << "token RPV:    " << *token_rpv << " (the command line gives "
        << computed_rpv
        << "; a verifier compares it too: check the VMM's personalization "
           "value option)\n";
  }
  if (r.verdict == Verdict::kOtherAlgorithm) {
    out << "the token's RIM has " << r.target.size()
        << " significant bytes; the VMM arguments select "
        << HashAlgorithmName(r.algorithm) << " (" << HashSize(r.algorithm)
        << "): check the VMM's measurement algorithm option\n";
    return status;
  }
  if (r.verdict == Verdict::kSame) {
    out << "the command line already gives this RIM\n";
    return status;
  }
  for (const measure::RimSearchCandidate& c : r.matches) {
    out << "match: " << c.option << "\n";
  }
  out << "tried " << r.tried - r.tried_pairs
      << " other realms, each with one host capability or the RMM version "
         "changed";
  if (const size_t refused = r.refused - r.refused_pairs; refused > 0) {
    out << " (" << refused << (refused == 1 ? " setting" : " settings")
        << " refused)";
  }
  if (r.tried_pairs > 0 || r.refused_pairs > 0) {
    out << ", then " << r.tried_pairs << " with two changed";
    if (r.refused_pairs > 0) out << " (" << r.refused_pairs << " refused)";
  }
  out << "\n";
  if (r.verdict == Verdict::kNone) {
    out << (a.find_rim_pairs ? "no change of one or two" : "no single change")
        << " of a host capability or of the RMM version gives the token's "
           "RIM: the difference is in the payload images, the VMM arguments "
           "(memory, vCPUs, devices, boot mode) or the DTB; with the VMM's "
           "event log, --compare-log shows the step\n";
  }
  return status;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const CliEnvironment& env,
           std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    // spec-core §10.3: no arguments -> help on stderr, exit 2.
    err << HelpText();
    return 2;
  }
  absl::StatusOr<ParsedArgs> parsed = Parse(args);
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  ParsedArgs& a = *parsed;
  if (a.help || a.command == "help") {
    out << HelpText();
    return 0;
  }
  if (a.version) {
    out << kVersionLine << "\n";
    return 0;
  }
  // `realm-measurements kvmtool --help`: the model's own arguments.
  if (VmmArgsAskForHelp(a.command, a.vmm_args)) {
    if (std::optional<std::string> help = VmmHelpText(a.command)) {
      out << *help;
      return 0;
    }
  }
  if (a.command.empty()) {
    return Usage(err,
                 "'realm-measurements' requires a subcommand but one was not "
                 "provided\n  [subcommands: qemu, kvmtool, cloud-hv, help]");
  }
  if (a.find_rim_pairs && (!a.values.count("find-rim") ||
                           !a.sweep_axes.empty() || !a.sweep_shapes.empty())) {
    return Usage(err,
                 "--find-rim-pairs needs --find-rim and no --sweep or "
                 "--sweep-shape (a sweep searches its shapes)");
  }
  // Paths before any work (issue 14): no device or FIFO is read, no input
  // or special file is overwritten.
  const CommandLineFiles files = FilesOf(a, env);
  if (absl::Status s = CheckInputPaths(files.inputs); !s.ok()) {
    PrintError(err, kStageArgs, s);
    return 1;
  }
  if (absl::Status s = CheckOutputPaths(files.inputs, files.outputs); !s.ok()) {
    PrintError(err, kStageArgs, s);
    return 1;
  }
  GranuleHasherOptions hasher_options;
  hasher_options.threads = a.threads;
  GranuleHasher hasher(hasher_options);
  MeasureOptions measure;
  measure.hasher = &hasher;
  DigestCache cache;
  if (a.values.count("find-rim") && a.sweep_axes.empty() &&
      a.sweep_shapes.empty()) {
    measure.cache = &cache;
    return RunFindRim(a, env, measure, out, err);
  }
  if (a.sweep_axes.empty() && a.sweep_shapes.empty()) {
    return RunShape(a, a.vmm_args, env, measure, out, err);
  }
  measure.cache = &cache;
  return RunSweep(a, env, measure, out, err);
}

}  // namespace realm_measurements::cli
