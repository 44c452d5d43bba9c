// CLI sweeps (--sweep, --sweep-shape): every entry is what an individual run
// of the same shape prints, one CoRIM holds every shape.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "corim/comid.h"
#include "gtest/gtest.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::cli {
namespace {

using measure::BuildKvmtool;
using measure::BuildQemu;

using Args = std::vector<std::string>;

// --- Every sweep entry against an individual run of the same shape. ---

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

// An arm64 Image (booting.rst header: text_offset 0, image_size, magic
// "ARM\x64" at 56) followed by patterned content.
std::string WriteImage(const std::string& name, size_t size) {
  std::vector<uint8_t> d(size);
  uint32_t x = 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245 + 12345;
    d[i] = static_cast<uint8_t>(x >> 16);
  }
  for (int i = 0; i < 64; ++i) d[i] = 0;
  const uint64_t image_size = 8 << 20;
  for (int i = 0; i < 8; ++i)
    d[16 + i] = static_cast<uint8_t>(image_size >> (8 * i));
  d[56] = 'A';
  d[57] = 'R';
  d[58] = 'M';
  d[59] = 0x64;
  const std::string path = TempPath(name);
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EXPECT_EQ(std::fwrite(d.data(), 1, d.size(), f), d.size());
  std::fclose(f);
  return path;
}

CliEnvironment Env() {
  CliEnvironment env;
  env.models["kvmtool"] = &BuildKvmtool;
  env.models["qemu"] = &BuildQemu;
  return env;
}

int RunMain(const Args& args, std::string* out, std::string* err) {
  std::ostringstream o, e;
  int rc = RunCli(args, Env(), o, e);
  *out = o.str();
  *err = e.str();
  return rc;
}

// Replaces {key} in `args` as the sweep does (independently written).
Args Substitute(Args args,
                const std::vector<std::pair<std::string, std::string>>& kv) {
  for (std::string& a : args) {
    for (const auto& [k, v] : kv) {
      const std::string ph = absl::StrCat("{", k, "}");
      for (size_t p; (p = a.find(ph)) != std::string::npos;) {
        a.replace(p, ph.size(), v);
      }
    }
  }
  return args;
}

struct Case {
  Args global;  // before the VMM name, without the sweep options
  std::string vmm;
  Args vmm_args;  // with placeholders
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
};

void CheckEveryEntry(const Case& c, bool json) {
  Args sweep_args = c.global;
  for (const auto& [k, vs] : c.axes) {
    std::string spec = absl::StrCat(k, "=");
    for (size_t i = 0; i < vs.size(); ++i) {
      absl::StrAppend(&spec, i ? "," : "", vs[i]);
    }
    sweep_args.push_back("--sweep");
    sweep_args.push_back(spec);
  }
  if (json) {
    sweep_args.push_back("--format");
    sweep_args.push_back("json");
  }
  sweep_args.push_back(c.vmm);
  sweep_args.insert(sweep_args.end(), c.vmm_args.begin(), c.vmm_args.end());
  std::string out, err;
  ASSERT_EQ(RunMain(sweep_args, &out, &err), 0) << err;

  // Expected shapes, last axis fastest.
  std::vector<std::vector<std::pair<std::string, std::string>>> shapes = {{}};
  for (const auto& [k, vs] : c.axes) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& s : shapes) {
      for (const std::string& v : vs) {
        auto t = s;
        t.emplace_back(k, v);
        next.push_back(t);
      }
    }
    shapes = next;
  }
  std::vector<std::string> blocks;
  nlohmann::json doc;
  if (json) {
    doc = nlohmann::json::parse(out);
    ASSERT_EQ(doc["shapes"].size(), shapes.size());
  } else {
    blocks = absl::StrSplit(out, "\n\n");
    ASSERT_EQ(blocks.size(), shapes.size()) << out;
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    Args single = c.global;
    if (json) {
      single.push_back("--format");
      single.push_back("json");
    }
    single.push_back(c.vmm);
    Args va = Substitute(c.vmm_args, shapes[i]);
    single.insert(single.end(), va.begin(), va.end());
    std::string one, one_err;
    ASSERT_EQ(RunMain(single, &one, &one_err), 0) << one_err;
    std::string header =
        absl::StrCat("# shape ", i + 1, "/", shapes.size(), ":");
    for (const auto& [k, v] : shapes[i])
      absl::StrAppend(&header, " ", k, "=", v);
    if (json) {
      const nlohmann::json& e = doc["shapes"][i];
      EXPECT_EQ(e["shape"], i + 1);
      for (const auto& [k, v] : shapes[i]) EXPECT_EQ(e["parameters"][k], v);
      EXPECT_EQ(e["vmm_args"].get<Args>(), va);
      EXPECT_EQ(e["result"], nlohmann::json::parse(one)) << header;
    } else {
      std::string block = blocks[i];
      if (i + 1 == shapes.size()) {
        EXPECT_EQ(block, absl::StrCat(header, "\n", one));
      } else {
        EXPECT_EQ(absl::StrCat(block, "\n"), absl::StrCat(header, "\n", one));
      }
      // Five measurement lines per block.
      EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 5);
    }
  }
}

