#include "measure/host_caps.h"

#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "measure/toml_limits.h"
#include "toml++/toml.h"

namespace realm_measurements::measure {
namespace {

// Key order of the reference's RealmParams (spec-core §11); also the order of
// the "expected one of" list in unknown-key errors.
// `rmm_version` (spec-rmm2 §2) is ours and comes last.
constexpr const char* kKeys[] = {"ipa_bits", "num_bps",      "num_wps",
                                 "sve_vl",   "pmu_num_ctrs", "pmu",
                                 "lpa2",     "hash_algo",    "rmm_version"};

// The two accepted spellings of `hash_algo` (the reference deserializes the
// Rust enum RmiHashAlgorithm by variant name, spec-core §11).
constexpr const char* kHashAlgoVariants[] = {"RmiHashSha256", "RmiHashSha512"};

// Replaces control characters so every message stays on one line.
std::string OneLine(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string Where(const toml::source_position& p) {
  return absl::StrFormat("line %u, column %u", p.line, p.column);
}

absl::Status ParseError(absl::string_view name, const toml::source_position& p,
                        absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid VM configuration: cannot parse ", OneLine(name),
                   ": TOML parse error at ", Where(p), ": ", OneLine(what)));
}

const char* TypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

// Reads an integer key into T, rejecting other types and values that do not
// fit T (the reference's field types are u8/u16).
template <typename T>
absl::Status ReadUnsigned(absl::string_view name, absl::string_view key,
                          const toml::node& node, std::optional<T>& out) {
  constexpr int64_t kMax = std::numeric_limits<T>::max();
  const std::string range = absl::StrCat("0..=", kMax);
  const auto* v = node.as_integer();
  if (v == nullptr) {
    return ParseError(
        name, node.source().begin,
        absl::StrCat("invalid type for `", key, "`: expected ", "integer in ",
                     range, ", found ", TypeName(node.type())));
  }
  const int64_t x = v->get();
  if (x < 0 || x > kMax) {
    return ParseError(name, node.source().begin,
                      absl::StrCat("invalid value for `", key, "`: ", x,
                                   " is not in ", range));
  }
  out = static_cast<T>(x);
  return absl::OkStatus();
}

absl::Status ReadBool(absl::string_view name, absl::string_view key,
                      const toml::node& node, std::optional<bool>& out) {
  const auto* v = node.as_boolean();
  if (v == nullptr) {
    return ParseError(
        name, node.source().begin,
        absl::StrCat("invalid type for `", key, "`: expected boolean, found ",
                     TypeName(node.type())));
  }
  out = v->get();
  return absl::OkStatus();
}

absl::Status ReadHashAlgo(absl::string_view name, const toml::node& node,
                          std::optional<std::string>& out) {
  const auto* v = node.as_string();
  if (v == nullptr) {
    return ParseError(name, node.source().begin,
                      absl::StrCat("invalid type for `hash_algo`: expected "
                                   "string, found ",
                                   TypeName(node.type())));
  }
  for (const char* variant : kHashAlgoVariants) {
    if (v->get() == absl::string_view(variant)) {
      out = variant;
      return absl::OkStatus();
    }
  }
  return ParseError(name, node.source().begin,
                    absl::StrCat("unknown variant `",
                                 absl::CHexEscape(absl::string_view(v->get())),
                                 "`, expected `", kHashAlgoVariants[0],
                                 "` or `", kHashAlgoVariants[1], "`"));
}

absl::Status ReadRmmVersion(absl::string_view name, const toml::node& node,
                            std::optional<RmmVersion>& out) {
  const auto* v = node.as_string();
  if (v == nullptr) {
    return ParseError(name, node.source().begin,
                      absl::StrCat("invalid type for `rmm_version`: expected "
                                   "string \"1.0\" or \"2.0\", found ",
                                   TypeName(node.type())));
  }
  absl::StatusOr<RmmVersion> version = ParseRmmVersion(v->get());
  if (!version.ok()) {
    return ParseError(name, node.source().begin,
                      absl::StrCat("invalid value for `rmm_version`: `",
                                   absl::CHexEscape(v->get()),
                                   "`, expected \"1.0\" or \"2.0\""));
  }
  out = *version;
  return absl::OkStatus();
}

std::string UnknownKeyMessage(absl::string_view key) {
  std::string expected;
  for (const char* k : kKeys) {
    absl::StrAppend(&expected, expected.empty() ? "" : ", ", "`", k, "`");
  }
  return absl::StrCat("unknown field `", absl::CHexEscape(key),
                      "`, expected one of ", expected);
}

bool IsValidSveVl(int v) {
  // spec-core §5.1: 0 disables SVE; otherwise any multiple of 128 bits up to
  // the architectural maximum of 2048 (not limited to powers of two).
  return v == 0 || (v >= 128 && v <= 2048 && v % 128 == 0);
}

// Restrict(old, new) of spec-core §5.2: keep the smaller, with false < true.
template <typename T>
void RestrictValue(std::optional<T>& cur, T v) {
  if (!cur.has_value() || v <= *cur) cur = v;
}

// Validates every field set in `c` in the reference's order (ipa_bits,
// num_bps, num_wps, pmu_num_ctrs, sve_vl) so the first error is the same.
absl::Status ValidateAll(const HostCaps& c) {
  if (c.num_bps) {
    if (absl::Status s = ValidateNumBps(*c.num_bps); !s.ok()) return s;
  }
  if (c.num_wps) {
    if (absl::Status s = ValidateNumWps(*c.num_wps); !s.ok()) return s;
  }
  if (c.pmu_num_ctrs) {
    if (absl::Status s = ValidatePmuNumCtrs(*c.pmu_num_ctrs); !s.ok()) {
      return s;
    }
  }
  if (c.sve_vl) {
    if (absl::Status s = ValidateSveVl(*c.sve_vl); !s.ok()) return s;
  }
  return absl::OkStatus();
}

template <typename T>
std::string Show(const std::optional<T>& v) {
  if (!v.has_value()) return "unset";
  if constexpr (std::is_same_v<T, bool>) {
    return *v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return *v;
  } else if constexpr (std::is_same_v<T, RmmVersion>) {
    return RmmVersionName(*v);
  } else {
    return absl::StrCat(static_cast<unsigned>(*v));
  }
}

}  // namespace

