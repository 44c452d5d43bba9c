#include "cli/cli.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "measure/realm_config.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/vmm.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::measure {
namespace {

using cli::CliEnvironment;
using cli::RunCli;

// Vectors: spec-core Appendix A (A.1-A.4, A.7 #3/#4) and §12.3; the flow
// tests use a small fixture VMM model so they do not depend on a VMM's
// layout rules.

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

std::string NewDir(const std::string& name) {
  std::string d = TmpDir() + "/" + name;
  mkdir(d.c_str(), 0755);
  return d;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  return out;
}

const std::vector<uint8_t> kFixtureDtb = {0xd0, 0x0d, 0xfe, 0xed, 1, 2, 3};

// A fixture VMM: kvmtool-like RAM at 2 GiB, optional firmware at the RAM
// base, a DTB at 0x8fe00000, one REC. "--fail" fails the build,
// "--bad-option" is a usage error, "--warn" adds a warning.
absl::Status FixtureModel(const VmmInputs& inputs,
                          absl::Span<const std::string> args,
                          RealmConfig& config) {
  for (const std::string& a : args) {
    if (a == "--fail") return absl::InvalidArgumentError("fixture failure");
    if (a == "--bad-option") {
      return UsageError("unexpected argument '--bad-option' found");
    }
    if (a == "--warn") config.Warn("fixture warning");
    if (a == "--outside") {
      absl::Status s = config.AddRimBlob(
          Blob{"initrd", 0x1000, 0, Payload::FromBytes("initrd", {1})});
      if (!s.ok()) return s;
    }
  }
  config.set_hash_algorithm(HashAlgorithm::kSha256);
  HostCaps vm;
  vm.ipa_bits = 33;
  if (absl::Status s = config.caps().Restrict(vm); !s.ok()) return s;
  if (absl::Status s = config.AddRam(0x80000000, 512 << 20); !s.ok()) return s;
  if (inputs.firmware) {
    absl::Status s = config.AddRimBlob(
        Blob{"firmware", 0x80000000, 0, Payload::FromFile(*inputs.firmware)});
    if (!s.ok()) return s;
  }
  config.set_dtb(kFixtureDtb);
  config.set_dtb_address(0x8fe00000);
  absl::Status s = config.AddRimBlob(
      Blob{"dtb", 0x8fe00000, 0, Payload::FromBytes("DTB", kFixtureDtb)});
  if (!s.ok()) return s;
  RecParams rec;
  rec.pc = 0x80000000;
  rec.gprs[0] = 0x8fe00000;
  return config.AddRec(rec);
}

struct Result {
  int rc;
  std::string out;
  std::string err;
};

Result RunTool(const std::vector<std::string>& args,
               std::optional<std::string> working_dir = std::nullopt) {
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  env.models["fixture-not-a-vmm-name"] = &FixtureModel;
  // The fixture stands in for cloud-hv, which has no model yet.
  env.models["cloud-hv"] = &FixtureModel;
  env.working_dir = std::move(working_dir);
  std::ostringstream out, err;
  int rc = RunCli(args, env, out, err);
  return {rc, out.str(), err.str()};
}

std::vector<std::string> Split(absl::string_view s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

// --- A.1: no arguments, help, version ------------------------------------

TEST(Cli, NoArgumentsPrintsUsageOnStderr) {
  Result r = RunTool({});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(absl::StrContains(r.err, "Usage:"));
}

TEST(Cli, HelpOnStdout) {
  for (const char* h : {"help", "--help", "-h"}) {
    SCOPED_TRACE(h);
    Result r = RunTool({h});
    EXPECT_EQ(r.rc, 0);
    EXPECT_TRUE(absl::StrContains(r.out, "Usage:"));
    EXPECT_TRUE(absl::StrContains(r.out, "--format <FORMAT>"));
    EXPECT_TRUE(r.err.empty());
  }
}

TEST(Cli, Version) {
  for (const char* v : {"-V", "--version"}) {
    Result r = RunTool({v});
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out, "cca-realm-measurements 0.1.0\n");
  }
}

// --- Usage errors (exit 2) ---------------------------------------------------

TEST(Cli, UsageErrors) {
  struct Case {
    const char* args;
    const char* first_line;
  } cases[] = {
      {"--input-dtb x.dtb qemu",
       "error: unexpected argument '--input-dtb' found"},
      {"-x kvmtool", "error: unexpected argument '-x' found"},
      {"--ipa-bits 300 kvmtool",
       "error: invalid value '300' for '--ipa-bits <IPA_BITS>': 300 is not in "
       "0..=255"},
      {"--num-bps abc kvmtool",
       "error: invalid value 'abc' for '--num-bps <NUM_BPS>': invalid digit "
       "found in string"},
      {"--num-wps=0x10 kvmtool",
       "error: invalid value '0x10' for '--num-wps <NUM_WPS>': invalid digit "
       "found in string"},
      {"--sve-vl 65536 kvmtool",
       "error: invalid value '65536' for '--sve-vl <SVE_VL>': 65536 is not in "
       "0..=65535"},
      {"--pmu-num-ctrs -1 kvmtool",
       "error: a value is required for '--pmu-num-ctrs <PMU_NUM_CTRS>' but "
       "none was supplied"},
      {"--pmu yes kvmtool",
       "error: invalid value 'yes' for '--pmu <PMU>': possible values: true, "
       "false"},
      {"--lpa2=1 kvmtool",
       "error: invalid value '1' for '--lpa2 <LPA2>': possible values: true, "
       "false"},
      {"--hash-algo foo kvmtool",
       "error: invalid value 'foo' for '--hash-algo <HASH_ALGO>': unknown hash "
       "algorithm `foo`"},
      {"--format xml kvmtool",
       "error: invalid value 'xml' for '--format <FORMAT>': possible values: "
       "text, json"},
      {"--kernel",
       "error: a value is required for '--kernel <KERNEL>' but none was "
       "supplied"},
      {"-k",
       "error: a value is required for '--kernel <KERNEL>' but none was "
       "supplied"},
      {"--print-b64=true kvmtool",
       "error: unexpected value 'true' for '--print-b64' found; no more were "
       "expected"},
      {"-k a --kernel b kvmtool",
       "error: the argument '--kernel <KERNEL>' cannot be used multiple times"},
      {"vmware", "error: unrecognized subcommand 'vmware'"},
      {"--print-b64",
       "error: 'realm-measurements' requires a subcommand but one was not "
       "provided"},
      {"cloud-hv --bad-option",
       "error: unexpected argument '--bad-option' found"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    Result r = RunTool(Split(c.args));
    EXPECT_EQ(r.rc, 2);
    EXPECT_TRUE(r.out.empty());
    EXPECT_TRUE(absl::StartsWith(r.err, std::string(c.first_line) + "\n"))
        << r.err;
    EXPECT_TRUE(absl::StrContains(
        r.err, "\n\nUsage: realm-measurements [OPTIONS] <COMMAND>"));
    EXPECT_TRUE(
        absl::EndsWith(r.err, "\n\nFor more information, try '--help'.\n"));
  }
}

TEST(Cli, OptionSpellings) {
  // --opt=value, -kVALUE, -k=VALUE, clustered -vv: all accepted.
  const std::string dir = NewDir("spellings");
  const std::string fw = dir + "/fw";
  WriteFile(fw, "FW CONTENT");
  Result a = RunTool({"--num-wps=6", "--num-bps", "6", "-f" + fw, "cloud-hv"});
  Result b = RunTool({"--num-wps", "6", "--num-bps=6", "-f=" + fw, "cloud-hv"});
  Result c = RunTool(
      {"-vv", "--num-wps", "6", "--num-bps=6", "--firmware", fw, "cloud-hv"});
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_EQ(b.rc, 0) << b.err;
  EXPECT_EQ(c.rc, 0) << c.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out, c.out);
  EXPECT_TRUE(a.err.empty());
  EXPECT_TRUE(absl::StrContains(c.err, "DEBUG Host config: "));
}

// --- Stage errors (exit 1)
// ----------------------------------------------------

// A.7 #4.
TEST(Cli, DtbAndTemplateAreExclusive) {
  Result r = RunTool(
      Split("--num-wps 6 --num-bps 6 --ipa-bits 52 --pmu-num-ctrs 6 --dtb d "
            "--dtb-template d qemu"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Invalid arguments: either --dtb or --dtb-template can be "
            "set but not both\n");
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, ModelsNotImplementedYet) {
  Result r = RunTool(Split("--num-wps 6 --num-bps 6 qemu -bios FW"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: the qemu model is not implemented "
            "yet\n");
}

// A.3 #1-#3.
TEST(Cli, KvmtoolParameterErrors) {
  Result r = RunTool(Split("kvmtool --realm"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: "
            "number of vCPUs is not known: give kvmtool's -c/--cpus, e.g. "
            "kvmtool --realm -c 2 -m 512M\n");
  r = RunTool(Split("kvmtool --realm -c 1"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: "
            "default guest RAM size is not known: give kvmtool's -m/--mem, "
            "e.g. kvmtool --realm -c 2 -m 512M\n");
  r = RunTool(Split("kvmtool --realm -c 1 -m 512M"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(
      r.err,
      "ERROR Failed to compute measurements: "
      "num_wps is not known: give the host's watchpoint count with --num-wps N "
      "or `num_wps = N` in a -c config file (e.g. -c configs/fvp.conf)\n");
  EXPECT_TRUE(r.out.empty());
}

const char kZeroLine[] =
    "00000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000";

// A.3 #4/#5.
TEST(Cli, KvmtoolMinimalCommandLine) {
  const std::string expected = absl::StrCat(
      "RIM: 998dfdf6401d69f73ed88ac53d62d5ea2cfac6320b887ce4599aa8671791d4d0"
      "0000000000000000000000000000000000000000000000000000000000000000\n",
      "REM0: ", kZeroLine, "\nREM1: ", kZeroLine, "\nREM2: ", kZeroLine,
      "\nREM3: ", kZeroLine, "\n");
  Result r =
      RunTool(Split("--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  EXPECT_EQ(r.err, "");
  r = RunTool(
      Split("--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M --debug "
            "--debug-single-step --debug-mmio --force-pci --no-pvtime "
            "--vcpu-affinity AFF --disable-mte"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

// A.4 #1/#2.
TEST(Cli, KvmtoolFirmwareHexAndBase64) {
  const std::string dir = NewDir("a4");
  WriteFile(dir + "/firmware", "FW CONTENT");
  const std::string args =
      "--num-wps 6 --num-bps 6 -f " + dir +
      "/firmware kvmtool --realm --firmware firmware -c 1 -m 512M";
  Result r = RunTool(Split(args));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            absl::StrCat("RIM: "
                         "cf37146fce0ad50e1be1a04580c1024e5449b430b0dd96b6ef5c"
                         "9a2b73767bf5000000000000000000000000000000000000000"
                         "0000000000000000000000000\nREM0: ",
                         kZeroLine, "\nREM1: ", kZeroLine,
                         "\nREM2: ", kZeroLine, "\nREM3: ", kZeroLine, "\n"));
  const std::string zero64 = std::string(86, 'A') + "==";
  r = RunTool(Split("--print-b64 " + args));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            absl::StrCat("RIM: zzcUb84K1Q4b4aBFgMECTlRJtDCw3Za271yaK3N2e/"
                         "UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
                         "REM0: ",
                         zero64, "\nREM1: ", zero64, "\nREM2: ", zero64,
                         "\nREM3: ", zero64, "\n"));
}

// A.2, through the fixture (a file opened lazily at measurement time).
TEST(Cli, MissingFirmwareFailsWhenMeasuring) {
  Result r =
      RunTool(Split("--num-wps 6 --num-bps 6 -f nonexistent-file cloud-hv"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Failed to compute measurements: VMM: file nonexistent-file "
            "error: No such file or directory (os error 2)\n");
  EXPECT_TRUE(r.out.empty());
  // With --no-measurements the file is never opened.
  r = RunTool(
      Split("--no-measurements --num-wps 6 --num-bps 6 -f nonexistent-file "
            "cloud-hv"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, BuildStageErrors) {
  const std::string dir = NewDir("configs");
  WriteFile(dir + "/bad-bps.conf", "num_bps = 1\n");
  Result r = RunTool({"-c", dir + "/missing.conf", "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "ERROR Cannot build parameters: file " + dir +
                       "/missing.conf error: No such file or directory (os "
                       "error 2)\n");
  r = RunTool({"-c", dir + "/bad-bps.conf", "cloud-hv"});
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: invalid parameter breakpoints "
            "'1'\n");
  r = RunTool(Split("--num-wps 1 cloud-hv"));
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: invalid parameter watchpoints "
            "'1'\n");
  r = RunTool(Split("--num-wps 6 --num-bps 6 cloud-hv --fail"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "ERROR Cannot build parameters: fixture failure\n");
  // Validation (deviations.md): a blob outside RAM.
  r = RunTool(Split("--num-wps 6 --num-bps 6 cloud-hv --outside"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: invalid VM configuration: initrd "
            "[0x1000, 0x1001) lies outside guest RAM\n");
}

TEST(Cli, WarningsAndHashAlgo) {
  Result r = RunTool(
      Split("--hash-algo sha512 --num-wps 6 --num-bps 6 cloud-hv --warn"));
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.err,
            "WARN fixture warning\n"
            "WARN --hash-algo sha512 is ignored: the VMM arguments select "
            "sha256\n");
  r = RunTool(Split("--hash-algo sha256 --num-wps 6 --num-bps 6 cloud-hv"));
  EXPECT_EQ(r.err, "");
}

// --- Outputs
// -------------------------------------------------------------------

TEST(Cli, OutputDtbIsWrittenAtomicallyAfterTheBuild) {
  const std::string dir = NewDir("dtb-out");
  const std::string dtb = dir + "/out.dtb";
  // A failed build leaves nothing.
  Result r = RunTool({"--output-dtb", dtb, "cloud-hv", "--fail"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_FALSE(Exists(dtb));
  EXPECT_TRUE(DirEntries(dir).empty());
  // --no-measurements still writes the DTB, prints nothing.
  r = RunTool({"--no-measurements", "--output-dtb", dtb, "cloud-hv"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(ReadFile(dtb), std::string(kFixtureDtb.begin(), kFixtureDtb.end()));
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"out.dtb"});
  // An unwritable destination: a clean error, no stray temporary file.
  r = RunTool({"--output-dtb", dir + "/no-such-dir/out.dtb", "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Invalid arguments: cannot write output "
            "--output-dtb " +
                dir +
                "/no-such-dir/out.dtb: No such file or directory (os "
                "error 2)\n");
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"out.dtb"});
}

TEST(Cli, RelativePathsResolveAgainstBuildWorkingDirectory) {
  const std::string dir = NewDir("bwd");
  WriteFile(dir + "/fw", "FW CONTENT");
  Result r = RunTool(Split("--num-wps 6 --num-bps 6 -f fw --output-dtb o.dtb "
                           "cloud-hv"),
                     dir);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Exists(dir + "/o.dtb"));
}

TEST(Cli, EndorsementsOutput) {
  const std::string dir = NewDir("endorse");
  const std::string out = dir + "/endorsements.json";
  // A measurement failure writes no endorsements.
  Result r =
      RunTool({"--num-wps", "6", "--num-bps", "6", "-f", "nonexistent-file",
               "--endorsements-output", out, "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_FALSE(Exists(out));
  // A template that does not parse: stage error, no output.
  WriteFile(dir + "/bad.json", "{\"triples\": {\"reference-values\": []}}\n");
  r = RunTool({"--num-wps", "6", "--num-bps", "6", "--endorsements-template",
               dir + "/bad.json", "--endorsements-output", out, "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Failed to compute measurements: invalid VM "
            "configuration: cannot parse " +
                dir + "/bad.json: missing field `tag-identity` in $\n");
  EXPECT_FALSE(Exists(out));
  // --endorsements-template alone is ignored (spec-core §6.5).
  r = RunTool({"--num-wps", "6", "--num-bps", "6", "--endorsements-template",
               dir + "/bad.json", "cloud-hv"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "RIM: "));
}

// spec-core §12.3: kvmtool -c 1 -m 512M with the sample template and
// --realm-pv hello.
TEST(Cli, EndorsementsSpecExample) {
  const std::string dir = NewDir("endorse-spec");
  const std::string out = dir + "/e.json";
  Result r =
      RunTool({"--num-wps", "6", "--num-bps", "6", "--endorsements-template",
               "testdata/vectors/reference-testdata/comid-cca-realm.json",
               "--endorsements-output", out, "kvmtool", "--realm", "-c", "1",
               "-m", "512M", "--realm-pv", "hello"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const std::string text = ReadFile(out);
  EXPECT_FALSE(absl::EndsWith(text, "\n"));
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  EXPECT_FALSE(j.contains("lang"));  // unknown members are dropped
  EXPECT_EQ(j.begin().key(), "tag-identity");
  EXPECT_EQ(j["tag-identity"]["id"], "43BBE37F-2E61-4B33-AED3-53CFF1428B16");
  const auto& env = j["triples"]["reference-values"][0]["environment"];
  EXPECT_EQ(env["class"]["vendor"], "Workload Client Ltd");
  const auto& v =
      j["triples"]["reference-values"][0]["measurements"][0]["value"];
  EXPECT_EQ(v["raw-value"]["value"], "aGVsbG8" + std::string(79, 'A') + "==");
  EXPECT_EQ(v["integrity-registers"]["rim"]["value"][0],
            "sha-256;mY399kAdafc+2IrFPWLV6iz6xjILiHzkWZqoZxeR1N" +
                std::string(44, 'A') + "==");
  EXPECT_EQ(v["integrity-registers"]["rem3"]["value"][0],
            "sha-256;" + std::string(86, 'A') + "==");
}

TEST(Cli, JsonFormat) {
  const std::string dir = NewDir("json");
  WriteFile(dir + "/fw", "FW CONTENT");
  Result r = RunTool({"--format", "json", "--num-wps", "6", "--num-bps", "6",
                      "-f", dir + "/fw", "cloud-hv", "--warn"});
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "model", "rmm_version", "hash_algorithm",
                      "significant_length", "measurements", "realm_parameters",
                      "personalization_value", "layout", "warnings"}));
  // Which behaviour the values assume.
  EXPECT_EQ(j["model"]["tool"], cli::kVersionLine);
  EXPECT_EQ(j["model"]["vmm"], "cloud-hv");
  EXPECT_TRUE(absl::StrContains(j["model"]["vmm_behaviour"].get<std::string>(),
                                "docs/vmm-cloud-hv.md"));
  EXPECT_EQ(j["rmm_version"], "1.0");
  EXPECT_EQ(j["hash_algorithm"], "sha256");
  EXPECT_EQ(j["significant_length"], 32);
  EXPECT_EQ(j["measurements"]["rim"].get<std::string>().size(), 128u);
  EXPECT_EQ(j["measurements"]["rem3"], kZeroLine);
  EXPECT_EQ(j["realm_parameters"]["ipa_bits"], 33);
  EXPECT_EQ(j["realm_parameters"]["num_bps"], 6);
  EXPECT_EQ(j["layout"]["ram"][0]["base"], "0x80000000");
  EXPECT_EQ(j["layout"]["ram"][0]["size"], 512 << 20);
  EXPECT_EQ(j["layout"]["ripas"][0]["top"], "0xa0000000");
  const auto& fw = j["layout"]["blobs"][0];
  EXPECT_EQ(fw["name"], "firmware");
  EXPECT_EQ(fw["ipa"], "0x80000000");
  EXPECT_EQ(fw["size"], 10);
  EXPECT_EQ(fw["measured"], true);
  // sha256("FW CONTENT")
  EXPECT_EQ(fw["sha256"],
            "6f1686e37618bed6fd4c548aa22b4de19ed6ecfc474e97299bb1079d0a02c71f");
  EXPECT_EQ(j["layout"]["rec"]["pc"], "0x80000000");
  EXPECT_EQ(j["layout"]["rec"]["gprs"][0], "0x8fe00000");
  EXPECT_EQ(j["layout"]["rec"]["gprs"].size(), 8u);
  EXPECT_EQ(j["layout"]["dtb"]["address"], "0x8fe00000");
  EXPECT_EQ(j["layout"]["dtb"]["size"], kFixtureDtb.size());
  EXPECT_EQ(j["warnings"][0], "fixture warning");
  // Same RIM as the text format.
  Result t = RunTool(
      {"--num-wps", "6", "--num-bps", "6", "-f", dir + "/fw", "cloud-hv"});
  EXPECT_TRUE(absl::StartsWith(
      t.out, "RIM: " + j["measurements"]["rim"].get<std::string>() + "\n"));
}

// Linux file names are bytes, not UTF-8: a payload path with an invalid
// byte is written as U+FFFD (nlohmann's default handler threw, and the
// uncaught exception aborted the process).
TEST(Cli, JsonFormatNonUtf8PathIsReplaced) {
  const std::string dir = NewDir("json-non-utf8");
  const std::string fw = dir + "/fw\xff.bin";
  WriteFile(fw, "FW CONTENT");
  Result r = RunTool({"--format", "json", "--num-wps", "6", "--num-bps", "6",
                      "-f", fw, "cloud-hv"});
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
  EXPECT_EQ(j["layout"]["blobs"][0]["source"], dir + "/fw\xef\xbf\xbd.bin");
}

// --- Issue 14: payloads must be regular files; outputs destroy nothing ----

// The three real VMM models.
Result RunReal(const std::vector<std::string>& args) {
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  env.models["qemu"] = &BuildQemu;
  env.models["cloud-hv"] = &BuildCloudHv;
  std::ostringstream out, err;
  int rc = RunCli(args, env, out, err);
  return {rc, out.str(), err.str()};
}

// A minimal arm64 Image (booting.rst header: image_size 64 KiB, magic) of
// 4 KiB.
std::string WriteKernel(const std::string& path) {
  std::string k(4096, '\x5a');
  const char header[64] = {};
  k.replace(0, 64, header, 64);
  k[16 + 2] = 0x01;  // image_size 0x10000
  k.replace(56, 4, "ARM\x64");
  WriteFile(path, k);
  return k;
}

std::string MakeFifo(const std::string& path) {
  unlink(path.c_str());
  EXPECT_EQ(mkfifo(path.c_str(), 0600), 0);
  return path;
}

// On main these read /dev/zero or wait on the FIFO forever; now each is
// refused before any work, naming the option and the path.
TEST(CliRobustness, PayloadsMustBeRegularFilesForEveryVmm) {
  const std::string dir = NewDir("special-payloads");
  const std::string fifo = MakeFifo(dir + "/payload.fifo");
  const std::string kernel = dir + "/Image";
  WriteKernel(kernel);
  struct Case {
    std::vector<std::string> args;
    std::string option, path, type;
  };
  const std::vector<std::string> caps = {
      "--num-wps",  "6",  "--num-bps",      "6",
      "--ipa-bits", "52", "--pmu-num-ctrs", "6"};
  auto with_caps = [&](std::vector<std::string> rest) {
    std::vector<std::string> a = caps;
    a.insert(a.end(), rest.begin(), rest.end());
    return a;
  };
  const Case cases[] = {
      {with_caps({"-f", "/dev/zero", "qemu", "-bios", "FW"}), "--firmware",
       "/dev/zero", "character device"},
      {with_caps({"-f", fifo, "qemu", "-bios", "FW"}), "--firmware", fifo,
       "FIFO"},
      {with_caps({"-k", kernel, "-i", "/dev/urandom", "cloud-hv", "--kernel",
                  "Image", "--initramfs", "initrd"}),
       "--initrd", "/dev/urandom", "character device"},
      {with_caps({"-k", kernel, "-i", fifo, "cloud-hv", "--kernel", "Image",
                  "--initramfs", "initrd"}),
       "--initrd", fifo, "FIFO"},
      {with_caps({"-k", "/dev/zero", "kvmtool", "--realm", "-c", "1", "-m",
                  "256M", "-k", "Image"}),
       "--kernel", "/dev/zero", "character device"},
      {with_caps({"-k", kernel, "-i", fifo, "kvmtool", "--realm", "-c", "1",
                  "-m", "256M", "-k", "Image", "-i", "initrd"}),
       "--initrd", fifo, "FIFO"},
      {with_caps({"-f", fifo, "kvmtool", "--realm", "-c", "1", "-m", "256M",
                  "--firmware", "fw"}),
       "--firmware", fifo, "FIFO"},
      {with_caps(
           {"--dtb", fifo, "kvmtool", "--realm", "-c", "1", "-m", "256M"}),
       "--dtb", fifo, "FIFO"},
      {{"-c", fifo, "kvmtool", "--realm", "-c", "1", "-m", "256M"},
       "--config",
       fifo,
       "FIFO"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    Result r = RunReal(c.args);
    EXPECT_EQ(r.rc, 1);
    EXPECT_EQ(r.err, "ERROR Invalid arguments: " + c.option + " " + c.path +
                         ": not a regular file (" + c.type +
                         "); inputs must be regular files\n");
    EXPECT_TRUE(r.out.empty());
  }
}

// An output naming an input (directly, through a symbolic link or a hard
// link) is refused before any work and the input is left as it was.
TEST(CliRobustness, OutputNamingAnInputIsRefused) {
  const std::string dir = NewDir("output-is-input");
  const std::string kernel = dir + "/Image";
  const std::string image = WriteKernel(kernel);
  const std::string initrd = dir + "/initrd";
  WriteFile(initrd, "INITRD");
  const std::string conf = dir + "/host.conf";
  WriteFile(conf, "num_bps = 6\nnum_wps = 6\n");
  const std::string tmpl = dir + "/template.json";
  WriteFile(tmpl, ReadFile("testdata/vectors/reference-testdata/"
                           "comid-cca-realm.json"));
  const std::string tmpl_text = ReadFile(tmpl);
  ASSERT_FALSE(tmpl_text.empty());
  symlink(kernel.c_str(), (dir + "/kernel-link").c_str());
  link(initrd.c_str(), (dir + "/initrd-hardlink").c_str());
  const std::vector<std::string> vm = {"kvmtool", "--realm", "-c", "1",
                                       "-m",      "256M",    "-k", "Image",
                                       "-i",      "initrd"};
  struct Case {
    std::vector<std::string> front;
    std::string message;
  };
  const Case cases[] = {
      {{"--output-dtb", kernel},
       "--output-dtb " + kernel + ": the same file as the input --kernel " +
           kernel},
      {{"--corim-output", initrd},
       "--corim-output " + initrd + ": the same file as the input --initrd " +
           initrd},
      {{"--output-dtb", conf},
       "--output-dtb " + conf + ": the same file as the input --config " +
           conf},
      {{"--endorsements-template", tmpl, "--endorsements-output", tmpl},
       "--endorsements-output " + tmpl +
           ": the same file as the input --endorsements-template " + tmpl},
      {{"--comid-output", dir + "/initrd-hardlink"},
       "--comid-output " + dir +
           "/initrd-hardlink: the same file as the input --initrd " + initrd},
      {{"--corim-output", dir + "/c.cbor", "--comid-output", dir + "/./c.cbor"},
       "--comid-output " + dir +
           "/./c.cbor: the same file as the output "
           "--corim-output " +
           dir + "/c.cbor"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    std::vector<std::string> args = {"-c", conf, "-k", kernel, "-i", initrd};
    args.insert(args.end(), c.front.begin(), c.front.end());
    args.insert(args.end(), vm.begin(), vm.end());
    Result r = RunReal(args);
    EXPECT_EQ(r.rc, 1);
    EXPECT_TRUE(absl::StartsWith(
        r.err, "ERROR Invalid arguments: cannot write output " + c.message))
        << r.err;
    EXPECT_EQ(ReadFile(kernel), image);
    EXPECT_EQ(ReadFile(initrd), "INITRD");
    EXPECT_EQ(ReadFile(conf), "num_bps = 6\nnum_wps = 6\n");
    EXPECT_EQ(ReadFile(tmpl), tmpl_text);
    EXPECT_FALSE(Exists(dir + "/c.cbor"));
  }
  // A symbolic link to the kernel is refused as a link.
  Result r =
      RunReal({"-c", conf, "-k", kernel, "--output-dtb", dir + "/kernel-link",
               "kvmtool", "--realm", "-c", "1", "-m", "256M", "-k", "Image"});
  EXPECT_EQ(r.err,
            "ERROR Invalid arguments: cannot write output "
            "--output-dtb " +
                dir +
                "/kernel-link: is a symbolic link; outputs are "
                "written only to a new file or over a regular file\n");
  EXPECT_EQ(ReadFile(kernel), image);
  // The same run with distinct outputs succeeds.
  r = RunReal({"-c", conf, "-k", kernel, "-i", initrd, "--output-dtb",
               dir + "/vm.dtb", "kvmtool", "--realm", "-c", "1", "-m", "256M",
               "-k", "Image", "-i", "initrd"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(Exists(dir + "/vm.dtb"));
}

// Outputs replace only regular files: a symbolic link, FIFO or directory
// at the destination is refused and left as it was.
TEST(CliRobustness, OutputsReplaceOnlyRegularFiles) {
  const std::string dir = NewDir("special-outputs");
  const std::string target = dir + "/target";
  WriteFile(target, "KEEP");
  symlink(target.c_str(), (dir + "/link").c_str());
  const std::string fifo = MakeFifo(dir + "/out.fifo");
  mkdir((dir + "/subdir").c_str(), 0755);
  const std::pair<std::string, std::string> cases[] = {
      {dir + "/link", "is a symbolic link"},
      {fifo, "is a FIFO"},
      {dir + "/subdir", "is a directory"},
  };
  for (const char* option : {"--output-dtb", "--corim-output", "--comid-output",
                             "--endorsements-output"}) {
    for (const auto& [path, what] : cases) {
      SCOPED_TRACE(absl::StrCat(option, " ", path));
      Result r = RunTool(
          {"--num-wps", "6", "--num-bps", "6", option, path, "cloud-hv"});
      EXPECT_EQ(r.rc, 1);
      EXPECT_EQ(r.err, absl::StrCat("ERROR Invalid arguments: cannot write "
                                    "output ",
                                    option, " ", path, ": ", what,
                                    "; outputs are written only to a new file "
                                    "or over a regular file\n"));
      struct stat st;
      ASSERT_EQ(lstat(path.c_str(), &st), 0);
      EXPECT_FALSE(S_ISREG(st.st_mode));
    }
  }
  EXPECT_EQ(ReadFile(target), "KEEP");
}

// A run that fails after the build writes nothing: not the DTB (on main it
// was written before measuring), not the CBOR outputs.
TEST(CliRobustness, FailingRunLeavesNoOutput) {
  const std::string dir = NewDir("failing-run");
  const std::string dtb = dir + "/out.dtb";
  const std::string corim = dir + "/out.corim";
  WriteFile(dir + "/bad.json", "{\"triples\": {\"reference-values\": []}}\n");
  // A bad template: nothing new.
  Result r = RunTool({"--num-wps", "6", "--num-bps", "6", "--output-dtb", dtb,
                      "--corim-output", corim, "--endorsements-template",
                      dir + "/bad.json", "--endorsements-output",
                      dir + "/e.json", "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "missing field `tag-identity`"))
      << r.err;
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"bad.json"});
  // A measurement failure (missing firmware): existing outputs unchanged.
  WriteFile(dtb, "OLD DTB");
  WriteFile(corim, "OLD CORIM");
  r = RunTool({"--num-wps", "6", "--num-bps", "6", "-f", dir + "/missing-fw",
               "--output-dtb", dtb, "--corim-output", corim, "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "No such file or directory")) << r.err;
  EXPECT_EQ(ReadFile(dtb), "OLD DTB");
  EXPECT_EQ(ReadFile(corim), "OLD CORIM");
  // A signing key that is not a key: reported before any payload is hashed
  // (the missing firmware would otherwise fail first).
  WriteFile(dir + "/key.pem", "not a key");
  WriteFile(dir + "/chain.pem", "not a chain");
  r = RunTool({"--num-wps", "6", "--num-bps", "6", "-f", dir + "/missing-fw",
               "--output-dtb", dtb, "--corim-output", corim, "--corim-sign-key",
               dir + "/key.pem", "--corim-sign-chain", dir + "/chain.pem",
               "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_FALSE(absl::StrContains(r.err, "missing-fw")) << r.err;
  EXPECT_EQ(ReadFile(dtb), "OLD DTB");
  EXPECT_EQ(ReadFile(corim), "OLD CORIM");
  std::vector<std::string> entries = DirEntries(dir);
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries,
            (std::vector<std::string>{"bad.json", "chain.pem", "key.pem",
                                      "out.corim", "out.dtb"}));
}

// Output-path errors come before the payloads are read: here the firmware
// is missing, yet the unwritable CoRIM destination is what is reported.
TEST(CliRobustness, OutputPathErrorsComeBeforeAnyPayloadIsHashed) {
  const std::string dir = NewDir("early-errors");
  Result r =
      RunTool({"--num-wps", "6", "--num-bps", "6", "-f", dir + "/missing-fw",
               "--corim-output", dir + "/no-dir/x.corim", "cloud-hv"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "ERROR Invalid arguments: cannot write output "
            "--corim-output " +
                dir +
                "/no-dir/x.corim: No such file or directory (os error "
                "2)\n");
}

// --- RMM 2.0 (spec-rmm2 §2) ----------------------------------------------

TEST(Cli, RmmVersionSha384Json) {
  Result r = RunTool(
      Split("--rmm-version 2.0 --format json --num-wps 6 --num-bps 6 kvmtool "
            "--realm -c 1 -m 512M --measurement-algo sha384"));
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
  EXPECT_EQ(j["rmm_version"], "2.0");
  EXPECT_EQ(j["hash_algorithm"], "sha384");
  EXPECT_EQ(j["significant_length"], 48);
  const std::string rim = j["measurements"]["rim"].get<std::string>();
  ASSERT_EQ(rim.size(), 128u);
  EXPECT_NE(rim.substr(0, 96), std::string(96, '0'));
  EXPECT_EQ(rim.substr(96), std::string(32, '0'));
}

TEST(Cli, Sha384UnderRmm1IsAnErrorNamingTheVersion) {
  Result r =
      RunTool(Split("--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M "
                    "--measurement-algo sha384"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ERROR Cannot build parameters: hash algorithm sha384 is not "
            "available in RMM 1.0 (RMI_HASH_SHA_384 exists from RMM 2.0 on: "
            "--rmm-version 2.0)\n");
}

TEST(Cli, RmmVersionBadValueIsAUsageError) {
  Result r = RunTool(Split("--rmm-version 1.1 kvmtool -c 1 -m 512M"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(absl::StartsWith(
      r.err,
      "error: invalid value '1.1' for '--rmm-version <RMM_VERSION>': "
      "possible values: 1.0, 2.0\n"))
      << r.err;
}

TEST(Cli, PmuRealmUnderRmm2Warns) {
  const std::string args =
      "--num-wps 6 --num-bps 6 --pmu-num-ctrs 6 kvmtool --realm -c 1 -m 512M "
      "--pmu";
  Result v2 = RunTool(Split("--rmm-version 2.0 " + args));
  ASSERT_EQ(v2.rc, 0) << v2.err;
  EXPECT_NE(v2.err.find("WARN the realm has a PMU: TF-RMM 2.0 (as of "
                        "2026-07) refuses realms with PMU"),
            std::string::npos)
      << v2.err;
  Result v1 = RunTool(Split(args));
  ASSERT_EQ(v1.rc, 0) << v1.err;
  EXPECT_EQ(v1.err.find("TF-RMM 2.0"), std::string::npos) << v1.err;
  // Without the PMU, no warning under 2.0 either.
  Result no_pmu = RunTool(
      Split("--rmm-version 2.0 --num-wps 6 --num-bps 6 kvmtool --realm -c 1 "
            "-m 512M"));
  ASSERT_EQ(no_pmu.rc, 0) << no_pmu.err;
  EXPECT_EQ(no_pmu.err.find("TF-RMM 2.0"), std::string::npos) << no_pmu.err;
}

// rmm_version in a config file restricts like other keys; --rmm-version
// overrides it.
TEST(Cli, RmmVersionConfigAndOverride) {
  const std::string dir = NewDir("rmm2conf");
  WriteFile(dir + "/rmm2.conf", "rmm_version = \"2.0\"\n");
  WriteFile(dir + "/rmm1.conf", "rmm_version = \"1.0\"\n");
  const std::string vmm = "--num-wps 6 --num-bps 6 kvmtool -c 1 -m 512M";
  auto run = [&](const std::string& global) {
    Result r = RunTool(Split(global + " " + vmm));
    EXPECT_EQ(r.rc, 0) << global << ": " << r.err;
    return r.out;
  };
  const std::string v1 = run("");
  const std::string v2 = run("--rmm-version 2.0");
  EXPECT_NE(v1, v2);
  EXPECT_EQ(run("--rmm-version 1.0"), v1);
  EXPECT_EQ(run("-c " + dir + "/rmm2.conf"), v2);
  EXPECT_EQ(run("-c " + dir + "/rmm2.conf --rmm-version 1.0"), v1);
  EXPECT_EQ(run("-c " + dir + "/rmm1.conf --rmm-version 2.0"), v2);
  // A later file can only lower the version (restrict).
  EXPECT_EQ(run("-c " + dir + "/rmm1.conf -c " + dir + "/rmm2.conf"), v1);
  EXPECT_EQ(run("-c " + dir + "/rmm2.conf -c " + dir + "/rmm1.conf"), v1);
}

// A sweep measures every shape for the RMM version given once.
TEST(Cli, SweepFollowsRmmVersion) {
  Result sweep = RunTool(
      Split("--rmm-version 2.0 --sweep cpus=1,2 --num-wps 6 --num-bps 6 "
            "kvmtool -c {cpus} -m 512M --measurement-algo sha384"));
  ASSERT_EQ(sweep.rc, 0) << sweep.err;
  std::string want;
  for (const char* cpus : {"1", "2"}) {
    Result one = RunTool(Split(
        absl::StrCat("--rmm-version 2.0 --num-wps 6 --num-bps 6 kvmtool -c ",
                     cpus, " -m 512M --measurement-algo sha384")));
    ASSERT_EQ(one.rc, 0) << one.err;
    absl::StrAppend(&want, want.empty() ? "" : "\n", "# shape ", cpus,
                    "/2: cpus=", cpus, "\n", one.out);
  }
  EXPECT_EQ(sweep.out, want);
}

TEST(Cli, EndorsementsJsonLabelsSha384) {
  const std::string dir = NewDir("endorse384");
  Result r = RunTool({"--rmm-version", "2.0", "--num-wps", "6", "--num-bps",
                      "6", "--endorsements-output", dir + "/e.json", "kvmtool",
                      "-c", "1", "-m", "512M", "--measurement-algo", "sha384"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::ifstream f(dir + "/e.json");
  std::stringstream text;
  text << f.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str());
  const std::string rim = j["triples"]["reference-values"][0]["measurements"][0]
                           ["value"]["integrity-registers"]["rim"]["value"][0];
  EXPECT_TRUE(absl::StartsWith(rim, "sha-384;")) << rim;
}

}  // namespace
}  // namespace realm_measurements::measure
