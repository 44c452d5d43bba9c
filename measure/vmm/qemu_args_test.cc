#include "measure/vmm/qemu_args.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace realm_measurements::measure::qemu {
namespace {

std::vector<std::string> V(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

std::string Render(const std::vector<QemuArg>& args) {
  std::string out;
  for (const QemuArg& a : args) {
    absl::StrAppend(&out, a.known ? "" : "?", a.name);
    if (a.value.has_value()) absl::StrAppend(&out, "[", *a.value, "]");
    out += " ";
  }
  return out;
}

std::string Tokens(std::initializer_list<const char*> l) {
  absl::StatusOr<std::vector<QemuArg>> t = TokenizeQemuArgs(V(l));
  if (!t.ok()) return std::string(t.status().message());
  return Render(*t);
}

TEST(TokenizeQemuArgs, OptionsAndValues) {
  EXPECT_EQ(Tokens({"-m", "1G", "-smp", "2", "-enable-kvm", "-nographic"}),
            "-m[1G] -smp[2] -enable-kvm -nographic ");
  // Values are taken verbatim, even when they look like options.
  EXPECT_EQ(Tokens({"-append", "-x", "-kernel", "Image"}),
            "-append[-x] -kernel[Image] ");
  // Values are not split at '='.
  EXPECT_EQ(Tokens({"-object", "rme-guest,id=rme0"}),
            "-object[rme-guest,id=rme0] ");
  EXPECT_EQ(Tokens({}), "");
}

TEST(TokenizeQemuArgs, EqualsInOptionPosition) {
  EXPECT_EQ(Tokens({"-m=1G"}), "-m[1G] ");
  EXPECT_EQ(Tokens({"-append=a=b"}), "-append[a=b] ");
  EXPECT_EQ(Tokens({"-M=virt,its=off"}), "-M[virt,its=off] ");
  // Unknown options do not consume a value: it is read as an option.
  EXPECT_EQ(Tokens({"-foo", "bar=baz", "-m", "2"}), "?-foo ?bar ?baz -m[2] ");
  // QEMU's double-dash spelling is not recognised (spec-vmm §6.1).
  EXPECT_EQ(Tokens({"--m", "1G"}), "?--m ?1G ");
  // A value that equals a known option becomes that option (14.14).
  EXPECT_EQ(Tokens({"-unknown", "-nographic"}), "?-unknown -nographic ");
}

TEST(TokenizeQemuArgs, MissingValue) {
  EXPECT_EQ(Tokens({"-m"}), "-m needs a value");
  EXPECT_EQ(Tokens({"-smp", "2", "-smp"}), "-smp needs a value");
  EXPECT_EQ(Tokens({"-M"}), "-machine needs a value");
  EXPECT_EQ(Tokens({"-machine"}), "-machine needs a value");
  EXPECT_EQ(Tokens({"-drive"}), "-drive needs a value");
  EXPECT_EQ(Tokens({"-dtb"}), "-dtb needs a value");
  // "-m=" gives an empty value, which is a value.
  EXPECT_EQ(Tokens({"-m="}), "-m[] ");
}

TEST(TokenizeQemuArgs, Bounded) {
  std::vector<std::string> many(kMaxQemuArgs + 1, "-nographic");
  absl::StatusOr<std::vector<QemuArg>> t = TokenizeQemuArgs(many);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            absl::StrCat("too many QEMU arguments: ", kMaxQemuArgs + 1,
                         " (at most ", kMaxQemuArgs, ")"));
}

std::string List(absl::string_view text) {
  std::string out;
  for (const QemuListItem& i : SplitQemuList(text)) {
    out += "<" + i.key;
    if (i.has_value) out += "=" + i.value;
    out += ">";
  }
  return out;
}

TEST(SplitQemuList, ItemsEscapesAndImpliedKeys) {
  EXPECT_EQ(List("virt,gic-version=3"), "<virt><gic-version=3>");
  EXPECT_EQ(List("size=2,maxmem=1T"), "<size=2><maxmem=1T>");
  EXPECT_EQ(List(""), "<>");
  EXPECT_EQ(List("a,"), "<a><>");
  EXPECT_EQ(List(",a"), "<><a>");
  EXPECT_EQ(List("a=b=c"), "<a=b=c>");
  EXPECT_EQ(List("a="), "<a=>");
  // ",," is a literal comma.
  EXPECT_EQ(List("file=a,,b,if=none"), "<file=a,b><if=none>");
  EXPECT_EQ(List("a,,,b"), "<a,><b>");
  EXPECT_EQ(List("a,,,,b"), "<a,,b>");
  EXPECT_EQ(List(",,"), "<,>");
}

TEST(ParseQemuBool, Spellings) {
  for (const char* t : {"on", "yes", "true", "y"}) {
    EXPECT_EQ(*ParseQemuBool(t), std::optional<bool>(true)) << t;
  }
  for (const char* f : {"off", "no", "false", "n"}) {
    EXPECT_EQ(*ParseQemuBool(f), std::optional<bool>(false)) << f;
  }
  EXPECT_EQ(*ParseQemuBool("auto"), std::nullopt);
  EXPECT_EQ(ParseQemuBool("ON").status().message(),
            "expected on/off/auto, got 'ON'");
  EXPECT_EQ(ParseQemuBool("").status().message(),
            "expected on/off/auto, got ''");
}

TEST(SubOptions, Lookup) {
  EXPECT_EQ(FindQemuSubOption("-M", "gic-version")->use, OptionUse::kSupported);
  EXPECT_EQ(FindQemuSubOption("-machine", "highmem")->use,
            OptionUse::kRejected);
  EXPECT_EQ(FindQemuSubOption("-machine", "mte")->use,
            OptionUse::kIgnoredWarned);
  EXPECT_STREQ(FindQemuSubOption("-cpu", "sve512")->key, "sve*");
  EXPECT_STREQ(FindQemuSubOption("-cpu", "sve")->key, "sve");
  EXPECT_STREQ(FindQemuSubOption("-cpu", "")->key, "");
  EXPECT_EQ(FindQemuSubOption("-append", "x"), nullptr);
  EXPECT_EQ(FindQemuOption("-M")->takes_value, true);
  EXPECT_EQ(FindQemuOption("-nographic")->takes_value, false);
  EXPECT_EQ(FindQemuOption("--m"), nullptr);
}

}  // namespace
}  // namespace realm_measurements::measure::qemu
