#include "measure/host_caps.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

// Expected values are spec texts (spec-core §5.1, §11, §13) or hand-derived
// from the merge rules of §5.2/§5.3, never output of this code.

std::string ReadRunfile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

HostCaps MustParse(absl::string_view text, absl::string_view name = "t.conf") {
  absl::StatusOr<HostCaps> c = HostCaps::FromToml(text, name);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : HostCaps();
}

struct Expected {
  std::optional<uint8_t> ipa_bits, num_bps, num_wps;
  std::optional<uint16_t> sve_vl;
  std::optional<uint8_t> pmu_num_ctrs;
  std::optional<bool> pmu, lpa2;
};

void ExpectCaps(const HostCaps& c, const Expected& e) {
  EXPECT_EQ(c.ipa_bits, e.ipa_bits);
  EXPECT_EQ(c.num_bps, e.num_bps);
  EXPECT_EQ(c.num_wps, e.num_wps);
  EXPECT_EQ(c.sve_vl, e.sve_vl);
  EXPECT_EQ(c.pmu_num_ctrs, e.pmu_num_ctrs);
  EXPECT_EQ(c.pmu, e.pmu);
  EXPECT_EQ(c.lpa2, e.lpa2);
}

// --- Validators (spec-core §5.1) -------------------------------------------

struct ValidatorCase {
  const char* what;
  absl::Status (*fn)(int);
  int value;
  const char* error;  // nullptr: valid
};

TEST(HostCapsValidators, AcceptAndRejectWithReferenceTexts) {
  const ValidatorCase cases[] = {
      {"bps min", ValidateNumBps, 2, nullptr},
      {"bps max", ValidateNumBps, 64, nullptr},
      {"bps 1", ValidateNumBps, 1, "invalid parameter breakpoints '1'"},
      {"bps 0", ValidateNumBps, 0, "invalid parameter breakpoints '0'"},
      {"bps 65", ValidateNumBps, 65, "invalid parameter breakpoints '65'"},
      {"bps -1", ValidateNumBps, -1, "invalid parameter breakpoints '-1'"},
      {"wps min", ValidateNumWps, 2, nullptr},
      {"wps max", ValidateNumWps, 64, nullptr},
      {"wps 1", ValidateNumWps, 1, "invalid parameter watchpoints '1'"},
      {"wps 65", ValidateNumWps, 65, "invalid parameter watchpoints '65'"},
      {"sve 0", ValidateSveVl, 0, nullptr},
      {"sve 128", ValidateSveVl, 128, nullptr},
      {"sve 384", ValidateSveVl, 384, nullptr},  // not only powers of two
      {"sve 2048", ValidateSveVl, 2048, nullptr},
      {"sve 100", ValidateSveVl, 100,
       "invalid parameter SVE vector length '100'"},
      {"sve 64", ValidateSveVl, 64, "invalid parameter SVE vector length '64'"},
      {"sve 272", ValidateSveVl, 272,
       "invalid parameter SVE vector length '272'"},
      {"sve 2176", ValidateSveVl, 2176,
       "invalid parameter SVE vector length '2176'"},
      {"sve 4096", ValidateSveVl, 4096,
       "invalid parameter SVE vector length '4096'"},
      {"ctrs 0", ValidatePmuNumCtrs, 0, nullptr},
      {"ctrs 31", ValidatePmuNumCtrs, 31, nullptr},
      {"ctrs 32", ValidatePmuNumCtrs, 32,
       "invalid parameter PMU counters '32'"},
      {"ctrs -1", ValidatePmuNumCtrs, -1,
       "invalid parameter PMU counters '-1'"},
  };
  for (const ValidatorCase& c : cases) {
    SCOPED_TRACE(c.what);
    absl::Status s = c.fn(c.value);
    if (c.error == nullptr) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message(), c.error);
    }
  }
}

// --- Parsing (spec-core §11) ------------------------------------------------

TEST(HostCapsFromToml, ParsesEveryKey) {
  HostCaps c = MustParse(
      "# comment\n"
      "ipa_bits = 48\nnum_bps = 6\nnum_wps = 4\nsve_vl = 384\n"
      "pmu_num_ctrs = 31\npmu = false\nlpa2 = true\n"
      "hash_algo = \"RmiHashSha512\"\n");
  ExpectCaps(c, {48, 6, 4, 384, 31, false, true});
  EXPECT_EQ(c.hash_algo, "RmiHashSha512");
}

