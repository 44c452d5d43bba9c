#include "measure/fdt/fdt_writer.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

std::vector<uint8_t> ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Test helpers: abseil 20220623 has no status matchers.
#define ASSERT_OK(expr)                          \
  do {                                           \
    absl::Status _s = (expr);                    \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s; \
  } while (0)

template <typename T>
T ValueOrDie(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

void ExpectError(const absl::Status& s, const std::string& text) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(text), std::string::npos)
      << "got: " << s;
}

std::vector<uint8_t> Be32(std::initializer_list<uint32_t> words) {
  std::vector<uint8_t> out;
  for (uint32_t w : words) {
    for (int sh = 24; sh >= 0; sh -= 8) out.push_back(w >> sh);
  }
  return out;
}

uint32_t HeaderField(const std::vector<uint8_t>& b, int index) {
  size_t o = index * 4;
  return uint32_t{b[o]} << 24 | uint32_t{b[o + 1]} << 16 |
         uint32_t{b[o + 2]} << 8 | b[o + 3];
}

TEST(FdtWriterTest, EmptyRootIsExactBytes) {
  FdtWriter w;
  FdtNode root = ValueOrDie(w.BeginNode(""));
  ASSERT_OK(w.EndNode(root));
  std::vector<uint8_t> blob = ValueOrDie(w.Finish());
  // Hand-assembled per spec-vmm §3.1: header, one (0,0) reservation, then
  // BEGIN_NODE "" (4 zero bytes), END_NODE, END; no strings.
  std::vector<uint8_t> want =
      Be32({0xd00dfeed, 72, 0x38, 0x48, 0x28, 17, 16, 0, 0, 16});
  std::vector<uint8_t> tail = Be32({0, 0, 0, 0, 1, 0, 2, 9});
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(blob, want);
}

TEST(FdtWriterTest, PropertyEncodingAndPadding) {
  FdtWriter w;
  FdtNode root = ValueOrDie(w.BeginNode(""));
  ASSERT_OK(w.PropertyString("model", "ab"));           // 3 bytes + 1 pad
  ASSERT_OK(w.PropertyU64("reg", 0x0102030405060708));  // 8 bytes
  ASSERT_OK(w.PropertyNull("ranges"));
  FdtNode child = ValueOrDie(w.BeginNode("cpu@0"));
  ASSERT_OK(w.PropertyU32("reg", 7));
  ASSERT_OK(w.EndNode(child));
  ASSERT_OK(w.EndNode(root));
  std::vector<uint8_t> blob = ValueOrDie(w.Finish());

  std::vector<uint8_t> st = Be32({1, 0});
  auto add = [&](const std::vector<uint8_t>& v) {
    st.insert(st.end(), v.begin(), v.end());
  };
  add(Be32({3, 3, 0, 0x61620000}));
  add(Be32({3, 8, 6, 0x01020304, 0x05060708}));
  add(Be32({3, 0, 10}));
  add(Be32({1, 0x63707540, 0x30000000}));  // "cpu@0" + NUL + pad
  add(Be32({3, 4, 6, 7, 2, 2, 9}));
  const std::string strings("model\0reg\0ranges\0", 17);

  ASSERT_EQ(blob.size(), 0x38 + st.size() + strings.size());
  EXPECT_EQ(HeaderField(blob, 1), blob.size());
  EXPECT_EQ(HeaderField(blob, 2), 0x38u);
  EXPECT_EQ(HeaderField(blob, 3), 0x38 + st.size());
  EXPECT_EQ(HeaderField(blob, 8), strings.size());
  EXPECT_EQ(HeaderField(blob, 9), st.size());
  EXPECT_EQ(std::vector<uint8_t>(blob.begin() + 0x38,
                                 blob.begin() + 0x38 + st.size()),
            st);
  EXPECT_EQ(std::string(blob.end() - strings.size(), blob.end()), strings);
}

TEST(FdtWriterTest, StringsFirstUseNoSuffixSharing) {
  FdtWriter w;
  FdtNode root = ValueOrDie(w.BeginNode(""));
  // libfdt would point "size-cells" into "#size-cells"; vm-fdt does not.
  ASSERT_OK(w.PropertyU32("#size-cells", 2));
  ASSERT_OK(w.PropertyU32("size-cells", 2));
  ASSERT_OK(w.PropertyU32("#size-cells", 2));  // exact reuse
  ASSERT_OK(w.PropertyU32("cells", 1));
  ASSERT_OK(w.EndNode(root));
  std::vector<uint8_t> blob = ValueOrDie(w.Finish());
  const std::string strings("#size-cells\0size-cells\0cells\0", 29);
  EXPECT_EQ(std::string(blob.end() - strings.size(), blob.end()), strings);
  // Name offsets of the four PROP tokens: 0, 12, 0, 23.
  const size_t p = 0x38 + 8;
  EXPECT_EQ(HeaderField({blob.begin() + p, blob.end()}, 2), 0u);
  EXPECT_EQ(HeaderField({blob.begin() + p + 16, blob.end()}, 2), 12u);
  EXPECT_EQ(HeaderField({blob.begin() + p + 32, blob.end()}, 2), 0u);
  EXPECT_EQ(HeaderField({blob.begin() + p + 48, blob.end()}, 2), 23u);
}

