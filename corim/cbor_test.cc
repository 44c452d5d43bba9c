#include "corim/cbor.h"

#include <cbor.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Hex(absl::string_view hex) {
  std::string b = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(b.begin(), b.end());
}
std::string ToHex(const std::vector<uint8_t>& b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

// Round-trip table: RFC 8949 Appendix A examples (the independent vectors)
// whose encodings are the deterministic ones, with their diagnostic form.
struct RoundTrip {
  const char* hex;
  const char* diag;
};
const RoundTrip kRoundTrip[] = {
    {"00", "0"},
    {"01", "1"},
    {"0a", "10"},
    {"17", "23"},
    {"1818", "24"},
    {"1819", "25"},
    {"1864", "100"},
    {"1903e8", "1000"},
    {"1a000f4240", "1000000"},
    {"1b000000e8d4a51000", "1000000000000"},
    {"1bffffffffffffffff", "18446744073709551615"},
    {"3bffffffffffffffff", "-18446744073709551616"},
    {"20", "-1"},
    {"29", "-10"},
    {"3863", "-100"},
    {"3903e7", "-1000"},
    {"f4", "false"},
    {"f5", "true"},
    {"f6", "null"},
    {"f7", "undefined"},
    {"c074323031332d30332d32315432303a30343a30305a",
     "0(\"2013-03-21T20:04:00Z\")"},
    {"c11a514b67b0", "1(1363896240)"},
    {"d74401020304", "23(h'01020304')"},
    {"d818456449455446", "24(h'6449455446')"},
    {"d82076687474703a2f2f7777772e6578616d706c652e636f6d",
     "32(\"http://www.example.com\")"},
    {"40", "h''"},
    {"4401020304", "h'01020304'"},
    {"60", "\"\""},
    {"6161", "\"a\""},
    {"6449455446", "\"IETF\""},
    {"62225c", "\"\\\"\\\\\""},
    {"80", "[]"},
    {"83010203", "[1, 2, 3]"},
    {"8301820203820405", "[1, [2, 3], [4, 5]]"},
    {"98190102030405060708090a0b0c0d0e0f101112131415161718181819",
     "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, "
     "20, 21, 22, 23, 24, 25]"},
    {"a0", "{}"},
    {"a201020304", "{1: 2, 3: 4}"},
    {"a26161016162820203", "{\"a\": 1, \"b\": [2, 3]}"},
    {"826161a161626163", "[\"a\", {\"b\": \"c\"}]"},
    {"a56161614161626142616361436164614461656145",
     "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", \"e\": \"E\"}"},
};

TEST(CborTest, RoundTripTableDecodesEncodesAndPrints) {
  DecodeLimits strict;
  strict.require_deterministic = true;
  for (const RoundTrip& c : kRoundTrip) {
    SCOPED_TRACE(c.hex);
    const std::vector<uint8_t> in = Hex(c.hex);
    absl::StatusOr<CborValue> v = DecodeCbor(in, "test", strict);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(ToDiagnostic(*v), c.diag);
    absl::StatusOr<std::vector<uint8_t>> out = EncodeCbor(*v);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(ToHex(*out), c.hex);
    // libcbor, an independent decoder, reads our bytes completely.
    cbor_load_result result;
    cbor_item_t* item = cbor_load(out->data(), out->size(), &result);
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(result.error.code, CBOR_ERR_NONE);
    EXPECT_EQ(result.read, out->size());
    cbor_decref(&item);
  }
}

// Parse-only table: well-formed but not deterministic; accepted by the
// default decoder, re-encoded in the shortest, sorted form, rejected when
// determinism is required.
struct ParseOnly {
  const char* hex;
  const char* canonical_hex;
};
const ParseOnly kParseOnly[] = {
    {"1801", "01"},
    {"190001", "01"},
    {"1a00000017", "17"},
    {"1b0000000000000018", "1818"},
    {"3800", "20"},
    {"5800", "40"},
    {"780161", "6161"},
    {"9800", "80"},
    {"b800", "a0"},
    {"d80101", "c101"},
    {"a203040102", "a201020304"},
    {"a2616202616101", "a2616101616202"},
    // Shorter encoded key first: 10 (0x0a) sorts before 1000 (0x1903e8),
    // and "rim" before "rem0" (§7.1).
    {"a21903e8010a02", "a20a021903e801"},
    {"a26472656d30016372696d02", "a26372696d026472656d3001"},
};

TEST(CborTest, ParseOnlyTableReencodesDeterministically) {
  DecodeLimits strict;
  strict.require_deterministic = true;
  for (const ParseOnly& c : kParseOnly) {
    SCOPED_TRACE(c.hex);
    absl::StatusOr<CborValue> v = DecodeCbor(Hex(c.hex));
    ASSERT_TRUE(v.ok()) << v.status();
    absl::StatusOr<std::vector<uint8_t>> out = EncodeCbor(*v);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(ToHex(*out), c.canonical_hex);
    absl::StatusOr<CborValue> again = DecodeCbor(Hex(c.hex), "test", strict);
    EXPECT_EQ(again.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(again.status().message()),
                HasSubstr("deterministic encoding"));
  }
}

struct Failure {
  const char* name;
  const char* hex;
  const char* message;
};
const Failure kFailures[] = {
    {"empty", "", "truncated CBOR item head at offset 0"},
    {"trailing byte", "0000",
     "end of input: expected one data item and nothing after it, found 1 "
     "trailing bytes at offset 1"},
    {"truncated head", "19 01", "truncated CBOR head argument at offset 1"},
    {"truncated string", "43 0102",
     "byte string: expected a length of at most 2 bytes, found length 3 at "
     "offset 0"},
    {"huge byte string", "5b ffffffffffffffff 00",
     "byte string: expected a length of at most 1 bytes, found length "
     "18446744073709551615"},
    {"huge text string", "7a 7fffffff",
     "text string: expected a length of at most 0 bytes"},
    {"huge array", "9b 00000000ffffffff 01",
     "array: expected at most 1 elements (one byte each remains), found "
     "count 4294967295 at offset 0"},
    {"huge map", "bb 00000000ffffffff 0101", "map: expected at most 1 entries"},
    {"truncated array", "83 0102",
     "array: expected at most 2 elements (one byte each remains), found "
     "count 3 at offset 0"},
    {"truncated array element", "82 01 19", "truncated CBOR head argument"},
    {"duplicate key", "a2 01 00 01 00",
     "map key: expected unique keys, found duplicate key 1 at offset 3"},
    {"duplicate key in other form", "a2 01 00 1801 00",
     "found duplicate key 1 at offset 3"},
    {"duplicate text key", "a2 6161 00 6161 01", "duplicate key \"a\""},
    {"indefinite bytes", "5f 41 01 ff", "expected a definite length"},
    {"indefinite array", "9f 01 ff", "array: expected a definite length"},
    {"indefinite map", "bf 01 02 ff", "map: expected a definite length"},
    {"break", "ff", "simple/float: expected a definite length"},
    {"half float", "f9 3c00", "found a floating-point number"},
    {"double", "fb 3ff199999999999a", "found a floating-point number"},
    {"simple 16", "f0", "found simple(16)"},
    {"extended simple", "f8 20", "found an extended simple value"},
    {"reserved ai", "1c", "expected additional information 0..27"},
    {"tag without content", "d9 01f5", "truncated CBOR item head at offset 3"},
};

TEST(CborTest, MalformedInputIsRejectedWithPreciseErrors) {
  for (const Failure& c : kFailures) {
    SCOPED_TRACE(c.name);
    std::string hex = c.hex;
    hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
    absl::StatusOr<CborValue> v = DecodeCbor(Hex(hex), "test");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(v.status().message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(v.status().message()), HasSubstr("test: "));
  }
}

TEST(CborTest, NestingDeeperThanLimitFails) {
  std::vector<uint8_t> deep(32, 0x81);  // 32 arrays of one element
  deep.push_back(0x00);
  // Depth 33 > 32.
  EXPECT_EQ(DecodeCbor(deep).status().code(),
            absl::StatusCode::kInvalidArgument);
  deep.erase(deep.begin());
  EXPECT_TRUE(DecodeCbor(deep).ok()) << DecodeCbor(deep).status();
}

TEST(CborTest, NestedTagsCountTowardsDepth) {
  std::vector<uint8_t> tags;
  for (int i = 0; i < 40; ++i) tags.push_back(0xc1);
  tags.push_back(0x00);
  absl::StatusOr<CborValue> v = DecodeCbor(tags);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("nesting depth: expected at most 32"));
}

