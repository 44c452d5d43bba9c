#include "measure/fdt/dtb_template.h"

#include <libfdt.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "measure/fdt/fdt_writer.h"

namespace realm_measurements::measure {
namespace {

std::vector<uint8_t> ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

uint32_t Be32At(const std::vector<uint8_t>& b, size_t o) {
  return uint32_t{b[o]} << 24 | uint32_t{b[o + 1]} << 16 |
         uint32_t{b[o + 2]} << 8 | b[o + 3];
}

void PutBe32At(std::vector<uint8_t>& b, size_t o, uint32_t v) {
  b[o] = v >> 24;
  b[o + 1] = v >> 16;
  b[o + 2] = v >> 8;
  b[o + 3] = v;
}

// spec-vmm §8.4: with no handlers the surgeon reproduces its input (padded
// with zeros to the input length when the header totalsize is smaller).
void ExpectIdentity(const std::vector<uint8_t>& in) {
  IdentityDtbHandler id;
  absl::StatusOr<std::vector<uint8_t>> out = PatchDtbTemplate(in, id);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), Be32At(in, 4));
  std::vector<uint8_t> padded = *out;
  padded.resize(in.size(), 0);
  EXPECT_EQ(padded, in);
}

TEST(DtbTemplateTest, IdentityOnGenInputsDtbs) {
  for (const char* name :
       {"passthrough.dtb", "template-kvmtool.dtb", "template-qemu.dtb"}) {
    SCOPED_TRACE(name);
    ExpectIdentity(
        ReadFileOrDie(std::string("testdata/golden/inputs/") + name));
  }
}

TEST(DtbTemplateTest, IdentityOnReferenceDtbs) {
  for (const char* name :
       {"kvm-k-2cpu-256M-sha512.dtb", "kvm-k-i-4cpu-512M.dtb",
        "kvm-k-64cpu-3G-sve.dtb", "kvm-measurement-log.dtb",
        "kvm-virtio-mmio.dtb", "qemu-kernel-initrd-append-1G.dtb",
        "qemu-bios-measurement-log.dtb", "chv-kernel-default.dtb"}) {
    SCOPED_TRACE(name);
    ExpectIdentity(ReadFileOrDie(std::string("testdata/golden/dtbs/") + name));
  }
}

// libfdt's sequential writer shares string suffixes ("cells" inside
// "#size-cells"); the surgeon must keep those offsets.
TEST(DtbTemplateTest, IdentityOnLibfdtDtbWithSharedSuffixes) {
  std::vector<uint8_t> buf(4096);
  void* fdt = buf.data();
  ASSERT_EQ(fdt_create(fdt, buf.size()), 0);
  ASSERT_EQ(fdt_add_reservemap_entry(fdt, 0x80000000, 0x1000), 0);
  ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "#size-cells", 2), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "size-cells", 2), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "cells", 1), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "memory@80000000"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "device_type", "memory"), 0);
  ASSERT_EQ(fdt_property(fdt, "empty", nullptr, 0), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_finish(fdt), 0);
  buf.resize(fdt_totalsize(fdt));
  // Confirm the vector really shares: fewer string bytes than the names.
  // "#size-cells\0" + "device_type\0" + "empty\0": the two other names
  // point into "#size-cells".
  EXPECT_EQ(fdt_size_dt_strings(buf.data()), 30u);
  ExpectIdentity(buf);
}

// Rewrites, drops and adds through a handler, then reads the result with
// libfdt (an independent parser).
class TestHandler : public DtbTemplateHandler {
 public:
  absl::StatusOr<bool> HandleNode(absl::string_view name,
                                  FdtWriter& w) override {
    if (name == "cpus") {
      absl::StatusOr<FdtNode> n = w.BeginNode("cpus");
      if (!n.ok()) return n.status();
      if (absl::Status s = w.PropertyU32("new-prop", 7); !s.ok()) return s;
      if (absl::Status s = w.EndNode(*n); !s.ok()) return s;
      return true;
    }
    return name == "pmu";  // dropped
  }
  absl::StatusOr<bool> HandleProperty(absl::string_view node,
                                      absl::string_view name,
                                      absl::Span<const uint8_t>,
                                      FdtWriter& w) override {
    return rules.Apply(node, name, w);
  }
  CommonDtbRules rules;
};