// passthrough.dtb is written by gen_inputs.py's own FDT writer (same layout
// rules: first-use strings, no suffix sharing), an independent encoder.
TEST(FdtWriterTest, ReproducesGenInputsPassthroughDtb) {
  FdtWriter w;
  FdtNode root = ValueOrDie(w.BeginNode(""));
  ASSERT_OK(w.PropertyString("compatible", "linux,dummy-virt"));
  ASSERT_OK(w.PropertyU32("#address-cells", 2));
  ASSERT_OK(w.PropertyU32("#size-cells", 2));
  FdtNode chosen = ValueOrDie(w.BeginNode("chosen"));
  ASSERT_OK(w.PropertyString("bootargs", "console=ttyAMA0 golden=1"));
  ASSERT_OK(w.EndNode(chosen));
  FdtNode mem = ValueOrDie(w.BeginNode("memory@40000000"));
  ASSERT_OK(w.PropertyString("device_type", "memory"));
  const uint64_t reg[] = {0x40000000, 0x20000000};
  ASSERT_OK(w.PropertyArrayU64("reg", reg));
  ASSERT_OK(w.EndNode(mem));
  ASSERT_OK(w.EndNode(root));
  EXPECT_EQ(ValueOrDie(w.Finish()),
            ReadFileOrDie("testdata/golden/inputs/passthrough.dtb"));
}

TEST(FdtWriterTest, ReservationsAndSurgeonKnobs) {
  const FdtReserveEntry rsv[] = {{0x2000, 0x1000}, {0x1000, 0x1000}};
  FdtWriter w = ValueOrDie(FdtWriter::Create(rsv));
  ASSERT_OK(w.SetReservationPadding(8));
  w.SetVersion(16, 16);
  w.SetBootCpuidPhys(3);
  ASSERT_OK(w.PreloadStrings({'x', 'r', 'e', 'g', 0}, {{"reg", 1}}));
  w.SetTotalSize(200);
  FdtNode root = ValueOrDie(w.BeginNode(""));
  ASSERT_OK(w.PropertyU32("reg", 1));    // preloaded offset 1
  ASSERT_OK(w.PropertyU32("other", 1));  // appended at 5
  ASSERT_OK(w.EndNode(root));
  std::vector<uint8_t> blob = ValueOrDie(w.Finish());
  ASSERT_EQ(blob.size(), 200u);
  EXPECT_EQ(HeaderField(blob, 1), 200u);
  EXPECT_EQ(HeaderField(blob, 4), 48u);           // 40 + padding
  EXPECT_EQ(HeaderField(blob, 2), 48u + 3 * 16);  // two entries + end
  EXPECT_EQ(HeaderField(blob, 5), 16u);
  EXPECT_EQ(HeaderField(blob, 7), 3u);
  EXPECT_EQ(HeaderField(blob, 8), 11u);
  // Reservations in the caller's order.
  EXPECT_EQ(std::vector<uint8_t>(blob.begin() + 48, blob.begin() + 64),
            std::vector<uint8_t>(
                {0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x10, 0}));
  const size_t strings = HeaderField(blob, 3);
  EXPECT_EQ(std::string(blob.begin() + strings, blob.begin() + strings + 11),
            std::string("xreg\0other\0", 11));
  EXPECT_EQ(HeaderField({blob.begin() + 96 + 8, blob.end()}, 2), 1u);
  EXPECT_EQ(HeaderField({blob.begin() + 96 + 24, blob.end()}, 2), 5u);
  EXPECT_TRUE(std::all_of(blob.begin() + strings + 11, blob.end(),
                          [](uint8_t b) { return b == 0; }));
}

TEST(FdtWriterTest, TotalSizeTooSmall) {
  FdtWriter w;
  w.SetTotalSize(50);
  FdtNode root = ValueOrDie(w.BeginNode(""));
  ASSERT_OK(w.EndNode(root));
  ExpectError(w.Finish().status(),
              "Output size larger than requested total size");
}