TEST(HostCapsFromToml, EmptyAndCommentOnlyLeaveAllUnset) {
  for (const char* text : {"", "# nothing\n", "\n\n"}) {
    SCOPED_TRACE(text);
    HostCaps c = MustParse(text);
    ExpectCaps(c, {});
    EXPECT_FALSE(c.hash_algo.has_value());
  }
}

TEST(HostCapsFromToml, TypeRangesAreTheFieldTypes) {
  // Parsing checks only the u8/u16 ranges; the validators run on merge.
  HostCaps c = MustParse(
      "ipa_bits = 255\nnum_bps = 0\nsve_vl = 65535\n"
      "pmu_num_ctrs = 255\n");
  ExpectCaps(c, {255, 0, std::nullopt, 65535, 255});
  // TOML integer spellings are accepted.
  c = MustParse("ipa_bits = 0x30\nsve_vl = 1_024\n");
  ExpectCaps(c, {48, std::nullopt, std::nullopt, 1024});
}

struct ParseErrorCase {
  const char* what;
  const char* text;
  const char* message;  // exact
};

TEST(HostCapsFromToml, ErrorsAreOneLineWithNameKeyAndPosition) {
  const ParseErrorCase cases[] = {
      {"unknown key", "num_bps = 6\nfrobnicate = 1\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 2, column 1: unknown field `frobnicate`, expected one of "
       "`ipa_bits`, `num_bps`, `num_wps`, `sve_vl`, `pmu_num_ctrs`, `pmu`, "
       "`lpa2`, `hash_algo`, `rmm_version`"},
      {"table is an unknown key", "[host]\nnum_bps = 6\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 2: unknown field `host`, expected one of `ipa_bits`, "
       "`num_bps`, `num_wps`, `sve_vl`, `pmu_num_ctrs`, `pmu`, `lpa2`, "
       "`hash_algo`, `rmm_version`"},
      {"bool as string", "pmu = \"yes\"\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 7: invalid type for `pmu`: expected boolean, found "
       "string"},
      {"bool as integer", "lpa2 = 1\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 8: invalid type for `lpa2`: expected boolean, found "
       "integer"},
      {"u8 negative", "num_bps = -1\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 11: invalid value for `num_bps`: -1 is not in 0..=255"},
      {"u8 too big", "ipa_bits = 300\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 12: invalid value for `ipa_bits`: 300 is not in "
       "0..=255"},
      {"u16 too big", "sve_vl = 65536\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 10: invalid value for `sve_vl`: 65536 is not in "
       "0..=65535"},
      {"int as float", "pmu_num_ctrs = 6.0\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 16: invalid type for `pmu_num_ctrs`: expected integer "
       "in 0..=255, found float"},
      {"int as string", "num_wps = \"4\"\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 11: invalid type for `num_wps`: expected integer in "
       "0..=255, found string"},
      {"int as array", "num_wps = [4]\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 11: invalid type for `num_wps`: expected integer in "
       "0..=255, found array"},
      {"hash_algo short name", "hash_algo = \"sha512\"\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 13: unknown variant `sha512`, expected "
       "`RmiHashSha256` or `RmiHashSha512`"},
      {"hash_algo not a string", "hash_algo = 512\n",
       "invalid VM configuration: cannot parse x.conf: TOML parse error at "
       "line 1, column 13: invalid type for `hash_algo`: expected string, "
       "found integer"},
  };
  for (const ParseErrorCase& c : cases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<HostCaps> r = HostCaps::FromToml(c.text, "x.conf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(HostCapsFromToml, SyntaxErrorsAreOneLineWithPosition) {
  const char* cases[] = {
      "num_bps = \n",
      "num_bps = 6\nnum_bps = 7\n",  // duplicate key
      "pmu = tru\n",
      "= 3\n",
      "a = \"unterminated\n",
      "num_bps = 6 7\n",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    absl::StatusOr<HostCaps> r = HostCaps::FromToml(text, "bad.conf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string m(r.status().message());
    EXPECT_TRUE(absl::StartsWith(
        m,
        "invalid VM configuration: cannot parse bad.conf: TOML parse error "
        "at line "))
        << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(HostCapsFromToml, NameWithControlCharactersStaysOneLine) {
  absl::StatusOr<HostCaps> r = HostCaps::FromToml("x = 1", "a\nb.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find('\n'), absl::string_view::npos);
}

TEST(HostCapsFromToml, KeyWithControlCharactersIsEscaped) {
  absl::StatusOr<HostCaps> r = HostCaps::FromToml("\"a\\nb\" = 1", "k.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "unknown field `a\\nb`"))
      << r.status();
}

TEST(HostCapsFromToml, RejectsOversizedText) {
  std::string big(kMaxHostCapsTomlBytes + 1, '#');
  absl::StatusOr<HostCaps> r = HostCaps::FromToml(big, "big.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "invalid VM configuration: cannot parse big.conf: document is "
            "8193 bytes, more than the limit of 8192 bytes");
  // Exactly at the limit is parsed (a comment line).
  big.pop_back();
  EXPECT_TRUE(HostCaps::FromToml(big, "big.conf").ok());
}

// toml++ named the character before a bad UTF-8 sequence (line 2, column
// 12 here: the end of the previous line); the limits scan names it.
TEST(HostCapsFromToml, InvalidUtf8IsNamedWhereItIs) {
  absl::StatusOr<HostCaps> r =
      HostCaps::FromToml("num_wps = 6\nnum_bps = 6\n\xff\xfe = 3\n", "x.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "invalid VM configuration: cannot parse x.conf: invalid UTF-8 "
            "sequence at line 3, column 1 (TOML documents are UTF-8)");
}

// Issue 14: these documents crashed toml++ (stack overflow, exit 139) in
// the CLI (-c) and the server (host_caps_toml). They are refused before
// the parser runs, whatever the size limit: the nesting is checked first
// within the first kMaxHostCapsTomlBytes.
std::string Repeat(absl::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

TEST(HostCapsFromToml, IssueReproductionsAreRefusedNotCrashed) {
  const std::string docs[] = {
      "a" + Repeat(".a", 40000) + " = 1",
      "[a" + Repeat(".a", 40000) + "]",
      "a = {b" + Repeat(".b", 400000) + " = 1}",
  };
  for (const std::string& doc : docs) {
    absl::StatusOr<HostCaps> r = HostCaps::FromToml(doc, "deep.conf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(r.status().message(),
                                 "invalid VM configuration: cannot parse "
                                 "deep.conf: document is "))
        << r.status();
  }
}

TEST(HostCapsFromToml, DeepNestingWithinTheSizeLimitIsRefused) {
  // Small enough for the size limit; the depth limit names the line.
  const std::string docs[] = {
      "pmu = true\na" + Repeat(".a", 2000) + " = 1",
      "[a" + Repeat(".a", 2000) + "]",
      "a = {b" + Repeat(".b", 2000) + " = 1}",
      "a = " + Repeat("[", 3000),
      "a = " + Repeat("{b = ", 1500),
  };
  for (const std::string& doc : docs) {
    absl::StatusOr<HostCaps> r = HostCaps::FromToml(doc, "deep.conf");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::StrContains(
        r.status().message(),
        "invalid VM configuration: cannot parse deep.conf: nesting depth "
        "exceeds the limit of 4 at line "))
        << r.status();
  }
  // Shallow structure still reaches the parser and its precise message.
  absl::StatusOr<HostCaps> r = HostCaps::FromToml("a.b = 1", "t.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "unknown field `a`"))
      << r.status();
}

// --- Update / Restrict (spec-core §5.2) -------------------------------------

TEST(HostCapsRestrict, SetsUnsetAndOnlyLowers) {
  HostCaps c;
  ASSERT_TRUE(c.Restrict(MustParse("ipa_bits = 48\nnum_bps = 6\n")).ok());
  ASSERT_TRUE(c.Restrict(MustParse("ipa_bits = 52\nnum_bps = 4\n"
                                   "num_wps = 8\n"))
                  .ok());
  ExpectCaps(c, {48, 4, 8});
}

TEST(HostCapsRestrict, FalseWinsOverTrue) {
  HostCaps c;
  ASSERT_TRUE(c.Restrict(MustParse("pmu = true\nlpa2 = false\n")).ok());
  ASSERT_TRUE(c.Restrict(MustParse("pmu = false\nlpa2 = true\n")).ok());
  EXPECT_EQ(c.pmu, false);
  EXPECT_EQ(c.lpa2, false);
  ASSERT_TRUE(c.Restrict(MustParse("pmu = true\n")).ok());
  EXPECT_EQ(c.pmu, false);
}

TEST(HostCapsRestrict, ValidatesEvenWhenNotApplied) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      // 65 > 2 would not be applied, it is still rejected.
      {"num_bps = 65\n", "invalid parameter breakpoints '65'"},
      {"num_wps = 1\n", "invalid parameter watchpoints '1'"},
      {"pmu_num_ctrs = 32\n", "invalid parameter PMU counters '32'"},
      {"sve_vl = 4096\n", "invalid parameter SVE vector length '4096'"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    HostCaps c;
    ASSERT_TRUE(c.Restrict(MustParse("num_bps = 2\nnum_wps = 2\n"
                                     "pmu_num_ctrs = 0\nsve_vl = 0\n"))
                    .ok());
    absl::Status s = c.Restrict(MustParse(k.text));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), k.error);
    // A failed merge changes nothing.
    ExpectCaps(c, {std::nullopt, 2, 2, 0, 0});
  }
}

TEST(HostCapsRestrict, FirstErrorFollowsReferenceFieldOrder) {
  // Reference order: ipa_bits, num_bps, num_wps, pmu_num_ctrs, sve_vl.
  HostCaps c;
  absl::Status s =
      c.Restrict(MustParse("sve_vl = 100\npmu_num_ctrs = 40\nnum_wps = 1\n"));
  EXPECT_EQ(s.message(), "invalid parameter watchpoints '1'");
  s = c.Restrict(MustParse("sve_vl = 100\npmu_num_ctrs = 40\n"));
  EXPECT_EQ(s.message(), "invalid parameter PMU counters '40'");
}

TEST(HostCapsRestrict, IpaBitsIsNotValidatedAndHashAlgoNotMerged) {
  HostCaps c;
  ASSERT_TRUE(c.Restrict(MustParse("ipa_bits = 0\n"
                                   "hash_algo = \"RmiHashSha512\"\n"))
                  .ok());
  EXPECT_EQ(c.ipa_bits, 0);
  EXPECT_FALSE(c.hash_algo.has_value());
  ASSERT_TRUE(c.Update(MustParse("hash_algo = \"RmiHashSha256\"\n")).ok());
  EXPECT_FALSE(c.hash_algo.has_value());
}

TEST(HostCapsUpdate, RaisesAndLowersWithValidation) {
  HostCaps c;
  ASSERT_TRUE(c.Restrict(MustParse("num_bps = 4\npmu = false\n"
                                   "sve_vl = 512\n"))
                  .ok());
  ASSERT_TRUE(c.Update(MustParse("num_bps = 64\npmu = true\nsve_vl = 128\n"
                                 "lpa2 = true\n"))
                  .ok());
  ExpectCaps(c,
             {std::nullopt, 64, std::nullopt, 128, std::nullopt, true, true});
  absl::Status s = c.Update(MustParse("num_wps = 65\n"));
  EXPECT_EQ(s.message(), "invalid parameter watchpoints '65'");
  s = c.Update(MustParse("num_bps = 2\nsve_vl = 2049\n"));
  EXPECT_EQ(s.message(), "invalid parameter SVE vector length '2049'");
  EXPECT_EQ(c.num_bps, 64);  // the failed update applied nothing
}

// --- Shipped configs and the merge example (spec-core §5.3, §11) ------------

TEST(HostCapsShippedConfigs, MatchSpecTable) {
  struct Case {
    const char* path;
    Expected e;
  } cases[] = {
      {"configs/fvp.conf", {52, 16, 16, 512, 8, true, true}},
      {"configs/kvm.conf",
       {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
        std::nullopt, false}},
      {"configs/qemu-max-8.2.conf", {52, 6, 4, 2048, 6, true, true}},
      {"configs/rmm-1.0-eac5.conf",
       {std::nullopt, 2, 2, std::nullopt, std::nullopt, std::nullopt, false}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.path);
    std::string text = ReadRunfile(k.path);
    ASSERT_FALSE(text.empty());
    HostCaps c = MustParse(text, k.path);
    ExpectCaps(c, k.e);
    HostCaps merged;
    EXPECT_TRUE(merged.Restrict(c).ok());
  }
}

// configs/rmm-2.0.conf (spec-rmm2 §2) only selects RMM 2.0.
TEST(HostCapsShippedConfigs, Rmm2) {
  const HostCaps c =
      MustParse(ReadRunfile("configs/rmm-2.0.conf"), "configs/rmm-2.0.conf");
  ExpectCaps(c, {std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                 std::nullopt, std::nullopt, std::nullopt});
  EXPECT_EQ(c.rmm_version, RmmVersion::k2_0);
  for (const char* other :
       {"configs/fvp.conf", "configs/kvm.conf", "configs/qemu-max-8.2.conf",
        "configs/rmm-1.0-eac5.conf"}) {
    EXPECT_FALSE(MustParse(ReadRunfile(other), other).rmm_version.has_value())
        << other;
  }
}

TEST(HostCapsShippedConfigs, FvpPlusRmmInEitherOrder) {
  const HostCaps fvp = MustParse(ReadRunfile("configs/fvp.conf"));
  const HostCaps rmm = MustParse(ReadRunfile("configs/rmm-1.0-eac5.conf"));
  for (bool fvp_first : {true, false}) {
    SCOPED_TRACE(fvp_first);
    HostCaps c;
    ASSERT_TRUE(c.Restrict(fvp_first ? fvp : rmm).ok());
    ASSERT_TRUE(c.Restrict(fvp_first ? rmm : fvp).ok());
    ExpectCaps(c, {52, 2, 2, 512, 8, true, false});
    // --num-bps 16 is an update: it raises.
    HostCaps cli;
    cli.num_bps = 16;
    ASSERT_TRUE(c.Update(cli).ok());
    ExpectCaps(c, {52, 16, 2, 512, 8, true, false});
  }
}

// --- Golden-corpus config files ---------------------------------------------
// Written by testdata/golden/gen_inputs.py (genrule //testdata/golden:inputs).
// Error texts: the golden corpus's "ERROR Cannot build parameters: <msg>".

HostCaps Golden(const std::string& name) {
  const std::string path = "testdata/golden/inputs/" + name;
  std::string text = ReadRunfile(path);
  // Guards against a missing runfile reading as an empty config.
  EXPECT_TRUE(name == "empty.conf" || !text.empty()) << path;
  return MustParse(text, name);
}

TEST(HostCapsGolden, ConfigErrors) {
  struct Case {
    const char* name;
    const char* error;
    bool prefix;
  } cases[] = {
      {"bad-bps.conf", "invalid parameter breakpoints '1'", false},
      {"bad-pmu-ctrs.conf", "invalid parameter PMU counters '32'", false},
      {"bad-sve.conf", "invalid parameter SVE vector length '100'", false},
      // cases-public.json fail-config-unknown-field: stderr_match prefix.
      {"bad-field.conf",
       "invalid VM configuration: cannot parse bad-field.conf: ", true},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    const std::string text =
        ReadRunfile(std::string("testdata/golden/inputs/") + k.name);
    ASSERT_FALSE(text.empty());
    HostCaps c;
    absl::StatusOr<HostCaps> f = HostCaps::FromToml(text, k.name);
    absl::Status s = f.ok() ? c.Restrict(*f) : f.status();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    if (k.prefix) {
      EXPECT_TRUE(absl::StartsWith(s.message(), k.error)) << s;
      EXPECT_EQ(s.message().find('\n'), absl::string_view::npos);
    } else {
      EXPECT_EQ(s.message(), k.error);
    }
  }
}

TEST(HostCapsGolden, ValidConfigsParseAndRestrict) {
  for (const char* name :
       {"empty.conf", "hash512.conf", "host-fvp.conf", "host-max.conf",
        "host-small.conf", "kvm.conf", "pmu3-sve256.conf", "raise.conf",
        "rmm.conf", "sve384.conf"}) {
    SCOPED_TRACE(name);
    HostCaps c;
    EXPECT_TRUE(c.Restrict(Golden(name)).ok());
  }
  HostCaps c;
  ASSERT_TRUE(c.Restrict(Golden("sve384.conf")).ok());
  EXPECT_EQ(c.sve_vl, 384);
}

TEST(HostCapsGolden, Hash512IsAcceptedAndIgnored) {
  const HostCaps f = Golden("hash512.conf");
  EXPECT_EQ(f.hash_algo, "RmiHashSha512");
  HostCaps c;
  ASSERT_TRUE(c.Restrict(f).ok());
  ExpectCaps(c, {});
  EXPECT_FALSE(c.hash_algo.has_value());
}

TEST(HostCapsGolden, ConfigOnlyLowers) {
  // kvm-config-only-lowers: -c host-small -c raise -c pmu3-sve256 -c empty.
  HostCaps c;
  for (const char* f :
       {"host-small.conf", "raise.conf", "pmu3-sve256.conf", "empty.conf"}) {
    ASSERT_TRUE(c.Restrict(Golden(f)).ok()) << f;
  }
  ExpectCaps(c, {48, 4, 4, 0, 3, false, true});
}

TEST(HostCapsGolden, CliOverridesConfig) {
  // kvm-cli-overrides-config: -c host-max -c rmm --num-bps 16 --num-wps 15
  // --lpa2 true --sve-vl 1024 --ipa-bits 44.
  HostCaps c;
  ASSERT_TRUE(c.Restrict(Golden("host-max.conf")).ok());
  ASSERT_TRUE(c.Restrict(Golden("rmm.conf")).ok());
  ExpectCaps(c, {52, 2, 2, 2048, 6, true, false});
  HostCaps cli;
  cli.num_bps = 16;
  cli.num_wps = 15;
  cli.lpa2 = true;
  cli.sve_vl = 1024;
  cli.ipa_bits = 44;
  ASSERT_TRUE(c.Update(cli).ok());
  ExpectCaps(c, {44, 16, 15, 1024, 6, true, true});
}

TEST(HostCapsGolden, HostFvpKvmRmmStack) {
  // kvm-k-i-4cpu-512M: -c host-fvp.conf -c kvm.conf -c rmm.conf.
  HostCaps c;
  for (const char* f : {"host-fvp.conf", "kvm.conf", "rmm.conf"}) {
    ASSERT_TRUE(c.Restrict(Golden(f)).ok()) << f;
  }
  ExpectCaps(c, {52, 2, 2, 512, 8, true, false});
}

TEST(HostCapsDebugString, ShowsSetAndUnset) {
  HostCaps c;
  c.ipa_bits = 52;
  c.pmu = false;
  c.hash_algo = "RmiHashSha256";
  EXPECT_EQ(c.DebugString(),
            "HostCaps{ipa_bits: 52, num_bps: unset, num_wps: unset, sve_vl: "
            "unset, pmu_num_ctrs: unset, pmu: false, lpa2: unset, hash_algo: "
            "RmiHashSha256, rmm_version: unset}");
  c.rmm_version = RmmVersion::k2_0;
  EXPECT_NE(c.DebugString().find("rmm_version: 2.0}"), std::string::npos);
}

TEST(HostCapsRmmVersion, ParsesStringsAndRejectsOthers) {
  absl::StatusOr<HostCaps> c =
      HostCaps::FromToml("rmm_version = \"2.0\"\n", "x.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rmm_version, RmmVersion::k2_0);
  c = HostCaps::FromToml("rmm_version = \"1.0\"\n", "x.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rmm_version, RmmVersion::k1_0);

  c = HostCaps::FromToml("rmm_version = 2.0\n", "x.conf");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "invalid VM configuration: cannot parse x.conf: TOML parse error "
            "at line 1, column 15: invalid type for `rmm_version`: expected "
            "string \"1.0\" or \"2.0\", found float");
  c = HostCaps::FromToml("rmm_version = \"1.1\"\n", "x.conf");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "invalid VM configuration: cannot parse x.conf: TOML parse error "
            "at line 1, column 15: invalid value for `rmm_version`: `1.1`, "
            "expected \"1.0\" or \"2.0\"");
}

TEST(HostCapsRmmVersion, RestrictKeepsOlderUpdateOverrides) {
  HostCaps v1, v2;
  v1.rmm_version = RmmVersion::k1_0;
  v2.rmm_version = RmmVersion::k2_0;

  HostCaps c;
  ASSERT_TRUE(c.Restrict(v2).ok());
  EXPECT_EQ(c.rmm_version, RmmVersion::k2_0);  // unset: taken
  ASSERT_TRUE(c.Restrict(v1).ok());
  EXPECT_EQ(c.rmm_version, RmmVersion::k1_0);  // older: lowers
  ASSERT_TRUE(c.Restrict(v2).ok());
  EXPECT_EQ(c.rmm_version, RmmVersion::k1_0);  // newer: can not raise
  ASSERT_TRUE(c.Update(v2).ok());
  EXPECT_EQ(c.rmm_version, RmmVersion::k2_0);  // the CLI overrides
  ASSERT_TRUE(c.Update(HostCaps{}).ok());
  EXPECT_EQ(c.rmm_version, RmmVersion::k2_0);  // unset changes nothing
}

}  // namespace
}  // namespace realm_measurements::measure