TEST(CborTest, ItemCountLimitIsEnforced) {
  DecodeLimits limits;
  limits.max_items = 4;
  EXPECT_TRUE(DecodeCbor(Hex("83010203"), "t", limits).ok());
  absl::StatusOr<CborValue> v = DecodeCbor(Hex("8401020304"), "t", limits);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("data item count: expected at most 4 items"));
}

TEST(CborTest, StringSizeLimitIsEnforced) {
  DecodeLimits limits;
  limits.max_string_size = 2;
  EXPECT_TRUE(DecodeCbor(Hex("420102"), "t", limits).ok());
  absl::StatusOr<CborValue> v = DecodeCbor(Hex("43010203"), "t", limits);
  EXPECT_THAT(
      std::string(v.status().message()),
      HasSubstr("expected a length of at most 2 bytes, found length 3"));
}

TEST(CborTest, EncoderSortsKeysAndRejectsDuplicates) {
  CborValue m = CborValue::MakeMap({
      {CborValue::Text("rem0"), CborValue::Uint(1)},
      {CborValue::Int(-1), CborValue::Uint(2)},
      {CborValue::Text("rim"), CborValue::Uint(3)},
      {CborValue::Uint(14), CborValue::Uint(4)},
  });
  absl::StatusOr<std::vector<uint8_t>> out = EncodeCbor(m);
  ASSERT_TRUE(out.ok());
  // 0e < 20 < 63"rim" < 64"rem0".
  EXPECT_EQ(ToHex(*out), "a40e0420026372696d036472656d3001");

  CborValue dup = CborValue::MakeMap({{CborValue::Uint(1), CborValue::Null()},
                                      {CborValue::Uint(1), CborValue::Null()}});
  EXPECT_EQ(EncodeCbor(dup).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CborTest, MapsCompareIndependentlyOfEntryOrder) {
  // Found by corim_fuzz: decode(encode(x)) reorders map entries.
  absl::StatusOr<CborValue> a = DecodeCbor(Hex("a203040102"));
  absl::StatusOr<CborValue> b = DecodeCbor(Hex("a201020304"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b);
  EXPECT_FALSE(*a == *DecodeCbor(Hex("a201020305")));
  EXPECT_FALSE(*a == *DecodeCbor(Hex("a201020404")));
  // Nested inside a map key.
  EXPECT_TRUE(*DecodeCbor(Hex("a1a2030401020a")) ==
              *DecodeCbor(Hex("a1a2010203040a")));
  // Arrays stay ordered.
  EXPECT_FALSE(*DecodeCbor(Hex("820102")) == *DecodeCbor(Hex("820201")));
}

TEST(CborTest, IntConstructorsCoverTheInt64Range) {
  EXPECT_EQ(ToHex(*EncodeCbor(CborValue::Int(-35))), "3822");
  EXPECT_EQ(ToHex(*EncodeCbor(CborValue::Int(INT64_MIN))),
            "3b7fffffffffffffff");
  EXPECT_EQ(*CborValue::Int(INT64_MIN).AsInt64(), INT64_MIN);
  EXPECT_EQ(*CborValue::Int(-7).AsInt64(), -7);
  EXPECT_FALSE(CborValue::Uint(UINT64_MAX).AsInt64().ok());
}

TEST(CborTest, DiagnosticExpandsEmbeddedCoMID) {
  // 506(<< {1: 2} >>) and a byte string that is not CBOR.
  absl::StatusOr<CborValue> v = DecodeCbor(Hex("82d901fa43a10102d901fa41ff"));
  ASSERT_TRUE(v.ok()) << v.status();
  DiagnosticOptions options;
  options.expand_embedded = true;
  EXPECT_EQ(ToDiagnostic(*v, options), "[506(<< {1: 2} >>), 506(h'ff')]");
  EXPECT_EQ(ToDiagnostic(*v), "[506(h'a10102'), 506(h'ff')]");
}

TEST(CborTest, DiagnosticEscapesControlCharacters) {
  EXPECT_EQ(ToDiagnostic(CborValue::Text(std::string("a\n\x01", 3))),
            "\"a\\n\\u0001\"");
}

}  // namespace
}  // namespace realm_measurements::corim

