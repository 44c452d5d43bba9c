// The mismatch diagnoses of realm-measurements, end to end.
// --compare-log (eventlog/compare.h): the golden case
// qemu-bios-measurement-log against the log QEMU would write for it
// (testdata/eventlog/README.md). Oracles: the golden case's RIM and DTB size
// (recorded from the reference tool), the log's own fields as
// testdata/eventlog/README.md lists them, and which step a changed option
// must move (the RAM size, the vCPU count in the DTB).
// --find-rim: RIMs of other realms recorded elsewhere: spec-core A.5 (the
// reference tool's tests: PMU counters) and TF-RMM 2.0's values of the RMM
// 2.0 golden sample, given as hex or inside a CCA token file.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "cli/cli.h"
#include "corim/token.h"
#include "gtest/gtest.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "nlohmann/json.hpp"
#include "testing/golden.h"
#include "testing/vectors.h"

namespace realm_measurements::cli {
namespace {

const char kLog[] = "testdata/eventlog/qemu-bios-measurement-log.bin";

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Absolute(const std::string& path) {
  char* cwd = getcwd(nullptr, 0);
  std::string out = absl::StrCat(cwd, "/", path);
  std::free(cwd);
  return out;
}

// A golden case's command line without --output-dtb (the tests add their
// own options), its RIM and DTB size.
struct Golden {
  std::vector<std::string> argv;
  std::string rim;
  size_t dtb_size = 0;
};

Golden LoadGolden(const std::string& id = "qemu-bios-measurement-log",
                  const std::string& file = "cases-public.json") {
  const test::GoldenCase c = test::LoadGoldenCase(id, file);
  Golden g{{}, c.rim, c.dtb_size};
  for (size_t i = 0; i < c.argv.size(); ++i) {
    if (c.argv[i] == "--output-dtb") {
      ++i;
      continue;
    }
    g.argv.push_back(c.argv[i]);
  }
  return g;
}

struct RunResult {
  int status = 0;
  std::string out, err;
};

// The golden argv with `extra` global options in front, `vmm` replacing
// VMM arguments (pairs of old, new), run with the golden inputs as working
// directory.
RunResult RunCase(
    const Golden& g, std::vector<std::string> extra,
    const std::vector<std::pair<std::string, std::string>>& vmm = {}) {
  std::vector<std::string> args = std::move(extra);
  for (std::string a : g.argv) {
    for (const auto& [from, to] : vmm) {
      if (a == from) a = to;
    }
    args.push_back(a);
  }
  CliEnvironment env;
  env.models["qemu"] = &measure::BuildQemu;
  env.models["kvmtool"] = &measure::BuildKvmtool;
  env.working_dir = Absolute("testdata/golden/inputs");
  std::ostringstream out, err;
  RunResult r;
  r.status = RunCli(args, env, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(CompareLog, TheGoldenCaseMatchesItsLogStepByStep) {
  const Golden g = LoadGolden();
  RunResult r = RunCase(g, {"--compare-log", Absolute(kLog)});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "");
  // testdata/eventlog/README.md: VM VERSION QEMU 9.1.0 512 MiB, REALM_CREATE,
  // INIT_RIPAS, FIRMWARE, DTB, REC_CREATE, LOG.
  EXPECT_TRUE(absl::StrContains(
      r.out, "event log of QEMU 9.1.0, sha512 digests; step by step"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "same      QEMU 9.1.0, RAM 536870912"));
  EXPECT_TRUE(absl::StrContains(
      r.out,
      absl::StrCat("same      DATA dtb 0x40000000, ", g.dtb_size, " bytes")))
      << r.out;
  EXPECT_TRUE(
      absl::StrContains(r.out, "same      DATA firmware 0x0, 777 bytes"));
  EXPECT_TRUE(absl::StrContains(r.out, "all 7 steps are the same as computed"));
  EXPECT_FALSE(absl::StrContains(r.out, "DIFFERENT"));
  // The measurement lines follow, unchanged.
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("\nRIM: ", g.rim, "\n")));
}

// kvmtool: golden kvm-k-2cpu-256M-sha512 against its log
// (testdata/eventlog/README.md); 4 vCPUs change only the DTB.
TEST(CompareLog, KvmtoolLogAndVcpus) {
  const Golden g = LoadGolden("kvm-k-2cpu-256M-sha512");
  const std::string log =
      Absolute("testdata/eventlog/kvm-k-2cpu-256M-sha512.bin");
  RunResult r = RunCase(g, {"--compare-log", log});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(absl::StartsWith(
      r.out, "event log of kvmtool 3.18, sha512 digests; step by step"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "all 6 steps are the same as computed"));
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("\nRIM: ", g.rim, "\n")));
  r = RunCase(g, {"--compare-log", log, "--format", "json"}, {{"2", "4"}});
  EXPECT_EQ(r.status, 3) << r.err << r.out;
  const nlohmann::json c = nlohmann::json::parse(r.out)["log_comparison"];
  EXPECT_EQ(c["first_difference"], 5);
  for (size_t i = 0; i < c["steps"].size(); ++i) {
    EXPECT_EQ(c["steps"][i]["same"], i != 4) << c["steps"][i];
  }
}