TEST(DtbTemplateTest, HandlersRewriteDropAndReplace) {
  std::vector<uint8_t> in =
      ReadFileOrDie("testdata/golden/inputs/template-kvmtool.dtb");
  TestHandler h;
  h.rules.ram_base = 0x80000000;
  h.rules.ram_size = 0x40000000;
  h.rules.initrd = CommonDtbRules::Initrd{0x8fdffff0, 14};
  h.rules.bootargs = "hello";
  absl::StatusOr<std::vector<uint8_t>> out = PatchDtbTemplate(in, h);
  ASSERT_TRUE(out.ok()) << out.status();
  const void* fdt = out->data();
  ASSERT_EQ(fdt_check_header(fdt), 0);
  // Strings block: the template's block, then "new-prop" appended.
  const uint32_t in_strings = Be32At(in, 32);
  EXPECT_EQ(fdt_size_dt_strings(fdt), in_strings + 9);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out->data()) +
                            fdt_off_dt_strings(fdt) + in_strings,
                        9),
            std::string("new-prop\0", 9));
  // Reservation kept.
  EXPECT_EQ(fdt_num_mem_rsv(fdt), 1);

  int len = 0;
  int chosen = fdt_path_offset(fdt, "/chosen");
  ASSERT_GE(chosen, 0);
  EXPECT_STREQ(
      static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len)),
      "hello");
  // Property values are only 4-byte aligned: read 64-bit cells by copy.
  auto cell64 = [](const void* p, int index) {
    fdt64_t v;
    std::memcpy(&v, static_cast<const char*>(p) + 8 * index, sizeof(v));
    return fdt64_to_cpu(v);
  };
  const void* start = fdt_getprop(fdt, chosen, "linux,initrd-start", &len);
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(cell64(start, 0), 0x8fdffff0u);
  const void* end = fdt_getprop(fdt, chosen, "linux,initrd-end", &len);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(cell64(end, 0), 0x8fdffffeu);
  const void* reg =
      fdt_getprop(fdt, fdt_path_offset(fdt, "/memory"), "reg", &len);
  ASSERT_EQ(len, 16);
  EXPECT_EQ(cell64(reg, 1), 0x40000000u);
  EXPECT_LT(fdt_path_offset(fdt, "/pmu"), 0);
  int cpus = fdt_path_offset(fdt, "/cpus");
  ASSERT_GE(cpus, 0);
  EXPECT_NE(fdt_getprop(fdt, cpus, "new-prop", &len), nullptr);
  EXPECT_LT(fdt_subnode_offset(fdt, cpus, "cpu@0"), 0);
  EXPECT_GE(fdt_path_offset(fdt, "/intc/msic"), 0);
}

TEST(DtbTemplateTest, ChosenPropertiesDroppedWithoutModelValues) {
  std::vector<uint8_t> in =
      ReadFileOrDie("testdata/golden/inputs/template-kvmtool.dtb");
  TestHandler h;  // no initrd, no bootargs
  absl::StatusOr<std::vector<uint8_t>> out = PatchDtbTemplate(in, h);
  ASSERT_TRUE(out.ok()) << out.status();
  const void* fdt = out->data();
  int chosen = fdt_path_offset(fdt, "/chosen");
  ASSERT_GE(chosen, 0);
  int len = 0;
  EXPECT_EQ(fdt_getprop(fdt, chosen, "bootargs", &len), nullptr);
  EXPECT_EQ(fdt_getprop(fdt, chosen, "linux,initrd-start", &len), nullptr);
  EXPECT_EQ(fdt_getprop(fdt, chosen, "linux,initrd-end", &len), nullptr);
}