namespace realm_measurements::corim {
namespace {

// RFC 8949 Appendix A indefinite-length examples (the independent vectors)
// and the definite encoding each one decodes to (lenient token decoding).
TEST(CborIndefiniteTest, AppendixAExamplesDecodeWhenAllowed) {
  struct Case {
    const char* indefinite;
    const char* definite;
  };
  const Case cases[] = {
      {"5f42010243030405ff", "450102030405"},  // (_ h'0102', h'030405')
      {"7f657374726561646d696e67ff", "6973747265616d696e67"},  // "streaming"
      {"9fff", "80"},
      {"9f018202039f0405ffff", "8301820203820405"},
      {"9f01820203820405ff", "8301820203820405"},
      {"83018202039f0405ff", "8301820203820405"},
      {"bf61610161629f0203ffff", "a26161016162820203"},
      {"826161bf61626163ff", "826161a161626163"},
      // Re-encoded with keys in deterministic order ("Amt" < "Fun").
      {"bf6346756ef563416d7421ff", "a263416d74216346756ef5"},
  };
  DecodeLimits lenient;
  lenient.allow_indefinite = true;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.indefinite);
    absl::StatusOr<CborValue> v = DecodeCbor(Hex(c.indefinite), "t", lenient);
    ASSERT_TRUE(v.ok()) << v.status();
    absl::StatusOr<std::vector<uint8_t>> enc = EncodeCbor(*v);
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(ToHex(*enc), c.definite);
    // Strict (the default) rejects them.
    absl::StatusOr<CborValue> strict = DecodeCbor(Hex(c.indefinite), "t");
    EXPECT_THAT(std::string(strict.status().message()),
                HasSubstr("indefinite-length items and break are not"));
  }
}

TEST(CborIndefiniteTest, MalformedIndefiniteItemsFail) {
  struct Case {
    const char* hex;
    const char* message;
  };
  const Case cases[] = {
      {"5f6161ff", "expected a definite byte string, found text string"},
      {"5f5f4101ffff", "expected a definite byte string"},
      {"9f01", "expected more items or a break (0xff), found end of input"},
      {"bf01ff", "expected a value after the key, found a break"},
      {"bf0101 0102ff", "duplicate key 1"},
      {"ff", "indefinite-length items and break are not accepted"},
      {"9f1fff", "unsigned integer: expected a definite length"},
  };
  DecodeLimits lenient;
  lenient.allow_indefinite = true;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    std::string hex = c.hex;
    hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
    absl::StatusOr<CborValue> v = DecodeCbor(Hex(hex), "t", lenient);
    ASSERT_FALSE(v.ok());
    EXPECT_THAT(std::string(v.status().message()), HasSubstr(c.message));
  }
  // The string size limit covers the joined chunks.
  lenient.max_string_size = 4;
  EXPECT_FALSE(DecodeCbor(Hex("5f4301020343040506ff"), "t", lenient).ok());
}

}  // namespace
}  // namespace realm_measurements::corim
