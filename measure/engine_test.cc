#include "measure/engine.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/crypto.h"
#include "gtest/gtest.h"

namespace realm_measurements::measure {
namespace {

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const absl::Status _s = (expr);                         \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

template <typename T>
T ValueOrDie(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  if (!v.ok()) std::abort();
  return *std::move(v);
}

void ExpectError(const absl::Status& s, absl::StatusCode code,
                 absl::string_view substring) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(substring), absl::string_view::npos)
      << "expected '" << substring << "' in: " << s.message();
}

// A 64-byte measurement from the spec's hex (SHA-256 values are given as 32
// bytes; the rest is zero by spec-core §2.2).
std::string Hex64(absl::string_view hex) {
  std::string h(hex);
  h.resize(128, '0');
  return h;
}

std::vector<uint8_t> Bytes(absl::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// H(x) as a 64-byte buffer, computed with crypto directly (not the engine).
Measurement RefHash(HashAlgorithm algorithm, absl::Span<const uint8_t> data) {
  std::vector<uint8_t> d =
      ValueOrDie(crypto::HashOnce(ToDigestAlgorithm(algorithm), data));
  Measurement m = {};
  std::copy(d.begin(), d.end(), m.begin());
  return m;
}

// H(granule) of `content` placed at `offset` in an otherwise zero granule.
Measurement GranuleHash(HashAlgorithm algorithm, absl::string_view content,
                        size_t offset) {
  std::vector<uint8_t> granule(kGranuleSize, 0);
  std::copy(content.begin(), content.end(), granule.begin() + offset);
  return RefHash(algorithm, granule);
}

std::string B64(const Measurement& m, size_t n) {
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(m.data()), n));
}

RealmCreateParams Params(HashAlgorithm algorithm, int ipa, int bps, int wps) {
  RealmCreateParams p;
  // SHA-384 exists only in RMM 2.0 realms (spec-rmm2 §1 row 4).
  if (algorithm == HashAlgorithm::kSha384) p.rmm_version = RmmVersion::k2_0;
  p.hash_algorithm = algorithm;
  p.ipa_bits = static_cast<uint8_t>(ipa);
  p.num_bps = static_cast<uint8_t>(bps);
  p.num_wps = static_cast<uint8_t>(wps);
  return p;
}

TEST(HashAlgorithmTest, ParseAndNames) {
  EXPECT_EQ(ValueOrDie(ParseHashAlgorithm("sha256")), HashAlgorithm::kSha256);
  EXPECT_EQ(ValueOrDie(ParseHashAlgorithm("sha512")), HashAlgorithm::kSha512);
  EXPECT_EQ(ValueOrDie(ParseHashAlgorithm("sha384")), HashAlgorithm::kSha384);
  for (const char* bad : {"hello", "SHA256", "SHA384", "sha-384", ""}) {
    ExpectError(ParseHashAlgorithm(bad).status(),
                absl::StatusCode::kInvalidArgument,
                absl::StrCat("unknown hash algorithm `", bad, "`"));
  }
  EXPECT_STREQ(HashAlgorithmName(HashAlgorithm::kSha512), "sha512");
  EXPECT_EQ(HashSize(HashAlgorithm::kSha256), 32u);
  EXPECT_EQ(HashSize(HashAlgorithm::kSha512), 64u);
  EXPECT_STREQ(HashAlgorithmName(HashAlgorithm::kSha384), "sha384");
  EXPECT_EQ(HashSize(HashAlgorithm::kSha384), 48u);
  // RMI_HASH_SHA_384 = 2 (TF-RMM 787b3558, spec-rmm2 §1 row 4).
  EXPECT_EQ(static_cast<int>(HashAlgorithm::kSha384), 2);
}

TEST(RmmVersionTest, ParseNamesAndAlgorithms) {
  EXPECT_EQ(ValueOrDie(ParseRmmVersion("1.0")), RmmVersion::k1_0);
  EXPECT_EQ(ValueOrDie(ParseRmmVersion("2.0")), RmmVersion::k2_0);
  for (const char* bad : {"1", "2", "1.1", "v2.0", "2.0 ", ""}) {
    ExpectError(
        ParseRmmVersion(bad).status(), absl::StatusCode::kInvalidArgument,
        absl::StrCat("unknown RMM version `", bad, "`: expected 1.0 or 2.0"));
  }
  EXPECT_STREQ(RmmVersionName(RmmVersion::k2_0), "2.0");
  EXPECT_TRUE(RmmSupports(RmmVersion::k1_0, HashAlgorithm::kSha512));
  EXPECT_FALSE(RmmSupports(RmmVersion::k1_0, HashAlgorithm::kSha384));
  EXPECT_TRUE(RmmSupports(RmmVersion::k2_0, HashAlgorithm::kSha384));
  EXPECT_TRUE(RmmSupports(RmmVersion::k2_0, HashAlgorithm::kSha256));
}