// The log does not record the RMM version: under RMM 2.0 (INIT_RIPAS not
// measured) every step is the same, the RIM is not, and the report says
// where to look.
TEST(CompareLog, TheRmmVersionIsNotInTheLog) {
  const Golden g = LoadGolden();
  RunResult r =
      RunCase(g, {"--rmm-version", "2.0", "--compare-log", Absolute(kLog)});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out,
      "all 7 steps are the same as computed; if the Realm's RIM still "
      "differs, so does its RMM version (not in the log: --rmm-version)\n"))
      << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, g.rim));
}

TEST(CompareLog, MoreMemoryDivergesAtTheRamSizeAndTheRipasRange) {
  const Golden g = LoadGolden();
  RunResult r = RunCase(g, {"--compare-log", Absolute(kLog)}, {{"512M", "1G"}});
  EXPECT_EQ(r.status, 3) << r.err << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "RAM size: computed 1073741824, logged 536870912"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out,
      "range: computed [0x40000000, 0x80000000), logged [0x40000000, "
      "0x60000000)"));
  EXPECT_TRUE(absl::StrContains(
      r.out,
      "first difference: step 1 (VM VERSION): RAM size: computed "
      "1073741824, logged 536870912\n  decided by the guest RAM"));
  EXPECT_FALSE(absl::StrContains(r.out, absl::StrCat("RIM: ", g.rim)));
}

TEST(CompareLog, MoreVcpusDivergeAtTheDtbOnly) {
  const Golden g = LoadGolden();
  RunResult r = RunCase(
      g, {"--compare-log", Absolute(kLog), "--format", "json"}, {{"2", "4"}});
  EXPECT_EQ(r.status, 3) << r.err << r.out;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  const nlohmann::json& c = doc["log_comparison"];
  EXPECT_EQ(c["vmm"], "QEMU 9.1.0");
  EXPECT_EQ(c["algorithm"], "sha512");
  EXPECT_EQ(c["same"], false);
  ASSERT_EQ(c["steps"].size(), 7u);
  // Steps are numbered from 1; only the DTB (step 5, event 4) differs.
  EXPECT_EQ(c["first_difference"], 5);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(c["steps"][i]["same"], i != 4) << i;
    EXPECT_EQ(c["steps"][i]["event"], i) << i;
  }
  const nlohmann::json& dtb = c["steps"][4];
  EXPECT_EQ(dtb["step"], "DATA dtb");
  EXPECT_TRUE(
      absl::StartsWith(dtb["decided_by"].get<std::string>(), "the DTB: vCPUs"));
  EXPECT_TRUE(absl::StartsWith(dtb["differences"].back().get<std::string>(),
                               "sha512: computed "));
  // The rest of the document is the usual one.
  EXPECT_EQ(doc["hash_algorithm"], "sha512");
}

