// Issue 19: every error a user can meet says what is wrong and how to fix
// it. One table of command lines and the exact stderr they produce, through
// the real VMM models.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "gtest/gtest.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"

namespace realm_measurements::measure {
namespace {

using cli::CliEnvironment;
using cli::RunCli;

std::string Dir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d != nullptr ? d : "/tmp") + "/messages";
}

void Write(const std::string& name, const std::string& data) {
  std::ofstream f(Dir() + "/" + name, std::ios::binary);
  f << data;
}

std::string U32Be(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

class CliMessagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mkdir(Dir().c_str(), 0755);
    Write("notakernel", std::string(200, 'x'));
    Write("random.dtb", std::string(100, '\x12'));
    Write("short.dtb", std::string(10, '\0'));
    // A header claiming 1000 bytes in a 64-byte file.
    Write("truncated.dtb", U32Be(0xd00dfeed) + U32Be(1000) +
                               std::string(12, '\0') + U32Be(17) + U32Be(16) +
                               std::string(36, '\0'));
    // 300 MiB initrd without writing 300 MiB: its size is all that counts.
    const std::string big = Dir() + "/big-initrd";
    int fd = open(big.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 300 << 20), 0);
    close(fd);
  }
};

struct Case {
  const char* argv;  // split on spaces; DIR is the input directory
  int rc;
  const char* first_line;  // of stderr; DIR as above
};

TEST_F(CliMessagesTest, EveryMessageSaysHowToFixIt) {
  const std::vector<Case> cases = {
      {"kvmtool --realm -c 1 -m 512M", 1,
       "ERROR Failed to compute measurements: num_wps is not known: give the "
       "host's watchpoint count with --num-wps N or `num_wps = N` in a -c "
       "config file (e.g. -c configs/fvp.conf)"},
      {"--num-wps 6 kvmtool --realm -c 1 -m 512M", 1,
       "ERROR Failed to compute measurements: num_bps is not known: give the "
       "host's breakpoint count with --num-bps N or `num_bps = N` in a -c "
       "config file (e.g. -c configs/fvp.conf)"},
      {"--num-wps 6 --num-bps 6 kvmtool --realm -c 1", 1,
       "ERROR Cannot build parameters: default guest RAM size is not known: "
       "give kvmtool's -m/--mem, e.g. kvmtool --realm -c 2 -m 512M"},
      {"--num-wps 6 --num-bps 6 kvmtool --realm -m 512M", 1,
       "ERROR Cannot build parameters: number of vCPUs is not known: give "
       "kvmtool's -c/--cpus, e.g. kvmtool --realm -c 2 -m 512M"},
      {"--num-wps 6 --num-bps 6 kvmtool --realm -c 1 -m 512M -k Image", 1,
       "ERROR Cannot build parameters: need kernel image: kvmtool --kernel "
       "loads the kernel image; give its file with the global -k FILE before "
       "the VMM name (e.g. -k Image)"},
      {"--num-wps 6 --num-bps 6 qemu -kernel Image", 1,
       "ERROR Cannot build parameters: need kernel image: qemu -kernel loads "
       "the kernel image; give its file with the global -k FILE before the "
       "VMM name (e.g. -k Image)"},
      {"--num-wps 6 --num-bps 6 qemu -bios QEMU_EFI.fd", 1,
       "ERROR Cannot build parameters: need firmware image: qemu -bios loads "
       "the firmware image; give its file with the global -f FILE before the "
       "VMM name (e.g. -f QEMU_EFI.fd)"},
      {"--num-wps 6 --num-bps 6 --ipa-bits 52 cloud-hv --kernel Image", 1,
       "ERROR Cannot build parameters: need kernel image: cloud-hv --kernel "
       "loads the kernel image; give its file with the global -k FILE before "
       "the VMM name (e.g. -k Image)"},
      {"--num-wps 6 --num-bps 6 -k DIR/notakernel kvmtool -c 1 -m 512M -k x", 1,
       "ERROR Cannot build parameters: file DIR/notakernel error: neither an "
       "arm64 Image (no ARM\\x64 magic at 0x38) nor gzip (no 1f 8b magic at "
       "0)"},
      {"--num-wps 6 --num-bps 6 -i DIR/big-initrd kvmtool -c 1 -m 512M -i x", 1,
       "ERROR Cannot build parameters: initrd does not fit: kvmtool places "
       "the initrd and the DTB in the first 256 MiB of RAM (below "
       "0x90000000); the initrd needs 314572800 bytes, at most 266338303 are "
       "free between the RAM base 0x80000000 and the DTB at 0x8fe00000"},
      {"--ipa-bits 53 kvmtool -c 1 -m 512M", 2,
       "error: invalid value '53' for '--ipa-bits <IPA_BITS>': 53 is not in "
       "32..=52 (the IPA widths an Arm CCA platform can have, "
       "ID_AA64MMFR0_EL1.PARange)"},
      {"--ipa-bits 31 kvmtool -c 1 -m 512M", 2,
       "error: invalid value '31' for '--ipa-bits <IPA_BITS>': 31 is not in "
       "32..=52 (the IPA widths an Arm CCA platform can have, "
       "ID_AA64MMFR0_EL1.PARange)"},
      {"--num-wps 6 --num-bps 6 --dtb DIR/random.dtb kvmtool -c 1 -m 512M", 1,
       "ERROR Cannot build parameters: --dtb DIR/random.dtb is not a device "
       "tree: bad magic 0x12121212 at offset 0 (expected 0xd00dfeed)"},
      {"--num-wps 6 --num-bps 6 --dtb DIR/short.dtb qemu", 1,
       "ERROR Cannot build parameters: --dtb DIR/short.dtb is not a device "
       "tree: file of 10 bytes is shorter than the 40-byte header"},
      {"--num-wps 6 --num-bps 6 --dtb DIR/truncated.dtb kvmtool -c 1 -m 512M",
       1,
       "ERROR Cannot build parameters: --dtb DIR/truncated.dtb is not a "
       "device tree: totalsize 1000 in the header, but the file has 64 bytes "
       "(expected 40 to 64)"},
      {"--num-wps 6 --num-bps 6 --corim-output DIR/no-dir/r.corim kvmtool -c "
       "1 -m 512M",
       1,
       "ERROR Invalid arguments: cannot write output "
       "--corim-output DIR/no-dir/r.corim: No such file or directory (os "
       "error 2)"},
      {"--num-wps 6 --num-bps 6 --endorsements-output DIR/no-dir/e.json "
       "kvmtool -c 1 -m 512M",
       1,
       "ERROR Invalid arguments: cannot write output "
       "--endorsements-output DIR/no-dir/e.json: No such file or directory "
       "(os error 2)"},
      {"--num-wps 6 --num-bps 6 --output-dtb DIR/no-dir/vm.dtb kvmtool -c 1 "
       "-m 512M",
       1,
       "ERROR Invalid arguments: cannot write output --output-dtb "
       "DIR/no-dir/vm.dtb: No such file or directory (os error 2)"},
  };
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  env.models["qemu"] = &BuildQemu;
  env.models["cloud-hv"] = &BuildCloudHv;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.argv);
    const std::string argv = absl::StrReplaceAll(c.argv, {{"DIR", Dir()}});
    std::ostringstream out, err;
    const int rc =
        RunCli(absl::StrSplit(argv, ' ', absl::SkipEmpty()), env, out, err);
    EXPECT_EQ(rc, c.rc);
    EXPECT_EQ(out.str(), "");
    const std::string first_line = err.str().substr(0, err.str().find('\n'));
    EXPECT_EQ(first_line, absl::StrReplaceAll(c.first_line, {{"DIR", Dir()}}))
        << err.str();
  }
}