// spec-core Appendix B, `test_rim`: REALM_CREATE only.
TEST(EngineTest, AppendixBTestRim) {
  Engine e256 =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 48, 2, 2)));
  EXPECT_EQ(ToHex(e256.rim()),
            Hex64("6739dfb22b75ee1268d08dfa8369f501bc0b066243553f069f560d1fa11"
                  "72973"));
  Engine e512 =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha512, 48, 2, 2)));
  EXPECT_EQ(ToHex(e512.rim()),
            "799e434048fb57eb9d4f0e2a2b98158720377252deab2bdfcd69b5a8f82237f4"
            "34bd6bb1c75bf160a2d49382f733b3439a3ff769e4ea5dd9a6f72239d44bbbab");
  EXPECT_EQ(e512.block_sizes(), 0x8040201000u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(ToHex(e512.rem(i)), std::string(128, '0'));
}

// spec-core Appendix B, `tests/event_log.rs` REALM_CREATE (6 bps, 4 wps).
TEST(EngineTest, AppendixBEventLogRealmCreate) {
  Engine e =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 48, 6, 4)));
  EXPECT_EQ(ToHex(e.rim()),
            Hex64("8960d56826370aaa6fc9b3a041d4240689582ba41e2ad8bb8f9adf6d2a0"
                  "cd5e7"));
  EXPECT_EQ(B64(e.rim(), 32), "iWDVaCY3CqpvybOgQdQkBolYK6QeKti7j5rfbSoM1ec=");
  EXPECT_EQ(B64(e.rem(0), 32), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
}

struct ScenarioS {
  HashAlgorithm algorithm;
  const char* steps[6];
  const char* rem2;
};

const ScenarioS kScenarioS[] = {
    {HashAlgorithm::kSha256,
     {"9abbddd3cf68930801ba9475b12b0036bf43bd1399a161b178751d2f7b2880c3",
      "365183bedfd6b2b008421cd9987384ebad20438e6cb3a9a1b6dbdfef3ca1aec7",
      "e7bb6d28bf8034d7764da637acace2409ce2fd9148c83679c307ac4c31e3fc9c",
      "f25a60a840f9cbd5bed48e5ae090152034ff7946e1be572cc6be9bfe1f405740",
      "64658e86701d8b814b3ee5bf5e2cbd1f615cb8c1e8341bd2c0c8d0d9d371b329",
      "c38319413e357486c4ef32ef629ee822b07df89644f571bf9560a26243824610"},
     "64510d777e2fbefce2b8535dd17644c3807ddccf681735bf36c13ed59d5f0ef5"},
    {HashAlgorithm::kSha512,
     {"2843246be6dafb273db1b0d62dd8f5a7c4fb943f67220c58bafb62ac06f827194d5e4bbc"
      "7806adfed746c629463d2150c80457cd27559b05abb6de2520e8a2d4",
      "46bc80ec66aab5001fdbcec1ed27043512d3c5a52046fddd3cd6b129dfeb15c4086b9471"
      "68572de42e008eca0eac6f57f8a5f5d4ea72469d109104432abf90f2",
      "5c17f854fabbd0de034af7dca24918699e8e49ab100c5a77fdf0d1a743969c86fd857a29"
      "ec125dbc1c3c687e7e478cad9547fb30132ebb039489802d5b423854",
      "fe3b9f8c0582466283aa9ce1c419a50b74c15b7ff13c409808207049353f5bbdbb0a2c42"
      "cf187b2eb0df795ad7caddd16d4b1b4cf5973234858d2d31fed819c3",
      "62d332abee3e7bdf692df8845cc0f540563eae0a15f9f308f396dcc09c54ebdcffe2c7a6"
      "3028df4e5c3d943cd3c3edc3f72b56c3d6d7cb64fde6fb19946d07a8",
      "e1650a035f3d34f6461f335bbbd4e95a5f59e5501acf5cb06304af0b2f3845393d2d2022"
      "735d1d56f591377af902154f4356a7276c2cda0461bb5c6cceccec47"},
     "7792cc7848b6864bdfbc5afdcffc5439d80a53a35b765a6479d4d84ade9e8929791ced50"
     "844e117601bcafbf12a3a5010cfa77b2b53bf2fdfbe51b2bef867303"},
};

// spec-core Appendix C scenario S, step by step.
TEST(EngineTest, AppendixCScenarioS) {
  for (const ScenarioS& v : kScenarioS) {
    SCOPED_TRACE(HashAlgorithmName(v.algorithm));
    const HashAlgorithm a = v.algorithm;
    Engine e = ValueOrDie(Engine::RealmCreate(Params(a, 33, 6, 6)));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[0]));
    ASSERT_OK(e.InitRipas(0x80000000, 0xa0000000));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[1]));
    ASSERT_OK(
        e.DataCreateMeasured(0x80000000, GranuleHash(a, "FW CONTENT", 0)));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[2]));
    // "INITRD CONTENT" at 0x8fdffff0: 0xff0 zero bytes first, one granule.
    ASSERT_OK(e.DataCreateMeasured(0x8fdff000,
                                   GranuleHash(a, "INITRD CONTENT", 0xff0)));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[3]));
    RecParams rec;
    rec.pc = 0x80000000;
    rec.gprs = {0x8fe00000, 1, 2, 3, 4, 5, 6, 7};
    ASSERT_OK(e.RecCreate(rec));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[4]));
    ASSERT_OK(e.DataCreateUnmeasuredRange(0x8fff0000, 0x10000));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[5]));

    // Step 7 with the Rust tool's formula: REM2 := H(pad64(H(blob))).
    const Measurement initrd = RefHash(a, Bytes("INITRD CONTENT"));
    ASSERT_OK(e.ExtendRem(2, initrd, RemFormula::kReferenceTool));
    EXPECT_EQ(ToHex(e.rem(2)), Hex64(v.rem2));
    // Dropping the old value: extending again gives the same REM.
    ASSERT_OK(e.ExtendRem(2, initrd, RemFormula::kReferenceTool));
    EXPECT_EQ(ToHex(e.rem(2)), Hex64(v.rem2));
    EXPECT_EQ(ToHex(e.rim()), Hex64(v.steps[5]));
    for (int i : {0, 1, 3}) EXPECT_EQ(ToHex(e.rem(i)), std::string(128, '0'));
    if (a == HashAlgorithm::kSha256) {
      EXPECT_EQ(B64(e.rim(), 32),
                "w4MZQT41dIbE7zLvYp7oIrB9+JZE9XG/lWCiYkOCRhA=");
      EXPECT_EQ(B64(e.rem(2), 32),
                "ZFENd34vvvziuFNd0XZEw4B93M9oFzW/NsE+1Z1fDvU=");
    }
  }
}

