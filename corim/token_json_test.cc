#include "corim/token_json.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "base/crypto.h"
#include "corim/cose.h"
#include "corim/internal/token_samples.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::EcPrivateKey;
using Json = nlohmann::json;

std::string HexOf(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

// The draft-ffm-00 vector against the spec's worked example (§1.10).
TEST(TokenJsonTest, DraftVector) {
  std::ifstream f("testdata/vectors/cca-token-draft-ffm-00.cbor",
                  std::ios::binary);
  std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(f), {});
  absl::StatusOr<CcaToken> t = DecodeCcaToken(bytes);
  ASSERT_TRUE(t.ok()) << t.status();
  Json j = Json::parse(TokenToJson(*t));
  EXPECT_EQ(j["form"], "eat-collection-399");
  EXPECT_EQ(j["realm"]["envelope"]["alg"], "ES384");
  EXPECT_EQ(j["realm"]["envelope"]["protected"], "a1013822");
  EXPECT_FALSE(j["realm"]["envelope"].contains("content-format"));
  // §1.10 payload order: 265, 10, 44236, 44240, 44235, 44237, 44238, 44239.
  std::vector<Json> keys;
  for (const Json& c : j["realm"]["claims"]) keys.push_back(c["key"]);
  EXPECT_EQ(Json(keys),
            Json::parse("[265,10,44236,44240,44235,44237,44238,44239]"));
  EXPECT_EQ(j["realm"]["claims"][6]["name"], "cca-realm-initial-measurement");
  EXPECT_EQ(j["realm"]["claims"][6]["value"],
            "311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49");
  EXPECT_EQ(j["rak"]["encoding"], "cose-key");
  EXPECT_EQ(j["rak"]["curve"], "P-384");
  EXPECT_EQ(j["rak"]["sec1"].get<std::string>().substr(0, 12), "0476f988091b");
  EXPECT_EQ(j["binder"]["algorithm"], "sha-256");
  EXPECT_EQ(j["binder"]["computed"],
            "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711");
  EXPECT_EQ(j["binder"]["match"], true);
  // Platform: the 13 sw-components of the draft.
  bool found = false;
  for (const Json& c : j["platform"]["claims"]) {
    if (c["key"] == 2399) {
      found = true;
      EXPECT_EQ(c["name"], "cca-platform-sw-components");
      EXPECT_EQ(c["value"].size(), 13u);
    }
  }
  EXPECT_TRUE(found);
}

// realm#2.0.0 (instance id 256, integer MEC policy 44243) with two unknown
// claims appended to the payload: every claim in wire order.
TEST(TokenJsonTest, Realm2WithUnknownKeysInWireOrder) {
  auto cpak = EcPrivateKey::Generate(Curve::kP256);
  auto rak = EcPrivateKey::Generate(Curve::kP384);
  RealmClaims realm = internal::SampleRealmClaims(RealmProfile::kV2);
  auto signed_token =
      SignCcaToken(TopLevelForm::kCmwCollection,
                   internal::SamplePlatformClaims(), realm, *cpak, *rak);
  ASSERT_TRUE(signed_token.ok());
  CcaToken base = *DecodeCcaToken(*signed_token);
  // Re-frame the realm payload with two more entries at the end:
  // 99999: h'00' and "x-vendor": "v", then 1: 7 (a key that deterministic
  // order would put first).
  std::vector<uint8_t> payload = base.realm_envelope.payload;
  ASSERT_LT(payload[0], 0xb6);  // map(n), n < 22
  payload[0] += 3;
  for (uint8_t b : std::vector<uint8_t>{
           0x1a, 0x00, 0x01, 0x86, 0x9f, 0x41, 0x00, 0x68, 'x',  '-',
           'v',  'e',  'n',  'd',  'o',  'r',  0x61, 'v',  0x01, 0x07}) {
    payload.push_back(b);
  }
  auto realm_cose = SignCoseSign1(payload, *rak);
  auto platform_cose = SignCoseSign1(base.platform_envelope.payload, *cpak);
  ASSERT_TRUE(realm_cose.ok() && platform_cose.ok());
  auto bytes =
      EncodeCcaToken(TopLevelForm::kCmwCollection, *platform_cose, *realm_cose);
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<CcaToken> t = DecodeCcaToken(*bytes);
  ASSERT_TRUE(t.ok()) << t.status();

  Json j = Json::parse(TokenToJson(*t));
  EXPECT_EQ(j["form"], "cmw-collection-907");
  EXPECT_EQ(j["realm"]["envelope"]["content-format"], 263);
  EXPECT_EQ(j["platform"]["envelope"]["alg"], "ES256");
  // SignCcaToken writes deterministic CBOR (keys sorted by their encoding,
  // RFC 8949 §4.2.1); the three extras follow in the order appended.
  std::vector<Json> keys;
  for (const Json& c : j["realm"]["claims"]) keys.push_back(c["key"]);
  EXPECT_EQ(Json(keys), Json::parse("[10,256,265,44235,44236,44237,44238,"
                                    "44239,44240,44243,99999,\"x-vendor\","
                                    "1]"));
  const Json& claims = j["realm"]["claims"];
  EXPECT_EQ(claims[1]["name"], "realm-instance-id");
  EXPECT_EQ(claims[1]["value"], HexOf(*realm.instance_id));
  EXPECT_EQ(claims[9]["name"], "mec-policy");
  EXPECT_EQ(claims[9]["value"], std::get<uint64_t>(*realm.mec_policy));
  EXPECT_EQ(claims[2]["value"], "tag:arm.com,2024:realm#2.0.0");
  EXPECT_EQ(claims[12]["value"], 7);
  EXPECT_TRUE(claims[10]["name"].is_null());
  EXPECT_EQ(claims[10]["value"], "00");
  EXPECT_TRUE(claims[11]["name"].is_null());
  EXPECT_EQ(claims[11]["value"], "v");
  EXPECT_EQ(j["rak"]["sec1"], HexOf(*rak->PublicKey()->ToSec1()));
  EXPECT_EQ(j["binder"]["match"], true);
  // The text form names the same claims.
  const std::string text = TokenToText(*t);
  EXPECT_NE(text.find("256 realm-instance-id"), std::string::npos) << text;
  EXPECT_NE(text.find("99999 (unknown): \"00\""), std::string::npos) << text;
}

}  // namespace
}  // namespace realm_measurements::corim