TEST(CompareLog, RefusedWithASweepOrWithoutMeasurements) {
  const Golden g = LoadGolden();
  RunResult r = RunCase(
      g, {"--compare-log", Absolute(kLog), "--sweep", "n=2,4"}, {{"2", "{n}"}});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "can not be combined with --output-dtb, --endorsements-output "
      "or --compare-log"))
      << r.err;
  r = RunCase(g, {"--compare-log", Absolute(kLog), "--no-measurements"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--compare-log needs the measurements"))
      << r.err;
}

TEST(CompareLog, BadLogsAreOneLineErrors) {
  const Golden g = LoadGolden();
  const std::string dir = std::getenv("TEST_TMPDIR");
  // Truncated inside an entry.
  const std::string log = ReadText(kLog);
  std::ofstream(dir + "/cut.bin", std::ios::binary) << log.substr(0, 100);
  RunResult r = RunCase(g, {"--compare-log", dir + "/cut.bin"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(absl::StartsWith(
      r.err, absl::StrCat("ERROR Invalid arguments: --compare-log ", dir,
                          "/cut.bin: event log: ")))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
  // A device is refused before it is read.
  r = RunCase(g, {"--compare-log", "/dev/zero"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "/dev/zero")) << r.err;
  EXPECT_EQ(r.out, "");
  // A log of another realm algorithm: the comparison needs its digests.
  r = RunCase(
      g, {"--compare-log", Absolute("testdata/eventlog/t2-qemu-sha256.bin")});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(absl::StrContains(
      r.err, "t2-qemu-sha256.bin: event log: expected sha512 digests"))
      << r.err;
}

RunResult RunA5(std::vector<std::string> extra) {
  for (const char* a : {"--num-wps", "6", "--num-bps", "6", "--ipa-bits", "52",
                        "--pmu-num-ctrs", "6", "qemu", "-cpu", "pmu=on"}) {
    extra.push_back(a);
  }
  Golden g;  // no golden argv: spec-core A.5's own
  return RunCase(g, std::move(extra));
}

TEST(FindRim, OneHostCapabilityExplainsTheDifference) {
  RunResult r = RunA5({});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(
      absl::StrContains(r.out, absl::StrCat("RIM: ", test::kSpecCoreA5No8Rim)));
  r = RunA5({"--find-rim", test::kSpecCoreA5No10Rim});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(absl::StartsWith(
      r.out, absl::StrCat("computed RIM: ", test::kSpecCoreA5No8Rim,
                          " (sha512, RMM 1.0)\n",
                          "token RIM:    ", test::kSpecCoreA5No10Rim, "\n")))
      << r.out;
  EXPECT_TRUE(
      absl::StrContains(r.out, "\nmatch: --pmu true --pmu-num-ctrs 2\n"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\ntried ")) << r.out;
  // The tries run concurrently; the report does not depend on it.
  EXPECT_EQ(
      RunA5({"--threads", "1", "--find-rim", test::kSpecCoreA5No10Rim}).out,
      r.out);
  EXPECT_EQ(
      RunA5({"--threads", "3", "--find-rim", test::kSpecCoreA5No10Rim}).out,
      r.out);
  // The same as JSON.
  r = RunA5({"--find-rim", test::kSpecCoreA5No10Rim, "--format", "json"});
  EXPECT_EQ(r.status, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["result"], "found");
  EXPECT_EQ(doc["computed_rim"], test::kSpecCoreA5No8Rim);
  EXPECT_EQ(doc["token_rim"], test::kSpecCoreA5No10Rim);
  EXPECT_EQ(doc["matches"],
            nlohmann::json::array({"--pmu true --pmu-num-ctrs 2"}));
  EXPECT_EQ(doc["changes"],
            nlohmann::json::parse(R"([{"pmu": true, "pmu_num_ctrs": 2}])"));
  EXPECT_GT(doc["tried"].get<int>(), 100);
  // Its own RIM needs no change.
  r = RunA5({"--find-rim", test::kSpecCoreA5No8Rim});
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(
      absl::EndsWith(r.out, "the command line already gives this RIM\n"));
}

TEST(FindRim, TheRmmVersionExplainsTheDifference) {
  // kvm-min-sha256 under RMM 1.0, and its RIM under TF-RMM 2.0 (the RMM 2.0
  // sample), given as the 64-byte buffer the CLI prints.
  const Golden g1 = LoadGolden("kvm-min-sha256");
  const Golden g2 =
      LoadGolden("kvm-min-sha256@rmm2", "rmm2/cases-rmm2-public.json");
  ASSERT_NE(g1.rim, g2.rim);
  RunResult r = RunCase(g1, {"--find-rim", g2.rim});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\nmatch: --rmm-version 2.0\n"))
      << r.out;
}

TEST(FindRim, NoSingleChangeIsSaidSo) {
  // Another realm altogether (A.5 #8 has 128 MiB and no firmware).
  const Golden g = LoadGolden();
  RunResult r = RunCase(g, {"--find-rim", test::kSpecCoreA5No8Rim});
  EXPECT_EQ(r.status, 3) << r.err << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "match:"));
  EXPECT_TRUE(absl::StrContains(
      r.out, "no single change of a host capability or of the RMM version"))
      << r.out;
  // A SHA-256 RIM for a SHA-512 realm.
  r = RunCase(g, {"--find-rim", std::string(64, 'a')});
  EXPECT_EQ(r.status, 3);
  EXPECT_TRUE(absl::StrContains(
      r.out,
      "the token's RIM has 32 significant bytes; the VMM arguments "
      "select sha512 (64)"))
      << r.out;
}

TEST(FindRim, WithASweepTheShapeThatGivesTheRimIsNamed) {
  // Golden kvm-k-2cpu-256M-sha512 (`-c 2 -m 256M`), found among memory sizes.
  const Golden g = LoadGolden("kvm-k-2cpu-256M-sha512");
  RunResult r =
      RunCase(g, {"--sweep", "mem=128M,256M,512M", "--find-rim", g.rim},
              {{"256M", "{mem}"}});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(r.out, absl::StrCat("token RIM: ", g.rim,
                                "\nmatch: shape 2/3: mem=256M\n"
                                "tried 3 shapes\n"));
  r = RunCase(g,
              {"--sweep", "mem=128M,256M,512M", "--find-rim", g.rim, "--format",
               "json"},
              {{"256M", "{mem}"}});
  EXPECT_EQ(r.status, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["result"], "found");
  EXPECT_EQ(doc["tried"], 3);
  ASSERT_EQ(doc["matches"].size(), 1u);
  EXPECT_EQ(doc["matches"][0]["shape"], 2);
  EXPECT_EQ(doc["matches"][0]["parameters"]["mem"], "256M");
  // The qemu-bios case's RIM is no kvmtool shape.
  r = RunCase(g, {"--sweep", "mem=128M,512M", "--find-rim", LoadGolden().rim},
              {{"256M", "{mem}"}});
  EXPECT_EQ(r.status, 3);
  EXPECT_TRUE(
      absl::StrContains(r.out, "tried 2 shapes; none gives the token's RIM"))
      << r.out;
}

// A token carrying `rim` as its realm RIM: cca-token-02's claims, signed
// with fresh keys (find-rim checks no signature), written to a file; its
// personalization value zero (what a command line without one gives) or
// token 02's.
std::string TokenFile(const std::string& rim, const std::string& name,
                      bool zero_rpv = true) {
  const std::string bytes = ReadText("testdata/vectors/cca-token-02.cbor");
  absl::StatusOr<corim::CcaToken> t = corim::DecodeCcaToken(absl::MakeConstSpan(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  EXPECT_TRUE(t.ok()) << t.status();
  const std::string raw = absl::HexStringToBytes(rim);
  t->realm.initial_measurement.assign(raw.begin(), raw.end());
  t->realm.hash_algorithm = "sha-512";
  if (zero_rpv) {
    t->realm.personalization_value.assign(t->realm.personalization_value.size(),
                                          0);
  }
  t->realm.public_key.clear();
  t->platform.challenge.clear();
  absl::StatusOr<crypto::EcPrivateKey> cpak =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  absl::StatusOr<crypto::EcPrivateKey> rak =
      crypto::EcPrivateKey::Generate(crypto::Curve::kP384);
  EXPECT_TRUE(cpak.ok() && rak.ok());
  absl::StatusOr<std::vector<uint8_t>> token =
      corim::SignCcaToken(t->form, t->platform, t->realm, *cpak, *rak);
  EXPECT_TRUE(token.ok()) << token.status();
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(token->data()), token->size());
  return path;
}

TEST(FindRim, ATokenFileGivesItsRealmRim) {
  const std::string token = TokenFile(test::kSpecCoreA5No10Rim, "pmu2.cbor");
  RunResult r = RunA5({"--find-rim", token});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(r.out, RunA5({"--find-rim", test::kSpecCoreA5No10Rim}).out);
  EXPECT_TRUE(
      absl::StrContains(r.out, "\nmatch: --pmu true --pmu-num-ctrs 2\n"));
  EXPECT_FALSE(absl::StrContains(r.out, "RPV")) << r.out;
  // Another personalization value than the command line's is named (a
  // verifier compares it too), as JSON as well.
  const std::string rpv =
      TokenFile(test::kSpecCoreA5No10Rim, "rpv.cbor", false);
  r = RunA5({"--find-rim", rpv});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  std::string token_rpv;
  for (int i = 0; i < 32; ++i) token_rpv += "4144";  // token 02's "ADAD..."
  EXPECT_TRUE(absl::StrContains(
      r.out, absl::StrCat("\ntoken RPV:    ", token_rpv,
                          " (the command line gives ", std::string(128, '0'))))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "check the VMM's personalization"))
      << r.out;
  r = RunA5({"--find-rim", rpv, "--format", "json"});
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["computed_rpv"], std::string(128, '0'));
  EXPECT_EQ(doc["token_rpv"], token_rpv);
  // With a sweep: golden kvm-k-2cpu-256M-sha512's RIM in a token names
  // its shape among three memory sizes.
  const Golden g = LoadGolden("kvm-k-2cpu-256M-sha512");
  r = RunCase(g,
              {"--sweep", "mem=128M,256M,512M", "--find-rim",
               TokenFile(g.rim, "kvm.cbor")},
              {{"256M", "{mem}"}});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(r.out, absl::StrCat("token RIM: ", g.rim,
                                "\nmatch: shape 2/3: mem=256M\n"
                                "tried 3 shapes\n"));
}

TEST(FindRim, BadTokenFilesAreOneLineErrors) {
  const Golden g = LoadGolden();
  // Not a token: the decoder's error, naming the file.
  const std::string junk = absl::StrCat(std::getenv("TEST_TMPDIR"), "/junk");
  std::ofstream(junk) << "not a token";
  RunResult r = RunCase(g, {"--find-rim", junk});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(absl::StrContains(
      r.err, absl::StrCat("--find-rim ", junk, ": CCA token: ")))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
  // Missing, a device, and the token as an output: refused before any work.
  for (std::vector<std::string> extra :
       {std::vector<std::string>{"--find-rim", "no-such-token.cbor"},
        std::vector<std::string>{"--find-rim", "/dev/zero"}}) {
    r = RunCase(g, extra);
    EXPECT_EQ(r.status, 1) << extra[1];
    EXPECT_TRUE(absl::StrContains(r.err, extra[1])) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // A token with a realm RIM of another length.
  const std::string odd = TokenFile("abcd", "odd.cbor");
  r = RunCase(g, {"--find-rim", odd});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "realm initial measurement (claim 44238): expected 32, 48 or 64 "
      "bytes, found 2"))
      << r.err;
}