// Step 4 given as an unaligned blob is the same as the aligned granule; the
// engine's own Hash() agrees with an independent digest.
TEST(EngineTest, HashMatchesIndependentDigest) {
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha384,
                          HashAlgorithm::kSha512}) {
    Engine e = ValueOrDie(Engine::RealmCreate(Params(a, 33, 6, 6)));
    const std::vector<uint8_t> data = Bytes("FW CONTENT");
    EXPECT_EQ(e.Hash(data), RefHash(a, data));
    EXPECT_EQ(e.Hash({}), RefHash(a, {}));
  }
}

// deviations.md C1: REM := H(REM_old[0:L] || v), checked against digests of
// the concatenation computed with crypto::HashOnce.
// SHA-384 (RMM 2.0) extends with 48-byte values: L = 48, and the REM
// buffer's last 16 bytes stay zero.
TEST(EngineTest, TfRmmRemFormula) {
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha384,
                          HashAlgorithm::kSha512}) {
    SCOPED_TRACE(HashAlgorithmName(a));
    const size_t l = HashSize(a);
    Engine e = ValueOrDie(Engine::RealmCreate(Params(a, 33, 6, 6)));
    const std::vector<uint8_t> k =
        ValueOrDie(crypto::HashOnce(ToDigestAlgorithm(a), Bytes("KERNEL")));
    const std::vector<uint8_t> i =
        ValueOrDie(crypto::HashOnce(ToDigestAlgorithm(a), Bytes("INITRD")));
    ASSERT_EQ(k.size(), l);
    ASSERT_OK(e.ExtendRem(0, k));  // kTfRmm is the default.
    std::vector<uint8_t> input(l, 0);
    input.insert(input.end(), k.begin(), k.end());
    Measurement expected = RefHash(a, input);
    EXPECT_EQ(e.rem(0), expected);

    ASSERT_OK(e.ExtendRem(0, i, RemFormula::kTfRmm));
    input.assign(expected.begin(), expected.begin() + l);
    input.insert(input.end(), i.begin(), i.end());
    expected = RefHash(a, input);
    EXPECT_EQ(e.rem(0), expected);
    // Values of any size up to 64 bytes, including empty.
    ASSERT_OK(e.ExtendRem(3, Bytes("x")));
    input.assign(l, 0);
    input.push_back('x');
    EXPECT_EQ(e.rem(3), RefHash(a, input));
    ASSERT_OK(e.ExtendRem(1, {}));
    EXPECT_EQ(e.rem(1), RefHash(a, std::vector<uint8_t>(l, 0)));
    // The RIM is untouched.
    EXPECT_EQ(e.rim(),
              ValueOrDie(Engine::RealmCreate(Params(a, 33, 6, 6))).rim());
    for (int r = 0; r < 4; ++r) {
      for (size_t b = l; b < kMeasurementWidth; ++b) {
        EXPECT_EQ(e.rem(r)[b], 0) << "REM" << r << " byte " << b;
      }
    }
  }
}

// spec-core Appendix C scenario F: every flag set, SHA-512, 52-bit IPA.
TEST(EngineTest, AppendixCScenarioF) {
  RealmCreateParams p = Params(HashAlgorithm::kSha512, 52, 16, 16);
  p.sve_vl = 512;
  p.pmu = true;
  p.pmu_num_ctrs = 8;
  p.lpa2 = true;
  Engine e = ValueOrDie(Engine::RealmCreate(p));
  EXPECT_EQ(ToHex(e.rim()),
            "a21c2db82d6dd3717687491daaf6c990a3c18eb02a337552163f3d5d35231168"
            "12b5848c7139f2a7a540fef8c1bc9b71f2b016cb7fc2b6877c6c44bab4b92126");
  ASSERT_OK(e.InitRipas(0x40001000, 0x100200000));
  EXPECT_EQ(ToHex(e.rim()),
            "0951914c8a5ceb59aafb9952bc5e315b4b697bc8d37b6a70ec987c7533863b72"
            "dfeaac24fc6d7e99d4085709db398f45b5fabec7573e6c27f10e24bc8ed1c764");
}

