#include "base/json_text.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::base {
namespace {

// The oracle: nlohmann's own serialiser with the same options.
template <typename Json>
std::string Reference(const Json& v, int indent) {
  return v.dump(indent, ' ', false, Json::error_handler_t::replace);
}

template <typename Json>
void ExpectSame(const Json& v) {
  for (int indent : {-1, 0, 1, 2, 4}) {
    EXPECT_EQ(JsonText(v, indent), Reference(v, indent)) << "indent " << indent;
  }
}

// Strings nlohmann escapes or repairs: every control character, quotes,
// backslashes, DEL, valid multi-byte UTF-8, and invalid sequences
// (stray continuation, truncated at the end, overlong, surrogate).
std::vector<std::string> AwkwardStrings() {
  std::vector<std::string> s = {"",
                                "plain text",
                                "quote \" and backslash \\",
                                "tab\tnewline\nreturn\r",
                                "del \x7f",
                                "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                "stray \x80 continuation",
                                "truncated \xe2\x82",
                                "\xe2\x82",
                                "overlong \xc0\xaf",
                                "surrogate \xed\xa0\x80 x",
                                "\xff\xfe",
                                "ok\xef\xbf\xbd"};
  for (int c = 0; c < 0x20; ++c) s.push_back(std::string("c") + char(c));
  for (int c = 0x80; c < 0x100; ++c) s.push_back(std::string(1, char(c)));
  return s;
}

TEST(JsonText, ScalarsMatchNlohmann) {
  using J = nlohmann::json;
  for (const J& v : {J(nullptr), J(true), J(false), J(0), J(-1), J(42u),
                     J(std::numeric_limits<int64_t>::min()),
                     J(std::numeric_limits<int64_t>::max()),
                     J(std::numeric_limits<uint64_t>::max()), J(0.0), J(-0.0),
                     J(0.1), J(1.0), J(1e300), J(2.5e-10),
                     J(std::numeric_limits<double>::quiet_NaN()),
                     J(std::numeric_limits<double>::infinity())}) {
    ExpectSame(v);
  }
}

TEST(JsonText, StringsAndKeysMatchNlohmann) {
  for (const std::string& s : AwkwardStrings()) {
    SCOPED_TRACE(testing::PrintToString(s));
    ExpectSame(nlohmann::json(s));
    ExpectSame(nlohmann::json{{s, s}, {"k", {s, 1}}});
    ExpectSame(nlohmann::ordered_json{{"z", s}, {s, nullptr}});
  }
}

TEST(JsonText, ContainersMatchNlohmann) {
  using J = nlohmann::json;
  const J doc = {
      {"empty-object", J::object()},
      {"empty-array", J::array()},
      {"nested", {{"a", {1, 2, {{"b", J::array()}}}}, {"c", J::object()}}},
      {"list", {J::array(), J::object(), "x", 1.5, {J::array()}}},
      {"binary", J::binary({1, 2, 3}, 7)},
      {"deep", {{"binary", J::array({J::binary({0xff})})}}},
      {"empty-binary", J::binary({})}};
  ExpectSame(doc);
  ExpectSame(J::array({doc, doc}));
  nlohmann::ordered_json ordered = {{"z", 1}, {"a", {{"y", 2}, {"b", {}}}}};
  ExpectSame(ordered);
}

// Random trees of every value kind, strings drawn from the awkward set and
// from random bytes.
template <typename Json>
Json RandomValue(std::mt19937_64& rng, int depth) {
  const std::vector<std::string> awkward = AwkwardStrings();
  auto random_string = [&]() {
    if (rng() % 2 == 0) return awkward[rng() % awkward.size()];
    std::string s(rng() % 12, ' ');
    for (char& c : s)
      c = static_cast<char>(rng() % 3 == 0 ? rng() : 0x21 + rng() % 90);
    return s;
  };
  switch (depth > 3 ? rng() % 6 : rng() % 8) {
    case 0:
      return Json(nullptr);
    case 1:
      return Json(rng() % 2 == 0);
    case 2:
      return Json(static_cast<int64_t>(rng()));
    case 3:
      return Json(static_cast<uint64_t>(rng()));
    case 4:
      return Json(static_cast<double>(static_cast<int64_t>(rng())) / 1024);
    case 5:
      return Json(random_string());
    case 6: {
      Json a = Json::array();
      for (int i = rng() % 4; i > 0; --i)
        a.push_back(RandomValue<Json>(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (int i = rng() % 4; i > 0; --i)
        o[random_string()] = RandomValue<Json>(rng, depth + 1);
      return o;
    }
  }
}

TEST(JsonText, RandomTreesMatchNlohmann) {
  std::mt19937_64 rng(18);
  for (int i = 0; i < 2000; ++i) {
    ExpectSame(RandomValue<nlohmann::json>(rng, 0));
    ExpectSame(RandomValue<nlohmann::ordered_json>(rng, 0));
  }
}

// The same tree written as a stream of calls (keys in the tree's order).
template <typename Json>
void Stream(JsonWriter& w, const Json& v) {
  if (v.is_object()) {
    w.BeginObject();
    for (auto it = v.begin(); it != v.end(); ++it) {
      w.Key(it.key());
      Stream(w, it.value());
    }
    w.EndObject();
  } else if (v.is_array()) {
    w.BeginArray();
    for (const Json& e : v) Stream(w, e);
    w.EndArray();
  } else if (v.is_string()) {
    w.String(v.template get<std::string>());
  } else if (v.is_boolean()) {
    w.Bool(v.template get<bool>());
  } else if (v.is_null()) {
    w.Null();
  } else if (v.is_number_unsigned()) {
    w.Uint(v.template get<uint64_t>());
  } else if (v.is_number_integer()) {
    w.Int(v.template get<int64_t>());
  } else {
    w.Value(v);  // floats
  }
}

TEST(JsonWriter, StreamedTreesMatchNlohmann) {
  std::mt19937_64 rng(1818);
  for (int i = 0; i < 1000; ++i) {
    const nlohmann::json v = RandomValue<nlohmann::json>(rng, 0);
    for (int indent : {-1, 0, 2, 3}) {
      JsonWriter w(indent);
      Stream(w, v);
      EXPECT_EQ(w.Take(), Reference(v, indent)) << "indent " << indent;
    }
  }
}

TEST(JsonWriter, MixesStreamedAndTreeValues) {
  using J = nlohmann::json;
  JsonWriter w(2);
  w.BeginObject();
  w.Key("a");
  w.Value(J{{"x", J::array()}, {"y", {1, J::binary({9, 8})}}});
  w.Key("b");
  w.BeginArray();
  w.Value(J::object());
  w.Int(-3);
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  const J same = {{"a", {{"x", J::array()}, {"y", {1, J::binary({9, 8})}}}},
                  {"b", {J::object(), -3, J::object()}}};
  EXPECT_EQ(w.Take(), Reference(same, 2));
  // Take() leaves an empty writer for the next document.
  w.String("again");
  EXPECT_EQ(w.Take(), "\"again\"");
}

TEST(JsonText, InvalidUtf8IsReplacedNotThrown) {
  EXPECT_EQ(JsonText(nlohmann::json{{"name", "a\xff"}}, -1),
            "{\"name\":\"a\xef\xbf\xbd\"}");
}

}  // namespace
}  // namespace realm_measurements::base
