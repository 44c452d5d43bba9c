#include "measure/comid_json.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::measure {
namespace {

// Vectors: the endorsements files the reference tool wrote for the golden
// corpus (testdata/golden/cases-public.json), compared byte for byte, and
// spec-core §12.3's example values.

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Measurement FromBase64(const std::string& b64) {
  std::string raw;
  EXPECT_TRUE(absl::Base64Unescape(b64, &raw)) << b64;
  EXPECT_EQ(raw.size(), kMeasurementWidth);
  Measurement m = {};
  std::copy(raw.begin(), raw.begin() + std::min(raw.size(), m.size()),
            m.begin());
  return m;
}

TEST(FillComidJson, ReproducesGoldenEndorsementsByteForByte) {
  const nlohmann::json corpus =
      nlohmann::json::parse(ReadFile("testdata/golden/cases-public.json"));
  int checked = 0;
  for (const auto& c : corpus["cases"]) {
    if (!c.contains("expected_endorsements_json")) continue;
    SCOPED_TRACE(c["id"].get<std::string>());
    const std::string expected = c["expected_endorsements_json"];
    const nlohmann::json exp = nlohmann::json::parse(expected);
    std::string tmpl_name;
    const auto& argv = c["argv"];
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--endorsements-template") tmpl_name = argv[i + 1];
    }
    ASSERT_FALSE(tmpl_name.empty());
    const auto& value =
        exp["triples"]["reference-values"][0]["measurements"][0]["value"];
    const auto& regs = value["integrity-registers"];
    Measurements m;
    const std::string rim = regs["rim"]["value"][0];
    m.hash_algorithm = absl::StartsWith(rim, "sha-512;")
                           ? HashAlgorithm::kSha512
                           : HashAlgorithm::kSha256;
    m.rim = FromBase64(rim.substr(8));
    for (int i = 0; i < 4; ++i) {
      const std::string r = regs["rem" + std::to_string(i)]["value"][0];
      m.rem[i] = FromBase64(r.substr(8));
    }
    const Measurement rpv = FromBase64(value["raw-value"]["value"]);
    absl::StatusOr<std::string> out = FillComidJson(
        ReadFile("testdata/golden/inputs/" + tmpl_name), tmpl_name, m, rpv);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, expected);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

Measurements Sha256Example() {
  // spec-core §12.3 / A.3: RIM 998dfdf6...d4d0, REMs zero.
  Measurements m;
  m.hash_algorithm = HashAlgorithm::kSha256;
  std::string raw = absl::HexStringToBytes(
      "998dfdf6401d69f73ed88ac53d62d5ea2cfac6320b887ce4599aa8671791d4d0");
  std::copy(raw.begin(), raw.end(), m.rim.begin());
  return m;
}

Measurement Rpv(absl::string_view s) {
  Measurement r = {};
  std::copy(s.begin(), s.end(), r.begin());
  return r;
}

std::string Registers(const std::string& rim, const std::string& rem,
                      const std::string& indent) {
  std::string out;
  const char* names[] = {"rim", "rem0", "rem1", "rem2", "rem3"};
  for (int i = 0; i < 5; ++i) {
    out += indent + "\"" + names[i] + "\": {\n" + indent +
           "  \"key-type\": \"text\",\n" + indent + "  \"value\": [\n" +
           indent + "    \"" + (i == 0 ? rim : rem) + "\"\n" + indent +
           "  ]\n" + indent + "}" + (i < 4 ? ",\n" : "\n");
  }
  return out;
}

TEST(FillComidJson, WithoutTemplateUsesTheEmptyModel) {
  absl::StatusOr<std::string> out =
      FillComidJson(std::nullopt, "", Sha256Example(), Rpv("hello"));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string zero = "sha-256;" + std::string(86, 'A') + "==";
  const std::string expected =
      "{\n"
      "  \"tag-identity\": {\n"
      "    \"id\": \"\",\n"
      "    \"version\": 0\n"
      "  },\n"
      "  \"triples\": {\n"
      "    \"reference-values\": [\n"
      "      {\n"
      "        \"environment\": {\n"
      "          \"class\": {\n"
      "            \"id\": {\n"
      "              \"type\": \"\",\n"
      "              \"value\": \"\"\n"
      "            },\n"
      "            \"vendor\": \"\"\n"
      "          },\n"
      "          \"instance\": {\n"
      "            \"type\": \"\",\n"
      "            \"value\": \"\"\n"
      "          }\n"
      "        },\n"
      "        \"measurements\": [\n"
      "          {\n"
      "            \"value\": {\n"
      "              \"raw-value\": {\n"
      "                \"type\": \"bytes\",\n"
      "                \"value\": \"aGVsbG8" +
      std::string(79, 'A') +
      "==\"\n"
      "              },\n"
      "              \"integrity-registers\": {\n" +
      Registers("sha-256;mY399kAdafc+2IrFPWLV6iz6xjILiHzkWZqoZxeR1N" +
                    std::string(44, 'A') + "==",
                zero, "                ") +
      "              }\n"
      "            }\n"
      "          }\n"
      "        ]\n"
      "      }\n"
      "    ]\n"
      "  }\n"
      "}";
  EXPECT_EQ(*out, expected);
}

TEST(FillComidJson, EmptyReferenceValuesGetOneEntry) {
  absl::StatusOr<std::string> out = FillComidJson(
      std::string(R"({"tag-identity": {"id": "empty", "version": 3},
                      "triples": {"reference-values": []}})"),
      "t.json", Sha256Example(), Rpv(""));
  ASSERT_TRUE(out.ok()) << out.status();
  nlohmann::json j = nlohmann::json::parse(*out);
  EXPECT_EQ(j["tag-identity"]["id"], "empty");
  EXPECT_EQ(j["tag-identity"]["version"], 3);
  ASSERT_EQ(j["triples"]["reference-values"].size(), 1u);
  EXPECT_EQ(
      j["triples"]["reference-values"][0]["environment"]["class"]["vendor"],
      "");
}