absl::Status ValidateNumBps(int v) {
  // spec-core §5.1: 2..64 (the reference's help text says 2-16).
  if (v < 2 || v > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid parameter breakpoints '", v, "'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateNumWps(int v) {
  if (v < 2 || v > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid parameter watchpoints '", v, "'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSveVl(int v) {
  if (!IsValidSveVl(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid parameter SVE vector length '", v, "'"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePmuNumCtrs(int v) {
  // spec-core §5.1: at most 31 event counters (PMCR_EL0.N is 5 bits).
  if (v < 0 || v > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid parameter PMU counters '", v, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<HostCaps> HostCaps::FromToml(absl::string_view text,
                                            absl::string_view name) {
  if (absl::Status s = CheckTomlLimits(
          text, TomlLimits{kMaxHostCapsTomlBytes, kMaxHostCapsTomlDepth});
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid VM configuration: cannot parse ", OneLine(name),
                     ": ", s.message()));
  }
  toml::table table;
  try {
    table = toml::parse(std::string_view(text.data(), text.size()),
                        std::string_view(name.data(), name.size()));
  } catch (const toml::parse_error& e) {
    const std::string_view what = e.description();
    return ParseError(name, e.source().begin,
                      absl::string_view(what.data(), what.size()));
  } catch (const std::exception& e) {
    // E.g. std::bad_alloc; never let an exception escape the Status API.
    return absl::InvalidArgumentError(
        absl::StrCat("invalid VM configuration: cannot parse ", OneLine(name),
                     ": ", OneLine(e.what())));
  }

  HostCaps caps;
  for (auto&& [key, node] : table) {
    const absl::string_view k(key.str().data(), key.str().size());
    absl::Status s;
    if (k == "ipa_bits") {
      s = ReadUnsigned(name, k, node, caps.ipa_bits);
    } else if (k == "num_bps") {
      s = ReadUnsigned(name, k, node, caps.num_bps);
    } else if (k == "num_wps") {
      s = ReadUnsigned(name, k, node, caps.num_wps);
    } else if (k == "sve_vl") {
      s = ReadUnsigned(name, k, node, caps.sve_vl);
    } else if (k == "pmu_num_ctrs") {
      s = ReadUnsigned(name, k, node, caps.pmu_num_ctrs);
    } else if (k == "pmu") {
      s = ReadBool(name, k, node, caps.pmu);
    } else if (k == "lpa2") {
      s = ReadBool(name, k, node, caps.lpa2);
    } else if (k == "hash_algo") {
      s = ReadHashAlgo(name, node, caps.hash_algo);
    } else if (k == "rmm_version") {
      s = ReadRmmVersion(name, node, caps.rmm_version);
    } else {
      s = ParseError(name, key.source().begin, UnknownKeyMessage(k));
    }
    if (!s.ok()) return s;
  }
  return caps;
}

absl::Status HostCaps::Update(const HostCaps& other) {
  // Validate everything first so a failed update changes nothing.
  if (absl::Status s = ValidateAll(other); !s.ok()) return s;
  if (other.ipa_bits) ipa_bits = other.ipa_bits;
  if (other.num_bps) num_bps = other.num_bps;
  if (other.num_wps) num_wps = other.num_wps;
  if (other.pmu_num_ctrs) pmu_num_ctrs = other.pmu_num_ctrs;
  if (other.sve_vl) sve_vl = other.sve_vl;
  if (other.pmu) pmu = other.pmu;
  if (other.lpa2) lpa2 = other.lpa2;
  if (other.rmm_version) rmm_version = other.rmm_version;
  // hash_algo is deliberately not merged (spec-core §5.2).
  return absl::OkStatus();
}

absl::Status HostCaps::Restrict(const HostCaps& other) {
  // Values are validated even when they would not be applied (§5.2).
  if (absl::Status s = ValidateAll(other); !s.ok()) return s;
  if (other.ipa_bits) RestrictValue(ipa_bits, *other.ipa_bits);
  if (other.num_bps) RestrictValue(num_bps, *other.num_bps);
  if (other.num_wps) RestrictValue(num_wps, *other.num_wps);
  if (other.pmu_num_ctrs) RestrictValue(pmu_num_ctrs, *other.pmu_num_ctrs);
  if (other.sve_vl) RestrictValue(sve_vl, *other.sve_vl);
  if (other.pmu) RestrictValue(pmu, *other.pmu);
  if (other.lpa2) RestrictValue(lpa2, *other.lpa2);
  // 1.0 < 2.0: a later file can say the platform runs the older RMM.
  if (other.rmm_version) RestrictValue(rmm_version, *other.rmm_version);
  return absl::OkStatus();
}

std::string HostCaps::DebugString() const {
  return absl::StrCat(
      "HostCaps{ipa_bits: ", Show(ipa_bits), ", num_bps: ", Show(num_bps),
      ", num_wps: ", Show(num_wps), ", sve_vl: ", Show(sve_vl),
      ", pmu_num_ctrs: ", Show(pmu_num_ctrs), ", pmu: ", Show(pmu),
      ", lpa2: ", Show(lpa2), ", hash_algo: ", Show(hash_algo),
      ", rmm_version: ", Show(rmm_version), "}");
}

}  // namespace realm_measurements::measure