TEST(FindRim, PairsFindTwoSettingsAtOnce) {
  // The A.3 #4 realm computed with 4 breakpoints and 4 watchpoints: two
  // settings away from the vector.
  Golden g;
  g.argv = {"--num-wps", "4",  "--num-bps", "4",  "kvmtool",
            "--realm",   "-c", "1",         "-m", "512M"};
  RunResult r = RunCase(g, {"--find-rim", test::kSpecCoreA3No4Rim});
  EXPECT_EQ(r.status, 3) << r.err << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "no single change")) << r.out;
  r = RunCase(g, {"--find-rim", test::kSpecCoreA3No4Rim, "--find-rim-pairs"});
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\nmatch: --num-bps 6 --num-wps 6\n"))
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, " with two changed")) << r.out;
  r = RunCase(g, {"--find-rim", test::kSpecCoreA3No4Rim, "--find-rim-pairs",
                  "--format", "json"});
  EXPECT_EQ(r.status, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["changes"],
            nlohmann::json::parse(R"([{"num_bps": 6, "num_wps": 6}])"));
  EXPECT_GT(doc["tried_pairs"].get<int>(), 1000);
}

TEST(FindRim, UsageErrors) {
  const Golden g = LoadGolden();
  // Hex of the wrong length, or nothing (a value of anything else names a
  // token file).
  RunResult r;
  for (const char* value : {"abcd", ""}) {
    r = RunCase(g, {"--find-rim", value});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(absl::StrContains(
        r.err,
        "expected 64, 96 or 128 hex digits (the token's RIM) or a CCA "
        "attestation token file"))
        << r.err;
  }
  r = RunCase(g, {"--find-rim", test::kSpecCoreA5No8Rim, "--output-dtb",
                  std::string(std::getenv("TEST_TMPDIR")) + "/x.dtb"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(absl::StrContains(
      r.err, "--find-rim can not be combined with --output-dtb"))
      << r.err;
  EXPECT_EQ(r.out, "");
  // --find-rim-pairs: with --find-rim only, and not with a sweep.
  for (std::vector<std::string> extra :
       {std::vector<std::string>{"--find-rim-pairs"},
        std::vector<std::string>{"--find-rim-pairs", "--find-rim",
                                 test::kSpecCoreA5No8Rim, "--sweep", "x=1"}}) {
    r = RunCase(g, extra);
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(absl::StrContains(r.err, "--find-rim-pairs needs --find-rim"))
        << r.err;
  }
}

}  // namespace
}  // namespace realm_measurements::cli