TEST(DtbTemplateTest, GrowthBeyondForcedTotalSizeFails) {
  // template-qemu.dtb carries a zero tail up to totalsize 0x2000; a large
  // added property no longer fits (the reference fails the same way).
  std::vector<uint8_t> in =
      ReadFileOrDie("testdata/golden/inputs/template-qemu.dtb");
  class Grow : public IdentityDtbHandler {
   public:
    absl::StatusOr<bool> HandleProperty(absl::string_view node,
                                        absl::string_view name,
                                        absl::Span<const uint8_t>,
                                        FdtWriter& w) override {
      if (node != "chosen" || name != "bootargs") return false;
      if (absl::Status s = w.PropertyString(name, std::string(8000, 'x'));
          !s.ok()) {
        return s;
      }
      return true;
    }
  } grow;
  absl::Status s = PatchDtbTemplate(in, grow).status();
  EXPECT_NE(std::string(s.message())
                .find("Output size larger than requested total size"),
            std::string::npos)
      << s;
}

void ExpectPatchError(const std::vector<uint8_t>& in, const std::string& text) {
  SCOPED_TRACE(text);
  IdentityDtbHandler id;
  absl::Status s = PatchDtbTemplate(in, id).status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(text), std::string::npos) << s;
}

TEST(DtbTemplateTest, Errors) {
  const std::vector<uint8_t> good =
      ReadFileOrDie("testdata/golden/inputs/passthrough.dtb");
  const uint32_t off_struct = Be32At(good, 8);
  {
    std::vector<uint8_t> b = good;
    b[0] = 0;
    ExpectPatchError(b, "parsing: invalid magic");
  }
  ExpectPatchError(std::vector<uint8_t>(good.begin(), good.begin() + 20),
                   "truncated");
  ExpectPatchError(std::vector<uint8_t>(good.begin(), good.end() - 1),
                   "exceeds the");
  {
    std::vector<uint8_t> b = good;
    // The first PROP (12 + 20 bytes: "compatible" = "linux,dummy-virt")
    // becomes 8 NOP tokens.
    for (int i = 0; i < 8; ++i) PutBe32At(b, off_struct + 8 + 4 * i, kFdtNop);
    ExpectPatchError(b, "unimplemented: NOP");
  }
  {
    std::vector<uint8_t> b = good;
    PutBe32At(b, off_struct + 8, 0x77);
    ExpectPatchError(b, "parsing: unexpected token 0x77");
  }
  {
    std::vector<uint8_t> b = good;
    PutBe32At(b, 8, off_struct + 8);  // off_dt_struct moved
    ExpectPatchError(b, "unimplemented: struct padding 8");
  }
  {
    std::vector<uint8_t> b = good;
    PutBe32At(b, 12, Be32At(good, 12) + 4);  // off_dt_strings moved
    PutBe32At(b, 32, Be32At(good, 32) - 4);
    ExpectPatchError(b, "unimplemented: strings padding 4");
  }
  {
    std::vector<uint8_t> b = good;
    PutBe32At(b, off_struct + 8 + 8, 0x7fff);  // first PROP name offset
    ExpectPatchError(b, "outside the strings block");
  }
  {
    std::vector<uint8_t> b = good;
    PutBe32At(b, 4, 0xffffff00);  // totalsize
    ExpectPatchError(b, "exceeds the");
  }
  {
    std::vector<uint8_t> b = good;
    PutBe32At(b, 16, 44);  // off_mem_rsvmap not 8-aligned
    ExpectPatchError(b, "");
  }
}

// --dtb input validation: golden DTBs (from the real VMMs' generators)
// pass, and each header check fails with its own message.
void PutU32Be(std::vector<uint8_t>& d, size_t off, uint32_t v) {
  d[off] = v >> 24;
  d[off + 1] = v >> 16;
  d[off + 2] = v >> 8;
  d[off + 3] = v;
}