// spec-core Appendix A.5 traces (SHA-512, s2sz 41, 6 bps/wps): REALM_CREATE
// and the RIPAS of 128 MiB at 0x40000000 (64 x 2 MiB).
TEST(EngineTest, AppendixA5Traces) {
  struct Trace {
    bool pmu;
    uint8_t ctrs;
    const char* create;
    const char* ripas;
  };
  const Trace traces[] = {
      {false, 0,
       "e5714070ea1a1cdca64fcc40d06268e282625aaa60fb4945a6239a5e7d2a021ec195eb"
       "bf9f463b79d451fe599f22a19100767848e23f7e20901def9712323875",
       "69c56209d900e24750e5a8b8c1b6db2d5cde3a660a3471a2d4b16303fe66ad2b17300a"
       "5ea6e6cf296336595ece2bda3cb777da38599ec05d55fea676e67e74f8"},
      {true, 6,
       "2b380128b9f5ce02825e59b8239b87ab08bbb022ce3362263260dba64671e04ebde31a"
       "5b21ec2687c7015649804923ef9c90d6b026befea50d9bde004eb5b7ea",
       "c08eecc4d93b22328e620b2d64f9f7d2bf399bb20d5be5b0bf1604040f148f9b9e0860"
       "69517886323306ba49c664724b1653e467ddddeca115781126e9c06071"},
      {true, 2,
       "14b072e59e931613539747e0566e4037ba1d59c817a064bafc4b3f3d70e03c8b6e4758"
       "071f47266fe8979caa8d1c6b08bc579203afe05137e8580e56bdd9dd74",
       "704605aa1e4c59c3e36bf3922c3268c2ef6eda7397aa59677bd82be6411cd28ccde905"
       "d7ef236b42ed6f9976eda288f60195d5a0c12f49778495d9f8a0cbe1dc"},
  };
  for (const Trace& t : traces) {
    RealmCreateParams p = Params(HashAlgorithm::kSha512, 41, 6, 6);
    p.pmu = t.pmu;
    p.pmu_num_ctrs = t.ctrs;
    Engine e = ValueOrDie(Engine::RealmCreate(p));
    EXPECT_EQ(ToHex(e.rim()), t.create);
    ASSERT_OK(e.InitRipas(0x40000000, 0x48000000));
    EXPECT_EQ(ToHex(e.rim()), t.ripas);
  }
  // PMU off: a configured counter count is not measured (spec-core §4.2.5).
  RealmCreateParams p = Params(HashAlgorithm::kSha512, 41, 6, 6);
  p.pmu_num_ctrs = 6;
  EXPECT_EQ(ToHex(ValueOrDie(Engine::RealmCreate(p)).rim()), traces[0].create);
}

TEST(EngineTest, OutputEncodings) {
  // spec-core Appendix C: the endorsement value of A.5 #1 is the base64 of
  // the 64-byte RIM.
  Measurement m = {};
  const std::string bytes = absl::HexStringToBytes(
      "cf409055d866eea6c8d5e7862b540ff1cac9b11f125d088587d5ae97a0e3341667cf8f"
      "b3983e7377bca5c01d037bd97081ebf3b4dcb648442149749f4d65eeb0");
  ASSERT_EQ(bytes.size(), 64u);
  std::copy(bytes.begin(), bytes.end(), m.begin());
  EXPECT_EQ(ToBase64(m),
            "z0CQVdhm7qbI1eeGK1QP8crJsR8SXQiFh9Wul6DjNBZnz4+zmD5zd7ylwB0De9lwg"
            "evztNy2SEQhSXSfTWXusA==");
  EXPECT_EQ(ToHex(m),
            "cf409055d866eea6c8d5e7862b540ff1cac9b11f125d088587d5ae97a0e33416"
            "67cf8fb3983e7377bca5c01d037bd97081ebf3b4dcb648442149749f4d65eeb0");
  const Measurement zero = {};
  EXPECT_EQ(ToBase64(zero), std::string(86, 'A') + "==");
  EXPECT_EQ(ToHex(zero), std::string(128, '0'));
}

TEST(EngineTest, UnmeasuredRangeEqualsGranuleByGranule) {
  Engine a =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 40, 2, 2)));
  Engine b = a;
  // [0x10000ff0, 0x10002ff0) covers the granules at 0x10000000..0x10002000.
  ASSERT_OK(a.DataCreateUnmeasuredRange(0x10000ff0, 0x2000));
  for (uint64_t ipa : {0x10000000, 0x10001000, 0x10002000}) {
    ASSERT_OK(b.DataCreateUnmeasured(ipa));
  }
  EXPECT_EQ(a.rim(), b.rim());
  // Empty at an aligned address: nothing; unaligned: one granule.
  Engine c = a;
  ASSERT_OK(c.DataCreateUnmeasuredRange(0x20000000, 0));
  EXPECT_EQ(c.rim(), a.rim());
  ASSERT_OK(c.DataCreateUnmeasuredRange(0x20000010, 0));
  ASSERT_OK(a.DataCreateUnmeasured(0x20000000));
  EXPECT_EQ(c.rim(), a.rim());
}