TEST(FdtWriterTest, InvalidReservations) {
  const FdtReserveEntry zero[] = {{0x1000, 0}};
  ExpectError(FdtWriter::Create(zero).status(),
              "Memory reservation is invalid");
  const FdtReserveEntry wrap[] = {{~uint64_t{0}, 2}};
  ExpectError(FdtWriter::Create(wrap).status(),
              "Memory reservation is invalid");
  const FdtReserveEntry overlap[] = {{0x2000, 0x1000}, {0x1000, 0x1001}};
  ExpectError(FdtWriter::Create(overlap).status(),
              "Memory reservations are overlapping");
  FdtWriter w;
  ExpectError(w.SetReservationPadding(4), "not a multiple of 8");
}

TEST(FdtWriterTest, NodeNameRules) {
  for (const char* ok :
       {"", "a", "cpu@0", "U6_16550A@1000000", "a,b.c_d+e-f",
        "abcdefghijklmnopqrstuvwxyz01234@x", "memory@", "intc@3fff0000"}) {
    EXPECT_TRUE(FdtNodeNameValid(ok)) << ok;
  }
  for (const char* bad : {"@1", "1cpu", "a@b@c", "cpu#", "a b", "a@b c",
                          "abcdefghijklmnopqrstuvwxyz012345", "-x"}) {
    EXPECT_FALSE(FdtNodeNameValid(bad)) << bad;
    FdtWriter w;
    ExpectError(w.BeginNode(bad).status(), "Invalid node name");
  }
}

TEST(FdtWriterTest, PropertyNameRules) {
  for (const char* ok : {"#address-cells", "linux,initrd-start", "a?", "_"}) {
    EXPECT_TRUE(FdtPropertyNameValid(ok)) << ok;
  }
  for (const char* bad :
       {"", "a@b", "a b", "abcdefghijklmnopqrstuvwxyz012345", "x/y"}) {
    EXPECT_FALSE(FdtPropertyNameValid(bad)) << bad;
    FdtWriter w;
    FdtNode root = ValueOrDie(w.BeginNode(""));
    ExpectError(w.PropertyNull(bad), "Invalid property name");
    (void)root;
  }
}

TEST(FdtWriterTest, NulInStrings) {
  FdtWriter w;
  ExpectError(w.BeginNode(std::string("a\0b", 3)).status(),
              "Strings cannot contain NUL");
  FdtNode root = ValueOrDie(w.BeginNode(""));
  ExpectError(w.PropertyString("x", std::string("a\0b", 3)),
              "Strings cannot contain NUL");
  ExpectError(w.PropertyStringList("x", {std::string("a"), std::string(1, 0)}),
              "Strings cannot contain NUL");
  ExpectError(w.PropertyNull(std::string("a\0", 2)),
              "Strings cannot contain NUL");
  (void)root;
}

TEST(FdtWriterTest, StructureRules) {
  {
    FdtWriter w;
    ExpectError(w.PropertyNull("x"), "before beginning a node");
  }
  {
    FdtWriter w;
    FdtNode root = ValueOrDie(w.BeginNode(""));
    FdtNode child = ValueOrDie(w.BeginNode("c"));
    ASSERT_OK(w.EndNode(child));
    ExpectError(w.PropertyNull("x"),
                "Properties may not be added after a node has been ended");
    ExpectError(w.EndNode(child), "Node end must match node begin");
    ExpectError(w.Finish().status(), "All nodes must be closed");
    (void)root;
  }
  {
    FdtWriter w;
    FdtNode root = ValueOrDie(w.BeginNode(""));
    FdtNode child = ValueOrDie(w.BeginNode("c"));
    ExpectError(w.EndNode(root), "Node end must match node begin");
    (void)child;
  }
  {
    FdtWriter w;
    for (int i = 0; i < kFdtMaxNodeDepth; ++i) {
      ASSERT_TRUE(w.BeginNode(i == 0 ? "" : "n").ok());
    }
    ExpectError(w.BeginNode("n").status(),
                "Node depth exceeds FDT_MAX_NODE_DEPTH");
  }
  {
    FdtWriter w;
    FdtNode root = ValueOrDie(w.BeginNode(""));
    ASSERT_OK(w.PropertyPhandle(1));
    ExpectError(w.PropertyPhandle(1), "Duplicate phandle value");
    // A verbatim "phandle" property is not checked (spec-vmm §3.2).
    ASSERT_OK(w.PropertyU32("phandle", 1));
    (void)root;
  }
}

}  // namespace
}  // namespace realm_measurements::measure