// --progress reports payload hashing on stderr; without it (and stderr not
// a terminal) stderr stays empty and stdout is the same.
TEST_F(CliMessagesTest, ProgressOnlyWhenAsked) {
  // 96 MiB of non-zero bytes, hashed as a kvmtool initrd.
  {
    std::ofstream f(Dir() + "/initrd-96M", std::ios::binary);
    const std::string mib(1 << 20, '\x5a');
    for (int i = 0; i < 96; ++i) f << mib;
  }
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  auto run = [&](const std::string& extra) {
    const std::string argv =
        absl::StrCat(extra, " --num-wps 6 --num-bps 6 -i ", Dir(),
                     "/initrd-96M kvmtool -c 1 -m 512M -i initrd");
    std::ostringstream out, err;
    int rc =
        RunCli(absl::StrSplit(argv, ' ', absl::SkipEmpty()), env, out, err);
    EXPECT_EQ(rc, 0) << err.str();
    return std::make_pair(out.str(), err.str());
  };
  const auto [quiet_out, quiet_err] = run("");
  EXPECT_EQ(quiet_err, "");
  const auto [out, err] = run("--progress");
  EXPECT_EQ(out, quiet_out);
  std::vector<std::string> lines = absl::StrSplit(err, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  // Every line is a progress line; the last is the summary of the 96 MiB
  // initrd plus the 64 KiB DTB.
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::StartsWith(line, "progress: hashed ")) << line;
  }
  EXPECT_TRUE(absl::StartsWith(lines.back(), "progress: hashed 96.1 MiB in "))
      << lines.back();
  EXPECT_TRUE(absl::EndsWith(lines.back(), " MiB/s)")) << lines.back();
  // Intermediate lines (if the machine is slow enough to print any) show
  // the total.
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_TRUE(absl::StrContains(lines[i], " of 96.1 MiB (")) << lines[i];
  }
}

}  // namespace
}  // namespace realm_measurements::measure
