#include "measure/vmm/vmm_help.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "gtest/gtest.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/qemu_args.h"
#include "measure/vmm/vmm.h"

namespace realm_measurements::measure {
namespace {

using cli::CliEnvironment;
using cli::RunCli;

std::string ReadDoc(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct RunResult {
  int rc;
  std::string out, err;
};

RunResult RunWithModels(const std::vector<std::string>& args) {
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  env.models["qemu"] = &BuildQemu;
  env.models["cloud-hv"] = &BuildCloudHv;
  std::ostringstream out, err;
  int rc = RunCli(args, env, out, err);
  return {rc, out.str(), err.str()};
}

// The line of `help` that documents `option` (its first column), or "".
std::string HelpLineFor(const std::string& help, absl::string_view option) {
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (absl::StartsWith(line, absl::StrCat("  ", option, " ")) ||
        (absl::StartsWith(line, "  -") && line.size() > 6 &&
         absl::StartsWith(line.substr(4), absl::StrCat(", ", option, " ")))) {
      return std::string(line);
    }
  }
  return "";
}

// docs/vmm-*.md contain exactly the tables rendered from the code.
TEST(VmmHelpTest, DocsContainTheTablesOfTheCode) {
  for (const char* vmm : {"kvmtool", "qemu", "cloud-hv"}) {
    SCOPED_TRACE(vmm);
    const std::string doc = ReadDoc(absl::StrCat("docs/vmm-", vmm, ".md"));
    ASSERT_FALSE(doc.empty());
    std::vector<VmmArgTable> tables = VmmArgTables(vmm);
    ASSERT_FALSE(tables.empty());
    for (const VmmArgTable& t : tables) {
      const std::string md = RenderMarkdownTable(t);
      EXPECT_NE(doc.find(md), std::string::npos)
          << "docs/vmm-" << vmm << ".md must contain exactly:\n"
          << md;
    }
  }
}

// `kvmtool --help` lists every option of the parser's table with its use
// and value type; it is printed on stdout with exit status 0, whatever
// else is on the line (no measurement is attempted).
TEST(VmmHelpTest, KvmtoolHelpListsEveryArgument) {
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{
           {"kvmtool", "--help"},
           {"kvmtool", "-h"},
           {"-c", "no-such.conf", "kvmtool", "--realm", "-c", "2", "--help"}}) {
    RunResult r = RunWithModels(argv);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(absl::StartsWith(
        r.out, "Usage: realm-measurements [GLOBAL OPTIONS] kvmtool "))
        << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "Required: -c/--cpus N and -m/--mem"));
    for (const kvmtool::ArgSpec& o : kvmtool::Arguments()) {
      SCOPED_TRACE(o.long_name);
      const std::string line =
          HelpLineFor(r.out, absl::StrCat("--", o.long_name));
      ASSERT_FALSE(line.empty()) << r.out;
      const char* use = o.use == kvmtool::ArgUse::kSupported ? " supported "
                        : o.use == kvmtool::ArgUse::kIgnored ? " ignored"
                                                             : " rejected ";
      EXPECT_TRUE(absl::StrContains(line, use)) << line;
      if (o.short_name != 0) {
        EXPECT_TRUE(absl::StartsWith(
            line, absl::StrCat("  -", std::string(1, o.short_name), ", --")))
            << line;
      }
    }
    for (const char* e : KvmtoolRejectedExamples()) {
      EXPECT_TRUE(absl::StrContains(r.out, e)) << e;
    }
  }
}

TEST(VmmHelpTest, QemuHelpListsOptionsAndListKeys) {
  RunResult r = RunWithModels({"qemu", "-M", "virt", "--help"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no "Parameter --help ignored" warning
  for (const qemu::OptionInfo& o : qemu::QemuOptionTable()) {
    EXPECT_FALSE(HelpLineFor(r.out, o.name).empty()) << o.name;
  }
  for (const qemu::SubOptionInfo& s : qemu::QemuSubOptionTable()) {
    if (*s.key == '\0' || std::string(s.key) == "*") continue;
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat(" ", s.key, " ")))
        << s.key;
  }
  EXPECT_TRUE(absl::StrContains(r.out, "measurement algorithm sha512"));
  EXPECT_EQ(RunWithModels({"qemu", "-help"}).rc, 0);
  // A value is not a request for help: `-append --help` is a kernel command
  // line, so this is an ordinary run (which needs host capabilities).
  RunResult value = RunWithModels({"qemu", "-append", "--help"});
  EXPECT_EQ(value.rc, 1);
  EXPECT_EQ(value.out, "");
}

TEST(VmmHelpTest, CloudHvHelpListsArgumentsAndRejections) {
  RunResult r = RunWithModels({"cloud-hv", "--help"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const cloud_hv::ArgSpec& a : cloud_hv::Arguments()) {
    const std::string line = HelpLineFor(r.out, a.name);
    ASSERT_FALSE(line.empty()) << a.name;
    EXPECT_TRUE(absl::StrContains(line, a.use == cloud_hv::ArgUse::kSupported
                                            ? " supported"
                                            : " ignored"))
        << line;
  }
  for (const RejectedArg& a : CloudHvRejectedArgs()) {
    const std::string line = HelpLineFor(r.out, a.name);
    EXPECT_TRUE(absl::StrContains(line, " rejected "))
        << a.name << ": " << line;
    // ... and the parser does reject it.
    RunResult bad = RunWithModels(
        {"--num-wps", "6", "--num-bps", "6", "cloud-hv", a.name, "x"});
    EXPECT_EQ(bad.rc, 2) << a.name << ": " << bad.err;
  }
  EXPECT_TRUE(absl::StrContains(r.out, "512 MiB of RAM"));
}

TEST(VmmHelpTest, HelpTextIsPlainTextWithoutMarkdown) {
  for (const char* vmm : {"kvmtool", "qemu", "cloud-hv"}) {
    std::optional<std::string> help = VmmHelpText(vmm);
    ASSERT_TRUE(help.has_value()) << vmm;
    for (absl::string_view line : absl::StrSplit(*help, '\n')) {
      EXPECT_FALSE(absl::StartsWith(line, "|")) << vmm << ": " << line;
      EXPECT_FALSE(absl::EndsWith(line, " ")) << vmm << ": " << line;
    }
    EXPECT_FALSE(absl::StrContains(*help, "\\|")) << vmm;
  }
  EXPECT_FALSE(VmmHelpText("help").has_value());
}

}  // namespace
}  // namespace realm_measurements::measure