TEST(CheckDeviceTreeTest, GoldenDtbsPass) {
  for (const char* name :
       {"kvm-k-i-4cpu-512M.dtb", "qemu-kernel-1cpu-128M.dtb",
        "chv-kernel-default.dtb", "kvm-measurement-log.dtb"}) {
    SCOPED_TRACE(name);
    std::vector<uint8_t> d =
        ReadFileOrDie(std::string("testdata/golden/dtbs/") + name);
    EXPECT_TRUE(CheckDeviceTree(d).ok()) << CheckDeviceTree(d);
    // Zero padding after totalsize (kvmtool's 64 KiB DTB) is fine.
    d.resize(d.size() + 4096, 0);
    EXPECT_TRUE(CheckDeviceTree(d).ok()) << CheckDeviceTree(d);
  }
}

TEST(CheckDeviceTreeTest, EachCheckNamesWhatFailed) {
  const std::vector<uint8_t> good =
      ReadFileOrDie("testdata/golden/dtbs/qemu-kernel-1cpu-128M.dtb");
  ASSERT_GT(good.size(), 100u);
  auto field = [&](size_t off) {
    return uint32_t{good[off]} << 24 | uint32_t{good[off + 1]} << 16 |
           uint32_t{good[off + 2]} << 8 | good[off + 3];
  };
  const uint32_t total = field(4), off_struct = field(8),
                 off_strings = field(12), size_strings = field(32),
                 size_struct = field(36);
  ASSERT_EQ(total, good.size());
  struct Case {
    const char* name;
    size_t offset;  // header field to overwrite, or SIZE_MAX: truncate
    uint32_t value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"magic", 0, 0xfeedd00d,
       "bad magic 0xfeedd00d at offset 0 (expected 0xd00dfeed)"},
      {"version", 20, 15,
       "unsupported version 15 (last_comp_version 16; expected version >= 16 "
       "and last_comp_version <= 17)"},
      {"last_comp_version", 24, 18,
       "unsupported version 17 (last_comp_version 18; expected version >= 16 "
       "and last_comp_version <= 17)"},
      {"totalsize", 4, total + 1,
       absl::StrCat("totalsize ", total + 1,
                    " in the header, but the file has ", total,
                    " bytes (expected 40 to ", total, ")")},
      {"off_mem_rsvmap", 16, 44,
       absl::StrCat("memory reservation block [44, +16) is not inside [40, "
                    "totalsize ",
                    total, ") or not 8-byte aligned")},
      {"off_dt_struct", 8, total - 4,
       absl::StrCat("structure block [", total - 4, ", +", size_struct,
                    ") is not inside [40, totalsize ", total, ")")},
      {"size_dt_strings", 32, total,
       absl::StrCat("strings block [", off_strings, ", +", total,
                    ") is not inside [40, totalsize ", total, ")")},
      {"first token", off_struct, 3,
       absl::StrCat("structure block starts with token 0x3 at offset ",
                    off_struct, " (expected FDT_BEGIN_NODE 0x1)")},
      {"last token", off_struct + size_struct - 4, 2,
       absl::StrCat("structure block does not end with FDT_END 0x9 (found "
                    "0x2 at offset ",
                    off_struct + size_struct - 4, ")")},
  };
  (void)size_strings;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint8_t> d = good;
    PutU32Be(d, c.offset, c.value);
    EXPECT_EQ(CheckDeviceTree(d).message(), c.message);
  }
  EXPECT_EQ(CheckDeviceTree(absl::MakeConstSpan(good.data(), 39)).message(),
            "file of 39 bytes is shorter than the 40-byte header");
  EXPECT_EQ(CheckDtbOption("x.dtb", {}).message(),
            "--dtb x.dtb is not a device tree: file of 0 bytes is shorter "
            "than the 40-byte header");
}

}  // namespace
}  // namespace realm_measurements::measure
