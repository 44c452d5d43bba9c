#include "eventlog/compare.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "eventlog/parser.h"
#include "gtest/gtest.h"

namespace realm_measurements::eventlog {
namespace {

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

EventLog ParseLog(const std::string& name) {
  absl::StatusOr<EventLog> log = Parse(ReadBytes("testdata/eventlog/" + name));
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *log : EventLog{};
}

// The digests `sha256sum` wrote for the §J.4 images (images/SHA256SUMS).
std::vector<uint8_t> Sum(const std::string& image) {
  std::ifstream f("testdata/eventlog/images/SHA256SUMS");
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> p = absl::StrSplit(line, "  ");
    if (p.size() == 2 && p[1] == image) {
      const std::string bytes = absl::HexStringToBytes(p[0]);
      return std::vector<uint8_t>(bytes.begin(), bytes.end());
    }
  }
  ADD_FAILURE() << "no sum for " << image;
  return {};
}

// The realm t2-qemu-sha256.bin records, from spec-eventlog §J.4 (its
// construction table; README.md shows `eventlog parse` of it): 2 vCPUs, 1
// GiB at 1 GiB, firmware at 0, DTB at the RAM base, initrd, REC at the
// firmware with x0 = DTB, the 64 KiB LOG, kernel and initrd into PCR 9.
ExpectedRealm T2() {
  ExpectedRealm x;
  x.params.hash_algorithm = measure::HashAlgorithm::kSha256;
  x.params.ipa_bits = 41;
  x.params.num_bps = 6;
  x.params.num_wps = 4;
  x.params.sve_vl = 256;
  x.params.pmu = true;
  x.params.pmu_num_ctrs = 6;
  x.ram = {{0x40000000, 0x40000000}};
  x.rim_blobs = {{"firmware", "fw.bin", 0, 10, Sum("fw.bin")},
                 {"dtb", "DTB", 0x40000000, 2052, Sum("dtb.bin")},
                 {"initrd", "initrd.bin", 1207963644, 4200, Sum("initrd.bin")}};
  x.rec = measure::RecParams{1, 0, {0x40000000}};
  x.unmeasured = {{1210056704, 65536}};
  x.rem_blobs = {{2, {"kernel", "kernel.bin", 0, 14, Sum("kernel.bin")}},
                 {2, {"initrd", "initrd.bin", 0, 4200, Sum("initrd.bin")}}};
  return x;
}

LogComparison Compare(const ExpectedRealm& x) {
  absl::StatusOr<LogComparison> c =
      CompareWithLog(ParseLog("t2-qemu-sha256.bin"), x);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : LogComparison{};
}

TEST(CompareWithLog, EveryStepOfTheConstructionTableIsTheSame) {
  LogComparison c = Compare(T2());
  EXPECT_EQ(c.vmm, "QEMU 9.2.0");
  EXPECT_EQ(c.algorithm, "sha256");
  EXPECT_FALSE(c.first_difference.has_value());
  std::vector<std::string> steps;
  for (const StepComparison& s : c.steps) {
    steps.push_back(s.step);
    EXPECT_TRUE(s.same) << s.step;
  }
  EXPECT_EQ(steps, (std::vector<std::string>{
                       "VM VERSION", "REALM_CREATE", "INIT_RIPAS",
                       "DATA firmware", "DATA dtb", "DATA initrd", "REC_CREATE",
                       "DATA unmeasured", "REM2 kernel", "REM2 initrd"}));
  // Event indices and offsets as `eventlog parse` prints them.
  EXPECT_EQ(c.steps[4].event, 4u);
  EXPECT_EQ(c.steps[4].offset, 0x017eu);
  EXPECT_EQ(c.steps[9].event, 9u);
  EXPECT_EQ(c.steps[9].offset, 0x02e2u);
  const std::string text = ComparisonToText(c);
  EXPECT_TRUE(absl::StrContains(
      text,
      "  5  event 4 @0x017e    same      DATA dtb 0x40000000, 2052 "
      "bytes, sha256:849782d6e0a56db4...\n"))
      << text;
  EXPECT_TRUE(absl::EndsWith(
      text,
      "all 10 steps are the same as computed; if the Realm's RIM still "
      "differs, so does its RMM version (not in the log: --rmm-version)\n"));
}

TEST(CompareWithLog, EachFieldThatDiffersIsNamed) {
  ExpectedRealm x = T2();
  x.params.ipa_bits = 40;
  x.params.lpa2 = true;
  LogComparison c = Compare(x);
  ASSERT_EQ(c.first_difference, 1u);
  EXPECT_EQ(c.steps[1].differences,
            (std::vector<std::string>{"IPA bits (s2sz): computed 40, logged 41",
                                      "LPA2: computed on, logged off"}));
  EXPECT_TRUE(absl::StartsWith(c.steps[1].hint, "the host capabilities"));
  EXPECT_TRUE(absl::StrContains(
      ComparisonToText(c),
      "first difference: step 2 (REALM_CREATE): IPA bits (s2sz): computed "
      "40, logged 41\n  decided by the host capabilities"));

  x = T2();
  x.rim_blobs[1].digest[0] ^= 1;
  x.rec->gprs[0] = 0x48000000;
  c = Compare(x);
  ASSERT_EQ(c.first_difference, 4u);
  ASSERT_EQ(c.steps[4].differences.size(), 1u);
  EXPECT_TRUE(
      absl::StartsWith(c.steps[4].differences[0], "sha256: computed 859782d6"))
      << c.steps[4].differences[0];
  EXPECT_FALSE(c.steps[6].same);
  EXPECT_EQ(c.steps[6].differences,
            (std::vector<std::string>{
                "x0-x7: computed 0x48000000 0x0 0x0 0x0 0x0 0x0 0x0 0x0, "
                "logged 0x40000000 0x0 0x0 0x0 0x0 0x0 0x0 0x0"}));
}

TEST(CompareWithLog, MissingAndExtraStepsAreDifferences) {
  // Without the initrd the computed REC_CREATE meets the logged initrd.
  ExpectedRealm x = T2();
  x.rim_blobs.pop_back();
  LogComparison c = Compare(x);
  ASSERT_EQ(c.first_difference, 5u);
  EXPECT_EQ(
      c.steps[5].differences,
      (std::vector<std::string>{"computed REC_CREATE, logged DATA initrd"}));
  // One more REM image than the log has; the other into the wrong REM.
  x = T2();
  x.rem_blobs[0].first = 0;
  x.rem_blobs.push_back(x.rem_blobs[1]);
  c = Compare(x);
  ASSERT_EQ(c.first_difference, 8u);
  EXPECT_EQ(
      c.steps[8].differences,
      (std::vector<std::string>{"computed REM0 kernel, logged REM2 kernel"}));
  ASSERT_EQ(c.steps.size(), 11u);
  EXPECT_EQ(c.steps[10].differences,
            (std::vector<std::string>{"the log ends before this step"}));
  EXPECT_FALSE(c.steps[10].event.has_value());
  // A log with more steps than computed.
  x = T2();
  x.unmeasured.clear();
  c = Compare(x);
  ASSERT_EQ(c.first_difference, 7u);
  EXPECT_TRUE(absl::StartsWith(c.steps[7].differences[0],
                               "computed REM2 kernel, logged DATA unmeasured"))
      << c.steps[7].differences[0];
}

TEST(CompareWithLog, RefusesLogsOfAnotherKind) {
  ExpectedRealm x = T2();
  x.params.hash_algorithm = measure::HashAlgorithm::kSha512;
  absl::StatusOr<LogComparison> c =
      CompareWithLog(ParseLog("t2-qemu-sha256.bin"), x);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(c.status().message(),
                               "event log: expected sha512 digests"))
      << c.status();
  // A firmware CC event log creates no realm.
  c = CompareWithLog(ParseLog("corpus/edk2-ccel.bin"), T2());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(c.status().message(),
                                "found none (a firmware CC event log"))
      << c.status();
}

}  // namespace
}  // namespace realm_measurements::eventlog