TEST(SweepCli, KvmtoolEveryEntryMatchesIndividualRun) {
  const std::string kernel = WriteImage("sweep-Image", 3 * 1024 * 1024 + 77);
  const std::string initrd = WriteImage("sweep-initrd", 1024 * 1024 + 5);
  Case c;
  c.global = {"--num-wps", "6", "--num-bps", "6", "-k", kernel, "-i", initrd};
  c.vmm = "kvmtool";
  c.vmm_args = {"--realm", "-c", "{cpus}", "-m",         "{mem}", "-k",
                "Image",   "-i", "initrd", "--realm-pv", "{pv}"};
  c.axes = {{"cpus", {"1", "2", "4"}},
            {"mem", {"256M", "1G"}},
            {"pv", {"alpha", "beta"}}};
  CheckEveryEntry(c, /*json=*/false);
  CheckEveryEntry(c, /*json=*/true);
}

TEST(SweepCli, QemuSha512EveryEntryMatchesIndividualRun) {
  const std::string kernel = WriteImage("sweep-q-Image", 2 * 1024 * 1024 + 3);
  Case c;
  c.global = {"--num-wps",  "6",  "--num-bps", "6",
              "--ipa-bits", "48", "-k",        kernel};
  c.vmm = "qemu";
  c.vmm_args = {"-M",      "virt,confidential-guest-support=rme0",
                "-object", "rme-guest,id=rme0,measurement-algorithm={algo}",
                "-cpu",    "host",
                "-smp",    "{cpus}",
                "-m",      "{mem}",
                "-kernel", "Image"};
  c.axes = {{"algo", {"sha512", "sha256"}},
            {"cpus", {"1", "3"}},
            {"mem", {"512M", "2G"}}};
  CheckEveryEntry(c, /*json=*/false);
  CheckEveryEntry(c, /*json=*/true);
}

TEST(SweepCli, ExplicitShapesAndErrors) {
  std::string out, err;
  Args base = {"--num-wps", "6", "--num-bps", "6"};
  Args a = base;
  a.insert(a.end(), {"--sweep-shape", "cpus=1,mem=256M", "--sweep-shape",
                     "cpus=2,mem=512M", "kvmtool", "--realm", "-c", "{cpus}",
                     "-m", "{mem}"});
  ASSERT_EQ(RunMain(a, &out, &err), 0) << err;
  std::vector<std::string> blocks = absl::StrSplit(out, "\n\n");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1].substr(0, 30), "# shape 2/2: cpus=2 mem=512M\nR");

  // A failing shape names itself after its own error line.
  a = base;
  a.insert(a.end(), {"--sweep", "mem=256M,17", "kvmtool", "--realm", "-c", "1",
                     "-m", "{mem}", "-k", "Image"});
  EXPECT_EQ(RunMain(a, &out, &err), 1);
  EXPECT_NE(err.find("ERROR sweep: shape 1/2 (mem=256M) failed"),
            std::string::npos)
      << err;

  // Usage errors: exit 2.
  a = base;
  a.insert(a.end(), {"--sweep", "cpus=1", "kvmtool", "--realm", "-c", "1"});
  EXPECT_EQ(RunMain(a, &out, &err), 2);
  EXPECT_NE(err.find("key 'cpus' is not used"), std::string::npos) << err;
  a = base;
  a.insert(a.end(), {"--sweep", "cpus", "kvmtool"});
  EXPECT_EQ(RunMain(a, &out, &err), 2);
  a = base;
  a.insert(a.end(), {"--sweep", "cpus=1", "--output-dtb", TempPath("x.dtb"),
                     "kvmtool", "--realm", "-c", "{cpus}"});
  EXPECT_EQ(RunMain(a, &out, &err), 2);
  a = base;
  a.insert(a.end(), {"--threads", "0", "kvmtool", "--realm"});
  EXPECT_EQ(RunMain(a, &out, &err), 2);
}

