#include "measure/toml_limits.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "toml++/toml.h"

namespace realm_measurements::measure {
namespace {

// Depths are derived by hand from the rule in toml_limits.h (root 0, one
// level per key part, array and inline table).
struct Case {
  const char* doc;
  int depth;
};

constexpr Case kCases[] = {
    {"", 0},
    {"# only a comment [[[[", 0},
    {"a = 1", 1},
    {"a.b.c = 1", 3},
    {"\"a.b.c\" = 1", 1},      // one quoted key part
    {"'a.b'.\"c.d\" = 1", 2},  // two quoted parts
    {"a = 1.5e3\nb = 1979-05-27T07:32:00.999Z", 1},
    {"a = \"[[[{{{.\"", 1},                // brackets in a string
    {"a = '[[[{{{'", 1},                   // literal string
    {"a = \"\"\"\n[[[\n\\\"\"\"\"\"", 1},  // multi-line, escape, 5 quotes
    {"a = '''\n{{{ '''''", 1},
    {"a = [1, 2]", 2},
    {"a = [[1], [2, [3]]]", 4},
    {"a = [ # comment [[[\n 1,\n]\nb = 2", 2},
    {"a = {b = 1, c.d = [2]}", 4},
    {"a = {}", 1},
    {"[t]\nk = 1", 2},
    {"[t.u]\nk = [1]", 4},
    {"[[t]]\nk = 1", 3},
    {"[ 'x.y' . z ]\nk = 1", 3},
};

int Depth(const char* doc) {
  for (int d = 0; d < 64; ++d) {
    if (CheckTomlLimits(doc, TomlLimits{1 << 20, d}).ok()) return d;
  }
  return -1;
}

TEST(TomlLimits, DepthOfEachConstruct) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.doc);
    EXPECT_EQ(Depth(c.doc), c.depth);
    // Each case is valid TOML, so the scan agrees with a document the
    // parser accepts.
    EXPECT_NO_THROW((void)toml::parse(c.doc));
  }
}

TEST(TomlLimits, SizeLimitIsInclusive) {
  const std::string doc(100, '#');
  EXPECT_TRUE(CheckTomlLimits(doc, TomlLimits{100, 0}).ok());
  absl::Status s = CheckTomlLimits(doc, TomlLimits{99, 0});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "document is 100 bytes, more than the limit of 99 bytes");
}

TEST(TomlLimits, MessageNamesTheLimitAndTheLine) {
  absl::Status s =
      CheckTomlLimits("a = 1\nb = 2\nc.d.e = 3", TomlLimits{1 << 10, 2});
  EXPECT_EQ(s.message(),
            "nesting depth exceeds the limit of 2 at line 3 (dotted keys, "
            "table headers, arrays and inline tables count one level each)");
}

// RFC 3629 §4 and its Table 3.7 boundaries of the Unicode standard: each
// bad sequence is named where it starts; columns count characters.
TEST(TomlLimits, InvalidUtf8IsNamedWhereItIs) {
  const TomlLimits limits{1 << 10, 4};
  // Well-formed: 2-, 3- and 4-byte characters, the last code point, in
  // keys, strings and comments.
  EXPECT_TRUE(CheckTomlLimits("\"caf\xc3\xa9\" = \"\xe2\x82\xac\" # "
                              "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf "
                              "\xed\x9f\xbf \xee\x80\x80\n",
                              limits)
                  .ok());
  struct Case {
    std::string text;
    const char* where;
  } cases[] = {
      {"num_wps = 6\nnum_bps = 6\n\xff\xfe = 3\n", "line 3, column 1"},
      {"x = \"\xc3\xa9\x80\"\n", "line 1, column 7"},    // stray continuation
      {"x = \"\xe2\x82\"", "line 1, column 6"},          // truncated at the end
      {"x = \"\xc0\xaf\"", "line 1, column 6"},          // overlong '/'
      {"x = \"\xe0\x9f\xbf\"", "line 1, column 6"},      // overlong 3-byte
      {"x = \"\xf0\x8f\xbf\xbf\"", "line 1, column 6"},  // overlong 4-byte
      {"# \xed\xa0\x80\n", "line 1, column 3"},          // surrogate
      {"a = 1\n# \xf4\x90\x80\x80", "line 2, column 3"},  // > U+10FFFF
      {"# \xf5\x80\x80\x80", "line 1, column 3"},
      {"\xc3\xa9\xc3\xa9\xc1\x81 = 1", "line 1, column 3"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(CheckTomlLimits(c.text, limits).message(),
              absl::StrCat("invalid UTF-8 sequence at ", c.where,
                           " (TOML documents are UTF-8)"));
  }
}

TEST(TomlLimits, DeepDocumentsStopAtTheLimit) {
  // Unterminated and unbalanced input is the parser's business; the scan
  // still bounds the depth it has seen.
  std::string deep = "a = ";
  for (int i = 0; i < 100000; ++i) deep += "[{x=";
  absl::Status s = CheckTomlLimits(deep, TomlLimits{1 << 20, 8});
  EXPECT_TRUE(absl::StrContains(s.message(), "limit of 8 at line 1")) << s;
  EXPECT_TRUE(CheckTomlLimits("]]]]}}}} = [[", TomlLimits{64, 3}).ok());
  EXPECT_FALSE(
      CheckTomlLimits("\"unterminated\na.b.c.d = 1", TomlLimits{64, 3}).ok());
}

}  // namespace
}  // namespace realm_measurements::measure
