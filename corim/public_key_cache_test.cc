#include "corim/public_key_cache.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "corim/verify.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// SubjectPublicKeyInfo PEM of a fresh P-256 key: the fixed RFC 5480 DER
// prefix (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes), then the
// SEC1 point.
std::string FreshPem() {
  std::string der = absl::HexStringToBytes(
      "3059301306072a8648ce3d020106082a8648ce3d030107034200");
  auto key = crypto::EcPrivateKey::Generate(crypto::Curve::kP256);
  std::vector<uint8_t> point = *key->PublicKey()->ToSec1();
  der.append(point.begin(), point.end());
  return absl::StrCat("-----BEGIN PUBLIC KEY-----\n", absl::Base64Escape(der),
                      "\n-----END PUBLIC KEY-----\n");
}

std::vector<uint8_t> Instance(uint8_t fill) {
  std::vector<uint8_t> inst(33, fill);
  inst[0] = 0x01;
  return inst;
}

TEST(PublicKeyCacheTest, SameKeyAsLoadPublicKeyParsedOnce) {
  const std::string jwk = ReadText("testdata/vectors/cpak-tfm-p384.jwk.json");
  const std::string store = ReadText("testdata/vectors/ta-iak-p256.json");
  PublicKeyCache cache(8);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    auto a = LoadPublicKey(cache, jwk);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(*(*a)->ToSec1(), *LoadPublicKey(jwk)->ToSec1());
    // ta-iak-p256.json holds instance-id 01 02*32 (vectors README).
    auto b = LoadPublicKey(cache, store, Instance(0x02));
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(*(*b)->ToSec1(), *LoadPublicKey(store, Instance(0x02))->ToSec1());
  }
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_EQ(cache.stats().hits, 4u);
  EXPECT_EQ(cache.stats().entries, 2u);
  // Same bytes, the same key object.
  EXPECT_EQ(LoadPublicKey(cache, jwk)->get(), LoadPublicKey(cache, jwk)->get());
}

TEST(PublicKeyCacheTest, ContextAndParserArePartOfTheKey) {
  const std::string store = ReadText("testdata/vectors/ta-iak-p256.json");
  PublicKeyCache cache(8);
  ASSERT_TRUE(LoadPublicKey(cache, store, Instance(0x02)).ok());
  // Another instance-id is looked up afresh: not in the store.
  auto other = LoadPublicKey(cache, store, Instance(0x03));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.status(), LoadPublicKey(store, Instance(0x03)).status());
  // The same PEM bytes under two parser names: two entries, one key.
  const std::string pem = FreshPem();
  const absl::Span<const uint8_t> bytes(
      reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
  int parses = 0;
  auto parse = [&] {
    ++parses;
    return crypto::EcPublicKey::FromPem(pem);
  };
  auto a = cache.Get("a", {}, bytes, parse);
  auto b = cache.Get("b", {}, bytes, parse);
  auto a2 = cache.Get("a", {}, bytes, parse);
  ASSERT_TRUE(a.ok() && b.ok() && a2.ok());
  EXPECT_EQ(parses, 2);
  EXPECT_NE(a->get(), b->get());
  EXPECT_EQ(a->get(), a2->get());
  EXPECT_EQ(*(*a)->ToSec1(), *(*b)->ToSec1());
  // Over-long names or contexts parse uncached.
  const std::string long_name(256, 'x');
  EXPECT_TRUE(cache.Get(long_name, {}, bytes, parse).ok());
  EXPECT_TRUE(cache.Get(long_name, {}, bytes, parse).ok());
  EXPECT_EQ(parses, 4);
  EXPECT_EQ(cache.stats().entries, 3u);
}

TEST(PublicKeyCacheTest, ErrorsAreTheParsersAndNotCached) {
  PublicKeyCache cache(8);
  const std::string bad_jwk = R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})";
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(LoadPublicKey(cache, bad_jwk).status(),
              LoadPublicKey(bad_jwk).status());
  }
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(PublicKeyCacheTest, EvictsLeastRecentlyUsedKeysStayValid) {
  PublicKeyCache cache(1);
  const std::string p1 = FreshPem();
  const std::string p2 = FreshPem();
  auto a = LoadPublicKey(cache, p1);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(LoadPublicKey(cache, p2).ok());  // evicts p1
  ASSERT_TRUE(LoadPublicKey(cache, p1).ok());  // parsed again
  EXPECT_EQ(cache.stats().misses, 3u);
  EXPECT_EQ(cache.stats().evictions, 2u);
  // The evicted key handed out earlier is still usable.
  EXPECT_EQ(*(*a)->ToSec1(), *LoadPublicKey(p1)->ToSec1());
}

}  // namespace
}  // namespace realm_measurements::corim