TEST(FillComidJson, EscapingMatchesSerdeJson) {
  absl::StatusOr<std::string> out = FillComidJson(
      std::string("{\"tag-identity\": {\"id\": \"a\\\"b\\\\c\\nd\\u0001\\u00e9/"
                  "\\t\\u007f\", \"version\": 4294967295},"
                  "\"triples\": {\"reference-values\": []}}"),
      "t.json", Sha256Example(), Rpv(""));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NE(out->find("\"id\": \"a\\\"b\\\\c\\nd\\u0001\xc3\xa9/\\t\x7f\""),
            std::string::npos)
      << *out;
  EXPECT_NE(out->find("\"version\": 4294967295"), std::string::npos);
}

TEST(FillComidJson, TemplateErrors) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {R"({"triples": {"reference-values": []}})",
       "invalid VM configuration: cannot parse t.json: missing field "
       "`tag-identity` in $"},
      {R"({"tag-identity": {"id": "x", "version": 0}})",
       "invalid VM configuration: cannot parse t.json: missing field "
       "`triples` in $"},
      {R"({"tag-identity": {"id": "x", "version": -1}, "triples": {}})",
       "invalid VM configuration: cannot parse t.json: invalid value: "
       "integer `-1`, expected u32 at $.tag-identity.version"},
      {R"({"tag-identity": {"id": 5, "version": 0}, "triples": {}})",
       "invalid VM configuration: cannot parse t.json: invalid type: "
       "integer, expected a string at $.tag-identity.id"},
      {R"({"tag-identity": {"id": "x", "version": 0},
           "triples": {"reference-values": [{"environment": {}}]}})",
       "invalid VM configuration: cannot parse t.json: missing field `class` "
       "in $.triples.reference-values[0].environment"},
      {"[1]",
       "invalid VM configuration: cannot parse t.json: invalid type: "
       "sequence, expected a CoMID map at the top"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<std::string> out =
        FillComidJson(std::string(c.text), "t.json", Sha256Example(), Rpv(""));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().message(), c.message);
  }
  absl::StatusOr<std::string> bad = FillComidJson(
      std::string("{\"tag-identity\": {\"id\": \"x\", \"version\": 0},\n "
                  " \"triples\": [\n"),
      "comid-invalid.json", Sha256Example(), Rpv(""));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.status().message(),
                               "invalid VM configuration: cannot parse "
                               "comid-invalid.json: parse error at line 3"))
      << bad.status();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  bad = FillComidJson(deep, "deep.json", Sha256Example(), Rpv(""));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "invalid VM configuration: cannot parse deep.json: nesting deeper "
            "than 64 levels at byte 64");
  // Issue 14: at most 1 MiB (a 16 MiB array of zeros took ~128 MiB).
  std::string big = "[" + std::string((1 << 20) - 2, ' ') + "]";
  bad = FillComidJson(big + " ", "big.json", Sha256Example(), Rpv(""));
  EXPECT_EQ(bad.status().message(),
            "invalid VM configuration: cannot parse big.json: document is "
            "1048577 bytes, more than the limit of 1048576 bytes");
  bad = FillComidJson(big, "big.json", Sha256Example(), Rpv(""));
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "expected a CoMID map"))
      << bad.status();
}

}  // namespace
}  // namespace realm_measurements::measure
