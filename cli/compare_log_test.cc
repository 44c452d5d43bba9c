// realm-measurements --compare-log (eventlog/compare.h) end to end: the
// golden case qemu-bios-measurement-log against the log QEMU would write for
// it (testdata/eventlog/README.md). Oracles: the golden case's RIM and DTB
// size (recorded from the reference tool), the log's own fields as
// testdata/eventlog/README.md lists them, and which step a changed option
// must move (the RAM size, the vCPU count in the DTB).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "gtest/gtest.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "nlohmann/json.hpp"

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

struct Golden {
  std::vector<std::string> argv;  // without --output-dtb
  std::string rim;
  size_t dtb_size = 0;
};

Golden LoadGolden() {
  nlohmann::json corpus =
      nlohmann::json::parse(ReadText("testdata/golden/cases-public.json"));
  for (const nlohmann::json& c : corpus["cases"]) {
    if (c["id"] != "qemu-bios-measurement-log") continue;
    Golden g;
    const std::vector<std::string> argv = c["argv"];
    for (size_t i = 0; i < argv.size(); ++i) {
      if (argv[i] == "--output-dtb") {
        ++i;
        continue;
      }
      g.argv.push_back(argv[i]);
    }
    g.rim = c["expected_stdout"].get<std::string>().substr(5, 128);
    g.dtb_size = c["expected_dtb_size"];
    return g;
  }
  ADD_FAILURE() << "no golden case qemu-bios-measurement-log";
  return {};
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

}  // namespace
}  // namespace realm_measurements::cli