struct CreateError {
  const char* name;
  RealmCreateParams params;
  const char* message;
};

TEST(EngineValidationTest, RealmCreateRejects) {
  auto with = [](auto f) {
    RealmCreateParams p = Params(HashAlgorithm::kSha256, 48, 2, 2);
    f(p);
    return p;
  };
  const CreateError cases[] = {
      {"ipa 16", with([](auto& p) { p.ipa_bits = 16; }),
       "ipa_bits 16 is outside the supported range 17..52"},
      {"ipa 0", with([](auto& p) { p.ipa_bits = 0; }),
       "ipa_bits 0 is outside the supported range 17..52"},
      {"ipa 53", with([](auto& p) { p.ipa_bits = 53; }),
       "ipa_bits 53 is outside the supported range 17..52"},
      {"bps 1", with([](auto& p) { p.num_bps = 1; }),
       "num_bps 1 is outside the supported range 2..64"},
      {"bps 65", with([](auto& p) { p.num_bps = 65; }),
       "num_bps 65 is outside the supported range 2..64"},
      {"wps 0", with([](auto& p) { p.num_wps = 0; }),
       "num_wps 0 is outside the supported range 2..64"},
      {"wps 65", with([](auto& p) { p.num_wps = 65; }),
       "num_wps 65 is outside the supported range 2..64"},
      {"sve 272", with([](auto& p) { p.sve_vl = 272; }),
       "sve_vl 272: expected 0 or a multiple of 128 in 128..2048"},
      {"sve 4096", with([](auto& p) { p.sve_vl = 4096; }),
       "sve_vl 4096: expected 0 or a multiple of 128"},
      {"sve 64", with([](auto& p) { p.sve_vl = 64; }), "sve_vl 64: expected"},
      {"ctrs 32", with([](auto& p) {
         p.pmu = true;
         p.pmu_num_ctrs = 32;
       }),
       "pmu_num_ctrs 32 is outside the supported range 0..31"},
      {"hash 3",
       with([](auto& p) { p.hash_algorithm = static_cast<HashAlgorithm>(3); }),
       "hash algorithm 3 is not supported"},
      {"sha384 under RMM 1.0",
       with([](auto& p) { p.hash_algorithm = HashAlgorithm::kSha384; }),
       "hash algorithm sha384 is not available in RMM 1.0"},
      {"RMM version 7",
       with([](auto& p) { p.rmm_version = static_cast<RmmVersion>(7); }),
       "RMM version 7 is not supported"},
  };
  for (const CreateError& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectError(Engine::RealmCreate(c.params).status(),
                absl::StatusCode::kInvalidArgument, c.message);
  }
  // Boundaries that are accepted (spec-core Appendix B `test_args`).
  for (auto f : std::vector<void (*)(RealmCreateParams&)>{
           [](RealmCreateParams& p) { p.ipa_bits = 17; },
           [](RealmCreateParams& p) { p.ipa_bits = 52; },
           [](RealmCreateParams& p) {
             p.num_bps = 64;
             p.num_wps = 16;
           },
           [](RealmCreateParams& p) { p.sve_vl = 128; },
           [](RealmCreateParams& p) { p.sve_vl = 2048; },
           [](RealmCreateParams& p) {
             p.pmu = true;
             p.pmu_num_ctrs = 31;
           },
           [](RealmCreateParams& p) {
             p.pmu = true;
             p.pmu_num_ctrs = 0;
           },
       }) {
    RealmCreateParams p = Params(HashAlgorithm::kSha256, 48, 2, 2);
    f(p);
    EXPECT_TRUE(Engine::RealmCreate(p).ok());
  }
}

struct OpError {
  const char* name;
  absl::Status (*op)(Engine&);
  const char* message;
};