TEST(SweepCli, ThreadsDoNotChangeResults) {
  const std::string kernel = WriteImage("threads-Image", 1024 * 1024 + 9);
  std::string first;
  for (const char* t : {"1", "2", "5"}) {
    std::string out, err;
    Args a = {"--threads", t,      "--num-wps", "6",       "--num-bps", "6",
              "-k",        kernel, "kvmtool",   "--realm", "-c",        "1",
              "-m",        "256M", "-k",        "Image"};
    ASSERT_EQ(RunMain(a, &out, &err), 0) << err;
    if (first.empty()) first = out;
    EXPECT_EQ(out, first);
  }
}

// A sweep's shapes run --threads x lanes at a time and their RIM chains
// meet in one ChainBatch (measure/chain_batch.h): the output must not
// depend on how many ran together or on which thread.
TEST(SweepCli, ThreadsDoNotChangeSweepResults) {
  const std::string kernel =
      WriteImage("threads-sweep-Image", 2 * 1024 * 1024 + 1);
  const std::string initrd = WriteImage("threads-sweep-initrd", 512 * 1024 + 3);
  std::string first;
  for (const char* t : {"1", "2", "5"}) {
    std::string out, err;
    Args a = {"--threads", t,
              "--num-wps", "6",
              "--num-bps", "6",
              "-k",        kernel,
              "-i",        initrd,
              "--sweep",   "cpus=1,2,3,4,5,6,7,8,9",
              "--sweep",   "mem=256M,512M,1G",
              "kvmtool",   "--realm",
              "-c",        "{cpus}",
              "-m",        "{mem}",
              "-k",        "Image",
              "-i",        "initrd"};
    ASSERT_EQ(RunMain(a, &out, &err), 0) << err;
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << "--threads " << t;
  }
  EXPECT_EQ(std::count(first.begin(), first.end(), '#'), 27);
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// One CoRIM for the whole sweep: one reference triple per shape, in shape
// order, each equal to the triple of the CoRIM an individual run writes.
void CheckSweepCorim(const std::string& profile) {
  const std::string kernel = WriteImage("corim-Image", 1024 * 1024 + 13);
  const std::string corim = TempPath("sweep-" + profile + ".corim");
  const std::string comid = TempPath("sweep-" + profile + ".comid");
  const Args global = {"--num-wps", "6",    "--num-bps",       "6",
                       "-k",        kernel, "--corim-profile", profile};
  Args a = global;
  a.insert(a.end(),
           {"--corim-output", corim, "--comid-output", comid, "--sweep",
            "cpus=1,3", "--sweep", "pv=alpha,beta", "--format", "json",
            "kvmtool", "--realm", "-c", "{cpus}", "-m", "256M", "-k", "Image"});
  a.push_back("--realm-pv");
  a.push_back("{pv}");
  std::string out, err;
  ASSERT_EQ(RunMain(a, &out, &err), 0) << err;
  nlohmann::json doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc["endorsements"].size(), 2u) << out;
  EXPECT_EQ(doc["endorsements"][1]["kind"], "corim");
  EXPECT_EQ(doc["endorsements"][1]["reference_values"], 4);

  absl::StatusOr<corim::DecodedCorim> all =
      corim::DecodeCorim(ReadBytes(corim));
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->values.comids.size(), 1u);
  const std::vector<corim::RealmReferenceValue>& realms =
      all->values.comids[0].realms;
  ASSERT_EQ(realms.size(), 4u);
  // The CoMID file holds the same CoMID.
  const corim::Profile p = profile == "cca-realm-legacy"
                               ? corim::Profile::kCcaRealmLegacy
                               : corim::Profile::kCcaRealm2025;
  absl::StatusOr<corim::Comid> alone = corim::DecodeComid(ReadBytes(comid), p);
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_EQ(*alone, all->values.comids[0]);

  size_t i = 0;
  int with_rpv = 0;
  for (const char* cpus : {"1", "3"}) {
    for (const char* pv : {"alpha", "beta"}) {
      const std::string single_corim = TempPath("single.corim");
      Args s = global;
      s.insert(s.end(),
               {"--corim-output", single_corim, "kvmtool", "--realm", "-c",
                cpus, "-m", "256M", "-k", "Image", "--realm-pv", pv});
      std::string one, one_err;
      ASSERT_EQ(RunMain(s, &one, &one_err), 0) << one_err;
      absl::StatusOr<corim::DecodedCorim> single =
          corim::DecodeCorim(ReadBytes(single_corim));
      ASSERT_TRUE(single.ok()) << single.status();
      ASSERT_EQ(single->values.comids.size(), 1u);
      ASSERT_EQ(single->values.comids[0].realms.size(), 1u);
      EXPECT_EQ(realms[i], single->values.comids[0].realms[0])
          << "cpus=" << cpus << " pv=" << pv;
      // The RIM the single run printed is the triple's RIM.
      const std::string rim_hex = one.substr(5, 64);
      std::string got;
      for (uint8_t b : realms[i].rim)
        absl::StrAppend(&got, absl::Hex(b, absl::kZeroPad2));
      EXPECT_EQ(got, rim_hex);
      with_rpv += realms[i].rpv.has_value();
      // Ids are derived from all realms, so they differ from a single run's.
      EXPECT_NE(all->values.corim_id, single->values.corim_id);
      ++i;
    }
  }
  EXPECT_EQ(with_rpv, 4);
  EXPECT_FALSE(realms[0] == realms[1]);

  // The same sweep again writes the same bytes (derived ids are stable).
  const std::vector<uint8_t> first = ReadBytes(corim);
  ASSERT_EQ(RunMain(a, &out, &err), 0) << err;
  EXPECT_EQ(ReadBytes(corim), first);
}

