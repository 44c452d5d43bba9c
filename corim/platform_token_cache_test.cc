#include "corim/platform_token_cache.h"

#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "base/crypto.h"
#include "corim/token.h"
#include "corim/verify.h"
#include "gtest/gtest.h"

namespace realm_measurements::corim {
namespace {

using crypto::Curve;
using crypto::EcPrivateKey;
using crypto::EcPublicKey;

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Token 02 (ES256 platform) and its P-256 IAK from ta-iak-p256.json, the
// store entry of instance-id 01 02*32 (testdata/vectors/README.md).
struct Vector {
  CcaToken token;
  EcPublicKey cpak;
};
Vector Token02() {
  const std::string bytes = ReadText("testdata/vectors/cca-token-02.cbor");
  auto token = DecodeCcaToken(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  EXPECT_TRUE(token.ok()) << token.status();
  std::vector<uint8_t> inst(33, 0x02);
  inst[0] = 0x01;
  auto key = LoadPublicKey(ReadText("testdata/vectors/ta-iak-p256.json"), inst);
  EXPECT_TRUE(key.ok()) << key.status();
  return {std::move(*token), std::move(*key)};
}

PlatformTokenCache::Key K(uint8_t b) {
  PlatformTokenCache::Key k{};
  k[0] = b;
  return k;
}

TEST(PlatformTokenCacheTest, HitGivesTheSameReportAsAFullVerification) {
  Vector v = Token02();
  VerifyOptions plain;
  plain.cpak = &v.cpak;
  const VerificationReport want = VerifyCcaToken(v.token, plain);
  ASSERT_TRUE(want.platform_signature.passed());

  PlatformTokenCache cache(8);
  VerifyOptions cached = plain;
  cached.platform_cache = &cache;
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const VerificationReport got = VerifyCcaToken(v.token, cached);
    EXPECT_EQ(VerificationReportToJson(got), VerificationReportToJson(want));
  }
  const PlatformTokenCache::Stats s = cache.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.entries, 1u);
}

TEST(PlatformTokenCacheTest, FailuresAreNotCachedAndCachedPassesDoNotLeak) {
  Vector v = Token02();
  PlatformTokenCache cache(8);
  VerifyOptions o;
  o.cpak = &v.cpak;
  o.platform_cache = &cache;
  ASSERT_TRUE(VerifyCcaToken(v.token, o).platform_signature.passed());

  // The same token under another P-256 key: a different key, and it fails,
  // twice (not remembered).
  EcPrivateKey other = *EcPrivateKey::Generate(Curve::kP256);
  EcPublicKey other_pub = *other.PublicKey();
  VerifyOptions wrong = o;
  wrong.cpak = &other_pub;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(VerifyCcaToken(v.token, wrong).platform_signature.status,
              CheckStatus::kFail);
  }
  // One changed signature byte or payload byte with the right CPAK fails.
  CcaToken bad_sig = v.token;
  bad_sig.platform_envelope.signature[5] ^= 1;
  EXPECT_EQ(VerifyCcaToken(bad_sig, o).platform_signature.status,
            CheckStatus::kFail);
  CcaToken bad_payload = v.token;
  bad_payload.platform_envelope.payload.back() ^= 1;
  EXPECT_EQ(VerifyCcaToken(bad_payload, o).platform_signature.status,
            CheckStatus::kFail);
  EXPECT_EQ(cache.stats().entries, 1u);
  // And the original still hits.
  EXPECT_TRUE(VerifyCcaToken(v.token, o).platform_signature.passed());
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(PlatformTokenCacheTest, KeyCoversSignatureProtectedHeaderPayloadAndCpak) {
  Vector v = Token02();
  const CoseSign1& p = v.token.platform_envelope;
  const auto base = *PlatformTokenCache::KeyFor(p, v.cpak);
  EXPECT_EQ(*PlatformTokenCache::KeyFor(p, v.cpak), base);
  CoseSign1 sig = p;
  sig.signature[0] ^= 1;
  EXPECT_NE(*PlatformTokenCache::KeyFor(sig, v.cpak), base);
  CoseSign1 prot = p;
  prot.protected_bytes.push_back(0);
  EXPECT_NE(*PlatformTokenCache::KeyFor(prot, v.cpak), base);
  CoseSign1 payload = p;
  payload.payload[0] ^= 1;
  EXPECT_NE(*PlatformTokenCache::KeyFor(payload, v.cpak), base);
  EcPublicKey other = *EcPrivateKey::Generate(Curve::kP256)->PublicKey();
  EXPECT_NE(*PlatformTokenCache::KeyFor(p, other), base);
}

TEST(PlatformTokenCacheTest, EvictsLeastRecentlyUsed) {
  PlatformTokenCache cache(2);
  cache.Insert(K(1));
  cache.Insert(K(2));
  EXPECT_TRUE(cache.Contains(K(1)));  // 2 is now the oldest
  cache.Insert(K(3));
  EXPECT_TRUE(cache.Contains(K(1)));
  EXPECT_FALSE(cache.Contains(K(2)));
  EXPECT_TRUE(cache.Contains(K(3)));
  cache.Insert(K(3));  // already there: no growth
  const PlatformTokenCache::Stats s = cache.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
}

TEST(PlatformTokenCacheTest, ZeroCapacityStoresNothing) {
  PlatformTokenCache cache(0);
  cache.Insert(K(1));
  EXPECT_FALSE(cache.Contains(K(1)));
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(PlatformTokenCacheTest, ConcurrentUseStaysBounded) {
  PlatformTokenCache cache(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const PlatformTokenCache::Key k = K(static_cast<uint8_t>(i * 4 + t));
        if (!cache.Contains(k)) cache.Insert(k);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const PlatformTokenCache::Stats s = cache.stats();
  EXPECT_EQ(s.entries, 16u);
  EXPECT_EQ(s.hits + s.misses, 8000u);
}

}  // namespace
}  // namespace realm_measurements::corim