TEST(EngineValidationTest, OperationsReject) {
  const std::vector<uint8_t> big(65, 1);
  static const std::vector<uint8_t>* big_ptr = &big;
  const OpError cases[] = {
      {"ripas empty",
       [](Engine& e) { return e.InitRipas(0x40000000, 0x40000000); },
       "invalid parameter RIPAS(40000000, 40000000)"},
      {"ripas reversed", [](Engine& e) { return e.InitRipas(0x2000, 0x1000); },
       "invalid parameter RIPAS(2000, 1000)"},
      {"ripas unaligned base",
       [](Engine& e) { return e.InitRipas(0x1800, 0x3000); },
       "invalid parameter RIPAS(1800, 3000)"},
      {"ripas unaligned top",
       [](Engine& e) { return e.InitRipas(0x1000, 0x3001); },
       "invalid parameter RIPAS(1000, 3001)"},
      {"ripas beyond protected space",
       [](Engine& e) { return e.InitRipas(0x80000000, 0x100001000); },
       "invalid parameter RIPAS(80000000, 100001000): top exceeds the "
       "protected "
       "IPA space [0, 0x100000000) of a 33-bit realm"},
      {"ripas wraps",
       [](Engine& e) { return e.InitRipas(0xfffffffffffff000, 0); },
       "invalid parameter RIPAS(fffffffffffff000, 0)"},
      {"data unaligned",
       [](Engine& e) {
         return e.DataCreateMeasured(0x80000010, Measurement{});
       },
       "DATA_CREATE: IPA 0x80000010 is not 4 KiB aligned"},
      {"data beyond protected space",
       [](Engine& e) {
         return e.DataCreateMeasured(0x100000000, Measurement{});
       },
       "DATA_CREATE: IPA 0x100000000 is outside the protected IPA space"},
      {"data sha256 digest with garbage tail",
       [](Engine& e) {
         Measurement m = {};
         m[40] = 1;
         return e.DataCreateMeasured(0x80000000, m);
       },
       "content digest byte 40 is not zero for a sha256 realm"},
      {"unmeasured unaligned",
       [](Engine& e) { return e.DataCreateUnmeasured(0x1234); },
       "IPA 0x1234 is not 4 KiB aligned"},
      {"unmeasured range wraps",
       [](Engine& e) {
         return e.DataCreateUnmeasuredRange(0xfffffffffffff000, 0x2000);
       },
       "wraps around the address space"},
      {"unmeasured range rounds past the end",
       [](Engine& e) {
         return e.DataCreateUnmeasuredRange(0xfffffffffffff000, 0xfff);
       },
       "wraps around the address space"},
      {"unmeasured range beyond protected space",
       [](Engine& e) {
         return e.DataCreateUnmeasuredRange(0xfffff000, 0x2000);
       },
       "IPA 0x100000000 is outside the protected IPA space"},
      {"rec not runnable",
       [](Engine& e) {
         RecParams r;
         r.flags = 0;
         return e.RecCreate(r);
       },
       "only a runnable REC"},
      {"rem index 4", [](Engine& e) { return e.ExtendRem(4, {}); },
       "invalid parameter REM 4"},
      {"rem index -1", [](Engine& e) { return e.ExtendRem(-1, {}); },
       "invalid parameter REM -1"},
      {"rem value 65 bytes", [](Engine& e) { return e.ExtendRem(0, *big_ptr); },
       "invalid parameter REM measurement value size 65 > REM_DATA_SIZE"},
      {"rem value 65 bytes, reference formula",
       [](Engine& e) {
         return e.ExtendRem(0, *big_ptr, RemFormula::kReferenceTool);
       },
       "invalid parameter REM measurement value size 65 > REM_DATA_SIZE"},
  };
  const Engine fresh =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 33, 2, 2)));
  for (const OpError& c : cases) {
    SCOPED_TRACE(c.name);
    Engine e = fresh;
    ExpectError(c.op(e), absl::StatusCode::kInvalidArgument, c.message);
    // A rejected operation changes nothing.
    EXPECT_EQ(e.rim(), fresh.rim());
    for (int i = 0; i < 4; ++i) EXPECT_EQ(e.rem(i), fresh.rem(i));
  }
}

TEST(EngineValidationTest, SmallIpaSpaceStillUsable) {
  // 17 bits: 4K blocks only, protected space [0, 0x10000).
  Engine e =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 17, 2, 2)));
  EXPECT_EQ(e.block_sizes(), 0x1000u);
  ASSERT_OK(e.InitRipas(0, 0x10000));
  ExpectError(e.InitRipas(0, 0x11000), absl::StatusCode::kInvalidArgument,
              "protected IPA space");
}

// ---------------------------------------------------------------------------
// RMM 2.0 (spec-rmm2 §1).

RealmCreateParams WithVersion(RealmCreateParams p, RmmVersion v) {
  p.rmm_version = v;
  return p;
}

// Row 3: the measured RmiRealmParams subset is unchanged, so REALM_CREATE
// gives the same RIM under both versions for every flag combination.
TEST(Rmm2Test, RealmCreateIdenticalUnderBothVersions) {
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    for (int flags = 0; flags < 8; ++flags) {
      RealmCreateParams p = Params(a, 40 + flags, 2 + flags, 16 - flags);
      p.lpa2 = (flags & 1) != 0;
      p.sve_vl = (flags & 2) ? 512 : 0;
      p.pmu = (flags & 4) != 0;
      p.pmu_num_ctrs = 7;
      SCOPED_TRACE(absl::StrCat(HashAlgorithmName(a), " flags ", flags));
      Engine v1 =
          ValueOrDie(Engine::RealmCreate(WithVersion(p, RmmVersion::k1_0)));
      Engine v2 =
          ValueOrDie(Engine::RealmCreate(WithVersion(p, RmmVersion::k2_0)));
      EXPECT_EQ(ToHex(v1.rim()), ToHex(v2.rim()));
      EXPECT_EQ(v2.rmm_version(), RmmVersion::k2_0);
      EXPECT_TRUE(v1.MeasuresRipas());
      EXPECT_FALSE(v2.MeasuresRipas());
    }
  }
}

// One RMM operation of a random layout.
struct Op {
  enum Kind { kRipas, kData, kUnmeasured, kRec } kind = kRipas;
  uint64_t a = 0;  // base / IPA / pc
  uint64_t b = 0;  // top / content seed / x0
};