TEST(SweepCli, OneCorimHoldsEveryShape2025) {
  CheckSweepCorim("cca-realm-2025");
}

TEST(SweepCli, OneCorimHoldsEveryShapeLegacy) {
  CheckSweepCorim("cca-realm-legacy");
}

TEST(SweepCli, CorimNotWrittenWhenAShapeFails) {
  const std::string corim = TempPath("failed-sweep.corim");
  std::remove(corim.c_str());
  Args a = {"--num-wps", "6",       "--num-bps",   "6",       "--corim-output",
            corim,       "--sweep", "mem=256M,17", "kvmtool", "--realm",
            "-c",        "1",       "-m",          "{mem}"};
  std::string out, err;
  EXPECT_EQ(RunMain(a, &out, &err), 1);
  EXPECT_NE(err.find("ERROR sweep: shape 2/2 (mem=17) failed"),
            std::string::npos)
      << err;
  EXPECT_EQ(out, "");
  EXPECT_FALSE(std::ifstream(corim).good());
  // --corim-output with --no-measurements is still a usage error.
  a = {"--num-wps",      "6",   "--num-bps", "6",        "--no-measurements",
       "--corim-output", corim, "--sweep",   "cpus=1,2", "kvmtool",
       "--realm",        "-c",  "{cpus}"};
  EXPECT_EQ(RunMain(a, &out, &err), 2) << err;
}

}  // namespace
}  // namespace realm_measurements::cli