// Row 1 (property): over random layouts, the RMM 2.0 RIM of a sequence
// equals the RMM 1.0 RIM of the same sequence with its INIT_RIPAS steps
// removed, and differs from the RMM 1.0 RIM with them.
TEST(Rmm2Test, SequenceEqualsRmm1WithoutRipasSteps) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state]() {  // xorshift64*, fixed seed: reproducible
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
  };
  for (int round = 0; round < 60; ++round) {
    const HashAlgorithm a =
        round % 2 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256;
    const int ipa = 33 + static_cast<int>(next() % 16);
    RealmCreateParams p = Params(a, ipa, 2 + next() % 15, 2 + next() % 15);
    const uint64_t par = uint64_t{1} << (ipa - 1);
    const uint64_t granules = par / kGranuleSize;
    std::vector<Op> ops;
    const int n = 1 + static_cast<int>(next() % 12);
    bool has_ripas = false;
    for (int i = 0; i < n; ++i) {
      Op op;
      op.kind = static_cast<Op::Kind>(next() % 4);
      if (op.kind == Op::kRipas) {
        const uint64_t base = (next() % (granules - 1)) * kGranuleSize;
        const uint64_t max = std::min<uint64_t>((par - base) / kGranuleSize,
                                                0x40000);  // <= 1 GiB
        op.a = base;
        op.b = base + (1 + next() % max) * kGranuleSize;
        has_ripas = true;
      } else {
        op.a = (next() % granules) * kGranuleSize;
        op.b = next();
      }
      ops.push_back(op);
    }
    auto run = [&](RmmVersion v, bool with_ripas) {
      Engine e = ValueOrDie(Engine::RealmCreate(WithVersion(p, v)));
      for (const Op& op : ops) {
        absl::Status s;
        switch (op.kind) {
          case Op::kRipas:
            if (with_ripas) s = e.InitRipas(op.a, op.b);
            break;
          case Op::kData: {
            const std::string content = absl::StrCat("granule ", op.b);
            s = e.DataCreateMeasured(op.a, GranuleHash(a, content, 0));
            break;
          }
          case Op::kUnmeasured:
            s = e.DataCreateUnmeasured(op.a);
            break;
          case Op::kRec: {
            RecParams rec;
            rec.pc = op.a;
            rec.gprs[0] = op.b;
            s = e.RecCreate(rec);
            break;
          }
        }
        EXPECT_TRUE(s.ok()) << s;
      }
      return ToHex(e.rim());
    };
    SCOPED_TRACE(absl::StrCat("round ", round, " ipa ", ipa, " ops ", n));
    const std::string v2 = run(RmmVersion::k2_0, true);
    EXPECT_EQ(v2, run(RmmVersion::k1_0, false));
    EXPECT_EQ(v2, run(RmmVersion::k2_0, false));
    if (has_ripas) EXPECT_NE(v2, run(RmmVersion::k1_0, true));
  }
}

// Row 1: INIT_RIPAS keeps its parameter checks under RMM 2.0.
TEST(Rmm2Test, InitRipasStillChecksParameters) {
  RealmCreateParams p =
      WithVersion(Params(HashAlgorithm::kSha256, 33, 2, 2), RmmVersion::k2_0);
  Engine e = ValueOrDie(Engine::RealmCreate(p));
  ExpectError(e.InitRipas(0x1000, 0x1000), absl::StatusCode::kInvalidArgument,
              "invalid parameter RIPAS(1000, 1000)");
  ExpectError(e.InitRipas(0, 0x200000000), absl::StatusCode::kInvalidArgument,
              "protected IPA space");
}

// The 0x100-byte descriptor built by hand from spec-core §3.3/§3.4 (not with
// rmm_structs), for the padding checks below.
std::vector<uint8_t> HandDescriptor(uint8_t type, const Measurement& rim,
                                    uint64_t ipa, uint64_t flags,
                                    const Measurement& content) {
  std::vector<uint8_t> d(0x100, 0);
  d[0x00] = type;
  d[0x09] = 0x01;  // len = 0x100, little-endian
  std::copy(rim.begin(), rim.end(), d.begin() + 0x10);
  const size_t content_at = type == 0 ? 0x60 : 0x50;
  if (type == 0) {
    for (int i = 0; i < 8; ++i) d[0x50 + i] = (ipa >> (8 * i)) & 0xff;
    for (int i = 0; i < 8; ++i) d[0x58 + i] = (flags >> (8 * i)) & 0xff;
  }
  std::copy(content.begin(), content.end(), d.begin() + content_at);
  return d;
}

// Row 4: SHA-384 values are 48 bytes, embedded zero-padded in the 64-byte
// descriptor fields; the 64-byte buffers end in 16 zero bytes.
TEST(Rmm2Test, Sha384DescriptorsArePadded) {
  const HashAlgorithm a = HashAlgorithm::kSha384;
  Engine e = ValueOrDie(Engine::RealmCreate(Params(a, 40, 2, 2)));
  // REALM_CREATE: SHA-384 of the 4 KiB image with hash_algo byte 2.
  std::vector<uint8_t> image(0x1000, 0);
  image[0x08] = 40;  // s2sz
  image[0x18] = 1;   // num_bps - 1
  image[0x20] = 1;   // num_wps - 1
  image[0x30] = 2;   // hash_algo: RMI_HASH_SHA_384
  Measurement rim = RefHash(a, image);
  EXPECT_EQ(ToHex(e.rim()), ToHex(rim));
  for (size_t b = 48; b < kMeasurementWidth; ++b) EXPECT_EQ(rim[b], 0);

  const Measurement content = GranuleHash(a, "SHA-384 realm data", 0x10);
  ASSERT_OK(e.DataCreateMeasured(0x80000000, content));
  rim = RefHash(a, HandDescriptor(0, rim, 0x80000000, 1, content));
  EXPECT_EQ(ToHex(e.rim()), ToHex(rim));

  ASSERT_OK(e.DataCreateUnmeasured(0x80001000));
  rim = RefHash(a, HandDescriptor(0, rim, 0x80001000, 0, Measurement{}));
  EXPECT_EQ(ToHex(e.rim()), ToHex(rim));

  RecParams rec;
  rec.pc = 0x80000000;
  rec.gprs[0] = 0x88000000;
  ASSERT_OK(e.RecCreate(rec));
  std::vector<uint8_t> rec_image(0x1000, 0);
  rec_image[0] = 1;
  rec_image[0x203] = 0x80;
  rec_image[0x303] = 0x88;
  rim = RefHash(a, HandDescriptor(1, rim, 0, 0, RefHash(a, rec_image)));
  EXPECT_EQ(ToHex(e.rim()), ToHex(rim));
  EXPECT_EQ(ToHex(e.rim()).substr(96), std::string(32, '0'));

  // Content digests must be zero-padded too: byte 48 set is refused.
  Measurement bad = content;
  bad[48] = 1;
  ExpectError(e.DataCreateMeasured(0x80002000, bad),
              absl::StatusCode::kInvalidArgument,
              "content digest byte 48 is not zero for a sha384 realm");
}

// DataCreateMeasuredEach: one granule of several realms per call, each realm
// at its own IPA with its own content, some calls leaving realms out. The
// reference is one DataCreateMeasured after another.
TEST(DataCreateMeasuredEachTest, SameRimsAsOneRealmAfterAnother) {
  std::mt19937_64 rng(8);
  for (HashAlgorithm a : {HashAlgorithm::kSha256, HashAlgorithm::kSha384,
                          HashAlgorithm::kSha512}) {
    SCOPED_TRACE(HashAlgorithmName(a));
    const size_t n = HashSize(a);
    // 0 to 11 realms: below, at and above 4 and 8 lanes and 8 a group.
    for (int realms = 0; realms <= 11; ++realms) {
      std::vector<Engine> each, one;
      for (int k = 0; k < realms; ++k) {
        each.push_back(
            ValueOrDie(Engine::RealmCreate(Params(a, 40, 2 + k, 2 + (k % 3)))));
        one.push_back(each.back());
      }
      for (int round = 0; round < 40; ++round) {
        std::vector<Engine::DataStep> steps;
        std::vector<std::vector<uint8_t>> contents;
        for (int k = 0; k < realms; ++k) {
          if (rng() % 4 == 0) continue;  // this realm sits the call out
          contents.emplace_back(n);
          for (uint8_t& b : contents.back()) b = static_cast<uint8_t>(rng());
          const uint64_t ipa = (rng() % (uint64_t{1} << 27)) * kGranuleSize;
          steps.push_back({&each[k], ipa, contents.back().data()});
          Measurement m = {};
          std::copy(contents.back().begin(), contents.back().end(), m.begin());
          ASSERT_TRUE(one[k].DataCreateMeasured(ipa, m).ok());
        }
        ASSERT_TRUE(Engine::DataCreateMeasuredEach(steps).ok());
      }
      for (int k = 0; k < realms; ++k) {
        EXPECT_EQ(each[k].rim(), one[k].rim()) << "realm " << k;
      }
    }
  }
}

TEST(DataCreateMeasuredEachTest, RefusesBeforeChangingAnything) {
  Engine a =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 33, 2, 2)));
  Engine b =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 33, 3, 2)));
  Engine c =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha512, 33, 2, 2)));
  const Measurement a0 = a.rim(), b0 = b.rim();
  const uint8_t content[64] = {1};
  auto code = [](std::vector<Engine::DataStep> steps) {
    return Engine::DataCreateMeasuredEach(steps).code();
  };
  // b's granule is outside its protected IPA space [0, 2^32).
  EXPECT_EQ(code({{&a, 0x1000, content}, {&b, 0x100000000, content}}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{&a, 0x1000, content}, {&b, 0x1001, content}}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{&a, 0x1000, content}, {&c, 0x1000, content}}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{&a, 0x1000, content}, {&a, 0x2000, content}}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.rim(), a0);
  EXPECT_EQ(b.rim(), b0);
  EXPECT_EQ(code({}), absl::StatusCode::kOk);
}

TEST(CheckDataGranulesTest, FirstToLastGranule) {
  const Engine e =
      ValueOrDie(Engine::RealmCreate(Params(HashAlgorithm::kSha256, 33, 2, 2)));
  EXPECT_TRUE(e.CheckDataGranules(0xffffd000, 3).ok());
  EXPECT_EQ(e.CheckDataGranules(0xffffd000, 4).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.CheckDataGranules(0x1001, 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.CheckDataGranules(0x1000, UINT64_MAX).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(e.CheckDataGranules(0xfffff000, 0).ok());
}

}  // namespace
}  // namespace realm_measurements::measure
